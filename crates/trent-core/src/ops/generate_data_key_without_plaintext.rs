//! GenerateDataKeyWithoutPlaintext: GenerateDataKey without the plaintext copy (no Recipient).

use trent_api::dto::{GenerateDataKeyRequest, GenerateDataKeyResponse};
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::Kms;

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    mut req: GenerateDataKeyRequest,
) -> Result<GenerateDataKeyResponse, KmsError> {
    // Not a member of this operation in the model: ignored as an unknown member would be.
    req.recipient = None;
    let mut out =
        super::generate_data_key::generate(kms, caller, req, Operation::GenerateDataKeyWithoutPlaintext).await?;
    out.plaintext = None;
    Ok(out)
}
