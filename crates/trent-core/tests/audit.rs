//! Audit retention and chain continuity with an injected clock: pruning keeps an anchor, the
//! chain verifies from it, and a restarted service (fresh in-memory chain state) continues the
//! chain even after every stored event was pruned.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::sync::Arc;

use common::call;
use serde_json::json;
use trent_api::Operation;
use trent_core::clock::DAY_MS;
use trent_core::trail::Verification;
use trent_core::verify_trail;
use trent_core::{bootstrap, Caller, Clock, Config, Kms, ManualClock};
use trent_crypto::RootKey;
use trent_store::sqlite::SqliteStore;
use trent_store::StoreRead;

fn root() -> RootKey {
    RootKey::from_bytes([5; 32])
}

fn open(store: &Arc<SqliteStore>, clock: &Arc<ManualClock>) -> Kms {
    let kms = Kms::open(
        store.clone(),
        root(),
        clock.clone(),
        Config {
            region: "us-east-1".into(),
        },
    )
    .expect("kms");
    kms.set_audit_retention_days(90);
    kms
}

fn intact(store: &SqliteStore) -> i64 {
    match verify_trail(store, &root()).expect("verify") {
        Verification::Intact { events, .. } => events,
        broken => panic!("{broken:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_prunes_old_events_and_the_chain_still_verifies() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(SqliteStore::open(&dir.path().join("trent.db")).expect("open"));
    let clock = Arc::new(ManualClock::now());
    let admin = bootstrap::initialise(store.as_ref(), &root(), None, clock.now_ms()).expect("init");
    let caller = Caller::root(&admin.account_id, &admin.access_key_id);
    let kms = open(&store, &clock);
    let key = call(&kms, &caller, Operation::CreateKey, json!({})).await;
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let encrypt = json!({"KeyId": id, "Plaintext": "aGk="});
    call(&kms, &caller, Operation::Encrypt, encrypt.clone()).await;
    // CreateKey's event was written with the key; Encrypt's waits for the flush.
    assert_eq!(kms.flush_audit().await.expect("flush"), 1);
    assert_eq!(intact(&store), 2);

    // 91 days later: the two old events go, the new one stays, the chain verifies from the anchor.
    clock.advance_ms(91 * DAY_MS);
    call(&kms, &caller, Operation::Encrypt, encrypt.clone()).await;
    kms.run_scheduled().await;
    assert_eq!(store.audit_anchor().expect("anchor").map(|a| a.0), Some(2));
    assert_eq!(intact(&store), 1);
    call(&kms, &caller, Operation::Encrypt, encrypt.clone()).await;
    kms.flush_audit().await.expect("flush");
    assert_eq!(intact(&store), 2);

    // Everything pruned, then a fresh service (no chain state in memory) appends: it continues
    // from the anchor, so the trail still verifies.
    clock.advance_ms(91 * DAY_MS);
    assert_eq!(kms.prune_audit().await.expect("prune"), 2);
    assert!(store.last_audit().expect("last").is_none());
    let restarted = open(&store, &clock);
    call(&restarted, &caller, Operation::Encrypt, encrypt).await;
    restarted.flush_audit().await.expect("flush");
    assert_eq!(store.last_audit().expect("last").map(|r| r.seq), Some(5));
    assert_eq!(intact(&store), 1);

    // Retention 0 keeps everything.
    restarted.set_audit_retention_days(0);
    clock.advance_ms(1000 * DAY_MS);
    assert_eq!(restarted.prune_audit().await.expect("prune"), 0);
}
