//! The hot path reads no database: once a key is warm, Encrypt, Decrypt and GenerateDataKey make
//! no store call at all (brief: "must not touch the database when the key is cached"). A store
//! wrapper counts every call; usage records are batched by `flush_usage` and excluded.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use trent_api::Operation;
use trent_core::{bootstrap, Caller, Clock, Config, Kms, ManualClock};
use trent_crypto::RootKey;
use trent_store::sqlite::SqliteStore;

struct CountingStore {
    inner: SqliteStore,
    calls: AtomicUsize,
}

macro_rules! counted {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&self, $($arg: $ty),*) -> $ret {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.inner.$name($($arg),*)
        })*
    };
}

impl trent_store::Store for CountingStore {
    fn backend(&self) -> &'static str {
        "counting-sqlite"
    }
    /// Batched last-usage records are written off the request path; not counted.
    fn record_usage(&self, u: &[trent_store::UsageRecord]) -> Result<(), trent_store::StoreError> {
        self.inner.record_usage(u)
    }
    counted! {
        rotate_key(k: &trent_store::KeyRecord, expected: Option<&str>, m: &trent_store::MaterialRecord) -> Result<(), trent_store::StoreError>;
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

async fn call(kms: &Kms, caller: &Caller, op: Operation, body: Value) -> Value {
    let out = kms
        .handle(
            caller,
            op,
            body.to_string().as_bytes(),
            &trent_core::RequestMeta::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{op:?}: {e}"));
    serde_json::from_slice(&out).expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn warm_key_operations_make_no_store_calls() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::now());
    let store = Arc::new(CountingStore {
        inner: SqliteStore::open(&dir.path().join("trent.db")).expect("open"),
        calls: AtomicUsize::new(0),
    });
    let root = || RootKey::from_bytes([9; 32]);
    let admin = bootstrap::initialise(store.as_ref(), &root(), None, clock.now_ms()).expect("init");
    let caller = Caller::root(&admin.account_id, &admin.access_key_id);
    let kms = Kms::open(
        store.clone(),
        root(),
        clock.clone(),
        Config {
            region: "us-east-1".into(),
        },
    )
    .expect("kms");
    let key = call(&kms, &caller, Operation::CreateKey, json!({})).await;
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let alias = "alias/hot";
    call(
        &kms,
        &caller,
        Operation::CreateAlias,
        json!({"AliasName": alias, "TargetKeyId": id}),
    )
    .await;
    // Warm-up: the first use of each form of the key id may load it.
    let ct = call(
        &kms,
        &caller,
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": "aGk=", "EncryptionContext": {"a": "b"}}),
    )
    .await;
    call(
        &kms,
        &caller,
        Operation::Encrypt,
        json!({"KeyId": alias, "Plaintext": "aGk="}),
    )
    .await;
    let before = store.calls.load(Ordering::SeqCst);
    for _ in 0..50 {
        call(
            &kms,
            &caller,
            Operation::Encrypt,
            json!({"KeyId": id, "Plaintext": "aGk="}),
        )
        .await;
        call(
            &kms,
            &caller,
            Operation::Encrypt,
            json!({"KeyId": alias, "Plaintext": "aGk="}),
        )
        .await;
        let d = call(
            &kms,
            &caller,
            Operation::Decrypt,
            json!({"CiphertextBlob": ct["CiphertextBlob"], "EncryptionContext": {"a": "b"}}),
        )
        .await;
        assert_eq!(d["Plaintext"], "aGk=");
        call(
            &kms,
            &caller,
            Operation::GenerateDataKey,
            json!({"KeyId": id, "KeySpec": "AES_256"}),
        )
        .await;
    }
    assert_eq!(store.calls.load(Ordering::SeqCst), before, "hot path touched the store");
    // Control: a control-plane read does reach the store, so the counter is live.
    call(&kms, &caller, Operation::ListKeys, json!({})).await;
    assert!(store.calls.load(Ordering::SeqCst) > before);
}
