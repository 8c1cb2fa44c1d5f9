//! GenerateDataKeyPairWithoutPlaintext: GenerateDataKeyPair without the plaintext private key.

use trent_api::dto::{GenerateDataKeyPairRequest, GenerateDataKeyPairResponse};
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::Kms;

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    mut req: GenerateDataKeyPairRequest,
) -> Result<GenerateDataKeyPairResponse, KmsError> {
    // Not a member of this operation in the model: ignored as an unknown member would be.
    req.recipient = None;
    let op = Operation::GenerateDataKeyPairWithoutPlaintext;
    let mut out = super::generate_data_key_pair::generate(kms, caller, req, op).await?;
    out.private_key_plaintext = None;
    Ok(out)
}
