//! The passphrase seal (issue 12, first part): a data directory initialised with `--seal
//! passphrase` holds no root key — without the passphrase it opens nothing, with a wrong one it
//! is refused and nothing is written — and `trent operator migrate-seal` moves the root key
//! between seals while every ciphertext keeps decrypting.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;

use common::{blob, Server};

fn trent(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(args)
        .env_remove("TRENT_PASSPHRASE")
        .env_remove("TRENT_NEW_PASSPHRASE")
        .env_remove("TRENT_SEAL")
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run trent")
}

async fn decrypts(s: &Server, ct: &aws_sdk_kms::primitives::Blob) {
    let pt = s
        .client()
        .decrypt()
        .ciphertext_blob(ct.clone())
        .send()
        .await
        .expect("decrypt");
    assert_eq!(pt.plaintext().expect("pt").as_ref(), b"sealed away");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passphrase_sealed_directory_opens_only_with_its_passphrase_and_seals_migrate() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let d = dir.to_str().expect("utf-8");
    let mut s = Server::start_with(
        &dir,
        &["--seal", "passphrase"],
        &[("TRENT_PASSPHRASE", "first passphrase")],
    );
    assert!(dir.join("seal.json").exists() && !dir.join("root.key").exists());
    let key = s
        .client()
        .create_key()
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    let ct = s
        .client()
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"sealed away"))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    assert!(s.stop());

    // Without the passphrase, or with a wrong one: refused, and nothing in the directory changes.
    let before = common::snapshot(&dir);
    let out = trent(&["audit", "verify", "--data-dir", d], &[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs its passphrase"),
        "{out:?}"
    );
    let out = trent(&["audit", "verify", "--data-dir", d], &[("TRENT_PASSPHRASE", "wrong")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not unseal"),
        "{out:?}"
    );
    let out = trent(
        &["serve", "--data-dir", d, "--listen", "127.0.0.1:0"],
        &[("TRENT_PASSPHRASE", "wrong")],
    );
    assert!(!out.status.success());
    assert_eq!(common::snapshot(&dir), before, "a refused start writes nothing");
    // Asking for another seal than the directory's is refused with the way to move it.
    let out = trent(
        &["serve", "--data-dir", d, "--seal", "file", "--listen", "127.0.0.1:0"],
        &[],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("migrate-seal --to file"),
        "{out:?}"
    );

    // The passphrase from a file.
    let pass_file = tmp.path().join("pass");
    std::fs::write(&pass_file, "first passphrase\n").expect("write");
    let mut s = Server::start_in(&dir, &["--passphrase-file", pass_file.to_str().expect("utf-8")]);
    decrypts(&s, &ct).await;
    assert!(s.stop());

    // To the file seal and back to another passphrase: the same root key throughout.
    let out = trent(
        &["operator", "migrate-seal", "--data-dir", d, "--to", "file"],
        &[("TRENT_PASSPHRASE", "first passphrase")],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("root.key").exists() && !dir.join("seal.json").exists());
    let mut s = Server::start_in(&dir, &[]);
    decrypts(&s, &ct).await;
    assert!(s.stop());
    let root_key = std::fs::read(dir.join("root.key")).expect("root key");
    let out = trent(
        &["operator", "migrate-seal", "--data-dir", d, "--to", "passphrase"],
        &[("TRENT_NEW_PASSPHRASE", "second passphrase")],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.join("root.key").exists(), "the plain root key is destroyed");
    for (name, bytes) in common::snapshot(&dir) {
        assert!(
            !bytes.windows(root_key.len()).any(|w| w == root_key.as_slice()),
            "the root key is in {name}"
        );
    }
    let out = trent(
        &["audit", "verify", "--data-dir", d],
        &[("TRENT_PASSPHRASE", "first passphrase")],
    );
    assert!(!out.status.success(), "the old passphrase no longer opens it");
    let mut s = Server::start_with(&dir, &[], &[("TRENT_PASSPHRASE", "second passphrase")]);
    decrypts(&s, &ct).await;
    assert!(s.stop());
}
