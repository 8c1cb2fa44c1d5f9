//! One module per KMS operation, named as AWS names it. Each declares a `KmsOp`: its wire
//! request and response, its validated request (domain types; the condition keys it supplies),
//! its authorization target, and its body, which runs only with the target's `Authorized` proof.
//! [`Kms::handle`] is the exhaustive catalogue: every operation of the model is placed and
//! built (what Trent cannot do — CloudHSM key stores, attested recipients — is refused by the
//! operation with `UnsupportedOperationException` and the reason).
//!
//! Steps shared by several operations (key usage checks, the symmetric envelope, dry runs,
//! asymmetric helpers) live below.

mod asymmetric;
mod cancel_key_deletion;
mod common;
mod connect_custom_key_store;
mod create_alias;
mod create_custom_key_store;
mod create_grant;
mod create_key;
mod decrypt;
mod delete_alias;
mod delete_custom_key_store;
mod delete_imported_key_material;
mod derive_shared_secret;
mod describe_custom_key_stores;
mod describe_key;
mod enable_disable_key;
mod generate_data_key;
mod generate_data_key_pair;
mod generate_mac;
mod generate_random;
mod get_key_last_usage;
mod get_key_policy;
mod get_parameters_for_import;
mod get_public_key;
mod import_key_material;
mod key_rotation;
mod list_aliases;
mod list_grants;
mod list_key_policies;
mod list_key_rotations;
mod list_keys;
mod list_resource_tags;
mod members;
mod put_key_policy;
mod re_encrypt;
mod retire_grant;
mod revoke_grant;
mod schedule_key_deletion;
mod sign;
mod tag_resource;
mod untag_resource;
mod update_alias;
mod update_custom_key_store;
mod update_key_description;

use trent_api::dto::EncryptionContextMap;
use trent_api::{KmsError, Operation};
use trent_crypto::envelope::{self, Header, KeyIdBytes};
use trent_crypto::SecretBytes;
use trent_types::{EncryptionAlgorithm, EncryptionContext, KeySpec, KeyUsage, Origin};

use crate::credentials::Caller;
use crate::keys::LoadedKey;
use crate::pipeline::run;
use crate::service::{Kms, RequestMeta};
use crate::xks::envelope::Asker;

impl Kms {
    /// Answers one KMS request for an authenticated caller: the whole request path (see
    /// `pipeline`), recorded in the audit trail.
    pub async fn handle(
        &self,
        caller: &Caller,
        op: Operation,
        body: &[u8],
        meta: &RequestMeta,
    ) -> Result<Vec<u8>, KmsError> {
        use Operation as O;
        match op {
            O::CreateKey => run::<create_key::CreateKey>(self, caller, body, meta).await,
            O::DescribeKey => run::<describe_key::DescribeKey>(self, caller, body, meta).await,
            O::ListKeys => run::<list_keys::ListKeys>(self, caller, body, meta).await,
            O::UpdateKeyDescription => {
                run::<update_key_description::UpdateKeyDescription>(self, caller, body, meta).await
            }
            O::EnableKey => run::<enable_disable_key::EnableKey>(self, caller, body, meta).await,
            O::DisableKey => run::<enable_disable_key::DisableKey>(self, caller, body, meta).await,
            O::ScheduleKeyDeletion => run::<schedule_key_deletion::ScheduleKeyDeletion>(self, caller, body, meta).await,
            O::CancelKeyDeletion => run::<cancel_key_deletion::CancelKeyDeletion>(self, caller, body, meta).await,
            O::Encrypt => run::<encrypt::Encrypt>(self, caller, body, meta).await,
            O::Decrypt => run::<decrypt::Decrypt>(self, caller, body, meta).await,
            O::ReEncrypt => run::<re_encrypt::ReEncrypt>(self, caller, body, meta).await,
            O::GenerateDataKey => run::<generate_data_key::GenerateDataKey>(self, caller, body, meta).await,
            O::GenerateDataKeyWithoutPlaintext => {
                run::<generate_data_key::GenerateDataKeyWithoutPlaintext>(self, caller, body, meta).await
            }
            O::GenerateDataKeyPair => {
                run::<generate_data_key_pair::GenerateDataKeyPair>(self, caller, body, meta).await
            }
            O::GenerateDataKeyPairWithoutPlaintext => {
                run::<generate_data_key_pair::GenerateDataKeyPairWithoutPlaintext>(self, caller, body, meta).await
            }
            O::GenerateRandom => run::<generate_random::GenerateRandom>(self, caller, body, meta).await,
            O::CreateAlias => run::<create_alias::CreateAlias>(self, caller, body, meta).await,
            O::UpdateAlias => run::<update_alias::UpdateAlias>(self, caller, body, meta).await,
            O::DeleteAlias => run::<delete_alias::DeleteAlias>(self, caller, body, meta).await,
            O::ListAliases => run::<list_aliases::ListAliases>(self, caller, body, meta).await,
            O::TagResource => run::<tag_resource::TagResource>(self, caller, body, meta).await,
            O::UntagResource => run::<untag_resource::UntagResource>(self, caller, body, meta).await,
            O::ListResourceTags => run::<list_resource_tags::ListResourceTags>(self, caller, body, meta).await,
            O::GetKeyPolicy => run::<get_key_policy::GetKeyPolicy>(self, caller, body, meta).await,
            O::PutKeyPolicy => run::<put_key_policy::PutKeyPolicy>(self, caller, body, meta).await,
            O::ListKeyPolicies => run::<list_key_policies::ListKeyPolicies>(self, caller, body, meta).await,
            O::Sign => run::<sign::Sign>(self, caller, body, meta).await,
            O::Verify => run::<sign::Verify>(self, caller, body, meta).await,
            O::GetPublicKey => run::<get_public_key::GetPublicKey>(self, caller, body, meta).await,
            O::GenerateMac => run::<generate_mac::GenerateMac>(self, caller, body, meta).await,
            O::VerifyMac => run::<generate_mac::VerifyMac>(self, caller, body, meta).await,
            O::DeriveSharedSecret => run::<derive_shared_secret::DeriveSharedSecret>(self, caller, body, meta).await,
            O::EnableKeyRotation => run::<key_rotation::EnableKeyRotation>(self, caller, body, meta).await,
            O::DisableKeyRotation => run::<key_rotation::DisableKeyRotation>(self, caller, body, meta).await,
            O::GetKeyRotationStatus => run::<key_rotation::GetKeyRotationStatus>(self, caller, body, meta).await,
            O::RotateKeyOnDemand => run::<key_rotation::RotateKeyOnDemand>(self, caller, body, meta).await,
            O::ListKeyRotations => run::<list_key_rotations::ListKeyRotations>(self, caller, body, meta).await,
            O::GetParametersForImport => {
                run::<get_parameters_for_import::GetParametersForImport>(self, caller, body, meta).await
            }
            O::ImportKeyMaterial => run::<import_key_material::ImportKeyMaterial>(self, caller, body, meta).await,
            O::DeleteImportedKeyMaterial => {
                run::<delete_imported_key_material::DeleteImportedKeyMaterial>(self, caller, body, meta).await
            }
            O::GetKeyLastUsage => run::<get_key_last_usage::GetKeyLastUsage>(self, caller, body, meta).await,
            O::CreateGrant => run::<create_grant::CreateGrant>(self, caller, body, meta).await,
            O::ListGrants => run::<list_grants::ListGrants>(self, caller, body, meta).await,
            O::ListRetirableGrants => run::<list_grants::ListRetirableGrants>(self, caller, body, meta).await,
            O::RetireGrant => run::<retire_grant::RetireGrant>(self, caller, body, meta).await,
            O::RevokeGrant => run::<revoke_grant::RevokeGrant>(self, caller, body, meta).await,
            O::DescribeCustomKeyStores => {
                run::<describe_custom_key_stores::DescribeCustomKeyStores>(self, caller, body, meta).await
            }
            O::CreateCustomKeyStore => {
                run::<create_custom_key_store::CreateCustomKeyStore>(self, caller, body, meta).await
            }
            O::ConnectCustomKeyStore => {
                run::<connect_custom_key_store::ConnectCustomKeyStore>(self, caller, body, meta).await
            }
            O::DisconnectCustomKeyStore => {
                run::<connect_custom_key_store::DisconnectCustomKeyStore>(self, caller, body, meta).await
            }
            O::UpdateCustomKeyStore => {
                run::<update_custom_key_store::UpdateCustomKeyStore>(self, caller, body, meta).await
            }
            O::DeleteCustomKeyStore => {
                run::<delete_custom_key_store::DeleteCustomKeyStore>(self, caller, body, meta).await
            }
            O::ReplicateKey => run::<multi_region::ReplicateKey>(self, caller, body, meta).await,
            O::UpdatePrimaryRegion => run::<multi_region::UpdatePrimaryRegion>(self, caller, body, meta).await,
        }
    }
}

mod encrypt;
mod multi_region;

/// `InvalidKeyUsageException: <arn> key usage is X which is not valid for Op.` (AWS-recorded).
pub(crate) fn require_usage(key: &LoadedKey, usage: KeyUsage, op: Operation) -> Result<(), KmsError> {
    if key.usage() == usage {
        return Ok(());
    }
    Err(KmsError::InvalidKeyUsage(format!(
        "{} key usage is {} which is not valid for {}.",
        key.arn,
        key.usage(),
        op.name()
    )))
}

/// The key named by Decrypt `KeyId` / ReEncrypt `SourceKeyId` when it cannot decrypt at all (HMAC,
/// signing or key-agreement usage): AWS answers `IncorrectKeyException` — the ciphertext cannot
/// have come from that key (AWS-recorded: Decrypt of a symmetric blob naming an HMAC key).
pub(crate) fn require_decrypting_key(key: &LoadedKey) -> Result<(), KmsError> {
    if key.usage() == KeyUsage::EncryptDecrypt {
        Ok(())
    } else {
        Err(KmsError::IncorrectKey)
    }
}

/// Symmetric-only operations (GenerateDataKey*, encryption context): a non-symmetric key is an
/// `InvalidKeyUsageException`.
pub(crate) fn require_symmetric(key: &LoadedKey, op: Operation) -> Result<(), KmsError> {
    require_usage(key, KeyUsage::EncryptDecrypt, op)?;
    if key.spec() != KeySpec::SymmetricDefault {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key spec is {} which is not valid for {}.",
            key.arn,
            key.spec(),
            op.name()
        )));
    }
    Ok(())
}

/// `DryRunOperationException` once every check has passed (reference §4.8).
pub(crate) fn finish_dry_run(dry_run: bool) -> Result<(), KmsError> {
    if dry_run {
        return Err(KmsError::DryRun);
    }
    Ok(())
}

/// `EncryptionAlgorithm` for a symmetric key must be `SYMMETRIC_DEFAULT` when given.
pub(crate) fn check_symmetric_algorithm(key: &LoadedKey, alg: Option<EncryptionAlgorithm>) -> Result<(), KmsError> {
    match alg {
        None | Some(EncryptionAlgorithm::SymmetricDefault) => Ok(()),
        Some(other) => Err(KmsError::InvalidKeyUsage(format!(
            "Algorithm {other} is incompatible with key spec {}.",
            key.spec()
        ))),
    }
}

fn context_aad(ctx: Option<&EncryptionContext>) -> Vec<u8> {
    static EMPTY: std::sync::LazyLock<EncryptionContextMap> = std::sync::LazyLock::new(EncryptionContextMap::new);
    trent_crypto::context::canonical(ctx.map_or(&*EMPTY, |c| c.as_map()))
}

/// Encrypts under the key's current material. Returns the blob and the material id.
pub(crate) fn seal_symmetric(
    key: &LoadedKey,
    ctx: Option<&EncryptionContext>,
    plaintext: &[u8],
) -> Result<(Vec<u8>, String), KmsError> {
    let material = key.current()?;
    let (multi_region, id) = key.id().to_bytes();
    let blob = envelope::encrypt(
        KeyIdBytes { multi_region, id },
        material.id,
        &material.secret,
        &context_aad(ctx),
        plaintext,
    )
    .map_err(KmsError::internal)?;
    Ok((blob, material.id_hex.clone()))
}

/// Decrypts a symmetric blob under the key its header named (already authorized): any damage to
/// blob or context is the one detail-free `InvalidCiphertextException` (reference §4.1).
pub(crate) fn open_symmetric(
    key: &LoadedKey,
    header: &Header,
    blob: &[u8],
    ctx: Option<&EncryptionContext>,
) -> Result<(SecretBytes, String), KmsError> {
    let material = key.material(&header.material_id).ok_or(KmsError::InvalidCiphertext)?;
    let plaintext =
        envelope::decrypt(blob, &material.secret, &context_aad(ctx)).map_err(|_| KmsError::InvalidCiphertext)?;
    Ok((plaintext, material.id_hex.clone()))
}

/// [`seal_symmetric`], and for a key in an external key store the proxy's layer on top
/// (`xks::envelope`).
pub(crate) async fn seal_any(
    asker: &Asker<'_>,
    key: &LoadedKey,
    ctx: Option<&EncryptionContext>,
    plaintext: &[u8],
) -> Result<(Vec<u8>, String), KmsError> {
    if key.record.origin == Origin::ExternalKeyStore {
        return crate::xks::envelope::seal(asker, key, &context_aad(ctx), plaintext).await;
    }
    seal_symmetric(key, ctx, plaintext)
}

/// [`open_symmetric`], and for a key in an external key store the proxy's layer first. A
/// version-1 blob never opens under a key in an external key store (that would skip the
/// external key), nor a version-2 blob under any other key.
pub(crate) async fn open_any(
    asker: &Asker<'_>,
    key: &LoadedKey,
    header: &Header,
    blob: &[u8],
    ctx: Option<&EncryptionContext>,
) -> Result<(SecretBytes, String), KmsError> {
    match (key.record.origin == Origin::ExternalKeyStore, header.external) {
        (true, true) => crate::xks::envelope::open(asker, key, header, blob, &context_aad(ctx)).await,
        (false, false) => open_symmetric(key, header, blob, ctx),
        (true, false) | (false, true) => Err(KmsError::InvalidCiphertext),
    }
}

/// `Recipient` (attested environments) is not served.
pub(crate) fn no_recipient<T>(recipient: &Option<T>) -> Result<(), KmsError> {
    if recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Recipient (attested environments) is not supported by this server.".to_owned(),
        ));
    }
    Ok(())
}
