//! Loaded keys and key resolution: the shared first step of every key operation.
//!
//! A [`LoadedKey`] is a key record with its material versions unsealed. Loaded keys are cached by
//! key id; every write to a key goes through [`Kms::write_key`], which stores and then replaces
//! the cached copy, so the cache is never stale within this process. The hot path (Encrypt,
//! Decrypt, GenerateDataKey) therefore reads no database once a key is warm.

use std::sync::Arc;

use trent_api::dto::KeyMetadata;
use trent_api::KmsError;
use trent_crypto::asymmetric::AsymmetricKey;

use crate::grants::KeyGrants;
use trent_crypto::seal::{self, Purpose};
use trent_crypto::SecretBytes;
use trent_policy::PolicyDocument;
use trent_store::{KeyRecord, MaterialRecord, TagRecord};

use crate::clock::epoch_seconds;
use crate::credentials::Caller;
use crate::ids::{parse_key_ref, Forms, KeyRef};
use crate::{spec, Kms};

/// One version of key material, unsealed.
pub struct Material {
    pub id_hex: String,
    pub id: [u8; 32],
    pub secret: SecretBytes,
}

/// A key with its unsealed material versions and, for asymmetric keys, the parsed key pair of
/// its current material.
pub struct LoadedKey {
    pub record: KeyRecord,
    pub arn: String,
    pub materials: Arc<Vec<Material>>,
    /// Every material version's record (rotation and import metadata; material still sealed).
    pub versions: Arc<Vec<MaterialRecord>>,
    pub asymmetric: Option<Arc<AsymmetricKey>>,
    /// The key policy, parsed once per load.
    pub policy_doc: Arc<PolicyDocument>,
    /// Tags (`aws:ResourceTag/*` conditions); Tag/UntagResource reload the key.
    pub tags: Arc<Vec<TagRecord>>,
    /// Grants, indexed by grantee; grant operations reload the key.
    pub grants: Arc<KeyGrants>,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKey")
            .field("arn", &self.arn)
            .field("state", &self.record.key_state)
            .finish_non_exhaustive()
    }
}

impl LoadedKey {
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

    pub fn id(&self) -> &str {
        &self.record.key_id
    }

    /// The parsed key policy.
    pub fn policy(&self) -> Result<Arc<PolicyDocument>, KmsError> {
        Ok(Arc::clone(&self.policy_doc))
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

    /// `KeyMetadata` exactly as DescribeKey/CreateKey return it (reference §1).
    pub fn metadata(&self) -> KeyMetadata {
        let r = &self.record;
        let algs = spec::algorithms(&r.key_spec, &r.key_usage);
        let symmetric_current =
            r.key_spec == "SYMMETRIC_DEFAULT" && matches!(r.origin.as_str(), "AWS_KMS" | "EXTERNAL");
        let current_version = self.current_version();
        // ExpirationModel/ValidTo describe imported material that is present (reference §1).
        let imported = r.origin == "EXTERNAL" && current_version.is_some_and(|v| v.is_present());
        KeyMetadata {
            aws_account_id: r.account_id.clone(),
            key_id: r.key_id.clone(),
            arn: self.arn.clone(),
            creation_date: epoch_seconds(r.created_ms),
            enabled: r.key_state == "Enabled",
            description: r.description.clone(),
            key_usage: r.key_usage.clone(),
            key_state: r.key_state.clone(),
            deletion_date: r
                .deletion_ms
                .filter(|_| r.key_state == "PendingDeletion")
                .map(epoch_seconds),
            origin: r.origin.clone(),
            key_manager: r.key_manager.clone(),
            customer_master_key_spec: r.key_spec.clone(),
            key_spec: r.key_spec.clone(),
            encryption_algorithms: algs.encryption,
            signing_algorithms: algs.signing,
            mac_algorithms: algs.mac,
            key_agreement_algorithms: algs.key_agreement,
            multi_region: r.multi_region,
            current_key_material_id: r.current_material_id.clone().filter(|_| symmetric_current),
            expiration_model: current_version
                .and_then(|v| v.expiration_model.clone())
                .filter(|_| imported),
            valid_to: current_version
                .filter(|_| imported)
                .filter(|v| v.expiration_model.as_deref() == Some("KEY_MATERIAL_EXPIRES"))
                .and_then(|v| v.valid_to_ms)
                .map(epoch_seconds),
        }
    }
}

/// The AAD record id that binds sealed material to its key and version.
pub fn material_record_id(key_arn: &str, material_id: &str) -> String {
    format!("{key_arn}/{material_id}")
}

impl Kms {
    fn cached(&self, key_id: &str) -> Option<Arc<LoadedKey>> {
        self.keys.read().ok()?.get(key_id).cloned()
    }

    fn cache(&self, key: Arc<LoadedKey>) {
        if let Ok(mut m) = self.keys.write() {
            m.insert(key.record.key_id.clone(), key);
        }
    }

    pub(crate) fn uncache(&self, key_id: &str) {
        if let Ok(mut m) = self.keys.write() {
            m.remove(key_id);
        }
    }

    /// Builds a loaded key from its records, unsealing every material version.
    pub(crate) fn unseal_key(
        &self,
        record: KeyRecord,
        materials: Vec<MaterialRecord>,
        tags: Vec<TagRecord>,
        grants: Vec<trent_store::GrantRecord>,
    ) -> Result<LoadedKey, KmsError> {
        let arn = self.loc.key_arn(&record.account_id, &record.key_id);
        let record_policy = record.policy.clone();
        let mut out = Vec::with_capacity(materials.len());
        for m in materials.iter().filter(|m| m.is_present()) {
            let secret = seal::unseal(
                &self.root,
                Purpose::KeyMaterial,
                &material_record_id(&arn, &m.material_id),
                &m.sealed,
            )
            .map_err(|_| KmsError::internal(format!("material {} of {arn} does not unseal", m.material_id)))?;
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
        let mut key = LoadedKey {
            record,
            arn,
            materials: Arc::new(out),
            versions: Arc::new(materials),
            asymmetric: None,
            policy_doc: Arc::new(parse_stored_policy(&record_policy)),
            tags: Arc::new(tags),
            grants: Arc::new(KeyGrants::new(grants)?),
        };
        if let (Some(kind), Ok(current)) = (spec::key_kind(&key.record.key_spec), key.current()) {
            let purpose = spec::purpose(&key.record.key_usage);
            let parsed = AsymmetricKey::from_pkcs8(kind, purpose, current.secret.expose())
                .map_err(|_| KmsError::internal(format!("{} private key does not parse", key.arn)))?;
            key.asymmetric = Some(Arc::new(parsed));
        }
        Ok(key)
    }

    /// The key with this id, from the cache or the store. `None` if it does not exist.
    pub async fn load_key(&self, key_id: &str) -> Result<Option<Arc<LoadedKey>>, KmsError> {
        if let Some(k) = self.cached(key_id) {
            return Ok(Some(k));
        }
        let id = key_id.to_owned();
        let found = self
            .db(move |s| {
                let Some(rec) = s.key(&id)? else { return Ok(None) };
                let mats = s.materials(&id)?;
                let tags = s.tags(&id)?;
                let grants = s.grants(&id)?;
                Ok(Some((rec, mats, tags, grants)))
            })
            .await?;
        let Some((rec, mats, tags, grants)) = found else {
            return Ok(None);
        };
        let key = Arc::new(self.unseal_key(rec, mats, tags, grants)?);
        self.cache(Arc::clone(&key));
        Ok(Some(key))
    }

    /// Stores a changed key record and refreshes the cache with it.
    pub(crate) async fn write_key(&self, key: &LoadedKey, record: KeyRecord) -> Result<Arc<LoadedKey>, KmsError> {
        let r = record.clone();
        self.db(move |s| s.update_key(&r)).await?;
        let policy_doc = Arc::new(parse_stored_policy(&record.policy));
        let updated = Arc::new(LoadedKey {
            record,
            arn: key.arn.clone(),
            materials: Arc::clone(&key.materials),
            versions: Arc::clone(&key.versions),
            asymmetric: key.asymmetric.clone(),
            policy_doc,
            tags: Arc::clone(&key.tags),
            grants: Arc::clone(&key.grants),
        });
        self.cache(Arc::clone(&updated));
        Ok(updated)
    }

    pub(crate) fn alias_target(&self, account: &str, name: &str) -> Option<String> {
        self.aliases
            .read()
            .ok()?
            .get(&(account.to_owned(), name.to_owned()))
            .cloned()
    }

    pub(crate) fn set_alias_target(&self, account: &str, name: &str, key_id: Option<&str>) {
        if let Ok(mut m) = self.aliases.write() {
            let k = (account.to_owned(), name.to_owned());
            match key_id {
                Some(id) => m.insert(k, id.to_owned()),
                None => m.remove(&k),
            };
        }
    }

    /// Resolves a `KeyId` member to a key the caller may address (reference §4.2).
    pub async fn resolve(&self, caller: &Caller, raw: &str, forms: Forms) -> Result<Arc<LoadedKey>, KmsError> {
        let (account, key_id) = match parse_key_ref(raw, forms, &self.loc.region)? {
            KeyRef::Id(id) => (caller.account_id.clone(), id),
            KeyRef::Arn { account, key_id } => (account, key_id),
            KeyRef::Alias(name) => {
                if self.alias_target(&caller.account_id, &name).is_none() {
                    if let Some(key) = self.managed_key(caller, &name).await? {
                        return Ok(key);
                    }
                }
                let id = self.alias_target(&caller.account_id, &name).ok_or_else(|| {
                    KmsError::NotFound(format!(
                        "Alias {} is not found.",
                        self.loc.alias_arn(&caller.account_id, &name)
                    ))
                })?;
                (caller.account_id.clone(), id)
            }
            KeyRef::AliasArn { account, name } => {
                if account == caller.account_id && self.alias_target(&account, &name).is_none() {
                    if let Some(key) = self.managed_key(caller, &name).await? {
                        return Ok(key);
                    }
                }
                let id = self.alias_target(&account, &name).ok_or_else(|| {
                    KmsError::NotFound(format!("Alias {} is not found.", self.loc.alias_arn(&account, &name)))
                })?;
                (account, id)
            }
        };
        let not_found = || KmsError::NotFound(format!("Key '{}' does not exist", self.loc.key_arn(&account, &key_id)));
        let key = self.load_key(&key_id).await?.ok_or_else(not_found)?;
        if key.record.account_id != account {
            return Err(not_found());
        }
        Ok(key)
    }
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
