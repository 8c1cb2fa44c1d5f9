//! VerifyMac: recomputes the HMAC and compares in constant time; a mismatch is
//! `KMSInvalidMacException` with an empty message.

use trent_api::dto::{MacRequest, VerifyMacResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: MacRequest) -> Result<VerifyMacResponse, KmsError> {
    let mut v = Violations::new();
    let (key_id, alg_name) = super::generate_mac::validate_request(&mut v, &req);
    match &req.mac {
        None => v.not_null("mac"),
        Some(m) => validate::blob_length(&mut v, "mac", m.0.len(), 1, 6144),
    }
    v.finish()?;
    let op = Operation::VerifyMac;
    let key = super::key_for(kms, caller, key_id.unwrap_or_default(), Forms::Any, op).await?;
    super::require_usage(&key, "GENERATE_VERIFY_MAC", op)?;
    let alg_name = alg_name.unwrap_or_default().to_owned();
    let alg = super::generate_mac::check_mac(&key, &alg_name)?;
    super::finish_dry_run(req.dry_run)?;
    let message = req.message.unwrap_or_default();
    let tag = req.mac.unwrap_or_default();
    trent_crypto::hmac::verify(alg, &key.current()?.secret, message.expose(), &tag.0)
        .map_err(|_| KmsError::InvalidMac)?;
    Ok(VerifyMacResponse {
        key_id: key.arn.clone(),
        mac_valid: true,
        mac_algorithm: alg_name,
    })
}
