//! Key rotation (reference §5): a rotation adds a material version and makes it current; every
//! older version stays to decrypt old ciphertext. Automatic rotations are performed by the
//! scheduler when `next_rotation_ms` passes; on-demand rotations by RotateKeyOnDemand. The store's
//! compare-and-swap on the current material id makes each rotation happen once, even with several
//! servers on one database or a restart in the middle (the rotation is one transaction).

use std::sync::Arc;

use trent_api::KmsError;
use trent_crypto::seal::{self, Purpose};
use trent_store::{MaterialRecord, StoreError};

use crate::clock::DAY_MS;
use crate::keys::{material_record_id, LoadedKey};
use crate::Kms;

/// `RotationType` values.
pub const AUTOMATIC: &str = "AUTOMATIC";
pub const ON_DEMAND: &str = "ON_DEMAND";

/// On-demand rotations allowed per key (reference §5).
pub const MAX_ON_DEMAND_ROTATIONS: usize = 25;

impl Kms {
    /// Rotates `key` now. For generated keys the new material is created here; for imported keys
    /// the material waiting in `PENDING_ROTATION` becomes current. Returns the reloaded key and
    /// whether this call rotated it (`false` when another server rotated it first).
    pub(crate) async fn rotate(
        &self,
        key: &LoadedKey,
        rotation_type: &str,
    ) -> Result<(Arc<LoadedKey>, bool), KmsError> {
        let now = self.now_ms();
        let material = if key.record.origin == "EXTERNAL" {
            let Some(pending) = key.versions.iter().find(|v| v.pending_rotation) else {
                return Err(KmsError::InvalidState(format!(
                    "No available key material pending rotation for the key: {}.",
                    key.arn
                )));
            };
            MaterialRecord {
                pending_rotation: false,
                rotation_type: Some(rotation_type.to_owned()),
                rotation_ms: Some(now),
                ..pending.clone()
            }
        } else {
            let secret = crate::ops::create_key::generate_material(&key.record.key_spec, &key.record.key_usage).await?;
            let id = hex::encode(trent_crypto::random::array::<32>().map_err(KmsError::internal)?);
            let sealed = seal::seal(
                &self.root,
                Purpose::KeyMaterial,
                &material_record_id(&key.arn, &id),
                &secret,
            )
            .map_err(KmsError::internal)?;
            MaterialRecord {
                rotation_type: Some(rotation_type.to_owned()),
                rotation_ms: Some(now),
                ..MaterialRecord::generated(key.id(), &id, sealed, now)
            }
        };
        let mut record = key.record.clone();
        record.current_material_id = Some(material.material_id.clone());
        if rotation_type == AUTOMATIC {
            record.next_rotation_ms = record.rotation_period_days.map(|d| now + d * DAY_MS);
        }
        let expected = key.record.current_material_id.clone();
        let outcome = self
            .db(move |s| match s.rotate_key(&record, expected.as_deref(), &material) {
                Err(StoreError::Conflict) => Ok(false),
                other => other.map(|()| true),
            })
            .await?;
        self.uncache(key.id());
        if outcome {
            tracing::info!(key_arn = %key.arn, rotation_type, "key rotated");
        }
        let reloaded = self
            .load_key(key.id())
            .await?
            .ok_or_else(|| KmsError::internal("rotated key vanished"))?;
        Ok((reloaded, outcome))
    }

    /// Performs every automatic rotation that is due; returns how many keys rotated.
    pub async fn run_due_rotations(&self) -> Result<usize, KmsError> {
        let now = self.now_ms();
        let due = self.db(move |s| s.keys_due_for_rotation(now)).await?;
        let mut rotated = 0;
        for record in due {
            let _guard = self.write.lock().await;
            self.uncache(&record.key_id);
            let Some(key) = self.load_key(&record.key_id).await? else {
                continue;
            };
            // Re-check under the write lock: another task may have rotated it meanwhile.
            let still_due = key.record.rotation_enabled
                && key.record.key_state == "Enabled"
                && key.record.next_rotation_ms.is_some_and(|t| t <= now);
            if still_due && self.rotate(&key, AUTOMATIC).await?.1 {
                rotated += 1;
            }
        }
        Ok(rotated)
    }
}
