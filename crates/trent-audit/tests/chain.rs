//! The trail through a real SQLite store: events flush as batches, verify, render as CloudTrail
//! JSON; an edited, removed or reordered event is found and named; rows written by the
//! one-JSON-event-per-row format of earlier versions verify and continue into batches.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

use std::sync::Arc;

use trent_audit::chain::{entries, reencode_for_tests};
use trent_audit::{
    render, verify, AuditLog, ChainKey, Event, Identity, IdentityType, Parameters, Source, Verification,
};
use trent_store::sqlite::SqliteStore;
use trent_store::{Store, StoreRead, MAIN_CHAIN};

fn key() -> ChainKey {
    ChainKey::new(&[7u8; 32])
}

fn event(n: i64, name: &'static str) -> Event {
    let mut parameters = Parameters::new();
    parameters.push("keyId", format!("alias/app-{n}"));
    parameters.push(
        "encryptionContext",
        trent_audit::Value::Map(vec![("日本語キー".to_owned(), "a💡b".into())]),
    );
    Event {
        time_ms: 1_700_000_000_000 + n,
        source: Source::Kms,
        name: name.into(),
        region: Arc::from("us-east-1"),
        identity: Some(Arc::new(Identity {
            kind: IdentityType::IamUser,
            arn: "arn:aws:iam::111122223333:user/alice".into(),
            account_id: "111122223333".into(),
            access_key_id: "AKIAEXAMPLE000000001".into(),
        })),
        source_ip: Some("127.0.0.1".into()),
        request_id: format!("00000000-0000-4000-8000-{n:012}"),
        parameters,
        resources: vec![Arc::from(
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )],
        error: (n % 2 == 0).then(|| ("AccessDeniedException".into(), "denied".to_owned())),
        read_only: false,
        additional: None,
        origin: None,
    }
}

fn intact(store: &dyn Store) -> i64 {
    match verify(store, &key()).expect("verify") {
        Verification::Intact { events, .. } => events,
        broken => panic!("{broken:?}"),
    }
}

#[test]
fn events_flush_as_batches_verify_and_render() {
    let store = SqliteStore::in_memory().expect("store");
    let log = AuditLog::new();
    let region: Arc<str> = Arc::from("us-east-1");
    for n in 1..=2500 {
        log.push(event(n, "Encrypt"));
    }
    assert_eq!(log.flush(&store, &key(), 0, &region).expect("flush"), 2500);
    let batches = store.audit_batches_after(MAIN_CHAIN, 0, 100).expect("batches");
    assert_eq!(batches.len(), 3, "at most 1000 events per row");
    assert_eq!(intact(&store), 2500);
    log.push(event(2501, "Decrypt"));
    log.flush(&store, &key(), 0, &region).expect("flush");
    assert_eq!(intact(&store), 2501);

    let last = store.audit_batches_after(MAIN_CHAIN, 2500, 1).expect("last batch");
    let entry = entries(last.first().expect("batch")).expect("entries").remove(0);
    let json: serde_json::Value = serde_json::from_str(&render::render(&entry).expect("render")).expect("json");
    assert_eq!(json["eventName"], "Decrypt");
    assert_eq!(json["eventSource"], "kms.amazonaws.com");
    assert_eq!(json["userIdentity"]["type"], "IAMUser");
    assert_eq!(json["requestParameters"]["encryptionContext"]["日本語キー"], "a💡b");
    assert_eq!(json["resources"][0]["type"], "AWS::KMS::Key");
    assert_eq!(json["recipientAccountId"], "111122223333");
    assert_eq!(json["eventID"].as_str().map(str::len), Some(36));
    assert!(json.get("errorCode").is_none());
}

#[test]
fn tampering_is_named_by_event() {
    let store = SqliteStore::in_memory().expect("store");
    let log = AuditLog::new();
    for n in 1..=5 {
        log.push(event(n, "Encrypt"));
    }
    log.flush(&store, &key(), 0, &Arc::from("us-east-1")).expect("flush");
    let batch = store.audit_batches_after(MAIN_CHAIN, 0, 1).expect("batch").remove(0);
    let original = entries(&batch).expect("entries");

    // An edited event (its time): its bytes no longer match its hash.
    let mut edited = original.clone();
    let e3 = edited.get_mut(2).expect("event 3");
    e3.event[0] ^= 0x02;
    let tampered = reencode_for_tests(&batch, &edited).expect("re-encode");
    let copy = SqliteStore::in_memory().expect("store");
    copy.append_audit_batches(MAIN_CHAIN, &[tampered]).expect("append");
    assert_eq!(
        verify(&copy, &key()).expect("verify"),
        Verification::Broken {
            chain: MAIN_CHAIN.into(),
            seq: 3,
            reason: "event 3 does not match its chain hash".into()
        }
    );

    // A string every event of the batch shares is written once, in the first event: editing it
    // there ("Encrypt" → "Decrypt" for all five) breaks the first event's hash.
    let mut edited = original.clone();
    let e1 = edited.get_mut(0).expect("event 1");
    let pos = e1
        .event
        .windows(7)
        .position(|w| w == b"Encrypt")
        .expect("name in the first event");
    e1.event.splice(pos..pos + 7, b"Decrypt".iter().copied());
    assert!(
        !edited
            .get(2)
            .expect("event 3")
            .event
            .windows(7)
            .any(|w| w == b"Encrypt"),
        "later events refer to the shared name"
    );
    let tampered = reencode_for_tests(&batch, &edited).expect("re-encode");
    let copy = SqliteStore::in_memory().expect("store");
    copy.append_audit_batches(MAIN_CHAIN, &[tampered]).expect("append");
    assert_eq!(
        verify(&copy, &key()).expect("verify"),
        Verification::Broken {
            chain: MAIN_CHAIN.into(),
            seq: 1,
            reason: "event 1 does not match its chain hash".into()
        }
    );

    // A removed event.
    let mut removed = original.clone();
    removed.remove(2);
    let copy = SqliteStore::in_memory().expect("store");
    copy.append_audit_batches(MAIN_CHAIN, &[reencode_for_tests(&batch, &removed).expect("re-encode")])
        .expect("append");
    assert_eq!(
        verify(&copy, &key()).expect("verify"),
        Verification::Broken {
            chain: MAIN_CHAIN.into(),
            seq: 3,
            reason: "event 3 is missing (next stored is 4)".into()
        }
    );

    // Another key (a forged chain) does not verify.
    assert!(matches!(
        verify(&store, &ChainKey::new(&[8u8; 32])).expect("verify"),
        Verification::Broken { seq: 1, .. }
    ));
}

#[test]
fn pre_batch_rows_verify_and_the_chain_continues_into_batches() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("trent.db");
    drop(SqliteStore::open(&path).expect("create"));
    // Two events as a schema-5 server stored them: one JSON row each, same chain.
    let mut prev = vec![0u8; 32];
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        for seq in 1..=2i64 {
            let text = format!(
                r#"{{"eventName":"CreateKey","eventSource":"kms.amazonaws.com","awsRegion":"us-east-1","userIdentity":{{"accountId":"111122223333"}},"requestID":"r{seq}"}}"#
            );
            let hash = {
                use aws_lc_rs::hmac;
                let k = hmac::Key::new(hmac::HMAC_SHA256, &[7u8; 32]);
                let mut c = hmac::Context::with_key(&k);
                c.update(&prev);
                c.update(&seq.to_be_bytes());
                c.update(text.as_bytes());
                c.sign().as_ref().to_vec()
            };
            conn.execute(
                "INSERT INTO audit_events (seq, time_ms, event, chain_hash) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![seq, seq, text, hash],
            )
            .expect("legacy row");
            prev = hash;
        }
    }
    let store = SqliteStore::open(&path).expect("reopen");
    assert_eq!(intact(&store), 2);
    let log = AuditLog::new();
    log.push(event(3, "Encrypt"));
    log.flush(&store, &key(), 0, &Arc::from("us-east-1")).expect("flush");
    assert_eq!(intact(&store), 3);
    let first = store.audit_batches_after(MAIN_CHAIN, 0, 1).expect("legacy").remove(0);
    let rendered = render::render(&entries(&first).expect("entries").remove(0)).expect("render");
    let json: serde_json::Value = serde_json::from_str(&rendered).expect("json");
    assert_eq!(json["eventName"], "CreateKey");
    assert_eq!(json["eventVersion"], "1.08");
    // Retention takes the legacy rows first and leaves the anchor the batches continue from.
    assert_eq!(store.prune_audit(MAIN_CHAIN, 3, 10).expect("prune"), 2);
    assert_eq!(intact(&store), 1);
}

#[test]
fn version_1_batches_still_read_verify_and_continue_into_compact_batches() {
    let store = SqliteStore::in_memory().expect("store");
    let old: Vec<_> = (1..=3).map(|n| event(n, "Decrypt")).collect();
    let (v1, _) = trent_audit::chain::seal_v1_for_tests(&key(), (0, vec![0u8; 32]), &old).expect("seal v1");
    assert_eq!(v1.body.first(), Some(&1u8));
    store.append_audit_batches(MAIN_CHAIN, &[v1]).expect("append v1");
    let log = AuditLog::new();
    for n in 4..=6 {
        log.push(event(n, "Encrypt"));
    }
    log.flush(&store, &key(), 0, &Arc::from("us-east-1"))
        .expect("flush continues the chain");
    assert_eq!(intact(&store), 6);
    let mut names = Vec::new();
    trent_audit::read::for_each_entry(&store, MAIN_CHAIN, 0, |e| {
        let json: serde_json::Value = serde_json::from_str(&render::render(&e)?).expect("json");
        names.push(json["eventName"].as_str().unwrap_or_default().to_owned());
        Ok(true)
    })
    .expect("read");
    assert_eq!(
        names,
        ["Decrypt", "Decrypt", "Decrypt", "Encrypt", "Encrypt", "Encrypt"]
    );
    let batches = store.audit_batches_after(MAIN_CHAIN, 0, 10).expect("batches");
    assert_eq!(batches.iter().map(|b| b.body[0]).collect::<Vec<_>>(), [1, 2]);
}
