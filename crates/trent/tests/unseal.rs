//! The Shamir seal (issue 12): `trent operator init` prints the shares once and keeps none; the
//! server starts sealed — every API request is HTTP 503 (`DependencyTimeoutException`, which the
//! SDK retries; `ServiceUnavailable` for IAM) and `/healthz` says `sealed`, with nothing
//! written — until a threshold of shares arrives through `trent operator unseal` on the admin
//! socket. Fewer shares, a foreign share or a repeated one keep it sealed.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::Starting;

fn trent(args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(args)
        .env_remove("TRENT_SEAL")
        .env_remove("TRENT_PASSPHRASE")
        .env_remove("TRENT_NEW_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run trent");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("stdin");
    drop(input);
    child.wait_with_output().expect("wait")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `trent operator init --seal shamir`: the shares it printed.
fn init(dir: &Path, shares: u8, threshold: u8) -> Vec<String> {
    let out = trent(
        &[
            "operator",
            "init",
            "--data-dir",
            dir.to_str().expect("utf-8"),
            "--seal",
            "shamir",
            "--key-shares",
            &shares.to_string(),
            "--key-threshold",
            &threshold.to_string(),
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out));
    printed_shares(&out)
}

/// The `Unseal share N: <share>` lines a command printed.
fn printed_shares(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.strip_prefix("Unseal share ")
                .and_then(|r| r.split_once(": "))
                .map(|(_, s)| s.to_owned())
        })
        .collect()
}

fn unseal(dir: &Path, share: &str) -> std::process::Output {
    trent(
        &["operator", "unseal", "--data-dir", dir.to_str().expect("utf-8")],
        format!("{share}\n").as_bytes(),
    )
}

fn status(dir: &Path) -> (i32, String) {
    let out = trent(&["operator", "status", "--data-dir", dir.to_str().expect("utf-8")], b"");
    (out.status.code().unwrap_or(-1), text(&out))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shamir_sealed_server_answers_503_until_a_threshold_of_shares_unseals_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let shares = init(&dir, 5, 3);
    assert_eq!(shares.len(), 5, "five shares printed");
    assert!(dir.join("seal.json").exists() && !dir.join("root.key").exists());
    // No file of the data directory holds a share.
    for (name, bytes) in common::snapshot(&dir) {
        for s in &shares {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a share is in {name}"
            );
        }
    }
    // The data directory alone opens nothing: an offline command without shares fails.
    let d = dir.to_str().expect("utf-8");
    let out = trent(&["audit", "verify", "--data-dir", d], b"");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("shamir seal"), "{}", text(&out));

    let starting = Starting::spawn(&dir, &[], &[]).sealed();
    let sealed = starting.sealed_endpoint.clone().expect("endpoint");
    let addr = sealed.trim_start_matches("http://").to_owned();
    let before = common::snapshot(&dir);
    let (code, body) = common::raw(
        &addr,
        "POST",
        "/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "TrentService.ListKeys"),
        ],
        b"{}",
    );
    assert_eq!(code, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["__type"], "DependencyTimeoutException");
    assert!(v["message"].as_str().expect("message").contains("sealed"), "{body}");
    let (code, body) = common::raw(&addr, "GET", "/healthz", &[], b"");
    assert_eq!((code, body.trim()), (503, "sealed"));
    // Metrics are served while sealed, and say so.
    let metrics_url = starting.metrics.clone().expect("metrics");
    let metrics_addr = metrics_url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics")
        .to_owned();
    let (code, body) = common::raw(&metrics_addr, "GET", "/metrics", &[], b"");
    assert_eq!(code, 200);
    assert!(body.contains("\ntrent_sealed 1\n"), "{body}");
    let (code, body) = common::raw(
        &addr,
        "POST",
        "/",
        &[("content-type", "application/x-www-form-urlencoded")],
        b"Action=ListUsers&Version=2010-05-08",
    );
    assert_eq!(code, 503);
    assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
    // The SDK sees the modelled error (after its retries).
    let sdk = {
        let conf = aws_sdk_kms::config::Builder::new()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new("us-east-1"))
            .endpoint_url(&sealed)
            .credentials_provider(aws_sdk_kms::config::Credentials::new(
                "AKIAEXAMPLE",
                "secret",
                None,
                None,
                "t",
            ))
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    };
    let e = sdk.list_keys().send().await.expect_err("sealed");
    assert_eq!(common::err(&e).0, "DependencyTimeoutException");
    assert_eq!(common::snapshot(&dir), before, "a sealed server writes nothing");

    // Status, one share, a repeated share, a foreign share, garbage: still sealed.
    let (code, out) = status(&dir);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("0 of 3"), "{out}");
    assert!(unseal(&dir, &shares[1]).status.success());
    let again = unseal(&dir, &shares[1]);
    assert!(
        !again.status.success() && text(&again).contains("already given"),
        "{}",
        text(&again)
    );
    let other = tmp.path().join("other");
    let foreign = init(&other, 5, 3);
    let f = unseal(&dir, &foreign[0]);
    assert!(
        !f.status.success() && text(&f).contains("not one of this seal"),
        "{}",
        text(&f)
    );
    assert!(!unseal(&dir, "AAAA").status.success());
    assert!(unseal(&dir, &shares[4]).status.success());
    let (code, out) = status(&dir);
    assert_eq!(code, 2, "two of three keep it sealed: {out}");
    assert!(out.contains("2 of 3"), "{out}");
    assert_eq!(common::raw(&addr, "GET", "/healthz", &[], b"").0, 503);
    // The third share opens it.
    let last = unseal(&dir, &shares[2]);
    assert!(last.status.success(), "{}", text(&last));
    assert!(text(&last).contains("unsealed"), "{}", text(&last));
    let mut s = starting.ready();
    assert_eq!(s.endpoint, sealed, "the same listener serves");
    let (_, body) = common::raw(&metrics_addr, "GET", "/metrics", &[], b"");
    assert!(body.contains("\ntrent_sealed 0\n"), "{body}");
    assert!(
        body.contains("trent_cached_keys"),
        "the service's registry once open: {body}"
    );
    assert_eq!(status(&dir).0, 0);
    let key = common::new_key(&s.client()).await;
    let ct = common::encrypt(&s.client(), &key, b"behind shares").await;
    assert!(s.stop());

    // Restarted, it is sealed again; three other shares open it, and the old ciphertext decrypts.
    let starting = Starting::spawn(&dir, &[], &[]).sealed();
    for i in [0, 3, 4] {
        assert!(unseal(&dir, &shares[i]).status.success());
    }
    let s = starting.ready();
    assert_eq!(common::decrypt(&s.client(), &ct).await, b"behind shares");

    // An online backup, restored into a new directory with the seal file beside it: sealed
    // until the shares unseal it, then the old ciphertext decrypts.
    let backup = tmp.path().join("trent.backup");
    let b = backup.to_str().expect("utf-8");
    let out = trent(&["backup", "--data-dir", d, b], b"");
    assert!(out.status.success(), "{}", text(&out));
    let restored = tmp.path().join("restored");
    let r = restored.to_str().expect("utf-8");
    let out = trent(&["restore", "--data-dir", r, b], b"");
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(
        restored.join("seal.json"),
        std::fs::read(dir.join("seal.json")).expect("seal"),
    )
    .expect("copy");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(restored.join("seal.json"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    drop(s);
    let starting = Starting::spawn(&restored, &[], &[]).sealed();
    for i in [1, 2, 4] {
        assert!(unseal(&restored, &shares[i]).status.success());
    }
    let s = starting.ready();
    assert_eq!(common::decrypt(&s.client(), &ct).await, b"behind shares");
}

#[tokio::test(flavor = "multi_thread")]
async fn shamir_seals_migrate_and_rekey_while_ciphertexts_keep_decrypting() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let d = dir.to_str().expect("utf-8");
    // A file-sealed directory with a key and a ciphertext.
    let mut s = common::Server::start_in(&dir, &[]);
    let key = common::new_key(&s.client()).await;
    let ct = common::encrypt(&s.client(), &key, b"moved").await;
    assert!(s.stop());
    let root = std::fs::read(dir.join("root.key")).expect("root.key");

    // file → shamir (2 of 3): root.key is gone, the shares are printed.
    let out = trent(
        &[
            "operator",
            "migrate-seal",
            "--data-dir",
            d,
            "--to",
            "shamir",
            "--key-shares",
            "3",
            "--key-threshold",
            "2",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!dir.join("root.key").exists());
    let shares = printed_shares(&out);
    assert_eq!(shares.len(), 3);
    for (name, bytes) in common::snapshot(&dir) {
        assert!(
            !bytes.windows(32).any(|w| w == root.as_slice()),
            "the root key is in {name}"
        );
    }

    // Re-key: new shares (the old two given on stdin); the old shares no longer open it.
    let out = trent(
        &[
            "operator",
            "migrate-seal",
            "--data-dir",
            d,
            "--to",
            "shamir",
            "--key-shares",
            "2",
            "--key-threshold",
            "2",
        ],
        format!("{}\n{}\n", shares[0], shares[2]).as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let new = printed_shares(&out);
    assert_eq!(new.len(), 2);
    let stale = trent(
        &["operator", "migrate-seal", "--data-dir", d, "--to", "file"],
        format!("{}\n{}\n", shares[0], shares[1]).as_bytes(),
    );
    assert!(!stale.status.success(), "old shares open nothing: {}", text(&stale));

    // The server starts sealed, the new shares unseal it, the old ciphertext decrypts.
    let starting = Starting::spawn(&dir, &[], &[]).sealed();
    for sh in &new {
        assert!(unseal(&dir, sh).status.success());
    }
    let mut s = starting.ready();
    assert_eq!(common::decrypt(&s.client(), &ct).await, b"moved");
    assert!(s.stop());

    // A root-key rotation keeps the shares: the same two open the new root key.
    let out = trent(
        &["operator", "rotate-root-key", "--data-dir", d],
        format!("{}\n{}\n", new[0], new[1]).as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let starting = Starting::spawn(&dir, &[], &[]).sealed();
    for sh in &new {
        assert!(unseal(&dir, sh).status.success());
    }
    let mut s = starting.ready();
    assert_eq!(common::decrypt(&s.client(), &ct).await, b"moved");
    assert!(s.stop());

    // shamir → file: a root key comes back, and it is no longer the first one.
    let out = trent(
        &["operator", "migrate-seal", "--data-dir", d, "--to", "file"],
        format!("{}\n{}\n", new[0], new[1]).as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(std::fs::read(dir.join("root.key")).expect("root.key"), root, "rotated");
    assert!(!dir.join("seal.json").exists());
    let s = common::Server::start_in(&dir, &[]);
    assert_eq!(common::decrypt(&s.client(), &ct).await, b"moved");
}

#[test]
fn a_shamir_seal_is_made_by_operator_init_only_and_dev_mode_keeps_the_file_seal() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let log = Starting::spawn(&dir, &["--seal", "shamir"], &[]).fails();
    assert!(log.contains("trent operator init"), "{log}");
    assert!(!dir.join("seal.json").exists());
    let dev = tmp.path().join("dev");
    let log = Starting::spawn(&dev, &["--dev", "--seal", "passphrase"], &[("TRENT_PASSPHRASE", "x")]).fails();
    assert!(log.contains("file seal"), "{log}");
    // Bad splits are refused before anything is written.
    let d = tmp.path().join("split");
    let out = trent(
        &[
            "operator",
            "init",
            "--data-dir",
            d.to_str().expect("utf-8"),
            "--seal",
            "shamir",
            "--key-shares",
            "3",
            "--key-threshold",
            "1",
        ],
        b"",
    );
    assert!(
        !out.status.success() && text(&out).contains("at least 2"),
        "{}",
        text(&out)
    );
    assert!(!d.join("seal.json").exists());
}
