//! Encrypt (reference §2.3, §4.1): up to 4096 bytes under a symmetric key with the encryption
//! context bound as AAD, or RSAES-OAEP under an RSA ENCRYPT_DECRYPT key (EncryptionAlgorithm
//! required, AWS's size limits). Output `KeyId` is always the key ARN.

use trent_api::dto::{EncryptRequest, EncryptResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{spec, validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: EncryptRequest) -> Result<EncryptResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.plaintext {
        None => v.not_null("plaintext"),
        Some(p) => v.length("plaintext", None, p.len(), 1, 4096),
    }
    if let Some(a) = &req.encryption_algorithm {
        v.one_of("encryptionAlgorithm", a, spec::ENCRYPTION_ALGORITHMS);
    }
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    let op = Operation::Encrypt;
    let key = super::key_for(kms, caller, key_id.unwrap_or_default(), Forms::Any, op).await?;
    super::require_usage(&key, "ENCRYPT_DECRYPT", op)?;
    let plaintext = req.plaintext.unwrap_or_default();
    if key.record.key_spec == "SYMMETRIC_DEFAULT" {
        super::check_symmetric_algorithm(&key, &req.encryption_algorithm)?;
        super::finish_dry_run(req.dry_run)?;
        let (blob, _) = super::seal_symmetric(&key, &req.encryption_context, plaintext.expose())?;
        return Ok(EncryptResponse {
            ciphertext_blob: Blob(blob),
            key_id: key.arn.clone(),
            encryption_algorithm: "SYMMETRIC_DEFAULT".to_owned(),
        });
    }
    let (alg, alg_name) = super::asymmetric::oaep_for(&key, &req.encryption_algorithm)?;
    super::asymmetric::reject_context(&req.encryption_context, &key)?;
    super::asymmetric::check_oaep_size(&key, alg, &alg_name, plaintext.len())?;
    super::finish_dry_run(req.dry_run)?;
    let ct = key
        .key_pair()?
        .encrypt(alg, plaintext.expose())
        .map_err(KmsError::internal)?;
    Ok(EncryptResponse {
        ciphertext_blob: Blob(ct),
        key_id: key.arn.clone(),
        encryption_algorithm: alg_name,
    })
}
