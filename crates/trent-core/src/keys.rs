//! Loaded keys: a key record with its material versions unsealed, its policy parsed, its grants
//! indexed and, for asymmetric keys, the current key pair parsed — everything the hot path needs,
//! built once per load. Loaded keys are cached by key id; every write to a key replaces or drops
//! the cached copy, so the cache is never stale within this process and a warm key costs no
//! database read.

use std::sync::Arc;

use trent_api::dto::KeyMetadata;
use trent_api::KmsError;
use trent_crypto::asymmetric::AsymmetricKey;
use trent_crypto::seal::{Keyring, Purpose};
use trent_crypto::SecretBytes;
use trent_policy::PolicyDocument;
use trent_store::{GrantRecord, KeyRecord, MaterialRecord, StoreError, TagRecord};
use trent_types::{
    Arn, EncryptionAlgorithm, ExpirationModel, KeyAgreementAlgorithm, KeyId, KeyManager, KeySpec, KeyState, KeyUsage,
    MacAlgorithm, Origin, Region, SigningAlgorithm,
};

use crate::clock::epoch_seconds;
use crate::grants::KeyGrants;
use crate::service::{Authority, Kms};
use crate::spec;

/// One version of key material, unsealed.
pub(crate) struct Material {
    pub id_hex: String,
    pub id: [u8; 32],
    pub secret: SecretBytes,
}

/// A key ready for use.
pub(crate) struct LoadedKey {
    pub record: KeyRecord,
    /// The key ARN (shared with audit events without copying).
    pub arn: Arc<str>,
    /// The ARN its material records are sealed to (their AAD): the key's own, except for a
    /// multi-Region replica, whose shared material names the Region it was first made in.
    pub material_arn: Arc<str>,
    pub materials: Arc<Vec<Material>>,
    /// Every material version's record (rotation and import metadata; material still sealed).
    pub versions: Arc<Vec<MaterialRecord>>,
    pub asymmetric: Option<Arc<AsymmetricKey>>,
    /// The key policy, parsed once per load.
    pub policy: Arc<PolicyDocument>,
    /// Tags (`aws:ResourceTag/*` conditions); Tag/UntagResource reload the key.
    pub tags: Arc<Vec<TagRecord>>,
    /// Grants, indexed by grantee; grant operations reload the key.
    pub grants: Arc<KeyGrants>,
    /// A multi-Region key's related keys' Regions, its own included, in Region order (empty for
    /// single-Region keys). ReplicateKey and replica deletions drop every Region's cached copy.
    pub related: Arc<Vec<Region>>,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKey")
            .field("arn", &self.arn)
            .field("state", &self.record.key_state)
            .finish_non_exhaustive()
    }
}

/// The algorithm lists KeyMetadata and GetPublicKey show for a key.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Algorithms {
    pub encryption: Option<Vec<EncryptionAlgorithm>>,
    pub signing: Option<Vec<SigningAlgorithm>>,
    pub mac: Option<Vec<MacAlgorithm>>,
    pub key_agreement: Option<Vec<KeyAgreementAlgorithm>>,
}

impl LoadedKey {
    pub fn id(&self) -> &KeyId {
        &self.record.key_id
    }

    pub fn spec(&self) -> KeySpec {
        self.record.key_spec
    }

    pub fn usage(&self) -> KeyUsage {
        self.record.key_usage
    }

    pub fn state(&self) -> KeyState {
        self.record.key_state
    }

    pub fn material(&self, id: &[u8; 32]) -> Option<&Material> {
        self.materials.iter().find(|m| &m.id == id)
    }

    /// The material new ciphertext is made with.
    pub fn current(&self) -> Result<&Material, KmsError> {
        let cur = self.record.current_material_id.as_deref().unwrap_or_default();
        self.materials
            .iter()
            .find(|m| m.id_hex == cur)
            .ok_or_else(|| KmsError::internal(format!("{} has no current material", self.arn)))
    }

    /// The record of the current material version.
    pub fn current_version(&self) -> Option<&MaterialRecord> {
        let cur = self.record.current_material_id.as_deref()?;
        self.versions.iter().find(|v| v.material_id == cur)
    }

    /// The parsed key pair of an asymmetric key.
    pub fn key_pair(&self) -> Result<&Arc<AsymmetricKey>, KmsError> {
        self.asymmetric
            .as_ref()
            .ok_or_else(|| KmsError::internal(format!("{} is not asymmetric", self.arn)))
    }

    pub fn algorithms(&self) -> Algorithms {
        spec::algorithms(self.spec(), self.usage())
    }

    /// `KeyMetadata` exactly as DescribeKey/CreateKey return it (reference §1).
    pub fn metadata(&self) -> KeyMetadata {
        let r = &self.record;
        let algs = self.algorithms();
        let symmetric_current = r.key_spec.is_symmetric() && matches!(r.origin, Origin::AwsKms | Origin::External);
        let current_version = self.current_version();
        // ExpirationModel/ValidTo describe imported material that is present (reference §1).
        let imported = r.origin == Origin::External && current_version.is_some_and(|v| v.is_present());
        KeyMetadata {
            aws_account_id: r.account_id.to_string(),
            key_id: r.key_id.to_string(),
            arn: self.arn.to_string(),
            creation_date: epoch_seconds(r.created_ms),
            enabled: r.key_state == KeyState::Enabled,
            description: r.description.clone(),
            key_usage: r.key_usage,
            key_state: r.key_state,
            deletion_date: r
                .deletion_ms
                .filter(|_| r.key_state == KeyState::PendingDeletion)
                .map(epoch_seconds),
            origin: r.origin,
            key_manager: r.key_manager,
            customer_master_key_spec: r.key_spec,
            key_spec: r.key_spec,
            encryption_algorithms: algs.encryption,
            signing_algorithms: algs.signing,
            mac_algorithms: algs.mac,
            key_agreement_algorithms: algs.key_agreement,
            multi_region: r.multi_region,
            multi_region_configuration: r.multi_region.then(|| self.multi_region_configuration()),
            pending_deletion_window_in_days: r
                .pending_window_days
                .filter(|_| r.key_state == KeyState::PendingReplicaDeletion),
            current_key_material_id: r.current_material_id.clone().filter(|_| symmetric_current),
            expiration_model: current_version
                .and_then(|v| v.expiration_model)
                .filter(|_| imported)
                .map(|m| m.as_str().to_owned()),
            valid_to: current_version
                .filter(|_| imported)
                .filter(|v| v.expiration_model == Some(ExpirationModel::KeyMaterialExpires))
                .and_then(|v| v.valid_to_ms)
                .map(epoch_seconds),
            custom_key_store_id: r.custom_key_store_id.clone(),
            xks_key_configuration: r
                .xks_key_id
                .as_ref()
                .map(|id| trent_api::dto::XksKeyConfiguration { id: id.clone() }),
        }
    }

    /// `MultiRegionConfiguration`: the key's role, its primary, and every replica (a replica's
    /// own included), as AWS shows it from any of the related keys.
    fn multi_region_configuration(&self) -> trent_api::dto::MultiRegionConfiguration {
        let r = &self.record;
        let primary = r.primary_region.as_ref().unwrap_or(&r.region);
        let entry = |region: &Region| trent_api::dto::MultiRegionKey {
            arn: Arn::key(region, r.account_id, r.key_id),
            region: region.as_str().to_owned(),
        };
        trent_api::dto::MultiRegionConfiguration {
            multi_region_key_type: if r.is_replica() { "REPLICA" } else { "PRIMARY" },
            primary_key: entry(primary),
            replica_keys: self.related.iter().filter(|x| *x != primary).map(entry).collect(),
        }
    }

    pub fn is_customer_managed(&self) -> bool {
        self.record.key_manager == KeyManager::Customer
    }
}

/// The AAD record id that binds sealed material to its key and version.
pub(crate) fn material_record_id(key_arn: &str, material_id: &str) -> String {
    format!("{key_arn}/{material_id}")
}

/// Unseals one stored material version of the key `key_arn` (also `trent migrate`'s check that a
/// copied store opens what the source sealed).
pub fn open_material(root: &Keyring, key_arn: &str, m: &MaterialRecord) -> Result<SecretBytes, KmsError> {
    root.unseal(
        Purpose::KeyMaterial,
        &material_record_id(key_arn, &m.material_id),
        &m.sealed,
    )
    .map_err(|_| KmsError::internal(format!("material {} of {key_arn} does not unseal", m.material_id)))
}

/// Parses a stored key policy; a policy that no longer parses allows nothing (it was validated
/// when it was put, so this only guards against corruption).
pub(crate) fn parse_stored_policy(text: &str) -> PolicyDocument {
    trent_policy::parse(text).unwrap_or(PolicyDocument {
        version: None,
        id: None,
        statements: Vec::new(),
    })
}

impl Kms {
    /// Builds a loaded key from its records, unsealing every material version.
    pub(crate) fn unseal_key(
        &self,
        record: KeyRecord,
        materials: Vec<MaterialRecord>,
        tags: Vec<TagRecord>,
        grants: Vec<GrantRecord>,
        related: Vec<Region>,
    ) -> Result<LoadedKey, KmsError> {
        let arn: Arc<str> = Arc::from(Arn::key(&record.region, record.account_id, record.key_id));
        let material_arn: Arc<str> = if record.material_region == record.region {
            Arc::clone(&arn)
        } else {
            Arc::from(Arn::key(&record.material_region, record.account_id, record.key_id))
        };
        let mut out = Vec::with_capacity(materials.len());
        for m in materials.iter().filter(|m| m.is_present()) {
            let secret = open_material(&self.root(), &material_arn, m)?;
            let id: [u8; 32] = hex::decode(&m.material_id)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| KmsError::internal(format!("bad material id {}", m.material_id)))?;
            out.push(Material {
                id_hex: m.material_id.clone(),
                id,
                secret,
            });
        }
        let policy = Arc::new(parse_stored_policy(&record.policy));
        let mut key = LoadedKey {
            record,
            arn,
            material_arn,
            materials: Arc::new(out),
            versions: Arc::new(materials),
            asymmetric: None,
            policy,
            tags: Arc::new(tags),
            grants: Arc::new(KeyGrants::new(grants)),
            related: Arc::new(related),
        };
        if let (Some(kind), Ok(current)) = (spec::key_kind(key.spec()), key.current()) {
            let purpose = spec::purpose(key.usage());
            let parsed = AsymmetricKey::from_pkcs8(kind, purpose, current.secret.expose())
                .map_err(|_| KmsError::internal(format!("{} private key does not parse", key.arn)))?;
            key.asymmetric = Some(Arc::new(parsed));
        }
        Ok(key)
    }

    /// The key with this id in this Region, from the cache or the store. `None` if it does not
    /// exist there.
    pub(crate) async fn load_key(&self, region: &Region, key_id: &KeyId) -> Result<Option<Arc<LoadedKey>>, KmsError> {
        if let Some(k) = self.cached_key(region, key_id) {
            self.metrics().key_lookup(true);
            return Ok(Some(k));
        }
        self.metrics().key_lookup(false);
        let now = self.now_ms();
        let missing = (region.clone(), *key_id);
        if self.missing_keys.is_missing(&missing, now) {
            return Ok(None);
        }
        // A change announced while this read is in flight may be newer than what it reads: then
        // the result answers this request but is not cached (see `service::coherence`).
        let epoch = self.key_epoch();
        let id = *key_id;
        let at = region.clone();
        let found = self
            .read(move |s| {
                let Some(rec) = s.key(&at, &id)? else { return Ok(None) };
                let mats = s.materials(&id)?;
                let tags = s.tags(&at, &id)?;
                let grants = s.grants(&at, &id)?;
                let related = if rec.multi_region {
                    s.related_keys(&id)?.into_iter().map(|k| k.region).collect()
                } else {
                    Vec::new()
                };
                Ok(Some((rec, mats, tags, grants, related)))
            })
            .await?;
        let Some((rec, mats, tags, grants, related)) = found else {
            self.missing_keys.remember(missing, now);
            return Ok(None);
        };
        let key = Arc::new(self.unseal_key(rec, mats, tags, grants, related)?);
        if self.key_epoch() == epoch {
            self.cache_key(Arc::clone(&key));
        }
        Ok(Some(key))
    }

    /// [`Self::load_key`] from the store, whatever is cached: what a state-changing request
    /// decides on when other servers share the store (a cached copy may predate their change).
    pub(crate) async fn load_key_fresh(
        &self,
        region: &Region,
        key_id: &KeyId,
    ) -> Result<Option<Arc<LoadedKey>>, KmsError> {
        self.uncache(key_id);
        self.load_key(region, key_id).await
    }

    /// Stores a changed key record and refreshes the cache with it.
    pub(crate) async fn write_key<A: Authority + ?Sized>(
        &self,
        authority: &A,
        key: &LoadedKey,
        record: KeyRecord,
    ) -> Result<Arc<LoadedKey>, KmsError> {
        let r = record.clone();
        match self.try_write(authority, move |s| s.update_key(&r)).await? {
            Ok(()) => {}
            // Another server changed the key since this one read it: nothing was written. The
            // change feed drops the stale copy too; the SDK's retry sees the current key.
            Err(StoreError::Conflict) => {
                self.uncache(&record.key_id);
                return Err(KmsError::internal(format!(
                    "{} changed concurrently on another server; retry",
                    key.arn
                )));
            }
            Err(e) => return Err(KmsError::internal(e)),
        }
        let mut record = record;
        record.version += 1;
        let policy = Arc::new(parse_stored_policy(&record.policy));
        let updated = Arc::new(LoadedKey {
            record,
            arn: Arc::clone(&key.arn),
            material_arn: Arc::clone(&key.material_arn),
            materials: Arc::clone(&key.materials),
            versions: Arc::clone(&key.versions),
            asymmetric: key.asymmetric.clone(),
            policy,
            tags: Arc::clone(&key.tags),
            grants: Arc::clone(&key.grants),
            related: Arc::clone(&key.related),
        });
        self.cache_key(Arc::clone(&updated));
        Ok(updated)
    }
}
