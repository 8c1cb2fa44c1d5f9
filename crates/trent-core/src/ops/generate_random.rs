//! GenerateRandom (reference §4.6): 1–1024 random bytes; `NumberOfBytes` is required although the
//! model marks it optional ("NumberOfBytes is required.", AWS-recorded).

use trent_api::dto::{GenerateRandomRequest, GenerateRandomResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, SensitiveBlob};

use crate::credentials::Caller;
use crate::Kms;

pub async fn run(kms: &Kms, caller: &Caller, req: GenerateRandomRequest) -> Result<GenerateRandomResponse, KmsError> {
    let mut v = Violations::new();
    if let Some(n) = req.number_of_bytes {
        v.range("numberOfBytes", n, 1, 1024);
    }
    if let Some(c) = &req.custom_key_store_id {
        v.str_length("customKeyStoreId", c, 1, 64);
    }
    v.finish()?;
    let Some(n) = req.number_of_bytes else {
        return Err(KmsError::Validation("NumberOfBytes is required.".to_owned()));
    };
    if req.custom_key_store_id.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Custom key stores are not supported by this server.".to_owned(),
        ));
    }
    if req.recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Recipient (attested environments) is not supported by this server.".to_owned(),
        ));
    }
    kms.authorize_identity(caller, "kms:GenerateRandom", "*").await?;
    let bytes = trent_crypto::random::secret(n as usize).map_err(KmsError::internal)?;
    Ok(GenerateRandomResponse {
        plaintext: SensitiveBlob::new(bytes.into_zeroizing()),
    })
}
