//! Authorization end to end: IAM users, roles and sessions, key policies, a second account and
//! the lockout check, driven by boto3 (tests/py/test_authz.py) against the real binary; and the
//! `trent admin create-account` and `trent policy simulate` commands.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;

use common::{env_value, Server};

#[test]
fn authorization_scenarios_with_boto3() {
    let s = Server::start();
    let out = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args([
            "admin",
            "create-account",
            "--account-id",
            "444455556666",
            "--listen",
            &s.addr,
        ])
        .arg("--data-dir")
        .arg(&s.dir)
        .output()
        .expect("create-account");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let b_env = std::fs::read_to_string(s.dir.join("admin-444455556666.env")).expect("second admin.env");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/test_authz.py");
    let out = Command::new("python3")
        .arg(script)
        .env("TRENT_ENDPOINT", &s.endpoint)
        .env("AWS_ACCESS_KEY_ID", &s.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &s.secret_access_key)
        .env("AWS_REGION", &s.region)
        .env("B_ACCESS_KEY_ID", env_value(&b_env, "AWS_ACCESS_KEY_ID"))
        .env("B_SECRET_ACCESS_KEY", env_value(&b_env, "AWS_SECRET_ACCESS_KEY"))
        .env("B_ACCOUNT", "444455556666")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 with boto3 must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("authz: 12 passed, 0 failed"), "{stdout}");
}

#[test]
fn policy_simulate_explains_decisions() {
    let s = Server::start();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let key = rt.block_on(async {
        s.client()
            .create_key()
            .send()
            .await
            .expect("create")
            .key_metadata
            .expect("m")
    });
    let account = key.aws_account_id().expect("account").to_owned();
    let run = |principal: &str, action: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_trent"))
            .args([
                "policy",
                "simulate",
                "--principal",
                principal,
                "--action",
                action,
                "--key",
                key.key_id(),
            ])
            .args(["--context", "Dept=IT"])
            .arg("--data-dir")
            .arg(&s.dir)
            .output()
            .expect("simulate");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let root = run(&format!("arn:aws:iam::{account}:root"), "kms:Decrypt");
    assert!(root.contains("decision: ALLOW"), "{root}");
    assert!(
        root.contains("key policy statement #0 (Sid \"Enable IAM User Permissions\"): Allow"),
        "{root}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args([
            "policy",
            "simulate",
            "--principal",
            &format!("arn:aws:iam::{account}:user/nobody"),
            "--action",
            "kms:Decrypt",
        ])
        .args(["--key", key.key_id()])
        .arg("--data-dir")
        .arg(&s.dir)
        .output()
        .expect("simulate");
    assert!(!bad.status.success(), "unknown principals are reported");
}

/// The peer address reaches policy evaluation: a key policy that denies Encrypt from
/// 127.0.0.0/8 (`aws:SourceIp`) stops Encrypt from this test and leaves GenerateDataKey alone.
#[test]
fn source_ip_conditions_see_the_peer_address() {
    let s = Server::start();
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let c = s.client();
        let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
        let account = m.aws_account_id().expect("account");
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                 "Action": "kms:*", "Resource": "*"},
                {"Sid": "NoLoopbackEncrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt",
                 "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}
            ]
        });
        c.put_key_policy()
            .key_id(m.key_id())
            .policy(policy.to_string())
            .send()
            .await
            .expect("put policy");
        let e = c
            .encrypt()
            .key_id(m.key_id())
            .plaintext(common::blob(b"x"))
            .send()
            .await
            .expect_err("denied from loopback");
        assert_eq!(common::err(&e).0, "AccessDeniedException");
        c.generate_data_key()
            .key_id(m.key_id())
            .number_of_bytes(16)
            .send()
            .await
            .expect("other actions unaffected");
    });
}
