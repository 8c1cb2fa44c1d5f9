//! Audit retention and chain continuity with an injected clock: pruning keeps an anchor, the
//! chain verifies from it, and a restarted service (fresh in-memory chain state) continues the
//! chain even after every stored event was pruned. Two services on one store append to their own
//! chains; reading merges them by time; checkpoints catch a removed tail.
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
use trent_store::{StoreRead, MAIN_CHAIN};

fn root() -> RootKey {
    RootKey::from_bytes([5; 32])
}

fn open(store: &Arc<SqliteStore>, clock: &Arc<ManualClock>) -> Kms {
    let kms = Kms::open(
        store.clone(),
        root(),
        clock.clone(),
        Config {
            regions: vec!["us-east-1".into()],
        },
    )
    .expect("kms");
    kms.set_audit_retention_days(90);
    kms
}

fn intact(store: &SqliteStore) -> i64 {
    match verify_trail(store, &root(), &[]).expect("verify") {
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
    assert_eq!(store.audit_anchor(MAIN_CHAIN).expect("anchor").map(|a| a.0), Some(2));
    assert_eq!(intact(&store), 1);
    call(&kms, &caller, Operation::Encrypt, encrypt.clone()).await;
    kms.flush_audit().await.expect("flush");
    assert_eq!(intact(&store), 2);

    // Everything pruned, then a fresh service (no chain state in memory) appends: it continues
    // from the anchor, so the trail still verifies.
    clock.advance_ms(91 * DAY_MS);
    assert_eq!(kms.prune_audit().await.expect("prune"), 2);
    assert!(store.last_audit(MAIN_CHAIN).expect("last").is_none());
    let restarted = open(&store, &clock);
    call(&restarted, &caller, Operation::Encrypt, encrypt).await;
    restarted.flush_audit().await.expect("flush");
    assert_eq!(store.last_audit(MAIN_CHAIN).expect("last").map(|r| r.seq), Some(5));
    assert_eq!(intact(&store), 1);

    // Retention 0 keeps everything.
    restarted.set_audit_retention_days(0);
    clock.advance_ms(1000 * DAY_MS);
    assert_eq!(restarted.prune_audit().await.expect("prune"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn servers_sharing_a_store_append_their_own_chains_and_checkpoints_catch_a_cut_tail() {
    use trent_core::trail::{for_each_merged, Checkpoint};
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("trent.db");
    let store = Arc::new(SqliteStore::open(&path).expect("open"));
    let clock = Arc::new(ManualClock::now());
    let admin = bootstrap::initialise(store.as_ref(), &root(), None, clock.now_ms()).expect("init");
    let caller = Caller::root(&admin.account_id, &admin.access_key_id);
    let (a, b) = (open(&store, &clock), open(&store, &clock));
    a.set_audit_chain("node-a");
    b.set_audit_chain("node-b");
    let key = call(&a, &caller, Operation::CreateKey, json!({})).await;
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let encrypt = json!({"KeyId": id, "Plaintext": "aGk="});
    // Interleaved in time: a, b, a, b, … each flushed by its own server.
    for i in 0..6 {
        clock.advance_ms(1000);
        let server = if i % 2 == 0 { &b } else { &a };
        call(server, &caller, Operation::Encrypt, encrypt.clone()).await;
        server.flush_audit().await.expect("flush");
    }
    // What bootstrap wrote before any chain was chosen is the main chain.
    let chains = store.audit_chains().expect("chains");
    assert!(
        chains.contains(&"node-a".to_owned()) && chains.contains(&"node-b".to_owned()),
        "{chains:?}"
    );
    assert_eq!(store.last_audit("node-a").expect("a").map(|h| h.seq), Some(4));
    assert_eq!(store.last_audit("node-b").expect("b").map(|h| h.seq), Some(3));
    let heads = match verify_trail(store.as_ref(), &root(), &[]).expect("verify") {
        Verification::Intact { chains, .. } => chains,
        broken => panic!("{broken:?}"),
    };
    let checkpoints: Vec<Checkpoint> = heads.iter().filter_map(|c| c.head.clone()).collect();
    assert_eq!(checkpoints.len(), chains.len());
    for c in &checkpoints {
        assert_eq!(
            Checkpoint::parse(&c.line()).as_ref(),
            Some(c),
            "the printed line reads back"
        );
    }
    // Merged by time: every event once, times never go back, each chain in its own order.
    let mut seen = Vec::new();
    for_each_merged(store.as_ref(), |chain, e| {
        seen.push((chain.to_owned(), e.seq, e.time_ms));
        Ok(true)
    })
    .expect("merged");
    assert!(seen.windows(2).all(|w| w[0].2 <= w[1].2), "{seen:?}");
    let order: Vec<&str> = seen
        .iter()
        .filter(|(c, ..)| c.starts_with("node-"))
        .map(|(c, ..)| c.as_str())
        .collect();
    assert_eq!(
        order,
        ["node-a", "node-b", "node-a", "node-b", "node-a", "node-b", "node-a"]
    );

    // An attacker with the database cuts the tail of chain a: it still links...
    let db = rusqlite::Connection::open(&path).expect("sqlite");
    assert_eq!(
        db.execute("DELETE FROM audit_batches WHERE chain = 'node-a' AND last_seq = 4", [])
            .expect("delete"),
        1
    );
    assert!(matches!(
        verify_trail(store.as_ref(), &root(), &[]).expect("verify"),
        Verification::Intact { .. }
    ));
    // ...but not to the checkpoint kept from before.
    match verify_trail(store.as_ref(), &root(), &checkpoints).expect("verify") {
        Verification::Broken { chain, seq, reason } => {
            assert_eq!((chain.as_str(), seq), ("node-a", 4), "{reason}");
            assert!(reason.contains("removed"), "{reason}");
        }
        intact => panic!("a cut tail must show against its checkpoint: {intact:?}"),
    }
    // A whole chain deleted shows too.
    db.execute("DELETE FROM audit_batches WHERE chain = 'node-b'", [])
        .expect("delete");
    match verify_trail(store.as_ref(), &root(), &checkpoints).expect("verify") {
        Verification::Broken { chain, reason, .. } => {
            assert_eq!(chain, "node-b");
            assert!(reason.contains("gone"), "{reason}");
        }
        intact => panic!("{intact:?}"),
    }
}
