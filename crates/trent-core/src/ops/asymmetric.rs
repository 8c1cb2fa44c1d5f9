//! Steps shared by the operations that use asymmetric and HMAC keys: algorithm/key compatibility
//! (AWS's `Algorithm X is incompatible with key spec Y.`), the RSA plaintext limit, the
//! encryption-context rule, and running private-key work off the async executor.

use std::sync::Arc;

use trent_api::KmsError;
use trent_crypto::asymmetric::{AsymmetricKey, KeyKind, OaepAlg};
use trent_types::{EncryptionAlgorithm, EncryptionContext};

use crate::keys::LoadedKey;
use crate::spec;

/// `InvalidKeyUsageException: Algorithm <alg> is incompatible with key spec <spec>.`
pub(crate) fn incompatible(alg: &str, key: &LoadedKey) -> KmsError {
    KmsError::InvalidKeyUsage(format!("Algorithm {alg} is incompatible with key spec {}.", key.spec()))
}

/// Resolves `EncryptionAlgorithm` for an RSA encryption key (it has no default).
pub(crate) fn oaep_for(
    key: &LoadedKey,
    alg: Option<EncryptionAlgorithm>,
) -> Result<(OaepAlg, EncryptionAlgorithm), KmsError> {
    let name = alg.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    let listed = key.algorithms().encryption.unwrap_or_default();
    match spec::oaep(name) {
        Some(o) if listed.contains(&name) => Ok((o, name)),
        _ => Err(incompatible(name.as_str(), key)),
    }
}

/// Encryption context is bound only by symmetric keys (reference §4.3).
pub(crate) fn reject_context(ctx: Option<&EncryptionContext>, key: &LoadedKey) -> Result<(), KmsError> {
    match ctx {
        Some(c) if !c.is_empty() => Err(KmsError::Validation(format!(
            "EncryptionContext is not supported with key spec {}.",
            key.spec()
        ))),
        _ => Ok(()),
    }
}

/// `ValidationException` when a plaintext exceeds RSAES-OAEP's limit (AWS-recorded text).
pub(crate) fn check_oaep_size(
    key: &LoadedKey,
    alg: OaepAlg,
    name: EncryptionAlgorithm,
    len: usize,
) -> Result<(), KmsError> {
    let max = key.key_pair()?.max_plaintext(alg);
    if len > max {
        return Err(KmsError::Validation(format!(
            "Algorithm {name} and key spec {} cannot encrypt data larger than {max} bytes.",
            key.spec()
        )));
    }
    Ok(())
}

/// RSA and ML-DSA private-key operations take milliseconds: run them on the blocking pool so one
/// slow request never stalls the executor. Other kinds run inline (microseconds).
pub(crate) async fn private_op<T, F>(key: &Arc<LoadedKey>, f: F) -> Result<T, KmsError>
where
    T: Send + 'static,
    F: FnOnce(&AsymmetricKey) -> Result<T, KmsError> + Send + 'static,
{
    let pair = Arc::clone(key.key_pair()?);
    let heavy = matches!(
        pair.kind(),
        KeyKind::Rsa2048 | KeyKind::Rsa3072 | KeyKind::Rsa4096 | KeyKind::MlDsa44 | KeyKind::MlDsa65 | KeyKind::MlDsa87
    );
    if heavy {
        tokio::task::spawn_blocking(move || f(&pair))
            .await
            .map_err(KmsError::internal)?
    } else {
        f(&pair)
    }
}
