//! Multi-Region keys through the scheduler with an injected clock (issue 14): a primary
//! scheduled for deletion waits in `PendingReplicaDeletion` while its replica exists; when the
//! scheduler deletes the replica after its window, the primary's own window starts, and when
//! that passes the key id is gone from every Region, materials included.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

use std::sync::Arc;

use serde_json::{json, Value};
use trent_api::{KmsError, Operation};
use trent_core::clock::DAY_MS;
use trent_core::{bootstrap, Caller, Clock, Config, Kms, ManualClock, RequestMeta};
use trent_crypto::RootKey;
use trent_store::sqlite::SqliteStore;
use trent_store::StoreRead;

async fn call_in(kms: &Kms, caller: &Caller, region: &str, op: Operation, body: Value) -> Result<Value, KmsError> {
    let meta = RequestMeta {
        region: kms.served_region(region).cloned(),
        ..RequestMeta::default()
    };
    let out = kms.handle(caller, op, body.to_string().as_bytes(), &meta).await?;
    Ok(serde_json::from_slice(&out).expect("json"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_primary_waits_for_its_replicas_then_its_own_window() {
    let dir = tempfile::tempdir().expect("tmp");
    let clock = Arc::new(ManualClock::now());
    let store = Arc::new(SqliteStore::open(&dir.path().join("trent.db")).expect("open"));
    let admin =
        bootstrap::initialise(store.as_ref(), &RootKey::from_bytes([5; 32]), None, clock.now_ms()).expect("init");
    let kms = Kms::open(
        store.clone(),
        RootKey::from_bytes([5; 32]),
        clock.clone(),
        Config {
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
        },
    )
    .expect("kms");
    let c = Caller::root(&admin.account_id, &admin.access_key_id);
    let (east, west) = ("us-east-1", "eu-west-1");
    let key = call_in(&kms, &c, east, Operation::CreateKey, json!({"MultiRegion": true}))
        .await
        .expect("create");
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let r = call_in(
        &kms,
        &c,
        east,
        Operation::ReplicateKey,
        json!({"KeyId": id, "ReplicaRegion": west}),
    )
    .await
    .expect("replicate");
    assert_eq!(r["ReplicaKeyMetadata"]["KeyState"], "Creating");
    assert_eq!(kms.settle_multi_region().await.expect("settle"), 1);
    let state = |v: &Value| v["KeyMetadata"]["KeyState"].as_str().expect("state").to_owned();
    let describe = |region: &'static str| {
        let (kms, c, id) = (&kms, &c, id.clone());
        async move { call_in(kms, c, region, Operation::DescribeKey, json!({"KeyId": id})).await }
    };
    assert_eq!(state(&describe(west).await.expect("replica")), "Enabled");

    let s = call_in(
        &kms,
        &c,
        east,
        Operation::ScheduleKeyDeletion,
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    )
    .await
    .expect("schedule primary");
    assert_eq!(s["KeyState"], "PendingReplicaDeletion");
    assert!(s.get("DeletionDate").is_none(), "{s}");
    call_in(
        &kms,
        &c,
        west,
        Operation::ScheduleKeyDeletion,
        json!({"KeyId": id, "PendingWindowInDays": 10}),
    )
    .await
    .expect("schedule replica");
    // Nine days on the primary still waits: only the replica has a date.
    clock.advance_ms(9 * DAY_MS);
    assert_eq!(kms.run_due_deletions().await.expect("run"), 0);
    assert_eq!(state(&describe(east).await.expect("primary")), "PendingReplicaDeletion");
    clock.advance_ms(2 * DAY_MS);
    assert_eq!(kms.run_due_deletions().await.expect("run"), 1, "the replica goes");
    assert!(describe(west).await.is_err(), "gone from eu-west-1");
    let primary = describe(east).await.expect("primary");
    assert_eq!(state(&primary), "PendingDeletion", "its own window starts");
    let key_id = trent_types::KeyId::parse(&id).expect("id");
    assert!(
        !store.materials(&key_id).expect("materials").is_empty(),
        "the primary keeps them"
    );
    clock.advance_ms(7 * DAY_MS);
    assert_eq!(kms.run_due_deletions().await.expect("run"), 1);
    assert!(describe(east).await.is_err());
    assert!(
        store.materials(&key_id).expect("materials").is_empty(),
        "the last key takes them"
    );
}
