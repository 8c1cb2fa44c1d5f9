//! Key lifecycle writes shared by operations and background jobs: creating a key with its first
//! material (reference §2.2), rotating it (§5: a new material version, compare-and-swap on the
//! current one so a rotation happens once even with several servers), and deleting imported
//! material (§7). Each takes the caller's write [`Authority`]: an operation's authorization, or
//! the scheduler's.

use std::sync::Arc;

use trent_api::KmsError;
use trent_crypto::seal::{self, Purpose};
use trent_crypto::SecretBytes;
use trent_store::{KeyRecord, MaterialRecord, StoreError, TagRecord};
use trent_types::{
    AccountId, Arn, ImportState, KeyId, KeyManager, KeySpec, KeyState, KeyUsage, Origin, Region, RotationType,
};

use crate::clock::DAY_MS;
use crate::keys::{material_record_id, LoadedKey};
use crate::service::{Authority, Kms};
use crate::spec;

/// At most this many on-demand rotations per key (reference §5).
pub(crate) const MAX_ON_DEMAND_ROTATIONS: usize = 25;

/// Everything needed to create a key record (customer CreateKey and AWS managed keys).
pub(crate) struct NewKey {
    pub key_id: KeyId,
    pub account_id: AccountId,
    /// The Region the key is created in (the request's).
    pub region: Region,
    pub description: String,
    pub key_spec: KeySpec,
    pub key_usage: KeyUsage,
    pub origin: Origin,
    pub key_manager: KeyManager,
    pub policy: String,
    pub tags: Vec<(String, String)>,
    /// Automatic rotation from the start (AWS managed keys: 365 days).
    pub rotation_period_days: Option<i64>,
    /// The material to use instead of generating it, with its KeyMaterialId (dev-mode seeding of
    /// symmetric keys: the same seed gives the same id, so ciphertexts carry over).
    pub material: Option<(trent_crypto::SecretBytes, String)>,
    /// A key in an external key store: (custom key store id, `XksKeyId`).
    pub external: Option<(String, String)>,
}

/// A new key id (a version-4 UUID).
pub(crate) fn new_key_id() -> Result<KeyId, KmsError> {
    Ok(KeyId::from_random(
        trent_crypto::random::array::<16>().map_err(KmsError::internal)?,
    ))
}

/// A new multi-Region key id: `mrk-` and 32 random hex digits (reference §0, "Key ID formats").
pub(crate) fn new_multi_region_key_id() -> Result<KeyId, KmsError> {
    Ok(KeyId::from_bytes(
        true,
        trent_crypto::random::array::<16>().map_err(KmsError::internal)?,
    ))
}

/// A new 64-hex KeyMaterialId.
fn new_material_id() -> Result<String, KmsError> {
    Ok(hex::encode(
        trent_crypto::random::array::<32>().map_err(KmsError::internal)?,
    ))
}

/// New key material for a spec: 256 random bits for SYMMETRIC_DEFAULT, a hash-length random key
/// for HMAC, a PKCS#8 private key for asymmetric specs (generated on the blocking pool: RSA-4096
/// generation can take a second).
pub(crate) async fn generate_material(key_spec: KeySpec, key_usage: KeyUsage) -> Result<SecretBytes, KmsError> {
    if let Some(mac) = spec::mac_of_spec(key_spec) {
        return trent_crypto::random::secret(mac.key_len()).map_err(KmsError::internal);
    }
    let Some(kind) = spec::key_kind(key_spec) else {
        return trent_crypto::random::secret(32).map_err(KmsError::internal);
    };
    let purpose = spec::purpose(key_usage);
    tokio::task::spawn_blocking(move || trent_crypto::asymmetric::AsymmetricKey::generate(kind, purpose))
        .await
        .map_err(KmsError::internal)?
        .map(|(_, pkcs8)| pkcs8)
        .map_err(KmsError::internal)
}

impl Kms {
    fn seal_material(&self, arn: &str, material_id: &str, material: &SecretBytes) -> Result<Vec<u8>, KmsError> {
        seal::seal(
            self.root().current(),
            Purpose::KeyMaterial,
            &material_record_id(arn, material_id),
            material,
        )
        .map_err(KmsError::internal)
    }

    /// Creates a key: generated material for `AWS_KMS`, none (`PendingImport`) for `EXTERNAL`.
    pub(crate) async fn insert_key<A: Authority + ?Sized>(
        &self,
        authority: &A,
        new: NewKey,
    ) -> Result<Arc<LoadedKey>, KmsError> {
        let arn = Arn::key(&new.region, new.account_id, new.key_id);
        let now = self.now_ms();
        let material_record = if new.origin == Origin::External {
            None
        } else {
            let (material, material_id) = match new.material {
                Some(given) => given,
                None => (
                    generate_material(new.key_spec, new.key_usage).await?,
                    new_material_id()?,
                ),
            };
            let sealed = self.seal_material(&arn, &material_id, &material)?;
            Some(MaterialRecord::generated(new.key_id, &material_id, sealed, now))
        };
        let record = KeyRecord {
            key_id: new.key_id,
            account_id: new.account_id,
            region: new.region.clone(),
            description: new.description,
            key_spec: new.key_spec,
            key_usage: new.key_usage,
            key_state: if material_record.is_some() {
                KeyState::Enabled
            } else {
                KeyState::PendingImport
            },
            origin: new.origin,
            key_manager: new.key_manager,
            created_ms: now,
            deletion_ms: None,
            pending_window_days: None,
            policy: new.policy,
            current_material_id: material_record.as_ref().map(|m| m.material_id.clone()),
            multi_region: new.key_id.is_multi_region(),
            primary_region: new.key_id.is_multi_region().then(|| new.region.clone()),
            material_region: new.region.clone(),
            rotation_enabled: new.rotation_period_days.is_some(),
            rotation_period_days: new.rotation_period_days,
            next_rotation_ms: new.rotation_period_days.map(|d| now + d * DAY_MS),
            version: 0,
            custom_key_store_id: new.external.as_ref().map(|(s, _)| s.clone()),
            xks_key_id: new.external.map(|(_, x)| x),
        };
        let tag_records: Vec<TagRecord> = new
            .tags
            .into_iter()
            .map(|(key, value)| TagRecord { key, value })
            .collect();
        let (r, m, t) = (record.clone(), material_record.clone(), tag_records.clone());
        crate::pipeline::note_resource(&Arc::from(Arn::key(&record.region, record.account_id, record.key_id)));
        self.write(authority, move |s| s.create_key(&r, m.as_ref(), &t)).await?;
        let related = if record.multi_region {
            vec![record.region.clone()]
        } else {
            Vec::new()
        };
        let loaded = Arc::new(self.unseal_key(
            record,
            material_record.into_iter().collect(),
            tag_records,
            Vec::new(),
            related,
        )?);
        tracing::info!(key_arn = %loaded.arn, "key created");
        Ok(loaded)
    }

    /// Rotates a key: generated material gets a new version; an imported key's material waiting
    /// in `PENDING_ROTATION` becomes current. Returns the reloaded key and whether this call
    /// rotated (false: another server won the race).
    pub(crate) async fn rotate<A: Authority + ?Sized>(
        &self,
        authority: &A,
        key: &LoadedKey,
        rotation_type: RotationType,
    ) -> Result<(Arc<LoadedKey>, bool), KmsError> {
        let now = self.now_ms();
        let material = if key.record.origin == Origin::External {
            let Some(pending) = key.versions.iter().find(|v| v.pending_rotation) else {
                return Err(KmsError::InvalidState(format!(
                    "No available key material pending rotation for the key: {}.",
                    key.arn
                )));
            };
            MaterialRecord {
                pending_rotation: false,
                rotation_type: Some(rotation_type),
                rotation_ms: Some(now),
                ..pending.clone()
            }
        } else {
            let secret = generate_material(key.spec(), key.usage()).await?;
            let id = new_material_id()?;
            // Related multi-Region keys share the material: sealed to the ARN they all read it by.
            let sealed = self.seal_material(&key.material_arn, &id, &secret)?;
            MaterialRecord {
                rotation_type: Some(rotation_type),
                rotation_ms: Some(now),
                ..MaterialRecord::generated(*key.id(), &id, sealed, now)
            }
        };
        let mut record = key.record.clone();
        record.current_material_id = Some(material.material_id.clone());
        if rotation_type == RotationType::Automatic {
            record.next_rotation_ms = record.rotation_period_days.map(|d| now + d * DAY_MS);
        }
        let expected = key.record.current_material_id.clone();
        let rotated = self
            .write(authority, move |s| {
                match s.rotate_key(&record, expected.as_deref(), &material) {
                    Err(StoreError::Conflict) => Ok(false),
                    other => other.map(|()| true),
                }
            })
            .await?;
        self.uncache(key.id());
        if rotated {
            tracing::info!(key_arn = %key.arn, %rotation_type, "key rotated");
        }
        let reloaded = self
            .load_key(&key.record.region, key.id())
            .await?
            .ok_or_else(|| KmsError::internal("rotated key vanished"))?;
        Ok((reloaded, rotated))
    }

    /// Deletes the bytes of one imported material version (explicit deletion or expiry): the
    /// version and its KeyMaterialId stay, and the key becomes `PendingImport` unless it is
    /// pending deletion or the version was only pending rotation.
    pub(crate) async fn delete_material<A: Authority + ?Sized>(
        &self,
        authority: &A,
        key: &LoadedKey,
        material_id: &str,
        everywhere: bool,
    ) -> Result<(), KmsError> {
        let Some(prev) = key.versions.iter().find(|v| v.material_id == material_id) else {
            return Ok(());
        };
        if key.related.len() > 1 && !prev.pending_rotation && !everywhere {
            // Related multi-Region keys share their material records: deleting one key's copy
            // leaves the others' (AWS: "deleting on a replica affects only that replica"), so
            // only this key becomes `PendingImport`; importing the same material again
            // restores it.
            let mut record = key.record.clone();
            if record.key_state.is_pending_deletion() {
                return Ok(());
            }
            record.key_state = KeyState::PendingImport;
            self.write_key(authority, key, record).await?;
            tracing::info!(key_arn = %key.arn, material_id, "imported key material deleted from this Region's key");
            return Ok(());
        }
        let version = MaterialRecord {
            sealed: Vec::new(),
            import_state: Some(ImportState::PendingImport),
            expiration_model: None,
            valid_to_ms: None,
            ..prev.clone()
        };
        let mut record = key.record.clone();
        if !prev.pending_rotation && !record.key_state.is_pending_deletion() {
            record.key_state = KeyState::PendingImport;
        }
        let (r, m) = (record, version);
        let others = key
            .related
            .iter()
            .filter(|r| **r != key.record.region)
            .cloned()
            .collect::<Vec<_>>();
        let (id, gone) = (*key.id(), m.material_id.clone());
        self.write(authority, move |s| {
            s.atomically(&mut |t| {
                t.put_material(&r, &m)?;
                // The other related keys lose the shared material too.
                for region in &others {
                    if let Some(mut other) = t.key(region, &id)? {
                        if other.current_material_id.as_deref() == Some(gone.as_str())
                            && !other.key_state.is_pending_deletion()
                        {
                            other.key_state = KeyState::PendingImport;
                            t.update_key(&other)?;
                        }
                    }
                }
                Ok(())
            })
        })
        .await?;
        self.uncache(key.id());
        tracing::info!(key_arn = %key.arn, material_id, "imported key material deleted");
        Ok(())
    }
}
