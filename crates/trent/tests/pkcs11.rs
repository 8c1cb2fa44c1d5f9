//! The PKCS#11 seal against SoftHSM2 (issue 12): the root key is encrypted by a non-extractable
//! AES key in a token; the data directory alone opens nothing, a wrong PIN or a missing token
//! is a clear error that writes nothing, and the seal migrates while ciphertexts keep
//! decrypting. Skipped where SoftHSM2 is not installed, unless TRENT_TEST_PKCS11_REQUIRED=1
//! (CI, whose scripts/test installs it).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, Starting};

/// SoftHSM2's module, as its Debian package installs it (or TRENT_TEST_PKCS11_MODULE).
fn softhsm_module() -> Option<PathBuf> {
    if let Ok(m) = std::env::var("TRENT_TEST_PKCS11_MODULE") {
        return Some(PathBuf::from(m));
    }
    let out = Command::new("dpkg").args(["-L", "libsofthsm2"]).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.ends_with("/libsofthsm2.so"))
        .map(PathBuf::from)
}

struct Hsm {
    module: PathBuf,
    conf: PathBuf,
}

/// A SoftHSM2 configuration of its own with one token, `label`, user PIN 5678.
fn softhsm(dir: &Path, label: &str) -> Option<Hsm> {
    let module = softhsm_module().filter(|m| m.exists());
    let Some(module) = module else {
        assert!(
            std::env::var("TRENT_TEST_PKCS11_REQUIRED").as_deref() != Ok("1"),
            "SoftHSM2 is required (apt-get install softhsm2)"
        );
        eprintln!("SoftHSM2 not installed: skipping");
        return None;
    };
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).expect("tokens");
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
            tokens.display()
        ),
    )
    .expect("conf");
    let out = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "1234",
            "--pin",
            "5678",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(Hsm { module, conf })
}

fn trent(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(args)
        .env_remove("TRENT_SEAL")
        .env_remove("TRENT_PKCS11_PIN")
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run trent")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pkcs11_sealed_directory_needs_its_token_and_pin() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(hsm) = softhsm(tmp.path(), "trent-test") else {
        return;
    };
    let module = hsm.module.to_str().expect("utf-8");
    let conf = hsm.conf.to_str().expect("utf-8");
    let dir = tmp.path().join("data");
    let d = dir.to_str().expect("utf-8");
    let hsm_env = [("SOFTHSM2_CONF", conf), ("TRENT_PKCS11_PIN", "5678")];
    let mut s = Server::start_with(
        &dir,
        &[
            "--seal",
            "pkcs11",
            "--pkcs11-module",
            module,
            "--pkcs11-token",
            "trent-test",
        ],
        &hsm_env,
    );
    assert!(dir.join("seal.json").exists() && !dir.join("root.key").exists());
    let seal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("seal.json")).expect("seal")).expect("json");
    assert_eq!(seal["seal"], "pkcs11");
    assert_eq!(seal["mechanism"], "CKM_AES_GCM");
    let key = common::new_key(&s.client()).await;
    let ct = common::encrypt(&s.client(), &key, b"in the token").await;
    assert!(s.stop());
    let sealed_files = common::snapshot(&dir);

    // The data directory alone, a wrong PIN, a missing token: clear errors, nothing written.
    let out = trent(&["audit", "verify", "--data-dir", d], &[("SOFTHSM2_CONF", conf)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("user PIN"), "{out:?}");
    let log = Starting::spawn(&dir, &[], &[("SOFTHSM2_CONF", conf), ("TRENT_PKCS11_PIN", "0000")]).fails();
    assert!(log.contains("login to token \"trent-test\" failed"), "{log}");
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(empty.join("tokens")).expect("dir");
    std::fs::write(
        empty.join("softhsm2.conf"),
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\n",
            empty.join("tokens").display()
        ),
    )
    .expect("conf");
    let empty_conf = empty.join("softhsm2.conf");
    let log = Starting::spawn(
        &dir,
        &[],
        &[
            ("SOFTHSM2_CONF", empty_conf.to_str().expect("utf-8")),
            ("TRENT_PKCS11_PIN", "5678"),
        ],
    )
    .fails();
    assert!(log.contains("no token labelled \"trent-test\""), "{log}");
    assert_eq!(common::snapshot(&dir), sealed_files, "refused starts write nothing");

    // With token and PIN it opens and the ciphertext decrypts.
    let mut s = Server::start_with(&dir, &[], &hsm_env);
    assert_eq!(common::decrypt(&s.client(), &ct).await, b"in the token");
    assert!(s.stop());

    // Migrated to the file seal, the root key shows: it was in no file while the HSM held it.
    let out = trent(&["operator", "migrate-seal", "--data-dir", d, "--to", "file"], &hsm_env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = std::fs::read(dir.join("root.key")).expect("root.key");
    for (name, bytes) in &sealed_files {
        assert!(
            !bytes.windows(32).any(|w| w == root.as_slice()),
            "the root key was in {name}"
        );
    }
    let s = Server::start_in(&dir, &[]);
    assert_eq!(common::decrypt(&s.client(), &ct).await, b"in the token");
}
