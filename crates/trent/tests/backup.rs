//! `trent backup` / `trent restore`: a backup taken while the server runs restores into a new
//! data directory where, with the root key put back, every old ciphertext decrypts; a truncated
//! or altered backup, or an initialised target, is refused and nothing is written; the backup
//! holds no root key.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;

use common::{blob, Server};

fn trent(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(args)
        .output()
        .expect("run trent")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_online_backup_restores_and_a_damaged_one_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let s = Server::start_in(&dir, &[]);
    let c = s.client();
    let mut cts = Vec::new();
    for i in 0..5 {
        let key = c
            .create_key()
            .send()
            .await
            .expect("create")
            .key_metadata
            .expect("m")
            .key_id;
        let ct = c
            .encrypt()
            .key_id(&key)
            .plaintext(blob(format!("secret {i}").as_bytes()))
            .send()
            .await
            .expect("encrypt")
            .ciphertext_blob
            .expect("ct");
        cts.push((ct, format!("secret {i}")));
    }
    // Online: the server keeps running.
    let file = tmp.path().join("trent.backup");
    let f = file.to_str().expect("utf-8");
    let out = trent(&["backup", "--data-dir", dir.to_str().expect("utf-8"), f]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The backup API reports its progress, page by page, up to the whole database.
    assert!(String::from_utf8_lossy(&out.stderr).contains("pages (100%)"), "{out:?}");
    c.list_keys().send().await.expect("still serving");
    let bytes = std::fs::read(&file).expect("backup");
    let root_key = std::fs::read(dir.join("root.key")).expect("root key");
    assert!(
        !bytes.windows(root_key.len()).any(|w| w == root_key.as_slice()),
        "the backup holds no root key"
    );
    let out = trent(&["backup", "--data-dir", dir.to_str().expect("utf-8"), f]);
    assert!(!out.status.success(), "an existing file is not overwritten");

    // Damaged copies are refused whole, and leave no data directory behind.
    let damaged = tmp.path().join("damaged.backup");
    let mut flipped = bytes.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 0x01;
    std::fs::write(&damaged, &flipped).expect("write");
    let target = tmp.path().join("restored-bad");
    let t = target.to_str().expect("utf-8");
    let out = trent(&["restore", "--data-dir", t, damaged.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum"), "{out:?}");
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).expect("write");
    let out = trent(&["restore", "--data-dir", t, damaged.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated"), "{out:?}");
    assert!(!target.exists(), "a refused restore writes nothing");
    // Into an initialised directory: refused.
    let out = trent(&["restore", "--data-dir", dir.to_str().expect("utf-8"), f]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("new data directory"),
        "{out:?}"
    );

    // Into a new directory, with the root key put back: every old ciphertext decrypts.
    let target = tmp.path().join("restored");
    let out = trent(&["restore", "--data-dir", target.to_str().expect("utf-8"), f]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::copy(dir.join("root.key"), target.join("root.key")).expect("root key");
    drop(s);
    let r = Server::start_in(&target, &[]);
    for (ct, plain) in &cts {
        let pt = r
            .client()
            .decrypt()
            .ciphertext_blob(ct.clone())
            .send()
            .await
            .expect("decrypts after restore");
        assert_eq!(pt.plaintext().expect("pt").as_ref(), plain.as_bytes());
    }
}
