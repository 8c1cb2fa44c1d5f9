//! The AWS Encryption SDK for Python (tests/py/test_esdk.py) against the real binary: envelope
//! encryption through GenerateDataKey / Encrypt / Decrypt exactly as the ESDK's KMS master-key
//! providers issue them (strict and discovery, signed and unsigned committing suites, multi-key).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;

use common::Server;

#[test]
fn aws_encryption_sdk_round_trips() {
    let s = Server::start();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (a, b) = rt.block_on(async {
        let c = s.client();
        let mut arns = Vec::new();
        for _ in 0..2 {
            let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
            arns.push(m.arn().expect("arn").to_owned());
        }
        (arns[0].clone(), arns[1].clone())
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/test_esdk.py");
    let out = Command::new("python3")
        .arg(script)
        .env("TRENT_ENDPOINT", &s.endpoint)
        .env("KEY_A_ARN", &a)
        .env("KEY_B_ARN", &b)
        .env("AWS_ACCESS_KEY_ID", &s.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &s.secret_access_key)
        .env("AWS_REGION", &s.region)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 with aws-encryption-sdk must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all ESDK checks passed"), "{stdout}");
}
