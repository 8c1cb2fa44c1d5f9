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
    pub crash_next_rotation: AtomicBool,
}

impl InstrumentedStore {
    pub fn new(inner: SqliteStore) -> Self {
        InstrumentedStore {
            inner,
            calls: AtomicUsize::new(0),
            crash_next_rotation: AtomicBool::new(false),
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
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

impl trent_store::Store for InstrumentedStore {
    fn backend(&self) -> &'static str {
        "instrumented-sqlite"
    }
    fn record_usage(&self, u: &[trent_store::UsageRecord]) -> Result<(), trent_store::StoreError> {
        self.inner.record_usage(u)
    }
    fn rotate_key(
        &self,
        key: &trent_store::KeyRecord,
        expected: Option<&str>,
        m: &trent_store::MaterialRecord,
    ) -> Result<(), trent_store::StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.crash_next_rotation.swap(false, Ordering::SeqCst) {
            return Err(trent_store::StoreError::Backend("process killed before commit".into()));
        }
        self.inner.rotate_key(key, expected, m)
    }
    counted! {
        insert_account(a: &trent_store::AccountRecord) -> Result<(), trent_store::StoreError>;
        accounts() -> Result<Vec<trent_store::AccountRecord>, trent_store::StoreError>;
        insert_access_key(k: &trent_store::AccessKeyRecord) -> Result<(), trent_store::StoreError>;
        access_keys() -> Result<Vec<trent_store::AccessKeyRecord>, trent_store::StoreError>;
        access_key(id: &str) -> Result<Option<trent_store::AccessKeyRecord>, trent_store::StoreError>;
        set_access_key_status(id: &str, st: &str) -> Result<(), trent_store::StoreError>;
        delete_access_key(id: &str) -> Result<(), trent_store::StoreError>;
        put_entity(e: &trent_store::EntityRecord, replace: bool) -> Result<(), trent_store::StoreError>;
        entity(a: &str, k: &str, n: &str) -> Result<Option<trent_store::EntityRecord>, trent_store::StoreError>;
        entities(a: &str, k: &str) -> Result<Vec<trent_store::EntityRecord>, trent_store::StoreError>;
        delete_entity(a: &str, k: &str, n: &str) -> Result<(), trent_store::StoreError>;
        create_grant(g: &trent_store::GrantRecord) -> Result<(), trent_store::StoreError>;
        grant(id: &str) -> Result<Option<trent_store::GrantRecord>, trent_store::StoreError>;
        grants(k: &str) -> Result<Vec<trent_store::GrantRecord>, trent_store::StoreError>;
        grants_retirable_by(p: &str) -> Result<Vec<trent_store::GrantRecord>, trent_store::StoreError>;
        delete_grant(id: &str) -> Result<(), trent_store::StoreError>;
        create_key(k: &trent_store::KeyRecord, m: Option<&trent_store::MaterialRecord>, t: &[trent_store::TagRecord]) -> Result<(), trent_store::StoreError>;
        key(id: &str) -> Result<Option<trent_store::KeyRecord>, trent_store::StoreError>;
        update_key(k: &trent_store::KeyRecord) -> Result<(), trent_store::StoreError>;
        materials(id: &str) -> Result<Vec<trent_store::MaterialRecord>, trent_store::StoreError>;
        put_material(k: &trent_store::KeyRecord, m: &trent_store::MaterialRecord) -> Result<(), trent_store::StoreError>;
        keys_due_for_rotation(now: i64) -> Result<Vec<trent_store::KeyRecord>, trent_store::StoreError>;
        expired_materials(now: i64) -> Result<Vec<trent_store::MaterialRecord>, trent_store::StoreError>;
        usage(id: &str) -> Result<Option<trent_store::UsageRecord>, trent_store::StoreError>;
        list_keys(a: &str, after: Option<&str>, limit: usize) -> Result<Vec<trent_store::KeyRecord>, trent_store::StoreError>;
        delete_key(id: &str) -> Result<(), trent_store::StoreError>;
        keys_due_for_deletion(now: i64) -> Result<Vec<trent_store::KeyRecord>, trent_store::StoreError>;
        create_alias(a: &trent_store::AliasRecord) -> Result<(), trent_store::StoreError>;
        alias(a: &str, n: &str) -> Result<Option<trent_store::AliasRecord>, trent_store::StoreError>;
        update_alias(a: &trent_store::AliasRecord) -> Result<(), trent_store::StoreError>;
        delete_alias(a: &str, n: &str) -> Result<(), trent_store::StoreError>;
        list_aliases(a: &str, k: Option<&str>, after: Option<&str>, limit: usize) -> Result<Vec<trent_store::AliasRecord>, trent_store::StoreError>;
        all_aliases() -> Result<Vec<trent_store::AliasRecord>, trent_store::StoreError>;
        tags(id: &str) -> Result<Vec<trent_store::TagRecord>, trent_store::StoreError>;
        put_tags(id: &str, t: &[trent_store::TagRecord]) -> Result<(), trent_store::StoreError>;
        delete_tags(id: &str, k: &[String]) -> Result<(), trent_store::StoreError>;
        append_audit(e: &[trent_store::AuditRecord]) -> Result<(), trent_store::StoreError>;
        audit_after(after: i64, limit: usize) -> Result<Vec<trent_store::AuditRecord>, trent_store::StoreError>;
        last_audit() -> Result<Option<trent_store::AuditRecord>, trent_store::StoreError>;
        prune_audit(before: i64, max: usize) -> Result<usize, trent_store::StoreError>;
        audit_anchor() -> Result<Option<(i64, Vec<u8>)>, trent_store::StoreError>;
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
