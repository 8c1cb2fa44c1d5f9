//! Verify: checks a signature with the key's public key under the same message rules as Sign; a
//! signature that does not verify is `KMSInvalidSignatureException` with an empty message.

use trent_api::dto::{SignRequest, VerifyResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: SignRequest) -> Result<VerifyResponse, KmsError> {
    let mut v = Violations::new();
    let (key_id, alg_name) = super::sign::validate_request(&mut v, &req);
    match &req.signature {
        None => v.not_null("signature"),
        Some(s) => validate::blob_length(&mut v, "signature", s.0.len(), 1, 6144),
    }
    v.finish()?;
    let op = Operation::Verify;
    let key = super::key_for(kms, caller, key_id.unwrap_or_default(), Forms::Any, op).await?;
    super::require_usage(&key, "SIGN_VERIFY", op)?;
    let alg_name = alg_name.unwrap_or_default().to_owned();
    let message = req.message.unwrap_or_default();
    let (alg, kind) = super::sign::check_signing(&key, &alg_name, &req.message_type, message.expose())?;
    super::finish_dry_run(req.dry_run)?;
    let signature = req.signature.unwrap_or_default();
    let valid = super::asymmetric::private_op(&key, move |k| {
        Ok(k.verify(alg, kind, message.expose(), &signature.0).unwrap_or(false))
    })
    .await?;
    if !valid {
        return Err(KmsError::InvalidSignatureValue);
    }
    Ok(VerifyResponse {
        key_id: key.arn.clone(),
        signature_valid: true,
        signing_algorithm: alg_name,
    })
}
