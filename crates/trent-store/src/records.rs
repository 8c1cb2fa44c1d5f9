//! Stored records. Times are milliseconds since the Unix epoch. Secrets appear only as
//! `sealed` bytes produced by `trent_crypto::seal`. Identifiers, states, specs and the other
//! closed vocabularies are `trent-types` values: a backend parses them when it reads a row
//! (an unknown value is `StoreError::Corrupt`), so no layer above compares strings.

use trent_types::{
    AccessKeyStatus, AccountId, AliasName, ExpirationModel, GrantOperation, ImportState, KeyId, KeyManager, KeySpec,
    KeyState, KeyUsage, Origin, Region, RotationType,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub account_id: AccountId,
    pub created_ms: i64,
}

#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub account_id: AccountId,
    pub principal_arn: String,
    /// The secret access key, sealed under the root key.
    pub sealed_secret: Vec<u8>,
    pub status: AccessKeyStatus,
    pub created_ms: i64,
    /// The IAM user owning the key (`None` for the account root and for STS sessions).
    pub user_name: Option<String>,
    /// STS session credentials: SHA-256 of the session token (hex) and expiry.
    pub session_token_hash: Option<String>,
    pub expires_ms: Option<i64>,
    /// STS session details (versioned JSON owned by the service; names `role_name`).
    pub session: Option<String>,
    /// The unique id of what the key belongs to: the IAM user (`AIDA…`) for a user's key, the
    /// role (`AROA…`) for a session's. A user or role created again under the same name has a
    /// new id, so it never inherits the old one's keys or sessions. `None` for the account root
    /// (and for user keys written before ids were recorded, bound by name).
    pub owner_id: Option<String>,
}

impl std::fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("principal_arn", &self.principal_arn)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub key_id: KeyId,
    pub account_id: AccountId,
    pub region: Region,
    pub description: String,
    pub key_spec: KeySpec,
    pub key_usage: KeyUsage,
    pub origin: Origin,
    pub key_manager: KeyManager,
    pub key_state: KeyState,
    pub created_ms: i64,
    pub deletion_ms: Option<i64>,
    pub pending_window_days: Option<i64>,
    pub policy: String,
    pub current_material_id: Option<String>,
    pub multi_region: bool,
    /// A multi-Region key's primary Region (the key is the primary when it is its own Region;
    /// UpdatePrimaryRegion changes it on every related key). `None` for single-Region keys.
    pub primary_region: Option<Region>,
    /// The Region in the key ARN its material records are sealed to (their AAD): its own Region,
    /// except for a multi-Region replica, which shares the material of the key it replicates
    /// and keeps that key's value. Never changes.
    pub material_region: Region,
    pub rotation_enabled: bool,
    pub rotation_period_days: Option<i64>,
    pub next_rotation_ms: Option<i64>,
    /// Bumped by every write of the key. [`crate::Store::update_key`] writes only over the
    /// version it was given (compare-and-swap), so of two servers changing one key from the
    /// same state one gets `Conflict` instead of silently undoing the other's change. 0 when
    /// created.
    pub version: i64,
    /// A key in an external key store (`Origin=EXTERNAL_KEY_STORE`): the custom key store's id
    /// (`cks-…`) and the external key's id in its proxy (`XksKeyId`). Both set or both `None`;
    /// never change. One external key backs at most one key of a store.
    pub custom_key_store_id: Option<String>,
    pub xks_key_id: Option<String>,
}

impl KeyRecord {
    /// A multi-Region replica: its primary is in another Region.
    pub fn is_replica(&self) -> bool {
        self.primary_region.as_ref().is_some_and(|p| *p != self.region)
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct MaterialRecord {
    pub key_id: KeyId,
    /// The 64-hex `KeyMaterialId`.
    pub material_id: String,
    /// The key material, sealed under the root key (AAD: key ARN and material id). Empty when
    /// imported material was deleted or expired (the version and its id are kept).
    pub sealed: Vec<u8>,
    pub created_ms: i64,
    /// `AUTOMATIC` / `ON_DEMAND` for materials made by rotation; `None` for the first material.
    pub rotation_type: Option<RotationType>,
    pub rotation_ms: Option<i64>,
    /// Imported material waiting for RotateKeyOnDemand (`KeyMaterialState=PENDING_ROTATION`).
    pub pending_rotation: bool,
    /// EXTERNAL keys only: `IMPORTED` / `PENDING_IMPORT`.
    pub import_state: Option<ImportState>,
    pub expiration_model: Option<ExpirationModel>,
    pub valid_to_ms: Option<i64>,
    pub description: Option<String>,
}

impl MaterialRecord {
    /// A first or rotated material generated inside Trent.
    pub fn generated(key_id: KeyId, material_id: &str, sealed: Vec<u8>, created_ms: i64) -> Self {
        Self {
            key_id,
            material_id: material_id.to_owned(),
            sealed,
            created_ms,
            rotation_type: None,
            rotation_ms: None,
            pending_rotation: false,
            import_state: None,
            expiration_model: None,
            valid_to_ms: None,
            description: None,
        }
    }

    /// Whether the material bytes are present (imported material can be deleted).
    pub fn is_present(&self) -> bool {
        !self.sealed.is_empty()
    }
}

impl std::fmt::Debug for MaterialRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaterialRecord")
            .field("key_id", &self.key_id)
            .field("material_id", &self.material_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    pub account_id: AccountId,
    /// Aliases are per Region: the same name may point at different keys in two Regions.
    pub region: Region,
    /// Full name including the `alias/` prefix.
    pub name: AliasName,
    pub target_key_id: KeyId,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRecord {
    pub key: String,
    pub value: String,
}

/// The last successful cryptographic use of a key (GetKeyLastUsage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    pub key_id: KeyId,
    pub region: Region,
    pub operation: String,
    pub at_ms: i64,
    pub request_id: String,
}

/// A batch of audit events with contiguous, 1-based sequence numbers `first_seq..=last_seq`,
/// encoded and hash-chained by the service (`trent-audit`; the body format is versioned there),
/// with the chain hash of its last event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditBatchRecord {
    pub first_seq: i64,
    pub last_seq: i64,
    pub first_time_ms: i64,
    /// The newest event's time: retention deletes whole batches older than the cut-off.
    pub last_time_ms: i64,
    pub body: Vec<u8>,
    pub last_hash: Vec<u8>,
}

/// The newest stored audit event: where the chain continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: Vec<u8>,
}

/// The kinds of IAM entity the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    User,
    Role,
    Policy,
    Group,
    /// A custom key store (an external key store's configuration, its sealed proxy
    /// credential and its connection state), named by its id.
    CustomKeyStore,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Role => "role",
            EntityKind::Policy => "policy",
            EntityKind::Group => "group",
            EntityKind::CustomKeyStore => "custom-key-store",
        }
    }

    pub fn parse(s: &str) -> Option<EntityKind> {
        match s {
            "user" => Some(EntityKind::User),
            "role" => Some(EntityKind::Role),
            "policy" => Some(EntityKind::Policy),
            "group" => Some(EntityKind::Group),
            "custom-key-store" => Some(EntityKind::CustomKeyStore),
            _ => None,
        }
    }
}

/// An IAM entity (user, role, managed policy, group) as a versioned JSON document owned by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRecord {
    pub account_id: AccountId,
    pub kind: EntityKind,
    pub name: String,
    pub body: String,
}

/// A grant on a KMS key (reference §10). Operations and constraints are JSON owned by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// 64 hex digits.
    pub grant_id: String,
    pub key_id: KeyId,
    /// The Region of the key (grants belong to one of related multi-Region keys).
    pub region: Region,
    /// The key's account (`IssuingAccount` is its root).
    pub account_id: AccountId,
    pub name: Option<String>,
    pub grantee_principal: String,
    pub retiring_principal: Option<String>,
    /// The operations the grant allows, in model order.
    pub operations: Vec<GrantOperation>,
    /// JSON object of constraints, or `None`.
    pub constraints: Option<String>,
    pub created_ms: i64,
}
