//! Encrypt and decrypt under a key in an external key store: double encryption, as AWS does it
//! (reference §13). The plaintext is first sealed under the key's own material — a whole
//! version-1 blob, which binds the encryption context — and that blob is then encrypted by the
//! proxy under the external key, with the version-2 header as AAD ([`trent_crypto::xks`]).
//! Decryption runs the layers backwards. Neither Trent's material nor the external key alone
//! opens a ciphertext; a disconnected store opens nothing.

use trent_api::xks::RequestMetadata;
use trent_api::{KmsError, Operation};
use trent_crypto::envelope::{self, Header, KeyIdBytes};
use trent_crypto::SecretBytes;

use super::client::{self, Failure, Proxy};
use super::stores::{ConnectionState, LoadedStore};
use crate::credentials::Caller;
use crate::keys::LoadedKey;
use crate::service::{Kms, RequestMeta};

/// Who asks, for the proxy's `requestMetadata`.
pub(crate) struct Asker<'a> {
    pub kms: &'a Kms,
    pub caller: &'a Caller,
    pub meta: &'a RequestMeta,
    pub op: Operation,
}

impl<'a, T> crate::pipeline::Ctx<'a, T> {
    /// The caller of this request, for the proxy's `requestMetadata`.
    pub(crate) fn asker(&self, op: Operation) -> Asker<'a> {
        Asker {
            kms: self.kms,
            caller: self.caller,
            meta: self.meta,
            op,
        }
    }
}

impl Asker<'_> {
    fn metadata(&self, key: &LoadedKey) -> RequestMetadata {
        RequestMetadata {
            aws_principal_arn: Some(self.caller.arn().to_owned()),
            kms_key_arn: Some(key.arn.to_string()),
            kms_operation: self.op.name().to_owned(),
            kms_request_id: self.meta.request_id.clone(),
            ..RequestMetadata::default()
        }
    }

    /// The key's store, connected, or the specification's `KMSInvalidStateException`.
    async fn store(&self, key: &LoadedKey) -> Result<(std::sync::Arc<LoadedStore>, String), KmsError> {
        let (Some(store_id), Some(xks_key_id)) = (&key.record.custom_key_store_id, &key.record.xks_key_id) else {
            return Err(KmsError::internal(format!("{} names no external key", key.arn)));
        };
        let store = self
            .kms
            .custom_key_store(key.record.account_id, &key.record.region, store_id)
            .await?
            .ok_or_else(|| Failure::NotConnected.for_crypto())?;
        if store.doc.state != ConnectionState::Connected {
            return Err(Failure::NotConnected.for_crypto());
        }
        Ok((store, xks_key_id.clone()))
    }
}

/// Seals `plaintext` under the key's current material, then has the proxy encrypt that.
/// Returns the version-2 blob and the material id.
pub(crate) async fn seal(
    asker: &Asker<'_>,
    key: &LoadedKey,
    context: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, String), KmsError> {
    let (store, xks_key_id) = asker.store(key).await?;
    let material = key.current()?;
    let (multi_region, id) = key.id().to_bytes();
    let key_bytes = KeyIdBytes { multi_region, id };
    let inner =
        envelope::encrypt(key_bytes, material.id, &material.secret, context, plaintext).map_err(KmsError::internal)?;
    let header = trent_crypto::xks::blob_header(key_bytes, material.id);
    let out = client::encrypt(
        asker.kms,
        &Proxy::of(&store),
        &xks_key_id,
        asker.metadata(key),
        &inner,
        &header,
    )
    .await
    .map_err(|f| f.for_crypto())?;
    let blob = trent_crypto::xks::encode_blob(&header, &out.iv, &out.tag, &out.metadata, &out.ciphertext)
        .map_err(|_| Failure::Malformed.for_crypto())?;
    Ok((blob, material.id_hex.clone()))
}

/// Has the proxy decrypt the outer layer, then opens the inner blob under the material both
/// headers name.
pub(crate) async fn open(
    asker: &Asker<'_>,
    key: &LoadedKey,
    header: &Header,
    blob: &[u8],
    context: &[u8],
) -> Result<(SecretBytes, String), KmsError> {
    let parts = trent_crypto::xks::parse_blob(blob).map_err(|_| KmsError::InvalidCiphertext)?;
    let material = key.material(&header.material_id).ok_or(KmsError::InvalidCiphertext)?;
    let (store, xks_key_id) = asker.store(key).await?;
    let inner = client::decrypt(asker.kms, &Proxy::of(&store), &xks_key_id, asker.metadata(key), &parts)
        .await
        .map_err(|f| f.for_crypto())?;
    // The inner blob must be the one this key made with the material the outer header names;
    // anything else is a proxy that answered wrongly.
    let inner_header = envelope::header(inner.expose()).map_err(|_| Failure::BadPlaintext.for_crypto())?;
    if inner_header.external || inner_header.key != header.key || inner_header.material_id != header.material_id {
        return Err(Failure::BadPlaintext.for_crypto());
    }
    let plaintext =
        envelope::decrypt(inner.expose(), &material.secret, context).map_err(|_| KmsError::InvalidCiphertext)?;
    Ok((plaintext, material.id_hex.clone()))
}
