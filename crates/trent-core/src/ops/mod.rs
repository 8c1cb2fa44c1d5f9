//! One module per KMS operation, named as AWS names it. Each exposes
//! `run(kms, caller, request) -> Result<response, KmsError>` and follows the same order:
//! validate members (all violations at once) → resolve key → check key state → authorize →
//! execute → persist. Steps shared by several operations live below.

mod asymmetric;
pub mod cancel_key_deletion;
pub mod create_alias;
pub mod create_grant;
pub mod create_key;
pub mod decrypt;
pub mod delete_alias;
pub mod delete_imported_key_material;
pub mod derive_shared_secret;
pub mod describe_custom_key_stores;
pub mod describe_key;
pub mod disable_key;
pub mod disable_key_rotation;
pub mod enable_key;
pub mod enable_key_rotation;
pub mod encrypt;
pub mod generate_data_key;
pub mod generate_data_key_pair;
pub mod generate_data_key_pair_without_plaintext;
pub mod generate_data_key_without_plaintext;
pub mod generate_mac;
pub mod generate_random;
pub mod get_key_last_usage;
pub mod get_key_policy;
pub mod get_key_rotation_status;
pub mod get_parameters_for_import;
pub mod get_public_key;
pub mod import_key_material;
pub mod list_aliases;
pub mod list_grants;
pub mod list_key_policies;
pub mod list_key_rotations;
pub mod list_keys;
pub mod list_resource_tags;
pub mod list_retirable_grants;
pub mod put_key_policy;
pub mod re_encrypt;
pub mod retire_grant;
pub mod revoke_grant;
pub mod rotate_key_on_demand;
pub mod schedule_key_deletion;
pub mod sign;
pub mod tag_resource;
pub mod untag_resource;
pub mod update_alias;
pub mod update_key_description;
pub mod verify;
pub mod verify_mac;

use std::sync::Arc;

use trent_api::dto::EncryptionContextMap;
use trent_api::{KmsError, Operation};
use trent_crypto::{context, envelope, SecretBytes};

use crate::credentials::Caller;
use crate::ids::{key_id_bytes, key_id_string, Forms};
use crate::keys::LoadedKey;
use crate::{state, Kms};

/// `InvalidKeyUsageException: <arn> key usage is X which is not valid for Op.` (AWS-recorded).
pub(crate) fn require_usage(key: &LoadedKey, usage: &str, op: Operation) -> Result<(), KmsError> {
    if key.record.key_usage == usage {
        return Ok(());
    }
    Err(KmsError::InvalidKeyUsage(format!(
        "{} key usage is {} which is not valid for {}.",
        key.arn,
        key.record.key_usage,
        op.name()
    )))
}

/// The key named by Decrypt `KeyId` / ReEncrypt `SourceKeyId` when it cannot decrypt at all (HMAC,
/// signing or key-agreement usage): AWS answers `IncorrectKeyException` — the ciphertext cannot
/// have come from that key (AWS-recorded: Decrypt of a symmetric blob naming an HMAC key).
pub(crate) fn require_decrypting_key(key: &LoadedKey) -> Result<(), KmsError> {
    if key.record.key_usage == "ENCRYPT_DECRYPT" {
        Ok(())
    } else {
        Err(KmsError::IncorrectKey)
    }
}

/// Symmetric-only operations (GenerateDataKey*, encryption context): a non-symmetric key is an
/// `InvalidKeyUsageException`.
pub(crate) fn require_symmetric(key: &LoadedKey, op: Operation) -> Result<(), KmsError> {
    require_usage(key, "ENCRYPT_DECRYPT", op)?;
    if key.record.key_spec != "SYMMETRIC_DEFAULT" {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key spec is {} which is not valid for {}.",
            key.arn,
            key.record.key_spec,
            op.name()
        )));
    }
    Ok(())
}

/// `DryRunOperationException` once every check has passed (reference §4.8).
pub(crate) fn finish_dry_run(dry_run: Option<bool>) -> Result<(), KmsError> {
    if dry_run == Some(true) {
        return Err(KmsError::DryRun);
    }
    Ok(())
}

/// Resolves the key an operation works on, checks its state and authorizes the caller.
pub(crate) async fn key_for(
    kms: &Kms,
    caller: &Caller,
    raw: &str,
    forms: Forms,
    op: Operation,
) -> Result<Arc<LoadedKey>, KmsError> {
    let key = kms.resolve(caller, raw, forms).await?;
    authorize(kms, caller, op, &key).await?;
    state::check(op, &key)?;
    Ok(key)
}

/// The IAM action that authorizes `op` on its (main) key; ReEncrypt's destination is authorized
/// with `kms:ReEncryptTo` and its source with `kms:ReEncryptFrom`.
pub(crate) fn action_of(op: Operation) -> &'static str {
    match op {
        Operation::ReEncrypt => "kms:ReEncryptTo",
        other => other.actions().first().copied().unwrap_or("kms:*"),
    }
}

/// The authorization stage for an operation on a key (key policy + identity policies).
pub(crate) async fn authorize(kms: &Kms, caller: &Caller, op: Operation, key: &LoadedKey) -> Result<(), KmsError> {
    kms.authorize_key(caller, action_of(op), key).await
}

fn context_aad(ctx: &Option<EncryptionContextMap>) -> Vec<u8> {
    match ctx {
        Some(c) => context::canonical(c),
        None => context::canonical(&EncryptionContextMap::new()),
    }
}

/// Encrypts under the key's current material. Returns the blob and the material id.
pub(crate) fn seal_symmetric(
    key: &LoadedKey,
    ctx: &Option<EncryptionContextMap>,
    plaintext: &[u8],
) -> Result<(Vec<u8>, String), KmsError> {
    let material = key.current()?;
    let id = key_id_bytes(key.id()).ok_or_else(|| KmsError::internal("key id is not blob-encodable"))?;
    let blob = envelope::encrypt(id, material.id, &material.secret, &context_aad(ctx), plaintext)
        .map_err(KmsError::internal)?;
    Ok((blob, material.id_hex.clone()))
}

/// Opened symmetric ciphertext.
pub(crate) struct Opened {
    pub key: Arc<LoadedKey>,
    pub plaintext: SecretBytes,
    pub material_id: String,
}

/// Decrypts a symmetric blob: the blob names its key; a `KeyId` that names another key is
/// `IncorrectKeyException`; any damage to blob or context is a detail-free
/// `InvalidCiphertextException` (reference §4.1).
pub(crate) async fn open_symmetric(
    kms: &Kms,
    caller: &Caller,
    blob: &[u8],
    ctx: &Option<EncryptionContextMap>,
    requested_key: Option<&Arc<LoadedKey>>,
    op: Operation,
) -> Result<Opened, KmsError> {
    let header = envelope::header(blob).map_err(|_| KmsError::InvalidCiphertext)?;
    let blob_key_id = key_id_string(&header.key);
    let key = match requested_key {
        Some(k) if k.id() != blob_key_id => return Err(KmsError::IncorrectKey),
        Some(k) => Arc::clone(k),
        None => kms.load_key(&blob_key_id).await?.ok_or(KmsError::InvalidCiphertext)?,
    };
    let action = if op == Operation::ReEncrypt {
        "kms:ReEncryptFrom"
    } else {
        action_of(op)
    };
    kms.authorize_key(caller, action, &key).await?;
    state::check(op, &key)?;
    require_usage(&key, "ENCRYPT_DECRYPT", op)?;
    let material = key.material(&header.material_id).ok_or(KmsError::InvalidCiphertext)?;
    let plaintext =
        envelope::decrypt(blob, &material.secret, &context_aad(ctx)).map_err(|_| KmsError::InvalidCiphertext)?;
    let material_id = material.id_hex.clone();
    Ok(Opened {
        key,
        plaintext,
        material_id,
    })
}

/// `EncryptionAlgorithm` for a symmetric key must be `SYMMETRIC_DEFAULT` when given.
pub(crate) fn check_symmetric_algorithm(key: &LoadedKey, alg: &Option<String>) -> Result<(), KmsError> {
    match alg.as_deref() {
        None | Some("SYMMETRIC_DEFAULT") => Ok(()),
        Some(other) => Err(KmsError::InvalidKeyUsage(format!(
            "Algorithm {other} is incompatible with key spec {}.",
            key.record.key_spec
        ))),
    }
}
