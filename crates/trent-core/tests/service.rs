//! Service-level tests on a real SQLite file: key material never reaches disk in the clear, and
//! scheduled deletion happens when the (injected) clock passes the window.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{json, Value};
use trent_api::Operation;
use trent_core::clock::DAY_MS;
use trent_core::{bootstrap, Caller, Clock, Config, Kms, ManualClock};
use trent_crypto::RootKey;
use trent_store::sqlite::SqliteStore;
use trent_store::StoreRead;

struct Fixture {
    kms: Arc<Kms>,
    clock: Arc<ManualClock>,
    caller: Caller,
    secret: Vec<u8>,
    dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(SqliteStore::open(&dir.path().join("trent.db")).expect("open"));
    let root = RootKey::from_bytes([7; 32]);
    let clock = Arc::new(ManualClock::now());
    let admin = bootstrap::initialise(store.as_ref(), &root, Some("111122223333"), clock.now_ms()).expect("init");
    let kms = Arc::new(
        Kms::open(
            store,
            root,
            clock.clone(),
            Config {
                regions: vec!["us-east-1".into()],
            },
        )
        .expect("kms"),
    );
    let caller = Caller::root(&admin.account_id, &admin.access_key_id);
    Fixture {
        kms,
        clock,
        caller,
        secret: admin.secret_access_key.expose().to_vec(),
        dir,
    }
}

async fn call(f: &Fixture, op: Operation, body: Value) -> Result<Value, trent_api::KmsError> {
    let out = f
        .kms
        .handle(
            &f.caller,
            op,
            body.to_string().as_bytes(),
            &trent_core::RequestMeta::default(),
        )
        .await?;
    Ok(serde_json::from_slice(&out).expect("json"))
}

fn encodings(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    vec![
        ("raw".into(), secret.to_vec()),
        ("hex".into(), hex::encode(secret).into_bytes()),
        ("HEX".into(), hex::encode_upper(secret).into_bytes()),
        ("base64".into(), b64.encode(secret).into_bytes()),
        ("base64url".into(), b64url.encode(secret).into_bytes()),
        // A prefix long enough to be unique still must not appear (catches truncated copies).
        ("raw-prefix".into(), secret[..16.min(secret.len())].to_vec()),
    ]
}

fn assert_absent(dir: &std::path::Path, label: &str, secret: &[u8]) {
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n == "root.key") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        for (enc, needle) in encodings(secret) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{label} found in {} as {enc}",
                path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn key_material_and_access_secrets_never_reach_the_database_in_the_clear() {
    let f = fixture();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let m = call(&f, Operation::CreateKey, json!({"Description": "at rest"}))
            .await
            .expect("create");
        ids.push(m["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned());
    }
    // Exercise the store: updates, aliases, tags, policies.
    call(&f, Operation::DisableKey, json!({"KeyId": ids[0]}))
        .await
        .expect("disable");
    call(
        &f,
        Operation::CreateAlias,
        json!({"AliasName": "alias/a", "TargetKeyId": ids[1]}),
    )
    .await
    .expect("alias");
    call(
        &f,
        Operation::TagResource,
        json!({"KeyId": ids[2], "Tags": [{"TagKey": "t", "TagValue": "v"}]}),
    )
    .await
    .expect("tag");
    // Unseal every stored material independently (same root key, the documented record id
    // `<key ARN>/<material id>`), to know what must not appear on disk.
    let reader = SqliteStore::open(&f.dir.path().join("trent.db")).expect("reopen");
    let root = RootKey::from_bytes([7; 32]);
    let mut materials = Vec::new();
    for id in &ids {
        let key_id = trent_types::KeyId::parse(id).expect("key id");
        let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{id}");
        for m in reader.materials(&key_id).expect("materials") {
            let secret = trent_crypto::seal::unseal(
                &root,
                trent_crypto::seal::Purpose::KeyMaterial,
                &format!("{arn}/{}", m.material_id),
                &m.sealed,
            )
            .expect("unseals");
            assert_eq!(secret.len(), 32);
            materials.push(secret.expose().to_vec());
        }
    }
    assert_eq!(materials.len(), 5);
    for (i, m) in materials.iter().enumerate() {
        assert_absent(f.dir.path(), &format!("key material {i}"), m);
    }
    assert_absent(f.dir.path(), "access key secret", &f.secret);
    // The sealed records are really there (the scan looked at the right files).
    let db = std::fs::read(f.dir.path().join("trent.db-wal"))
        .or_else(|_| std::fs::read(f.dir.path().join("trent.db")))
        .expect("db");
    assert!(
        db.windows(ids[0].len()).any(|w| w == ids[0].as_bytes()),
        "key ids are stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_deletion_removes_key_and_aliases_when_the_window_passes() {
    let f = fixture();
    let m = call(&f, Operation::CreateKey, json!({})).await.expect("create");
    let id = m["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let keep = call(&f, Operation::CreateKey, json!({})).await.expect("create");
    let keep_id = keep["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    call(
        &f,
        Operation::CreateAlias,
        json!({"AliasName": "alias/doomed", "TargetKeyId": id}),
    )
    .await
    .expect("alias");
    let ct = call(&f, Operation::Encrypt, json!({"KeyId": id, "Plaintext": "aGk="}))
        .await
        .expect("encrypt");
    let out = call(
        &f,
        Operation::ScheduleKeyDeletion,
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    )
    .await
    .expect("schedule");
    assert_eq!(out["PendingWindowInDays"], 7);

    f.clock.advance_ms(7 * DAY_MS - 60_000);
    assert_eq!(f.kms.run_due_deletions().await.expect("run"), 0, "not yet due");
    call(&f, Operation::DescribeKey, json!({"KeyId": id}))
        .await
        .expect("still there");

    f.clock.advance_ms(120_000);
    assert_eq!(f.kms.run_due_deletions().await.expect("run"), 1);
    let e = call(&f, Operation::DescribeKey, json!({"KeyId": id}))
        .await
        .expect_err("gone");
    assert_eq!(e.code().as_str(), "NotFoundException");
    let e = call(&f, Operation::DescribeKey, json!({"KeyId": "alias/doomed"}))
        .await
        .expect_err("alias gone");
    assert_eq!(e.code().as_str(), "NotFoundException");
    let aliases = call(&f, Operation::ListAliases, json!({})).await.expect("list");
    // Only the predefined AWS aliases (no target yet) remain.
    let left: Vec<&serde_json::Value> = aliases["Aliases"]
        .as_array()
        .expect("arr")
        .iter()
        .filter(|a| !a["AliasName"].as_str().is_some_and(|n| n.starts_with("alias/aws/")))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let e = call(&f, Operation::Decrypt, json!({"CiphertextBlob": ct["CiphertextBlob"]}))
        .await
        .expect_err("undecryptable");
    assert_eq!(e.code().as_str(), "InvalidCiphertextException");
    call(&f, Operation::DescribeKey, json!({"KeyId": keep_id}))
        .await
        .expect("other key untouched");
    assert_eq!(f.kms.run_due_deletions().await.expect("idempotent"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelled_deletion_is_not_performed() {
    let f = fixture();
    let m = call(&f, Operation::CreateKey, json!({})).await.expect("create");
    let id = m["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    call(
        &f,
        Operation::ScheduleKeyDeletion,
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    )
    .await
    .expect("schedule");
    call(&f, Operation::CancelKeyDeletion, json!({"KeyId": id}))
        .await
        .expect("cancel");
    f.clock.advance_ms(30 * DAY_MS);
    assert_eq!(f.kms.run_due_deletions().await.expect("run"), 0);
    let d = call(&f, Operation::DescribeKey, json!({"KeyId": id}))
        .await
        .expect("kept");
    assert_eq!(d["KeyMetadata"]["KeyState"], "Disabled");
}
