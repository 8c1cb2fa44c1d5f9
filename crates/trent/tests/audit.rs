//! The audit trail through the real binary: every request (successes and failures) becomes a
//! CloudTrail-shaped event with the caller, source address, key ARN and allowlisted parameters;
//! no plaintext reaches the database; `trent audit verify` detects an edited or removed event,
//! and a cut-off tail against the checkpoints it printed before.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{blob, err, Server};
use serde_json::Value;

const MARKER: &[u8] = b"audit-plaintext-marker-7f3a9c";

fn trent(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("run trent")
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Polls `trent audit show` until at least `n` events are stored (the server flushes every second).
fn events(dir: &std::path::Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = trent(&["audit", "show"], dir);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // Request events only (the server's own start event is first in the trail).
        let list: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("event is JSON"))
            .filter(|e| e["eventSource"] != "trent")
            .collect();
        if list.len() >= n || Instant::now() > deadline {
            return list;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Rewrites the stored batch holding event `seq` as an attacker with write access to the
/// database could: `edit` changes the entries (their chain hashes are kept).
fn tamper(dir: &std::path::Path, seq: i64, edit: impl FnOnce(&mut Vec<trent_core::trail::Entry>)) {
    use trent_store::StoreRead;
    let path = dir.join("trent.db");
    let store = trent_store::sqlite::SqliteStore::open(&path).expect("open store");
    let batch = store
        .audit_batches_after(trent_store::MAIN_CHAIN, seq - 1, 1)
        .expect("batches")
        .into_iter()
        .next()
        .expect("a batch holds the event");
    let mut entries = trent_core::trail::entries(&batch).expect("entries");
    edit(&mut entries);
    let rewritten = trent_audit::chain::reencode_for_tests(&batch, &entries).expect("re-encode");
    let db = rusqlite::Connection::open(&path).expect("sqlite");
    let n = db
        .execute(
            "UPDATE audit_batches SET body = ?1 WHERE chain = 'main' AND first_seq = ?2",
            rusqlite::params![rewritten.body, batch.first_seq],
        )
        .expect("update");
    assert_eq!(n, 1);
}

fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes.windows(from.len()).position(|w| w == from).expect("present");
    let mut out = bytes.to_vec();
    out.splice(at..at + from.len(), to.iter().copied());
    out
}

#[test]
fn every_request_is_recorded_without_secrets_and_tampering_shows() {
    let s = Server::start();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let arn = rt.block_on(async {
        let c = s.client();
        let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
        let arn = m.arn().expect("arn").to_owned();
        let ct = c
            .encrypt()
            .key_id(m.key_id())
            .plaintext(blob(MARKER))
            .encryption_context("tenant", "t-1")
            .send()
            .await
            .expect("encrypt")
            .ciphertext_blob
            .expect("ct");
        let pt = c
            .decrypt()
            .ciphertext_blob(ct)
            .encryption_context("tenant", "t-1")
            .send()
            .await
            .expect("decrypt");
        assert_eq!(pt.plaintext().expect("pt").as_ref(), MARKER);
        let e = c
            .describe_key()
            .key_id("11111111-2222-3333-4444-555555555555")
            .send()
            .await
            .expect_err("missing key");
        assert_eq!(err(&e).0, "NotFoundException");
        arn
    });
    let list = events(&s.dir, 4);
    let names: Vec<&str> = list.iter().filter_map(|e| e["eventName"].as_str()).collect();
    assert_eq!(names, ["CreateKey", "Encrypt", "Decrypt", "DescribeKey"], "{list:#?}");
    for e in &list {
        assert_eq!(e["eventSource"], "kms.amazonaws.com");
        assert_eq!(e["userIdentity"]["type"], "Root");
        assert_eq!(e["userIdentity"]["accessKeyId"], s.access_key_id.as_str());
        assert_eq!(e["sourceIPAddress"], "127.0.0.1");
        assert_eq!(e["awsRegion"], s.region.as_str());
        assert!(e["eventTime"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert!(e["requestID"].as_str().is_some_and(|r| !r.is_empty()));
        assert_eq!(e["eventVersion"], "1.08");
        assert_eq!(e["eventType"], "AwsApiCall");
        assert_eq!(e["recipientAccountId"], e["userIdentity"]["accountId"]);
        assert_eq!(e["eventID"].as_str().map(str::len), Some(36));
    }
    let ids: std::collections::HashSet<&str> = list.iter().filter_map(|e| e["eventID"].as_str()).collect();
    assert_eq!(ids.len(), list.len(), "eventIDs are unique");
    let encrypt = &list[1];
    assert_eq!(encrypt["resources"][0]["ARN"], arn.as_str());
    assert_eq!(encrypt["resources"][0]["type"], "AWS::KMS::Key");
    assert_eq!(encrypt["requestParameters"]["encryptionContext"]["tenant"], "t-1");
    assert!(encrypt["requestParameters"].get("plaintext").is_none());
    assert!(encrypt.get("errorCode").is_none());
    assert_eq!(list[2]["resources"][0]["ARN"], arn.as_str());
    assert_eq!(list[2]["readOnly"], false);
    let missing = &list[3];
    assert_eq!(missing["errorCode"], "NotFoundException");
    assert!(missing["errorMessage"]
        .as_str()
        .is_some_and(|m| m.contains("does not exist")));
    assert_eq!(missing["readOnly"], true);

    // The plaintext is nowhere in the database files, in any encoding.
    let forms = [
        MARKER.to_vec(),
        hex::encode(MARKER).into_bytes(),
        base64::engine::general_purpose::STANDARD.encode(MARKER).into_bytes(),
    ];
    for entry in std::fs::read_dir(&s.dir).expect("data dir") {
        let path = entry.expect("entry").path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("trent.db"))
        {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read db file");
        for f in &forms {
            assert!(
                !bytes.windows(f.len()).any(|w| w == f.as_slice()),
                "plaintext found in {}",
                path.display()
            );
        }
    }

    // The chain verifies; editing one event, then removing one, is reported.
    let ok = trent(&["audit", "verify"], &s.dir);
    let text = String::from_utf8_lossy(&ok.stdout);
    // TrentStarted (1), CreateKey (2), Encrypt (3), Decrypt (4), DescribeKey (5).
    assert!(
        ok.status.success() && text.contains("intact: 5 events in 1 chain"),
        "{text}"
    );
    assert!(text.contains("has not stopped cleanly: it is running"), "{text}");
    assert!(text.contains("checkpoint main 5 "), "{text}");

    // Checkpoints: a copy whose newest events were cut off still links (nothing inside it was
    // edited), but no longer reaches the checkpoint printed before.
    let checkpoints = s.dir.join("checkpoints.txt");
    std::fs::write(&checkpoints, ok.stdout.as_slice()).expect("save checkpoints");
    let kept = trent(&["audit", "verify", "--checkpoints", path(&checkpoints)], &s.dir);
    let text = String::from_utf8_lossy(&kept.stdout);
    assert!(
        kept.status.success() && text.contains("1 checkpoints still in place"),
        "{text}"
    );
    let copy = tempfile::tempdir().expect("tmp");
    std::fs::copy(s.dir.join("root.key"), copy.path().join("root.key")).expect("copy root key");
    let live = rusqlite::Connection::open(s.dir.join("trent.db")).expect("sqlite");
    live.execute("VACUUM INTO ?1", [path(&copy.path().join("trent.db"))])
        .expect("consistent copy");
    let cut = rusqlite::Connection::open(copy.path().join("trent.db")).expect("sqlite");
    let deleted = cut
        .execute(
            "DELETE FROM audit_batches WHERE last_seq = (SELECT max(last_seq) FROM audit_batches)",
            [],
        )
        .expect("cut the tail");
    assert_eq!(deleted, 1);
    let still = trent(&["audit", "verify"], copy.path());
    assert!(still.status.success(), "a shortened chain still links");
    let caught = trent(&["audit", "verify", "--checkpoints", path(&checkpoints)], copy.path());
    let text = String::from_utf8_lossy(&caught.stderr);
    assert!(
        !caught.status.success() && text.contains("chain main") && text.contains("were removed"),
        "{text}"
    );

    tamper(&s.dir, 4, |entries| {
        for e in entries.iter_mut().filter(|e| e.seq == 4) {
            e.event = replace(&e.event, b"Decrypt", b"Encrypt");
        }
    });
    let bad = trent(&["audit", "verify"], &s.dir);
    assert!(!bad.status.success());
    let text = String::from_utf8_lossy(&bad.stderr);
    assert!(text.contains("broken in chain main at event 4"), "{text}");
    tamper(&s.dir, 4, |entries| entries.retain(|e| e.seq != 4));
    let bad = trent(&["audit", "verify"], &s.dir);
    let text = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && text.contains("event 4 is missing"), "{text}");
}
