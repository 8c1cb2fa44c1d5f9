//! GenerateDataKeyPair (reference §4.4): a fresh key pair of `KeyPairSpec` generated inside
//! Trent; the private key (DER PKCS#8) is returned in plaintext and encrypted under a symmetric
//! KMS key with the encryption context bound; the public key as DER SubjectPublicKeyInfo.

use trent_api::dto::{GenerateDataKeyPairRequest, GenerateDataKeyPairResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation, SensitiveBlob};
use trent_crypto::asymmetric::{AsymmetricKey, Purpose};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{spec, validate, Kms};

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    req: GenerateDataKeyPairRequest,
) -> Result<GenerateDataKeyPairResponse, KmsError> {
    generate(kms, caller, req, Operation::GenerateDataKeyPair).await
}

/// Shared with GenerateDataKeyPairWithoutPlaintext (which drops the plaintext private key).
pub(crate) async fn generate(
    kms: &Kms,
    caller: &Caller,
    req: GenerateDataKeyPairRequest,
    op: Operation,
) -> Result<GenerateDataKeyPairResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.key_pair_spec {
        None => v.not_null("keyPairSpec"),
        Some(s) => {
            v.one_of("keyPairSpec", s, spec::KEY_PAIR_SPECS);
        }
    }
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    if req.recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Recipient (attested environments) is not supported by this server.".to_owned(),
        ));
    }
    let pair_spec = req.key_pair_spec.unwrap_or_default();
    let key = super::key_for(kms, caller, key_id.unwrap_or_default(), Forms::Any, op).await?;
    super::require_symmetric(&key, op)?;
    let Some(kind) = spec::key_kind(&pair_spec) else {
        return Err(KmsError::UnsupportedOperation(format!(
            "KeyPairSpec {pair_spec} is not supported in this Region."
        )));
    };
    super::finish_dry_run(req.dry_run)?;
    let (pair, pkcs8) = tokio::task::spawn_blocking(move || AsymmetricKey::generate(kind, Purpose::Sign))
        .await
        .map_err(KmsError::internal)?
        .map_err(KmsError::internal)?;
    let (blob, material_id) = super::seal_symmetric(&key, &req.encryption_context, pkcs8.expose())?;
    Ok(GenerateDataKeyPairResponse {
        private_key_ciphertext_blob: Blob(blob),
        private_key_plaintext: Some(SensitiveBlob::new(pkcs8.into_zeroizing())),
        public_key: Blob(pair.public_key_der().to_vec()),
        key_id: key.arn.clone(),
        key_pair_spec: pair_spec,
        key_material_id: material_id,
    })
}
