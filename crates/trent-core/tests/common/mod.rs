//! Test support shared by the core integration tests: an instrumented store wrapping SQLite
//! that counts calls (to prove the hot path makes none) and can fail the next rotation before
//! commit (as a server killed mid-rotation would).
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use trent_store::sqlite::SqliteStore;

pub struct InstrumentedStore {
    pub inner: SqliteStore,
    /// Store calls so far, except batched last-usage writes (off the request path).
    pub calls: AtomicUsize,
    /// Writes so far (every `Store` method, last-usage writes included).
    pub writes: AtomicUsize,
    pub crash_next_rotation: AtomicBool,
}

impl InstrumentedStore {
    pub fn new(inner: SqliteStore) -> Self {
        InstrumentedStore {
            inner,
            calls: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
            crash_next_rotation: AtomicBool::new(false),
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }
}

macro_rules! counted {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&self, $($arg: $ty),*) -> $ret {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.inner.$name($($arg),*)
        })*
    };
}

macro_rules! written {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&self, $($arg: $ty),*) -> $ret {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.writes.fetch_add(1, Ordering::SeqCst);
            self.inner.$name($($arg),*)
        })*
    };
}

use trent_store::{
    AccessKeyRecord, AccountRecord, AliasRecord, AuditBatchRecord, AuditHead, EntityKind, EntityRecord, GrantRecord,
    KeyRecord, MaterialRecord, StoreError, TagRecord, UsageRecord,
};
use trent_types::{AccessKeyStatus, AccountId, AliasName, KeyId, Region};

impl trent_store::StoreRead for InstrumentedStore {
    fn backend(&self) -> &'static str {
        "instrumented-sqlite"
    }
    counted! {
        accounts() -> Result<Vec<AccountRecord>, StoreError>;
        access_keys() -> Result<Vec<AccessKeyRecord>, StoreError>;
        access_key(id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;
        entity(a: &AccountId, k: EntityKind, n: &str) -> Result<Option<EntityRecord>, StoreError>;
        entities(a: &AccountId, k: EntityKind) -> Result<Vec<EntityRecord>, StoreError>;
        key(r: &Region, id: &KeyId) -> Result<Option<KeyRecord>, StoreError>;
        key_regions() -> Result<Vec<Region>, StoreError>;
        keys_settling() -> Result<Vec<KeyRecord>, StoreError>;
        related_keys(id: &KeyId) -> Result<Vec<KeyRecord>, StoreError>;
        keys_in_custom_key_store(id: &str) -> Result<Vec<KeyRecord>, StoreError>;
        materials(id: &KeyId) -> Result<Vec<MaterialRecord>, StoreError>;
        keys_due_for_rotation(now: i64) -> Result<Vec<KeyRecord>, StoreError>;
        expired_materials(now: i64) -> Result<Vec<MaterialRecord>, StoreError>;
        usage(r: &Region, id: &KeyId) -> Result<Option<UsageRecord>, StoreError>;
        list_keys(a: &AccountId, r: &Region, after: Option<&str>, limit: usize) -> Result<Vec<KeyRecord>, StoreError>;
        keys_due_for_deletion(now: i64) -> Result<Vec<KeyRecord>, StoreError>;
        alias(a: &AccountId, r: &Region, n: &AliasName) -> Result<Option<AliasRecord>, StoreError>;
        list_aliases(a: &AccountId, r: &Region, k: Option<&KeyId>, after: Option<&str>, limit: usize) -> Result<Vec<AliasRecord>, StoreError>;
        all_aliases() -> Result<Vec<AliasRecord>, StoreError>;
        grant(id: &str) -> Result<Option<GrantRecord>, StoreError>;
        grants(r: &Region, k: &KeyId) -> Result<Vec<GrantRecord>, StoreError>;
        grants_retirable_by(p: &str) -> Result<Vec<GrantRecord>, StoreError>;
        audit_chains() -> Result<Vec<String>, StoreError>;
        audit_batches_after(c: &str, after: i64, limit: usize) -> Result<Vec<AuditBatchRecord>, StoreError>;
        audit_batches_before(c: &str, before: i64, limit: usize) -> Result<Vec<AuditBatchRecord>, StoreError>;
        last_audit(c: &str) -> Result<Option<AuditHead>, StoreError>;
        audit_anchor(c: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError>;
        tags(r: &Region, id: &KeyId) -> Result<Vec<TagRecord>, StoreError>;
        meta(name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    }
}

impl trent_store::Store for InstrumentedStore {
    /// One transaction counts as one call and one write (what it does inside is the inner
    /// store's).
    fn atomically(
        &self,
        f: &mut dyn FnMut(&dyn trent_store::Store) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.atomically(f)
    }
    fn record_usage(&self, u: &[UsageRecord]) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.record_usage(u)
    }
    fn rotate_key(&self, key: &KeyRecord, expected: Option<&str>, m: &MaterialRecord) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.writes.fetch_add(1, Ordering::SeqCst);
        if self.crash_next_rotation.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Backend("process killed before commit".into()));
        }
        self.inner.rotate_key(key, expected, m)
    }
    written! {
        insert_account(a: &AccountRecord) -> Result<(), StoreError>;
        insert_access_key(k: &AccessKeyRecord) -> Result<(), StoreError>;
        set_access_key_status(id: &str, st: AccessKeyStatus) -> Result<(), StoreError>;
        delete_access_key(id: &str) -> Result<(), StoreError>;
        put_entity(e: &EntityRecord, replace: bool) -> Result<(), StoreError>;
        replace_entity(e: &EntityRecord, expected: &str) -> Result<(), StoreError>;
        delete_entity(a: &AccountId, k: EntityKind, n: &str) -> Result<(), StoreError>;
        create_key(k: &KeyRecord, m: Option<&MaterialRecord>, t: &[TagRecord]) -> Result<(), StoreError>;
        update_key(k: &KeyRecord) -> Result<(), StoreError>;
        put_material(k: &KeyRecord, m: &MaterialRecord) -> Result<(), StoreError>;
        delete_key(r: &Region, id: &KeyId) -> Result<(), StoreError>;
        create_alias(a: &AliasRecord) -> Result<(), StoreError>;
        update_alias(a: &AliasRecord) -> Result<(), StoreError>;
        delete_alias(a: &AccountId, r: &Region, n: &AliasName) -> Result<(), StoreError>;
        create_grant(g: &GrantRecord) -> Result<(), StoreError>;
        delete_grant(id: &str) -> Result<(), StoreError>;
        append_audit_batches(c: &str, b: &[AuditBatchRecord]) -> Result<(), StoreError>;
        prune_audit(c: &str, before: i64, max: usize) -> Result<usize, StoreError>;
        set_audit_anchor(c: &str, seq: i64, hash: &[u8]) -> Result<(), StoreError>;
        put_tags(r: &Region, id: &KeyId, t: &[TagRecord]) -> Result<(), StoreError>;
        delete_tags(r: &Region, id: &KeyId, k: &[String]) -> Result<(), StoreError>;
        put_meta(name: &str, expected: Option<&[u8]>, value: &[u8]) -> Result<(), StoreError>;
        reseal_access_key(id: &str, expected: &[u8], sealed: &[u8]) -> Result<(), StoreError>;
        reseal_material(id: &KeyId, m: &str, expected: &[u8], sealed: &[u8]) -> Result<(), StoreError>;
    }
}

/// A service over an instrumented SQLite store in a temporary directory, with a manual clock
/// and the account root as caller.
pub struct Instrumented {
    pub kms: trent_core::Kms,
    pub store: std::sync::Arc<InstrumentedStore>,
    pub clock: std::sync::Arc<trent_core::ManualClock>,
    pub root: trent_core::Caller,
    pub account: trent_types::AccountId,
    pub _dir: tempfile::TempDir,
}

/// [`Instrumented`], its root key made of `root_byte`.
pub fn instrumented(root_byte: u8) -> Instrumented {
    use trent_core::Clock as _;
    let dir = tempfile::tempdir().expect("tmp");
    let clock = std::sync::Arc::new(trent_core::ManualClock::now());
    let store = std::sync::Arc::new(InstrumentedStore::new(
        SqliteStore::open(&dir.path().join("trent.db")).expect("open"),
    ));
    let root_key = || trent_crypto::RootKey::from_bytes([root_byte; 32]);
    let admin = trent_core::bootstrap::initialise(store.as_ref(), &root_key(), None, clock.now_ms()).expect("init");
    let kms = trent_core::Kms::open(
        store.clone(),
        root_key(),
        clock.clone(),
        trent_core::Config {
            regions: vec!["us-east-1".into()],
        },
    )
    .expect("kms");
    Instrumented {
        kms,
        store,
        clock,
        root: trent_core::Caller::root(&admin.account_id, &admin.access_key_id),
        account: admin.account_id,
        _dir: dir,
    }
}

/// One KMS request through the service (no HTTP), as JSON in and out.
pub async fn try_call(
    kms: &trent_core::Kms,
    caller: &trent_core::Caller,
    op: trent_api::Operation,
    body: serde_json::Value,
) -> Result<serde_json::Value, trent_api::KmsError> {
    let out = kms
        .handle(
            caller,
            op,
            body.to_string().as_bytes(),
            &trent_core::RequestMeta::default(),
        )
        .await?;
    Ok(serde_json::from_slice(&out).expect("json"))
}

/// Like [`try_call`], and the request must succeed.
pub async fn call(
    kms: &trent_core::Kms,
    caller: &trent_core::Caller,
    op: trent_api::Operation,
    body: serde_json::Value,
) -> serde_json::Value {
    try_call(kms, caller, op, body)
        .await
        .unwrap_or_else(|e| panic!("{op:?}: {e}"))
}
