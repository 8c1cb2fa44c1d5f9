//! Stored records. Times are milliseconds since the Unix epoch. Secrets appear only as
//! `sealed` bytes produced by `trent_crypto::seal`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub account_id: String,
    pub created_ms: i64,
}

#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub account_id: String,
    pub principal_arn: String,
    /// The secret access key, sealed under the root key.
    pub sealed_secret: Vec<u8>,
    pub status: String,
    pub created_ms: i64,
    /// The IAM user owning the key (`None` for the account root and for STS sessions).
    pub user_name: Option<String>,
    /// STS session credentials: SHA-256 of the session token (hex) and expiry.
    pub session_token_hash: Option<String>,
    pub expires_ms: Option<i64>,
    /// STS session details (versioned JSON owned by the service).
    pub session: Option<String>,
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
    pub key_id: String,
    pub account_id: String,
    pub region: String,
    pub description: String,
    pub key_spec: String,
    pub key_usage: String,
    pub origin: String,
    pub key_manager: String,
    pub key_state: String,
    pub created_ms: i64,
    pub deletion_ms: Option<i64>,
    pub pending_window_days: Option<i64>,
    pub policy: String,
    pub current_material_id: Option<String>,
    pub multi_region: bool,
    pub rotation_enabled: bool,
    pub rotation_period_days: Option<i64>,
    pub next_rotation_ms: Option<i64>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct MaterialRecord {
    pub key_id: String,
    /// The 64-hex `KeyMaterialId`.
    pub material_id: String,
    /// The key material, sealed under the root key (AAD: key ARN and material id). Empty when
    /// imported material was deleted or expired (the version and its id are kept).
    pub sealed: Vec<u8>,
    pub created_ms: i64,
    /// `AUTOMATIC` / `ON_DEMAND` for materials made by rotation; `None` for the first material.
    pub rotation_type: Option<String>,
    pub rotation_ms: Option<i64>,
    /// Imported material waiting for RotateKeyOnDemand (`KeyMaterialState=PENDING_ROTATION`).
    pub pending_rotation: bool,
    /// EXTERNAL keys only: `IMPORTED` / `PENDING_IMPORT`.
    pub import_state: Option<String>,
    pub expiration_model: Option<String>,
    pub valid_to_ms: Option<i64>,
    pub description: Option<String>,
}

impl MaterialRecord {
    /// A first or rotated material generated inside Trent.
    pub fn generated(key_id: &str, material_id: &str, sealed: Vec<u8>, created_ms: i64) -> Self {
        Self {
            key_id: key_id.to_owned(),
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
    pub account_id: String,
    /// Full name including the `alias/` prefix.
    pub name: String,
    pub target_key_id: String,
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
    pub key_id: String,
    pub operation: String,
    pub at_ms: i64,
    pub request_id: String,
}

/// One audit event: a JSON document (CloudTrail-shaped, owned by the service) at a contiguous,
/// 1-based sequence number, with the hash that chains it to its predecessor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub time_ms: i64,
    pub event: String,
    pub chain_hash: Vec<u8>,
}

/// An IAM entity (user, role, managed policy) as a versioned JSON document owned by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRecord {
    pub account_id: String,
    /// `user`, `role`, `policy`.
    pub kind: String,
    pub name: String,
    pub body: String,
}

/// A grant on a KMS key (reference §10). Operations and constraints are JSON owned by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// 64 hex digits.
    pub grant_id: String,
    pub key_id: String,
    /// The key's account (`IssuingAccount` is its root).
    pub account_id: String,
    pub name: Option<String>,
    pub grantee_principal: String,
    pub retiring_principal: Option<String>,
    /// JSON array of operation names.
    pub operations: String,
    /// JSON object of constraints, or `None`.
    pub constraints: Option<String>,
    pub created_ms: i64,
}
