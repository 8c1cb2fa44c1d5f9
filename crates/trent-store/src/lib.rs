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

/// The audit chain of a server that is not given a node id (the only chain of a data directory
/// written before chains were per writer).
pub const MAIN_CHAIN: &str = "main";

use trent_types::{AccessKeyStatus, AccountId, AliasName, KeyId, Region};

/// A change to something servers cache, announced by a backend that several servers share (see
/// [`StoreRead::watch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A key's record, material, tags or grants (or the key was created or deleted), in any
    /// Region (the related keys of a multi-Region key share the id).
    Key(KeyId),
    /// An alias of the account in the Region was created, retargeted or deleted.
    Alias(AccountId, Region, AliasName),
    /// An access key was created, deactivated or deleted.
    AccessKey(String),
    /// An IAM user, role, group or managed policy of the account changed.
    Identity(AccountId),
    /// The feed was interrupted: changes may be missed until [`Change::Resumed`].
    Lost,
    /// The feed is live again; what happened meanwhile is unknown.
    Resumed,
}

/// Where a backend delivers [`Change`]s (on a thread of its own; may block on store reads).
pub type ChangeSink = std::sync::Arc<dyn Fn(Change) + Send + Sync>;

/// What the service reads. Implementations are synchronous (the service calls them off the async
/// executor).
pub trait StoreRead: Send + Sync + 'static {
    /// A short backend name for logs (`sqlite`).
    fn backend(&self) -> &'static str;
    fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError>;
    fn access_keys(&self) -> Result<Vec<AccessKeyRecord>, StoreError>;
    fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;
    fn entity(&self, account_id: &AccountId, kind: EntityKind, name: &str) -> Result<Option<EntityRecord>, StoreError>;
    /// Entities of one kind in an account, ordered by name.
    fn entities(&self, account_id: &AccountId, kind: EntityKind) -> Result<Vec<EntityRecord>, StoreError>;
    /// The key with this id in this Region.
    fn key(&self, region: &Region, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError>;
    /// Multi-Region keys in a transient state (`Creating`, `Updating`) the service settles.
    fn keys_settling(&self) -> Result<Vec<KeyRecord>, StoreError>;
    /// The Regions that hold at least one key, in order.
    fn key_regions(&self) -> Result<Vec<Region>, StoreError>;
    /// Every Region's record of this key id, ordered by Region: a multi-Region key's primary and
    /// replicas (one record for any other key).
    fn related_keys(&self, key_id: &KeyId) -> Result<Vec<KeyRecord>, StoreError>;
    /// The keys of a custom key store (every state, `PendingDeletion` included), by key id.
    fn keys_in_custom_key_store(&self, custom_key_store_id: &str) -> Result<Vec<KeyRecord>, StoreError>;
    fn materials(&self, key_id: &KeyId) -> Result<Vec<MaterialRecord>, StoreError>;
    /// Enabled keys with automatic rotation whose next rotation is at or before `now_ms`.
    fn keys_due_for_rotation(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError>;
    /// Present imported materials whose `valid_to_ms` is at or before `now_ms`.
    fn expired_materials(&self, now_ms: i64) -> Result<Vec<MaterialRecord>, StoreError>;
    fn usage(&self, region: &Region, key_id: &KeyId) -> Result<Option<UsageRecord>, StoreError>;
    /// Keys of an account ordered by key id, strictly after `after`, at most `limit`.
    fn list_keys(
        &self,
        account_id: &AccountId,
        region: &Region,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, StoreError>;
    /// Keys in `PendingDeletion` whose deletion date is at or before `now_ms`.
    fn keys_due_for_deletion(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError>;
    fn alias(
        &self,
        account_id: &AccountId,
        region: &Region,
        name: &AliasName,
    ) -> Result<Option<AliasRecord>, StoreError>;
    /// Aliases of an account (optionally of one key) ordered by name, strictly after `after`.
    fn list_aliases(
        &self,
        account_id: &AccountId,
        region: &Region,
        key_id: Option<&KeyId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AliasRecord>, StoreError>;
    fn all_aliases(&self) -> Result<Vec<AliasRecord>, StoreError>;
    fn grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StoreError>;
    /// Grants of a key ordered by grant id.
    fn grants(&self, region: &Region, key_id: &KeyId) -> Result<Vec<GrantRecord>, StoreError>;
    /// Grants (any account) whose retiring principal is `principal`, ordered by grant id.
    fn grants_retirable_by(&self, principal: &str) -> Result<Vec<GrantRecord>, StoreError>;
    /// The audit trail's chains (one per writer: see `trent_audit`), by name: every chain that
    /// holds events or an anchor.
    fn audit_chains(&self) -> Result<Vec<String>, StoreError>;
    /// Batches of `chain` holding events with `seq > after_seq`, in sequence order, at most
    /// `limit`. (Events stored one per row by earlier versions belong to chain [`MAIN_CHAIN`] and
    /// come back as one-event batches.)
    fn audit_batches_after(
        &self,
        chain: &str,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditBatchRecord>, StoreError>;
    /// Batches of `chain` holding events with `seq < before_seq`, newest first, at most `limit`
    /// (reading the trail backwards: CloudTrail's LookupEvents answers newest first).
    fn audit_batches_before(
        &self,
        chain: &str,
        before_seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditBatchRecord>, StoreError>;
    /// The newest stored event of `chain`: its sequence number and chain hash.
    fn last_audit(&self, chain: &str) -> Result<Option<AuditHead>, StoreError>;
    /// The (seq, chain hash) of the newest pruned event of `chain`, if any were pruned.
    fn audit_anchor(&self, chain: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError>;
    fn tags(&self, region: &Region, key_id: &KeyId) -> Result<Vec<TagRecord>, StoreError>;
    /// A named value of the service's own (`derivation-key`: the sealed secret the audit chain,
    /// grant-token and material-id keys derive from once the root key was rotated).
    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Delivers every committed change made through this database by any server to `sink`, from
    /// now on, until the store is dropped; `Ok(false)` when the backend is never shared by
    /// several servers (SQLite), so there is nothing to watch.
    fn watch(&self, _sink: ChangeSink) -> Result<bool, StoreError> {
        Ok(false)
    }
    /// Whether this server leads the background jobs (deletions, rotations, expiry, retention)
    /// now: exactly one server of those sharing a database does, and another takes over when it
    /// dies. Always `true` for a store only one server uses (SQLite).
    fn try_lead(&self) -> Result<bool, StoreError> {
        Ok(true)
    }
}

/// Everything the service persists: the reads and every write. Every method is atomic. The
/// service hands the writing half only to code holding an authorization decision (or its own
/// background jobs); everything else sees [`StoreRead`].
pub trait Store: StoreRead {
    fn insert_account(&self, account: &AccountRecord) -> Result<(), StoreError>;
    /// Inserts a key, checking in the same transaction that what it belongs to exists: the user
    /// `user_name` with id `owner_id`, or for a session the role its `session` names with id
    /// `owner_id`; `NotFound` otherwise (a key never outlives, nor predates, its owner).
    fn insert_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError>;
    /// Sets `Active` / `Inactive`; `NotFound` if absent.
    fn set_access_key_status(&self, access_key_id: &str, status: AccessKeyStatus) -> Result<(), StoreError>;
    fn delete_access_key(&self, access_key_id: &str) -> Result<(), StoreError>;
    /// Inserts (`UniqueViolation` if the name is taken) or, with `replace`, upserts.
    fn put_entity(&self, entity: &EntityRecord, replace: bool) -> Result<(), StoreError>;
    /// Replaces an entity's body only if it still is `expected_body` (what the caller read and
    /// changed): `Conflict` if another server changed it first, `NotFound` if it is gone.
    fn replace_entity(&self, entity: &EntityRecord, expected_body: &str) -> Result<(), StoreError>;
    /// Deletes an entity; `NotFound` if absent. In the same transaction: a user that still has
    /// access keys is not deleted (`Conflict`); a role's session keys are deleted with it.
    fn delete_entity(&self, account_id: &AccountId, kind: EntityKind, name: &str) -> Result<(), StoreError>;
    /// Inserts a key with its first material version (none for `Origin=EXTERNAL`, and none for a
    /// multi-Region replica, which shares its primary's) and tags, atomically. `UniqueViolation`
    /// if the key id already has a record in the key's Region.
    fn create_key(
        &self,
        key: &KeyRecord,
        material: Option<&MaterialRecord>,
        tags: &[TagRecord],
    ) -> Result<(), StoreError>;
    /// Replaces the mutable fields of an existing key (in its Region; with its primary Region)
    /// and bumps its version, only if the stored
    /// version is still `key.version` (`Conflict` otherwise: another server changed it first);
    /// `NotFound` if it is gone.
    fn update_key(&self, key: &KeyRecord) -> Result<(), StoreError>;
    /// Rotation: inserts or replaces `material` and sets the current material and next rotation
    /// date from `key` (nothing else) on every Region's record of the key id (related
    /// multi-Region keys rotate together), atomically, only if `key`'s current material is still
    /// `expected_current` (`Conflict` otherwise). This makes a rotation happen once even when
    /// several servers share the store.
    fn rotate_key(
        &self,
        key: &KeyRecord,
        expected_current: Option<&str>,
        material: &MaterialRecord,
    ) -> Result<(), StoreError>;
    /// Inserts or replaces one material version and sets the key's state and current material
    /// from `key` (nothing else), atomically (imports, deletions of imported material).
    fn put_material(&self, key: &KeyRecord, material: &MaterialRecord) -> Result<(), StoreError>;
    /// Upserts the last use of each key (batched by the service).
    fn record_usage(&self, usage: &[UsageRecord]) -> Result<(), StoreError>;
    /// Deletes a key and everything that hangs off it (materials, aliases, tags).
    /// The key's materials go with the last Region's record of its id (related multi-Region
    /// keys share them).
    fn delete_key(&self, region: &Region, key_id: &KeyId) -> Result<(), StoreError>;
    /// `UniqueViolation` if the name is taken in the account.
    fn create_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;
    fn update_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;
    fn delete_alias(&self, account_id: &AccountId, region: &Region, name: &AliasName) -> Result<(), StoreError>;
    fn create_grant(&self, grant: &GrantRecord) -> Result<(), StoreError>;
    fn delete_grant(&self, grant_id: &str) -> Result<(), StoreError>;
    /// Appends batches to `chain` atomically, only if the first continues it (its `first_seq`
    /// is one past the chain's newest stored event, or its anchor when everything was pruned)
    /// and each continues the one before; `Conflict` otherwise (another writer appended
    /// first). Appends to different chains never wait for each other.
    fn append_audit_batches(&self, chain: &str, batches: &[AuditBatchRecord]) -> Result<(), StoreError>;
    /// Retention: deletes the oldest batches of `chain`, in sequence order, while their newest
    /// event is older than `before_ms`, until at least `max_events` events went, in one
    /// transaction, and records the (seq, hash) of the last event deleted as the anchor the
    /// remaining chain verifies from. Returns how many events it deleted.
    fn prune_audit(&self, chain: &str, before_ms: i64, max_events: usize) -> Result<usize, StoreError>;
    /// Sets the anchor (seq, chain hash) a chain holding no events continues from — a copy of a
    /// store whose oldest events were pruned (`trent migrate`); `Conflict` if it holds events.
    fn set_audit_anchor(&self, chain: &str, seq: i64, hash: &[u8]) -> Result<(), StoreError>;
    /// Upserts tags (same key → value replaced), atomically.
    fn put_tags(&self, region: &Region, key_id: &KeyId, tags: &[TagRecord]) -> Result<(), StoreError>;
    fn delete_tags(&self, region: &Region, key_id: &KeyId, tag_keys: &[String]) -> Result<(), StoreError>;
    /// Sets the named value only if it is still `expected` (`None`: absent); `Conflict`
    /// otherwise.
    fn put_meta(&self, name: &str, expected: Option<&[u8]>, value: &[u8]) -> Result<(), StoreError>;
    /// Root-key rotation: replaces an access key's sealed secret, only if it is still
    /// `expected` (`Conflict` otherwise; `NotFound` when the key is gone).
    fn reseal_access_key(&self, access_key_id: &str, expected: &[u8], sealed: &[u8]) -> Result<(), StoreError>;
    /// Root-key rotation: replaces a material version's sealed bytes, only if they are still
    /// `expected` (`Conflict` otherwise; `NotFound` when the version is gone).
    fn reseal_material(
        &self,
        key_id: &KeyId,
        material_id: &str,
        expected: &[u8],
        sealed: &[u8],
    ) -> Result<(), StoreError>;
    /// Runs `f` as one transaction: every write it makes through the store it is given commits
    /// together, or (when `f` fails) none does. The service uses it to write a state change and
    /// its audit event together.
    fn atomically(&self, f: &mut dyn FnMut(&dyn Store) -> Result<(), StoreError>) -> Result<(), StoreError>;
}
