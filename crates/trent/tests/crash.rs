//! Crash consistency (issue 10): the real binary under a concurrent mixed write load (CreateKey,
//! CreateAlias, TagResource, Encrypt, IAM CreateUser) is killed with SIGKILL, five times. After
//! every restart: every acknowledged write is there, every acknowledged control-plane request has
//! its audit event, every ciphertext made so far decrypts, and `trent audit verify` passes (and
//! names the unclean stops).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::Tag;
use common::{between, Server};

const ROUNDS: usize = 5;
const WORKERS: usize = 6;

#[derive(Default)]
struct Acked {
    keys: Vec<String>,
    aliases: Vec<(String, String)>,
    tags: Vec<(String, String)>,
    users: Vec<String>,
    ciphertexts: Vec<(Vec<u8>, Vec<u8>)>,
    /// Request ids of acknowledged control-plane requests (their events must be in the trail).
    control_ids: Vec<String>,
}

async fn worker(s: Arc<Server>, n: usize, round: usize, stop: Arc<AtomicBool>, acked: Arc<Mutex<Acked>>) {
    let c = s.client();
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let tag = format!("r{round}w{n}i{i}");
        let Ok(created) = c.create_key().description(&tag).send().await else {
            continue;
        };
        let Some(id) = created.key_metadata().map(|m| m.key_id().to_owned()) else {
            continue;
        };
        {
            let mut a = acked.lock().expect("lock");
            a.keys.push(id.clone());
            a.control_ids.extend(created.request_id().map(str::to_owned));
        }
        let alias = format!("alias/{tag}");
        if let Ok(out) = c.create_alias().alias_name(&alias).target_key_id(&id).send().await {
            let mut a = acked.lock().expect("lock");
            a.aliases.push((alias, id.clone()));
            a.control_ids.extend(out.request_id().map(str::to_owned));
        }
        let t = Tag::builder().tag_key("run").tag_value(&tag).build().expect("tag");
        if let Ok(out) = c.tag_resource().key_id(&id).tags(t).send().await {
            let mut a = acked.lock().expect("lock");
            a.tags.push((id.clone(), tag.clone()));
            a.control_ids.extend(out.request_id().map(str::to_owned));
        }
        if let Ok(out) = c
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new(tag.as_bytes()))
            .send()
            .await
        {
            if let Some(ct) = out.ciphertext_blob() {
                acked
                    .lock()
                    .expect("lock")
                    .ciphertexts
                    .push((ct.as_ref().to_vec(), tag.as_bytes().to_vec()));
            }
        }
        let user = format!("u-{tag}");
        let iam = Arc::clone(&s);
        let name = user.clone();
        if let Ok(Ok((200, xml))) = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(move || iam.iam(&[("Action", "CreateUser"), ("UserName", &name)]))
        })
        .await
        {
            let mut a = acked.lock().expect("lock");
            a.users.push(user);
            a.control_ids.push(between(&xml, "<RequestId>", "</RequestId>"));
        }
    }
}

fn audited_request_ids(dir: &std::path::Path) -> HashSet<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["audit", "show", "--limit", "1000000", "--data-dir"])
        .arg(dir)
        .output()
        .expect("audit show");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["requestID"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_load_loses_no_acknowledged_write_or_event() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let acked = Arc::new(Mutex::new(Acked::default()));
    for round in 0..ROUNDS {
        let server = Arc::new(Server::start_in(&dir, &[]));
        let pid = server.pid();
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..WORKERS)
            .map(|n| {
                tokio::spawn(worker(
                    Arc::clone(&server),
                    n,
                    round,
                    Arc::clone(&stop),
                    Arc::clone(&acked),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // SIGKILL while requests are in flight: no shutdown work of any kind.
        let killed = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        drop(server);
    }

    // Restarted: everything acknowledged is there.
    let s = Server::start_in(&dir, &[]);
    let c = s.client();
    let a = std::mem::take(&mut *acked.lock().expect("lock"));
    assert!(a.keys.len() > 20, "the load ran: {} keys", a.keys.len());
    for id in &a.keys {
        c.describe_key()
            .key_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("key {id}: {e:?}"));
    }
    for (alias, id) in &a.aliases {
        let m = c
            .describe_key()
            .key_id(alias)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{alias}: {e:?}"))
            .key_metadata
            .expect("m");
        assert_eq!(&m.key_id, id);
    }
    for (id, value) in &a.tags {
        let tags = c.list_resource_tags().key_id(id).send().await.expect("tags");
        assert!(
            tags.tags()
                .iter()
                .any(|t| t.tag_key() == "run" && t.tag_value() == value),
            "tag on {id}"
        );
    }
    for user in &a.users {
        let (status, xml) = s.iam(&[("Action", "GetUser"), ("UserName", user)]);
        assert_eq!(status, 200, "{user}: {xml}");
    }
    for (ct, pt) in &a.ciphertexts {
        let out = c
            .decrypt()
            .ciphertext_blob(Blob::new(ct.clone()))
            .send()
            .await
            .expect("decrypt");
        assert_eq!(out.plaintext().expect("pt").as_ref(), pt.as_slice());
    }
    let audited = audited_request_ids(&dir);
    let missing: Vec<&String> = a.control_ids.iter().filter(|id| !audited.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged control-plane requests have no audit event: {:?}",
        missing.len(),
        a.control_ids.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["audit", "verify", "--data-dir"])
        .arg(&dir)
        .output()
        .expect("verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        text.matches("ended without a clean stop").count(),
        ROUNDS,
        "every kill is reported: {text}"
    );
    println!(
        "{ROUNDS} kills: {} keys, {} aliases, {} tags, {} users, {} ciphertexts, {} control-plane events checked",
        a.keys.len(),
        a.aliases.len(),
        a.tags.len(),
        a.users.len(),
        a.ciphertexts.len(),
        a.control_ids.len()
    );
}
