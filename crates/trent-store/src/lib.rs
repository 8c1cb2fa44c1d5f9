//! Storage for Trent: the [`Store`] trait, its records, backend-neutral [`StoreError`] kinds, one
//! conformance suite every backend must pass, and the embedded SQLite backend.
//!
//! Records hold key material and access-key secrets only as sealed bytes (sealing is done by
//! `trent-core` with `trent-crypto`); this crate never sees a secret in the clear. Must not
//! depend on HTTP or on the service layer.

#![forbid(unsafe_code)]

pub mod conformance;
mod error;
mod records;
pub mod sqlite;

pub use error::StoreError;
pub use records::*;

/// Everything the service persists. Implementations are synchronous (the service calls them off
/// the async executor) and every method is atomic.
pub trait Store: Send + Sync + 'static {
    /// A short backend name for logs (`sqlite`).
    fn backend(&self) -> &'static str;

    // --- accounts and credentials ---
    fn insert_account(&self, account: &AccountRecord) -> Result<(), StoreError>;
    fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError>;
    fn insert_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError>;
    fn access_keys(&self) -> Result<Vec<AccessKeyRecord>, StoreError>;
    fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;
    /// Sets `Active` / `Inactive`; `NotFound` if absent.
    fn set_access_key_status(&self, access_key_id: &str, status: &str) -> Result<(), StoreError>;
    fn delete_access_key(&self, access_key_id: &str) -> Result<(), StoreError>;

    // --- IAM entities ---
    /// Inserts (`UniqueViolation` if the name is taken) or, with `replace`, upserts.
    fn put_entity(&self, entity: &EntityRecord, replace: bool) -> Result<(), StoreError>;
    fn entity(&self, account_id: &str, kind: &str, name: &str) -> Result<Option<EntityRecord>, StoreError>;
    /// Entities of one kind in an account, ordered by name.
    fn entities(&self, account_id: &str, kind: &str) -> Result<Vec<EntityRecord>, StoreError>;
    fn delete_entity(&self, account_id: &str, kind: &str, name: &str) -> Result<(), StoreError>;

    // --- KMS keys ---
    /// Inserts a key with its first material version (none for `Origin=EXTERNAL`) and tags,
    /// atomically.
    fn create_key(
        &self,
        key: &KeyRecord,
        material: Option<&MaterialRecord>,
        tags: &[TagRecord],
    ) -> Result<(), StoreError>;
    fn key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError>;
    /// Replaces the mutable fields of an existing key; `NotFound` if it is gone.
    fn update_key(&self, key: &KeyRecord) -> Result<(), StoreError>;
    fn materials(&self, key_id: &str) -> Result<Vec<MaterialRecord>, StoreError>;
    /// Rotation: inserts or replaces `material` and stores `key`, atomically, only if the key's
    /// current material is still `expected_current` (`Conflict` otherwise). This makes a
    /// rotation happen once even when several servers share the store.
    fn rotate_key(
        &self,
        key: &KeyRecord,
        expected_current: Option<&str>,
        material: &MaterialRecord,
    ) -> Result<(), StoreError>;
    /// Inserts or replaces one material version and stores `key`, atomically (imports, deletions).
    fn put_material(&self, key: &KeyRecord, material: &MaterialRecord) -> Result<(), StoreError>;
    /// Enabled keys with automatic rotation whose next rotation is at or before `now_ms`.
    fn keys_due_for_rotation(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError>;
    /// Present imported materials whose `valid_to_ms` is at or before `now_ms`.
    fn expired_materials(&self, now_ms: i64) -> Result<Vec<MaterialRecord>, StoreError>;

    // --- last usage ---
    /// Upserts the last use of each key (batched by the service).
    fn record_usage(&self, usage: &[UsageRecord]) -> Result<(), StoreError>;
    fn usage(&self, key_id: &str) -> Result<Option<UsageRecord>, StoreError>;
    /// Keys of an account ordered by key id, strictly after `after`, at most `limit`.
    fn list_keys(&self, account_id: &str, after: Option<&str>, limit: usize) -> Result<Vec<KeyRecord>, StoreError>;
    /// Deletes a key and everything that hangs off it (materials, aliases, tags).
    fn delete_key(&self, key_id: &str) -> Result<(), StoreError>;
    /// Keys in `PendingDeletion` whose deletion date is at or before `now_ms`.
    fn keys_due_for_deletion(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError>;

    // --- aliases ---
    /// `UniqueViolation` if the name is taken in the account.
    fn create_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;
    fn alias(&self, account_id: &str, name: &str) -> Result<Option<AliasRecord>, StoreError>;
    fn update_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;
    fn delete_alias(&self, account_id: &str, name: &str) -> Result<(), StoreError>;
    /// Aliases of an account (optionally of one key) ordered by name, strictly after `after`.
    fn list_aliases(
        &self,
        account_id: &str,
        key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AliasRecord>, StoreError>;
    fn all_aliases(&self) -> Result<Vec<AliasRecord>, StoreError>;

    // --- grants ---
    fn create_grant(&self, grant: &GrantRecord) -> Result<(), StoreError>;
    fn grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StoreError>;
    /// Grants of a key ordered by grant id.
    fn grants(&self, key_id: &str) -> Result<Vec<GrantRecord>, StoreError>;
    /// Grants (any account) whose retiring principal is `principal`, ordered by grant id.
    fn grants_retirable_by(&self, principal: &str) -> Result<Vec<GrantRecord>, StoreError>;
    fn delete_grant(&self, grant_id: &str) -> Result<(), StoreError>;

    // --- audit trail ---
    /// Appends events atomically; `UniqueViolation` if a sequence number is already taken.
    fn append_audit(&self, events: &[AuditRecord]) -> Result<(), StoreError>;
    /// Events with `seq > after_seq` in sequence order, at most `limit`.
    fn audit_after(&self, after_seq: i64, limit: usize) -> Result<Vec<AuditRecord>, StoreError>;
    /// The event with the highest sequence number.
    fn last_audit(&self) -> Result<Option<AuditRecord>, StoreError>;
    /// Retention: deletes the oldest events, in sequence order, while their time is before
    /// `before_ms`, at most `max_rows` in one transaction, and records the (seq, hash) of the last
    /// one deleted as the anchor the remaining chain verifies from. Returns how many it deleted.
    fn prune_audit(&self, before_ms: i64, max_rows: usize) -> Result<usize, StoreError>;
    /// The (seq, chain hash) of the newest pruned event, if any were pruned.
    fn audit_anchor(&self) -> Result<Option<(i64, Vec<u8>)>, StoreError>;

    // --- tags ---
    fn tags(&self, key_id: &str) -> Result<Vec<TagRecord>, StoreError>;
    /// Upserts tags (same key → value replaced), atomically.
    fn put_tags(&self, key_id: &str, tags: &[TagRecord]) -> Result<(), StoreError>;
    fn delete_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError>;
}
