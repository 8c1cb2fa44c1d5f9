//! ReEncrypt (reference §4.5): decrypt under the source key and encrypt under the destination key
//! entirely inside Trent; the plaintext never leaves the process. Either side may be an RSA
//! ENCRYPT_DECRYPT key (then its algorithm is required and no context applies). Needs
//! `kms:ReEncryptFrom` on the source and `kms:ReEncryptTo` on the destination.

use trent_api::dto::{ReEncryptRequest, ReEncryptResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};
use trent_crypto::SecretBytes;

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
    super::require_usage(&dest, "ENCRYPT_DECRYPT", op)?;
    let dest_asym = if dest.record.key_spec == "SYMMETRIC_DEFAULT" {
        super::check_symmetric_algorithm(&dest, &req.destination_encryption_algorithm)?;
        None
    } else {
        super::asymmetric::reject_context(&req.destination_encryption_context, &dest)?;
        Some(super::asymmetric::oaep_for(
            &dest,
            &req.destination_encryption_algorithm,
        )?)
    };
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
        kms.authorize_key(caller, "kms:ReEncryptFrom", &source).await?;
        state::check(op, &source)?;
        return Err(KmsError::DryRun);
    }
    let blob = req.ciphertext_blob.unwrap_or_default();
    let (source_arn, plaintext, source_alg, source_material): (String, SecretBytes, String, Option<String>) =
        match source.as_ref().filter(|k| k.record.key_spec != "SYMMETRIC_DEFAULT") {
            Some(src) => {
                kms.authorize_key(caller, "kms:ReEncryptFrom", src).await?;
                state::check(op, src)?;
                super::require_decrypting_key(src)?;
                let (alg, alg_name) = super::asymmetric::oaep_for(src, &req.source_encryption_algorithm)?;
                super::asymmetric::reject_context(&req.source_encryption_context, src)?;
                let pt = super::asymmetric::private_op(src, move |k| {
                    k.decrypt(alg, &blob.0).map_err(|_| KmsError::InvalidCiphertext)
                })
                .await?;
                (src.arn.clone(), pt, alg_name, None)
            }
            None => {
                if let Some(s) = &source {
                    super::check_symmetric_algorithm(s, &req.source_encryption_algorithm)?;
                }
                let opened = super::open_symmetric(
                    kms,
                    caller,
                    &blob.0,
                    &req.source_encryption_context,
                    source.as_ref(),
                    op,
                )
                .await?;
                (
                    opened.key.arn.clone(),
                    opened.plaintext,
                    "SYMMETRIC_DEFAULT".to_owned(),
                    Some(opened.material_id),
                )
            }
        };
    let (ciphertext, dest_alg, dest_material) = match dest_asym {
        None => {
            super::finish_dry_run(req.dry_run)?;
            let (ct, m) = super::seal_symmetric(&dest, &req.destination_encryption_context, plaintext.expose())?;
            (ct, "SYMMETRIC_DEFAULT".to_owned(), Some(m))
        }
        Some((alg, name)) => {
            super::asymmetric::check_oaep_size(&dest, alg, &name, plaintext.len())?;
            super::finish_dry_run(req.dry_run)?;
            (
                dest.key_pair()?
                    .encrypt(alg, plaintext.expose())
                    .map_err(KmsError::internal)?,
                name,
                None,
            )
        }
    };
    Ok(ReEncryptResponse {
        ciphertext_blob: Blob(ciphertext),
        source_key_id: source_arn,
        key_id: dest.arn.clone(),
        source_encryption_algorithm: source_alg,
        destination_encryption_algorithm: dest_alg,
        source_key_material_id: source_material,
        destination_key_material_id: dest_material,
    })
}
