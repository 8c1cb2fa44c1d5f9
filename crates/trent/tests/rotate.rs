//! Root-key rotation (issue 12): `trent operator rotate-root-key` re-seals every sealed record
//! under a new root key in batches. Killed with SIGKILL mid-way, the directory refuses to open
//! until the command is run again, which finishes the job; afterwards every key still decrypts,
//! signs and MACs as before, IAM users' secrets still authenticate, the audit trail written
//! before still verifies, imported material keeps its id, and the old root key is in no file.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use aws_sdk_kms::types::{KeySpec, KeyUsageType, MacAlgorithmSpec, SigningAlgorithmSpec};
use common::{blob, Server};

fn trent(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(args)
        .env_remove("TRENT_SEAL")
        .env_remove("TRENT_PASSPHRASE")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run trent")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// What the test checks before and after rotations.
struct Fixture {
    symmetric: Vec<(String, aws_sdk_kms::primitives::Blob)>,
    signer: (String, Vec<u8>),
    mac: (String, Vec<u8>),
    imported: (String, Vec<u8>, String),
    user: (String, String),
}

async fn import(c: &aws_sdk_kms::Client, id: &str, material: &[u8]) -> String {
    common::import_material(c, id, material).await.expect("import");
    c.describe_key()
        .key_id(id)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("m")
        .current_key_material_id
        .expect("material id")
}

async fn build(s: &Server) -> Fixture {
    let c = s.client();
    let mut symmetric = Vec::new();
    for i in 0..6 {
        let id = common::new_key(&c).await;
        if i % 2 == 0 {
            c.rotate_key_on_demand().key_id(&id).send().await.expect("rotate");
        }
        let ct = c
            .encrypt()
            .key_id(&id)
            .plaintext(blob(format!("secret {i}").as_bytes()))
            .send()
            .await
            .expect("encrypt")
            .ciphertext_blob
            .expect("ct");
        symmetric.push((id, ct));
    }
    let signer = c
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    let sig = c
        .sign()
        .key_id(&signer)
        .message(blob(b"signed before"))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("sign")
        .signature
        .expect("sig")
        .into_inner();
    let mac_key = c
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    let mac = c
        .generate_mac()
        .key_id(&mac_key)
        .message(blob(b"mac before"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("mac")
        .mac
        .expect("mac")
        .into_inner();
    let imported = c
        .create_key()
        .origin(aws_sdk_kms::types::OriginType::External)
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    let material: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(29).wrapping_add(3)).collect();
    let material_id = import(&c, &imported, &material).await;
    let (status, xml) = s.iam(&[("Action", "CreateUser"), ("UserName", "rotator")]);
    assert_eq!(status, 200, "{xml}");
    let (status, xml) = s.iam(&[("Action", "CreateAccessKey"), ("UserName", "rotator")]);
    assert_eq!(status, 200, "{xml}");
    let user = (
        common::between(&xml, "<AccessKeyId>", "</AccessKeyId>"),
        common::between(&xml, "<SecretAccessKey>", "</SecretAccessKey>"),
    );
    Fixture {
        symmetric,
        signer: (signer, sig),
        mac: (mac_key, mac),
        imported: (imported, material, material_id),
        user,
    }
}

async fn check(s: &Server, f: &Fixture) {
    let c = s.client();
    for (i, (_, ct)) in f.symmetric.iter().enumerate() {
        let pt = c.decrypt().ciphertext_blob(ct.clone()).send().await.expect("decrypt");
        assert_eq!(pt.plaintext().expect("pt").as_ref(), format!("secret {i}").as_bytes());
    }
    let ok = c
        .verify()
        .key_id(&f.signer.0)
        .message(blob(b"signed before"))
        .signature(blob(&f.signer.1))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("verify");
    assert!(ok.signature_valid);
    let ok = c
        .verify_mac()
        .key_id(&f.mac.0)
        .message(blob(b"mac before"))
        .mac(blob(&f.mac.1))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("verify mac");
    assert!(ok.mac_valid);
    // The same material imported again keeps its id (the material-id key survived).
    assert_eq!(import(&c, &f.imported.0, &f.imported.1).await, f.imported.2);
    // The IAM user's secret still authenticates (signed with it; denied by policy is fine).
    let user = s.client_with(&f.user.0, &f.user.1);
    match user.list_keys().send().await {
        Ok(_) => {}
        Err(e) => assert_eq!(common::err(&e).0, "AccessDeniedException", "the user authenticates"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_root_key_rotation_killed_mid_way_resumes_and_every_key_still_works() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let d = dir.to_str().expect("utf-8");
    let mut s = Server::start_in(&dir, &[]);
    let f = build(&s).await;
    check(&s, &f).await;
    assert!(s.stop());
    let old = std::fs::read(dir.join("root.key")).expect("root.key");
    let verified = trent(&["audit", "verify", "--data-dir", d], &[]);
    assert!(verified.status.success(), "{}", text(&verified));

    // One record per batch, slowly; SIGKILL after a few batches.
    let mut child = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args([
            "operator",
            "rotate-root-key",
            "--data-dir",
            d,
            "--batch-size",
            "1",
            "--batch-pause-ms",
            "200",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut total = 0;
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(rest) = line.strip_prefix("trent: re-sealed ") {
            let (done, all) = rest.split_once('/').expect("n/m");
            total = all.split(' ').next().expect("m").parse().expect("m");
            if done.parse::<usize>().expect("n") >= 3 {
                break;
            }
        }
    }
    assert!(total > 10, "the fixture has more than 10 sealed records ({total})");
    child.kill().expect("kill -9");
    child.wait().expect("wait");
    assert!(dir.join("root.key.rotating").exists(), "the new key stays staged");

    // Half-rotated: offline commands refuse the directory until the rotation is finished (a
    // server would resume it: the online test); the command run again finishes it.
    let out = trent(&["audit", "verify", "--data-dir", d], &[]);
    assert!(
        !out.status.success() && text(&out).contains("rotation is unfinished"),
        "{}",
        text(&out)
    );
    let out = trent(&["operator", "rotate-root-key", "--data-dir", d], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("resuming"), "{}", text(&out));
    assert!(text(&out).contains("already were"), "{}", text(&out));
    assert!(!dir.join("root.key.rotating").exists());
    let new = std::fs::read(dir.join("root.key")).expect("root.key");
    assert_ne!(new, old);
    for (name, bytes) in common::snapshot(&dir) {
        assert!(
            !bytes.windows(32).any(|w| w == old.as_slice()),
            "the old root key is in {name}"
        );
    }
    let verified = trent(&["audit", "verify", "--data-dir", d], &[]);
    assert!(
        verified.status.success(),
        "the trail written before verifies: {}",
        text(&verified)
    );
    let mut s = Server::start_in(&dir, &[]);
    check(&s, &f).await;
    assert!(s.stop());

    // A second rotation under the passphrase seal (the derivation secret is re-sealed this time).
    let pass = [("TRENT_NEW_PASSPHRASE", "rotate me"), ("TRENT_PASSPHRASE", "rotate me")];
    let out = trent(
        &["operator", "migrate-seal", "--data-dir", d, "--to", "passphrase"],
        &pass,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = trent(&["operator", "rotate-root-key", "--data-dir", d], &pass);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("resuming"));
    let out = trent(&["audit", "verify", "--data-dir", d], &pass);
    assert!(out.status.success(), "{}", text(&out));
    let s = Server::start_with(&dir, &[], &pass);
    check(&s, &f).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_online_rotation_keeps_serving_survives_kill_9_and_resumes_at_start() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let d = dir.to_str().expect("utf-8");
    let slow = [("TRENT_TEST_ROTATION_PAUSE_MS", "250")];
    let mut s = Server::start_with(&dir, &[], &slow);
    let f = build(&s).await;
    let old = std::fs::read(dir.join("root.key")).expect("root.key");

    // The rotation runs in the server; the command shows its progress.
    let mut cli = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["operator", "rotate-root-key", "--data-dir", d, "--batch-size", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(cli.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        let line = line.expect("line");
        if let Some(rest) = line.strip_prefix("trent: re-sealed ") {
            let done: usize = rest.split('/').next().expect("n").parse().expect("n");
            if done >= 2 {
                break;
            }
        }
    }
    assert!(dir.join("root.key.rotating").exists());
    // Mid-rotation the server serves everything, old and new.
    check(&s, &f).await;
    let fresh = common::new_key(&s.client()).await;
    let fresh_ct = s
        .client()
        .encrypt()
        .key_id(&fresh)
        .plaintext(blob(b"made mid-rotation"))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    let (code, status) = {
        let out = trent(&["operator", "status", "--data-dir", d], &[]);
        (out.status.code(), text(&out))
    };
    assert_eq!(code, Some(0), "{status}");
    assert!(status.contains("rotating the root key"), "{status}");

    // SIGKILL the server mid-way: the command fails, the new key stays staged.
    s.kill();
    assert!(!cli.wait().expect("wait").success(), "the command loses its server");
    assert!(dir.join("root.key.rotating").exists());

    // Restarted, the server resumes and finishes on its own while serving.
    let s = Server::start_in(&dir, &[]);
    check(&s, &f).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while dir.join("root.key.rotating").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the resumed rotation did not finish"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let out = trent(&["operator", "status", "--data-dir", d], &[]);
    assert!(
        text(&out).contains("unsealed") && !text(&out).contains("rotating"),
        "{}",
        text(&out)
    );
    let new = std::fs::read(dir.join("root.key")).expect("root.key");
    assert_ne!(new, old);
    for (name, bytes) in common::snapshot(&dir) {
        assert!(
            !bytes.windows(32).any(|w| w == old.as_slice()),
            "the old root key is in {name}"
        );
    }
    check(&s, &f).await;
    let pt = s
        .client()
        .decrypt()
        .ciphertext_blob(fresh_ct)
        .send()
        .await
        .expect("decrypt");
    assert_eq!(pt.plaintext().expect("pt").as_ref(), b"made mid-rotation");
    drop(s);
    let out = trent(&["audit", "verify", "--data-dir", d], &[]);
    assert!(out.status.success(), "{}", text(&out));
}
