//! CreateKey (reference §1, §2.2): validates spec × usage exactly as AWS, generates 256-bit
//! material inside Trent, seals it under the root key and stores key, material and tags in one
//! transaction.

use std::sync::Arc;
use trent_api::dto::{CreateKeyRequest, KeyMetadataResponse};
use trent_api::validate::Violations;

use trent_api::KmsError;
use trent_crypto::seal::{self, Purpose};
use trent_store::{KeyRecord, MaterialRecord, TagRecord};

use crate::clock::DAY_MS;
use crate::credentials::Caller;
use crate::keys::{material_record_id, LoadedKey};
use crate::{policy, spec, validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: CreateKeyRequest) -> Result<KeyMetadataResponse, KmsError> {
    let policy_given = req.policy.is_some();
    let mut v = Violations::new();
    if let Some(p) = &req.policy {
        policy::validate_member(&mut v, p);
    }
    if let Some(d) = &req.description {
        v.str_length("description", d, 0, 8192);
    }
    if let Some(u) = &req.key_usage {
        v.one_of("keyUsage", u, spec::KEY_USAGES);
    }
    if let Some(s) = &req.customer_master_key_spec {
        v.one_of("customerMasterKeySpec", s, spec::CUSTOMER_MASTER_KEY_SPECS);
    }
    if let Some(s) = &req.key_spec {
        v.one_of("keySpec", s, spec::KEY_SPECS);
    }
    if let Some(o) = &req.origin {
        v.one_of("origin", o, spec::ORIGINS);
    }
    if let Some(c) = &req.custom_key_store_id {
        v.str_length("customKeyStoreId", c, 1, 64);
    }
    if let Some(x) = &req.xks_key_id {
        v.str_length("xksKeyId", x, 1, 128);
    }
    let tags = validate::tags(&mut v, req.tags.as_deref().unwrap_or_default());
    v.finish()?;

    if req.key_spec.is_some() && req.customer_master_key_spec.is_some() {
        return Err(KmsError::Validation(
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated."
                .to_owned(),
        ));
    }
    let key_spec = req
        .key_spec
        .or(req.customer_master_key_spec)
        .unwrap_or_else(|| "SYMMETRIC_DEFAULT".to_owned());
    let key_usage = match req.key_usage {
        Some(u) => u,
        None if key_spec == "SYMMETRIC_DEFAULT" => "ENCRYPT_DECRYPT".to_owned(),
        None => {
            return Err(KmsError::Validation(
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.".to_owned(),
            ))
        }
    };
    if !spec::allowed_usages(&key_spec).contains(&key_usage.as_str()) {
        return Err(KmsError::Validation(format!(
            "KeyUsage {key_usage} is not compatible with KeySpec {key_spec}"
        )));
    }
    validate::tag_rules(tags.iter().map(|(k, _)| k.as_str()))?;
    if tags.len() > validate::MAX_TAGS {
        return Err(validate::too_many_tags());
    }
    let origin = req.origin.unwrap_or_else(|| "AWS_KMS".to_owned());
    if !matches!(origin.as_str(), "AWS_KMS" | "EXTERNAL")
        || req.custom_key_store_id.is_some()
        || req.xks_key_id.is_some()
    {
        return Err(KmsError::UnsupportedOperation(format!(
            "Origin {origin} (custom key stores) is not supported by this server."
        )));
    }
    if req.multi_region == Some(true) {
        return Err(KmsError::UnsupportedOperation(
            "Multi-Region keys are not supported by this server yet.".to_owned(),
        ));
    }
    if !spec::is_built(&key_spec) {
        return Err(KmsError::UnsupportedOperation(format!(
            "KeySpec {key_spec} is not supported in this Region."
        )));
    }
    kms.authorize_identity(caller, "kms:CreateKey", "*").await?;
    if !tags.is_empty() {
        kms.authorize_identity(caller, "kms:TagResource", "*").await?;
    }
    let key_id = uuid::Uuid::new_v4().to_string();
    let policy_text = req.policy.unwrap_or_else(|| policy::default_policy(&caller.account_id));
    if policy_given {
        let arn = kms.location().key_arn(&caller.account_id, &key_id);
        let probe = KeyRecord {
            key_id: key_id.clone(),
            account_id: caller.account_id.clone(),
            region: kms.location().region.clone(),
            description: String::new(),
            key_spec: key_spec.clone(),
            key_usage: key_usage.clone(),
            origin: origin.clone(),
            key_manager: "CUSTOMER".to_owned(),
            key_state: "Enabled".to_owned(),
            created_ms: kms.now_ms(),
            deletion_ms: None,
            pending_window_days: None,
            policy: policy_text.clone(),
            current_material_id: None,
            multi_region: false,
            rotation_enabled: false,
            rotation_period_days: None,
            next_rotation_ms: None,
        };
        let tag_records: Vec<TagRecord> = tags
            .iter()
            .map(|(k, v)| TagRecord {
                key: k.clone(),
                value: v.clone(),
            })
            .collect();
        let facts = crate::authz::KeyFacts {
            record: &probe,
            arn: &arn,
            tags: &tag_records,
        };
        let bypass = req.bypass_policy_lockout_safety_check == Some(true);
        policy::check_key_policy(kms, caller, facts, &policy_text, bypass).await?;
    }
    let key = kms
        .insert_key(NewKey {
            key_id: Some(key_id),
            account_id: caller.account_id.clone(),
            description: req.description.unwrap_or_default(),
            key_spec,
            key_usage,
            origin,
            key_manager: "CUSTOMER".to_owned(),
            policy: policy_text,
            tags,
            rotation_period_days: None,
        })
        .await?;
    Ok(KeyMetadataResponse {
        key_metadata: key.metadata(),
    })
}

/// Everything needed to create a key record (customer CreateKey and AWS managed keys).
pub(crate) struct NewKey {
    /// A pre-chosen key id (CreateKey checks the policy against the ARN first); else a new one.
    pub key_id: Option<String>,
    pub account_id: String,
    pub description: String,
    pub key_spec: String,
    pub key_usage: String,
    pub origin: String,
    pub key_manager: String,
    pub policy: String,
    pub tags: Vec<(String, String)>,
    /// Automatic rotation from the start (AWS managed keys: 365 days).
    pub rotation_period_days: Option<i64>,
}

impl Kms {
    /// Creates a key: generated material for `AWS_KMS`, none (`PendingImport`) for `EXTERNAL`.
    pub(crate) async fn insert_key(&self, new: NewKey) -> Result<Arc<LoadedKey>, KmsError> {
        let key_id = new.key_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let arn = self.location().key_arn(&new.account_id, &key_id);
        let now = self.now_ms();
        let material_record = if new.origin == "EXTERNAL" {
            None
        } else {
            let material = generate_material(&new.key_spec, &new.key_usage).await?;
            let material_id = hex::encode(trent_crypto::random::array::<32>().map_err(KmsError::internal)?);
            let sealed = seal::seal(
                &self.root,
                Purpose::KeyMaterial,
                &material_record_id(&arn, &material_id),
                &material,
            )
            .map_err(KmsError::internal)?;
            Some(MaterialRecord::generated(&key_id, &material_id, sealed, now))
        };
        let record = KeyRecord {
            key_id: key_id.clone(),
            account_id: new.account_id,
            region: self.location().region.clone(),
            description: new.description,
            key_spec: new.key_spec,
            key_usage: new.key_usage,
            key_state: if material_record.is_some() {
                "Enabled"
            } else {
                "PendingImport"
            }
            .to_owned(),
            origin: new.origin,
            key_manager: new.key_manager,
            created_ms: now,
            deletion_ms: None,
            pending_window_days: None,
            policy: new.policy,
            current_material_id: material_record.as_ref().map(|m| m.material_id.clone()),
            multi_region: false,
            rotation_enabled: new.rotation_period_days.is_some(),
            rotation_period_days: new.rotation_period_days,
            next_rotation_ms: new.rotation_period_days.map(|d| now + d * DAY_MS),
        };
        let tag_records: Vec<TagRecord> = new
            .tags
            .into_iter()
            .map(|(key, value)| TagRecord { key, value })
            .collect();
        let (r, m, t) = (record.clone(), material_record.clone(), tag_records.clone());
        self.db(move |s| s.create_key(&r, m.as_ref(), &t)).await?;
        let loaded =
            Arc::new(self.unseal_key(record, material_record.into_iter().collect(), tag_records, Vec::new())?);
        tracing::info!(key_arn = %loaded.arn, "key created");
        Ok(loaded)
    }
}

/// New key material for a spec: 256 random bits for SYMMETRIC_DEFAULT, a hash-length random key
/// for HMAC, a PKCS#8 private key for asymmetric specs (generated on the blocking pool: RSA-4096
/// generation can take a second).
pub(crate) async fn generate_material(key_spec: &str, key_usage: &str) -> Result<trent_crypto::SecretBytes, KmsError> {
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
