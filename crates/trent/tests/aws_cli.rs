//! The installed AWS CLI against a real server: `aws kms encrypt … fileb://`, then decrypt, with
//! nothing but the variables of `admin.env` in its environment.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;

use common::Server;

fn aws(s: &Server, args: &[&str]) -> std::process::Output {
    let env = std::fs::read_to_string(s.dir.join("admin.env")).expect("env");
    let mut cmd = Command::new("aws");
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", s.dir.parent().expect("parent"));
    for line in env.lines() {
        if let Some((k, v)) = line.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.args(["--output", "text"])
        .args(args)
        .output()
        .expect("the AWS CLI (aws) must be installed")
}

#[test]
fn aws_cli_encrypts_and_decrypts_files() {
    let s = Server::start();
    let out = aws(&s, &["kms", "create-key", "--query", "KeyMetadata.KeyId"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key_id = String::from_utf8(out.stdout).expect("utf8").trim().to_owned();
    let work = s.dir.parent().expect("parent");
    let plain = work.join("plain.bin");
    std::fs::write(&plain, b"secret bytes \x00\x01\x02 from the CLI").expect("write");
    let out = aws(
        &s,
        &[
            "kms",
            "encrypt",
            "--key-id",
            &key_id,
            "--plaintext",
            &format!("fileb://{}", plain.display()),
            "--query",
            "CiphertextBlob",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    use base64::Engine as _;
    let ct = base64::engine::general_purpose::STANDARD
        .decode(String::from_utf8(out.stdout).expect("utf8").trim())
        .expect("base64 ciphertext");
    let ct_file = work.join("cipher.bin");
    std::fs::write(&ct_file, ct).expect("write");
    let out = aws(
        &s,
        &[
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &format!("fileb://{}", ct_file.display()),
            "--query",
            "Plaintext",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pt = base64::engine::general_purpose::STANDARD
        .decode(String::from_utf8(out.stdout).expect("utf8").trim())
        .expect("base64 plaintext");
    assert_eq!(pt, b"secret bytes \x00\x01\x02 from the CLI");
    let out = aws(&s, &["kms", "describe-key", "--key-id", "alias/none"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NotFoundException"));
}
