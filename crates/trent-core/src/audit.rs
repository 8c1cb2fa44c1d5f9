//! The service's side of the audit trail (`trent-audit` owns the format): the chain key derived
//! from the root key, and the reading helpers the `trent audit` commands use. Events are recorded
//! by the pipeline's `Recorder`, one per authenticated KMS, IAM or STS request.

use trent_api::KmsError;
use trent_audit::{ChainKey, Checkpoint, Entry, Verification};
use trent_crypto::RootKey;
use trent_store::{StoreError, StoreRead};

/// `K = HKDF-SHA256(derivation secret, "trent-audit-chain-v1")` (the derivation secret is the
/// root key until the root key is first rotated: see `rotation`): without it nobody can
/// recompute a valid chain over altered events.
pub fn chain_key(root: &RootKey) -> Result<ChainKey, KmsError> {
    let k = trent_crypto::symmetric::hkdf_sha256(root.expose(), b"trent", b"trent-audit-chain-v1")
        .map_err(KmsError::internal)?;
    Ok(ChainKey::new(k.expose()))
}

/// Recomputes every chain over its stored events and checks `checkpoints` (`trent audit
/// verify`).
pub fn verify_trail(
    store: &dyn StoreRead,
    root: &RootKey,
    checkpoints: &[Checkpoint],
) -> Result<Verification, StoreError> {
    let base = crate::rotation::derivation_base(
        store,
        &trent_crypto::seal::Keyring::new(RootKey::from_bytes(*root.expose())),
    )
    .map_err(|e| StoreError::Backend(e.to_string()))?;
    let key = chain_key(&base).map_err(|e| StoreError::Backend(e.to_string()))?;
    trent_audit::verify_against(store, &key, checkpoints)
}

/// One stored event as a CloudTrail JSON line (`trent audit show`).
pub fn render_entry(entry: &Entry) -> Result<String, StoreError> {
    trent_audit::render::render(entry)
}
