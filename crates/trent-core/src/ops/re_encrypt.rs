//! ReEncrypt (reference §4.5): decrypt under the source key and encrypt under the destination key
//! entirely inside Trent; the plaintext never leaves the process. Needs `kms:ReEncryptFrom` on the
//! source and `kms:ReEncryptTo` on the destination.

use trent_api::dto::{ReEncryptRequest, ReEncryptResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{spec, state, validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: ReEncryptRequest) -> Result<ReEncryptResponse, KmsError> {
    let op = Operation::ReEncrypt;
    let mut v = Violations::new();
    let ignore_ciphertext = validate::dry_run_modifiers(&mut v, &req.dry_run_modifiers) && req.dry_run == Some(true);
    match &req.ciphertext_blob {
        None if !ignore_ciphertext => v.not_null("ciphertextBlob"),
        None => {}
        Some(b) => validate::blob_length(&mut v, "ciphertextBlob", b.0.len(), 1, 6144),
    }
    let dest_id = validate::key_id(&mut v, "destinationKeyId", &req.destination_key_id);
    if let Some(k) = &req.source_key_id {
        v.str_length("sourceKeyId", k, 1, 2048);
    }
    for (field, alg) in [
        ("sourceEncryptionAlgorithm", &req.source_encryption_algorithm),
        ("destinationEncryptionAlgorithm", &req.destination_encryption_algorithm),
    ] {
        if let Some(a) = alg {
            v.one_of(field, a, spec::ENCRYPTION_ALGORITHMS);
        }
    }
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    let dest = super::key_for(kms, caller, dest_id.unwrap_or_default(), Forms::Any, op).await?;
    super::require_symmetric(&dest, op)?;
    super::check_symmetric_algorithm(&dest, &req.destination_encryption_algorithm)?;
    let source = match &req.source_key_id {
        Some(k) => Some(kms.resolve(caller, k, Forms::Any).await?),
        None => None,
    };
    if ignore_ciphertext {
        let Some(source) = source else {
            return Err(KmsError::Validation(
                "SourceKeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT.".to_owned(),
            ));
        };
        super::authorize(caller, op, &source)?;
        state::check(op, &source)?;
        return Err(KmsError::DryRun);
    }
    if let Some(s) = &source {
        super::check_symmetric_algorithm(s, &req.source_encryption_algorithm)?;
    }
    let blob = req.ciphertext_blob.unwrap_or_default();
    let opened = super::open_symmetric(
        kms,
        caller,
        &blob.0,
        &req.source_encryption_context,
        source.as_ref(),
        op,
    )
    .await?;
    super::finish_dry_run(req.dry_run)?;
    let (ciphertext, dest_material) =
        super::seal_symmetric(&dest, &req.destination_encryption_context, opened.plaintext.expose())?;
    Ok(ReEncryptResponse {
        ciphertext_blob: Blob(ciphertext),
        source_key_id: opened.key.arn.clone(),
        key_id: dest.arn.clone(),
        source_encryption_algorithm: "SYMMETRIC_DEFAULT".to_owned(),
        destination_encryption_algorithm: "SYMMETRIC_DEFAULT".to_owned(),
        source_key_material_id: opened.material_id,
        destination_key_material_id: dest_material,
    })
}
