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
}

#[derive(Clone, PartialEq, Eq)]
pub struct MaterialRecord {
    pub key_id: String,
    /// The 64-hex `KeyMaterialId`.
    pub material_id: String,
    /// The key material, sealed under the root key (AAD: key ARN and material id).
    pub sealed: Vec<u8>,
    pub created_ms: i64,
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
