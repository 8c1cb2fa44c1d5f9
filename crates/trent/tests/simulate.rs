//! `trent policy simulate` and the server make the same decision: one table of (principal,
//! action, encryption context) cases runs through both — key policy statements naming a user
//! directly (with an encryption-context condition), delegation to identity policies, an
//! explicit deny, and a grant constrained by encryption context.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;

use aws_sdk_kms::types::{GrantConstraints, GrantOperation};
use common::{blob, err, Server};

fn simulate(s: &Server, principal: &str, action: &str, key: &str, context: Option<(&str, &str)>) -> bool {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trent"));
    cmd.args([
        "policy",
        "simulate",
        "--principal",
        principal,
        "--action",
        action,
        "--key",
        key,
    ]);
    if let Some((k, v)) = context {
        cmd.args(["--context", &format!("{k}={v}")]);
    }
    let out = cmd
        .arg("--region")
        .arg(&s.region)
        .arg("--data-dir")
        .arg(&s.dir)
        .output()
        .expect("simulate");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    if text.contains("decision: ALLOW") {
        true
    } else {
        assert!(text.contains("decision: DENY"), "{text}");
        false
    }
}

const IDENTITY_DECRYPT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn simulate_and_server_agree_on_a_table_of_cases() {
    let s = Server::start();
    let root = s.client();
    let (alice_arn, alice) = s.user("alice");
    let (bob_arn, bob) = s.user("bob");
    let (direct_arn, direct) = s.user("direct");
    let (denied_arn, denied) = s.user("denied");
    for user in ["alice", "denied"] {
        let (status, xml) = s.iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", user),
            ("PolicyName", "crypto"),
            ("PolicyDocument", IDENTITY_DECRYPT),
        ]);
        assert_eq!(status, 200, "{xml}");
    }
    let key = root.create_key().send().await.expect("key").key_metadata.expect("m");
    let (id, account) = (key.key_id().to_owned(), key.aws_account_id().expect("acct").to_owned());
    let root_arn = format!("arn:aws:iam::{account}:root");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": root_arn}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "DirectForIT", "Effect": "Allow", "Principal": {"AWS": direct_arn},
             "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}},
            {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": {"AWS": denied_arn},
             "Action": "kms:Decrypt", "Resource": "*"}
        ]
    });
    root.put_key_policy()
        .key_id(&id)
        .policy(policy.to_string())
        .send()
        .await
        .expect("policy");
    root.create_grant()
        .key_id(&id)
        .grantee_principal(&bob_arn)
        .operations(GrantOperation::Decrypt)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("Dept", "IT")
                .build(),
        )
        .send()
        .await
        .expect("grant");
    let ciphertext = |dept: &'static str| {
        let root = root.clone();
        let id = id.clone();
        async move {
            root.encrypt()
                .key_id(id)
                .plaintext(blob(b"p"))
                .encryption_context("Dept", dept)
                .send()
                .await
                .expect("encrypt")
                .ciphertext_blob
                .expect("ct")
        }
    };
    let ct_it = ciphertext("IT").await;
    let ct_hr = ciphertext("HR").await;

    let clients = [
        (root_arn.as_str(), &root),
        (alice_arn.as_str(), &alice),
        (bob_arn.as_str(), &bob),
        (direct_arn.as_str(), &direct),
        (denied_arn.as_str(), &denied),
    ];
    // (principal, action, Dept, expected)
    let table: &[(&str, &str, &str, bool)] = &[
        (&root_arn, "kms:Decrypt", "IT", true),
        (&alice_arn, "kms:Decrypt", "IT", true),
        (&alice_arn, "kms:Encrypt", "HR", true),
        (&bob_arn, "kms:Decrypt", "IT", true),
        (&bob_arn, "kms:Decrypt", "HR", false),
        (&bob_arn, "kms:Encrypt", "IT", false),
        (&direct_arn, "kms:Decrypt", "IT", true),
        (&direct_arn, "kms:Decrypt", "HR", false),
        (&direct_arn, "kms:Encrypt", "IT", true),
        (&denied_arn, "kms:Decrypt", "IT", false),
        (&denied_arn, "kms:Encrypt", "IT", true),
    ];
    for &(principal, action, dept, expected) in table {
        let client = clients
            .iter()
            .find(|(arn, _)| *arn == principal)
            .map(|(_, c)| *c)
            .expect("client");
        let result = match action {
            "kms:Decrypt" => client
                .decrypt()
                .ciphertext_blob(if dept == "IT" { ct_it.clone() } else { ct_hr.clone() })
                .encryption_context("Dept", dept)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| err(&e)),
            _ => client
                .encrypt()
                .key_id(&id)
                .plaintext(blob(b"p"))
                .encryption_context("Dept", dept)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| err(&e)),
        };
        let server = match result {
            Ok(()) => true,
            Err((code, _)) if code == "AccessDeniedException" => false,
            Err(other) => panic!("{principal} {action} {dept}: {other:?}"),
        };
        let simulated = simulate(&s, principal, action, &id, Some(("Dept", dept)));
        assert_eq!(server, expected, "server: {principal} {action} Dept={dept}");
        assert_eq!(simulated, expected, "simulate: {principal} {action} Dept={dept}");
    }
}

/// The same decision over the API: IAM's SimulatePrincipalPolicy for KMS keys, driven by boto3
/// (tests/py/test_simulate_api.py; the web console's "who can do what with this key").
#[test]
fn simulate_principal_policy_explains_decisions_over_the_api() {
    let s = Server::start();
    common::run_python(
        &s,
        "test_simulate_api.py",
        &[],
        "all SimulatePrincipalPolicy checks passed",
    );
}
