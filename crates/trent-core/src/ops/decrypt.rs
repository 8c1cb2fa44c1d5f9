//! Decrypt (reference §4.1, §4.5): the symmetric blob names its key, so `KeyId` is optional; a
//! `KeyId` naming another key is `IncorrectKeyException`; a damaged blob or a different encryption
//! context is `InvalidCiphertextException` with an empty message. `DryRun` with
//! `IGNORE_CIPHERTEXT` checks only the key and authorization.

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
        super::authorize(caller, op, &key)?;
        state::check(op, &key)?;
        super::require_usage(&key, "ENCRYPT_DECRYPT", op)?;
        return Err(KmsError::DryRun);
    }
    if let Some(k) = &requested {
        super::check_symmetric_algorithm(k, &req.encryption_algorithm)?;
    }
    let blob = req.ciphertext_blob.unwrap_or_default();
    let opened = super::open_symmetric(kms, caller, &blob.0, &req.encryption_context, requested.as_ref(), op).await?;
    super::check_symmetric_algorithm(&opened.key, &req.encryption_algorithm)?;
    super::finish_dry_run(req.dry_run)?;
    Ok(DecryptResponse {
        key_id: opened.key.arn.clone(),
        plaintext: SensitiveBlob::new(opened.plaintext.into_zeroizing()),
        encryption_algorithm: "SYMMETRIC_DEFAULT".to_owned(),
        key_material_id: opened.material_id,
    })
}
