//! The KMS seal ("auto-unseal", issue 12) with a second Trent as the key service: the root key
//! is stored as that service's ciphertext and decrypted by it at every start. Without
//! credentials, with the service down, or with its key disabled, the start fails with the
//! service's own error and writes nothing; the seal migrates while ciphertexts keep decrypting.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;

use common::{Server, Starting};

#[tokio::test(flavor = "multi_thread")]
async fn a_kms_sealed_trent_opens_through_another_trent_only() {
    let tmp = tempfile::tempdir().expect("tmp");
    // The key service: another Trent, and a key of it that seals B's root key.
    let mut service = Server::start_in(&tmp.path().join("service"), &[]);
    let sealing_key = common::new_key(&service.client()).await;
    let creds = [
        ("AWS_ACCESS_KEY_ID", service.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", service.secret_access_key.clone()),
    ];
    let env: Vec<(&str, &str)> = creds.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let dir = tmp.path().join("data");
    let d = dir.to_str().expect("utf-8");
    let mut s = Server::start_with(
        &dir,
        &[
            "--seal",
            "kms",
            "--kms-seal-endpoint",
            &service.endpoint,
            "--kms-seal-region",
            &service.region,
            "--kms-seal-key-id",
            &sealing_key,
        ],
        &env,
    );
    let seal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("seal.json")).expect("seal")).expect("json");
    assert_eq!(seal["seal"], "kms");
    assert_eq!(seal["key_id"], sealing_key.as_str());
    assert!(!dir.join("root.key").exists());
    let key = common::new_key(&s.client()).await;
    let ct = common::encrypt(&s.client(), &key, b"auto-unsealed").await;
    assert!(s.stop());
    let sealed_files = common::snapshot(&dir);

    // The service audited the seal's Decrypt, with the seal's encryption context.
    let line = common::wait_for_audit_line(&service.dir, |l| {
        l.contains("\"eventName\":\"Decrypt\"") && l.contains("trent:seal")
    });
    assert!(line.contains("root-key"), "{line}");

    // Without credentials; with the key disabled; with the service down: refused, nothing written.
    let log = Starting::spawn(&dir, &[], &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")]).fails();
    assert!(log.contains("needs credentials"), "{log}");
    service
        .client()
        .disable_key()
        .key_id(&sealing_key)
        .send()
        .await
        .expect("disable");
    let log = Starting::spawn(&dir, &[], &env).fails();
    assert!(log.contains("DisabledException"), "{log}");
    service
        .client()
        .enable_key()
        .key_id(&sealing_key)
        .send()
        .await
        .expect("enable");
    let service_dir = service.dir.clone();
    assert!(service.stop());
    let log = Starting::spawn(&dir, &[], &env).fails();
    assert!(log.contains("cannot connect"), "{log}");
    assert_eq!(common::snapshot(&dir), sealed_files, "refused starts write nothing");

    // The service back (same port), the old ciphertext decrypts.
    let port = seal["endpoint"]
        .as_str()
        .expect("endpoint")
        .rsplit(':')
        .next()
        .expect("port")
        .to_owned();
    let service = Server::start_in(&service_dir, &["--listen", &format!("127.0.0.1:{port}")]);
    let mut s = Server::start_with(&dir, &[], &env);
    assert_eq!(common::decrypt(&s.client(), &ct).await, b"auto-unsealed");
    assert!(s.stop());

    // To the file seal: the root key was in no file while the service held it.
    let out = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["operator", "migrate-seal", "--data-dir", d, "--to", "file"])
        .envs(env.iter().copied())
        .env_remove("TRENT_SEAL")
        .output()
        .expect("migrate");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = std::fs::read(dir.join("root.key")).expect("root.key");
    for (name, bytes) in &sealed_files {
        assert!(
            !bytes.windows(32).any(|w| w == root.as_slice()),
            "the root key was in {name}"
        );
    }
    drop(service);
    let s = Server::start_in(&dir, &[]);
    assert_eq!(common::decrypt(&s.client(), &ct).await, b"auto-unsealed");
}
