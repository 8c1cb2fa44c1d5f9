//! Decrypt (reference §4.1, §4.5): a symmetric blob names its key, so `KeyId` is optional; a
//! `KeyId` naming another key is `IncorrectKeyException`; a damaged blob or a different encryption
//! context is `InvalidCiphertextException` with an empty message. RSA ciphertext needs `KeyId` and
//! `EncryptionAlgorithm`. `DryRun` with `IGNORE_CIPHERTEXT` checks only key and authorization.

use trent_api::dto::{DecryptRequest, DecryptResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation, SensitiveBlob};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{spec, state, validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: DecryptRequest) -> Result<DecryptResponse, KmsError> {
    let op = Operation::Decrypt;
    let mut v = Violations::new();
    let ignore_ciphertext = validate::dry_run_modifiers(&mut v, &req.dry_run_modifiers) && req.dry_run == Some(true);
    match &req.ciphertext_blob {
        None if !ignore_ciphertext => v.not_null("ciphertextBlob"),
        None => {}
        Some(b) => validate::blob_length(&mut v, "ciphertextBlob", b.0.len(), 1, 6144),
    }
    if let Some(k) = &req.key_id {
        v.str_length("keyId", k, 1, 2048);
    }
    if let Some(a) = &req.encryption_algorithm {
        v.one_of("encryptionAlgorithm", a, spec::ENCRYPTION_ALGORITHMS);
    }
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    if req.recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Recipient (attested environments) is not supported by this server.".to_owned(),
        ));
    }
    let requested = match &req.key_id {
        Some(k) => Some(kms.resolve(caller, k, Forms::Any).await?),
        None => None,
    };
    if ignore_ciphertext {
        let Some(key) = requested else {
            return Err(KmsError::Validation(
                "KeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT.".to_owned(),
            ));
        };
        super::authorize(kms, caller, op, &key).await?;
        state::check(op, &key)?;
        super::require_usage(&key, "ENCRYPT_DECRYPT", op)?;
        return Err(KmsError::DryRun);
    }
    let blob = req.ciphertext_blob.unwrap_or_default();
    if let Some(key) = requested.as_ref().filter(|k| k.record.key_spec != "SYMMETRIC_DEFAULT") {
        super::authorize(kms, caller, op, key).await?;
        state::check(op, key)?;
        super::require_decrypting_key(key)?;
        let (alg, alg_name) = super::asymmetric::oaep_for(key, &req.encryption_algorithm)?;
        super::asymmetric::reject_context(&req.encryption_context, key)?;
        super::finish_dry_run(req.dry_run)?;
        let plaintext = super::asymmetric::private_op(key, move |k| {
            k.decrypt(alg, &blob.0).map_err(|_| KmsError::InvalidCiphertext)
        })
        .await?;
        return Ok(DecryptResponse {
            key_id: key.arn.clone(),
            plaintext: SensitiveBlob::new(plaintext.into_zeroizing()),
            encryption_algorithm: alg_name,
            key_material_id: None,
        });
    }
    if let Some(k) = &requested {
        super::check_symmetric_algorithm(k, &req.encryption_algorithm)?;
    }
    let opened = super::open_symmetric(kms, caller, &blob.0, &req.encryption_context, requested.as_ref(), op).await?;
    super::check_symmetric_algorithm(&opened.key, &req.encryption_algorithm)?;
    super::finish_dry_run(req.dry_run)?;
    Ok(DecryptResponse {
        key_id: opened.key.arn.clone(),
        plaintext: SensitiveBlob::new(opened.plaintext.into_zeroizing()),
        encryption_algorithm: "SYMMETRIC_DEFAULT".to_owned(),
        key_material_id: Some(opened.material_id),
    })
}
