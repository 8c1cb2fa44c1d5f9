//! DeriveSharedSecret (reference §2.3): ECC CDH between a KEY_AGREEMENT key and the peer's DER
//! SubjectPublicKeyInfo; the raw shared secret, no KDF. An unusable peer key (unparsable, other
//! curve, not on the curve) is a `ValidationException` with an empty message (AWS-recorded).

use trent_api::dto::{DeriveSharedSecretRequest, DeriveSharedSecretResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation, SensitiveBlob};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{spec, validate, Kms};

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    req: DeriveSharedSecretRequest,
) -> Result<DeriveSharedSecretResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.key_agreement_algorithm {
        None => v.not_null("keyAgreementAlgorithm"),
        Some(a) => {
            v.one_of("keyAgreementAlgorithm", a, spec::KEY_AGREEMENT_ALGORITHMS);
        }
    }
    match &req.public_key {
        None => v.not_null("publicKey"),
        Some(p) => validate::blob_length(&mut v, "publicKey", p.0.len(), 1, 8192),
    }
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    if req.recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Recipient (attested environments) is not supported by this server.".to_owned(),
        ));
    }
    let op = Operation::DeriveSharedSecret;
    let key = super::key_for(kms, caller, key_id.unwrap_or_default(), Forms::Any, op).await?;
    super::require_usage(&key, "KEY_AGREEMENT", op)?;
    super::finish_dry_run(req.dry_run)?;
    let peer = req.public_key.unwrap_or_default();
    let secret = key
        .key_pair()?
        .agree(&peer.0)
        .map_err(|_| KmsError::Validation(String::new()))?;
    Ok(DeriveSharedSecretResponse {
        key_id: key.arn.clone(),
        shared_secret: SensitiveBlob::new(secret.into_zeroizing()),
        key_agreement_algorithm: "ECDH".to_owned(),
        key_origin: key.record.origin.clone(),
    })
}
