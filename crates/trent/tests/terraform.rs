//! Terraform end to end (issue 13): the real `terraform` binary with the `hashicorp/aws`
//! provider, a plain `provider "aws"` whose endpoints name Trent, drives `tests/terraform/main.tf`
//! — symmetric, asymmetric and HMAC keys, an alias, a grant, `aws_kms_key_policy`,
//! `aws_kms_ciphertext`, `data.aws_kms_secrets`, `data.aws_kms_public_key`, `data.aws_kms_key`,
//! `data.aws_kms_alias` (also of an AWS managed key), IAM users with an access key, inline and
//! attached policies, a group with members (`aws_iam_group_membership` and
//! `aws_iam_user_group_membership`), inline and attached group policies, a managed policy, a role
//! with inline and attached policies —
//! through init, apply, a second plan that must show no changes, an in-place update (description,
//! tags, rotation period, key policy, a new managed-policy version, a group inline policy) with a
//! clean plan after it, and destroy. Between steps the SDK checks what Terraform did, including
//! that the group's policies are what authorizes its member.
//!
//! The provider comes from a filesystem mirror (a folder holding `registry.terraform.io/
//! hashicorp/aws`): `TRENT_TERRAFORM_MIRROR`, else the first found under the usual roots. Skips
//! without terraform or a mirror, unless `TRENT_TEST_TERRAFORM_REQUIRED=1` (CI).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{blob, err, Server};
use serde_json::Value;

fn required() -> bool {
    std::env::var("TRENT_TEST_TERRAFORM_REQUIRED").as_deref() == Ok("1")
}

fn skip(why: &str) {
    assert!(!required(), "terraform test required but {why}");
    eprintln!("SKIPPED: {why}");
}

/// A folder that holds `registry.terraform.io/hashicorp/aws` (searched at most four levels deep).
fn find_mirror() -> Option<PathBuf> {
    if let Ok(m) = std::env::var("TRENT_TERRAFORM_MIRROR") {
        return Some(PathBuf::from(m));
    }
    fn walk(dir: &Path, depth: usize) -> Option<PathBuf> {
        if dir.join("registry.terraform.io/hashicorp/aws").is_dir() {
            return Some(dir.to_owned());
        }
        if depth == 0 {
            return None;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
        entries.sort();
        entries.into_iter().find_map(|d| walk(&d, depth - 1))
    }
    let home = std::env::var("HOME").unwrap_or_default();
    [
        format!("{home}/.terraform.d"),
        format!("{home}/.local/share/terraform"),
        "/usr/local/share/terraform".into(),
        "/usr/share/terraform".into(),
        "/opt".into(),
    ]
    .iter()
    .find_map(|root| walk(Path::new(root), 4))
}

struct Tf {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    endpoint: String,
}

impl Tf {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("terraform");
        c.args(args).current_dir(self.dir.path());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Runs a command that must succeed; its stdout.
    fn run(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().expect("run terraform");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "terraform {}: {text}", args.join(" "));
        text
    }

    fn apply(&self, step: u8) -> String {
        let endpoint = format!("endpoint={}", self.endpoint);
        let step = format!("step={step}");
        self.run(&[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-var",
            &endpoint,
            "-var",
            &step,
        ])
    }

    /// `plan -detailed-exitcode` must say there is nothing to change (exit 0, not 2).
    fn assert_no_changes(&self, step: u8) {
        let endpoint = format!("endpoint={}", self.endpoint);
        let step = format!("step={step}");
        let out = self
            .cmd(&[
                "plan",
                "-detailed-exitcode",
                "-input=false",
                "-no-color",
                "-var",
                &endpoint,
                "-var",
                &step,
            ])
            .output()
            .expect("plan");
        assert_eq!(
            out.status.code(),
            Some(0),
            "a second plan must show no changes:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn outputs(&self) -> Value {
        serde_json::from_str(&self.run(&["output", "-json", "-no-color"])).expect("outputs are JSON")
    }
}

fn out(o: &Value, name: &str) -> String {
    o[name]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("output {name}: {o}"))
        .to_owned()
}

/// A Terraform working directory with `config` as its `main.tf`, the provider from `mirror` and
/// the admin's credentials of `s`.
fn prepare(s: &Server, mirror: &Path, config: &str) -> Tf {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(config),
        dir.path().join("main.tf"),
    )
    .expect("config");
    let cli = dir.path().join("cli.tfrc");
    std::fs::write(
        &cli,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
            mirror.display().to_string()
        ),
    )
    .expect("cli config");
    let env = vec![
        ("TF_CLI_CONFIG_FILE".to_owned(), cli.display().to_string()),
        ("TF_IN_AUTOMATION".to_owned(), "1".to_owned()),
        ("CHECKPOINT_DISABLE".to_owned(), "1".to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), s.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), s.secret_access_key.clone()),
        ("AWS_REGION".to_owned(), s.region.clone()),
        ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
        ("AWS_CONFIG_FILE".to_owned(), "/dev/null".to_owned()),
        ("AWS_SHARED_CREDENTIALS_FILE".to_owned(), "/dev/null".to_owned()),
    ];
    Tf {
        dir,
        env,
        endpoint: s.endpoint.clone(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn terraform_applies_plans_clean_updates_in_place_and_destroys() {
    if Command::new("terraform").arg("version").output().is_err() {
        return skip("no terraform on PATH");
    }
    let Some(mirror) = find_mirror() else {
        return skip("no filesystem mirror holding registry.terraform.io/hashicorp/aws");
    };
    let s = Server::start();
    let tf = prepare(&s, &mirror, "tests/terraform/main.tf");
    tf.run(&["init", "-input=false", "-no-color"]);

    // 1. Create everything; a second plan has nothing to do.
    let applied = tf.apply(1);
    assert!(
        applied.contains("Apply complete! Resources: 23 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    tf.assert_no_changes(1);
    let o = tf.outputs();
    assert_eq!(
        out(&o, "secret"),
        "terraform secret",
        "data.aws_kms_secrets decrypted it"
    );
    assert_eq!(out(&o, "public_key_spec"), "ECC_NIST_P256");
    // Data sources found the key through its alias, and the AWS managed key for S3.
    assert!(out(&o, "key_by_alias_arn").ends_with(&out(&o, "sym_key_id")));
    assert_eq!(out(&o, "alias_target_arn"), out(&o, "key_by_alias_arn"));
    let s3 = s
        .client()
        .describe_key()
        .key_id("alias/aws/s3")
        .send()
        .await
        .expect("s3 key");
    assert_eq!(
        s3.key_metadata().map(|m| m.key_id()),
        Some(out(&o, "s3_key_id").as_str())
    );
    let c = s.client();
    let sym = out(&o, "sym_key_id");
    let ct = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, out(&o, "ciphertext"))
        .expect("ciphertext is base64");
    let pt = c
        .decrypt()
        .ciphertext_blob(blob(&ct))
        .encryption_context("dept", "eng")
        .send()
        .await
        .expect("aws_kms_ciphertext decrypts with the SDK");
    assert_eq!(pt.plaintext().expect("pt").as_ref(), b"terraform secret");
    // data.aws_kms_public_key: the same key the SDK gets.
    let pem = out(&o, "public_key_pem");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).expect("PEM body");
    let public = c
        .get_public_key()
        .key_id(out(&o, "ecc_key_id"))
        .send()
        .await
        .expect("public key")
        .public_key
        .expect("der");
    assert_eq!(public.as_ref(), der.as_slice());
    let rot = c.get_key_rotation_status().key_id(&sym).send().await.expect("rotation");
    assert!(rot.key_rotation_enabled());
    assert_eq!(rot.rotation_period_in_days(), Some(180));
    let grants = c.list_grants().key_id(&sym).send().await.expect("grants");
    assert!(grants
        .grants()
        .iter()
        .any(|g| g.grant_id() == Some(out(&o, "grant_id").as_str())));
    // The user's permissions come from its group only: Encrypt (attached managed policy) and
    // Decrypt (inline) are allowed, anything else is not.
    let app = s.client_with(&out(&o, "app_access_key_id"), &out(&o, "app_secret"));
    let mine = app
        .encrypt()
        .key_id("alias/tf-sym")
        .plaintext(blob(b"as the app"))
        .send()
        .await
        .expect("Encrypt through the group's managed policy")
        .ciphertext_blob
        .expect("ct");
    app.decrypt()
        .ciphertext_blob(mine.clone())
        .send()
        .await
        .expect("Decrypt through the group's inline policy");
    let denied = app
        .generate_data_key()
        .key_id("alias/tf-sym")
        .number_of_bytes(32)
        .send()
        .await
        .expect_err("not granted yet");
    assert_eq!(err(&denied).0, "AccessDeniedException");
    let denied = app.describe_key().key_id(&sym).send().await.expect_err("never granted");
    assert_eq!(err(&denied).0, "AccessDeniedException");

    // 2. In place: nothing replaced, and again a clean plan after.
    let applied = tf.apply(2);
    assert!(
        applied.contains(" 0 added, ") && applied.contains(" 0 destroyed."),
        "{applied}"
    );
    tf.assert_no_changes(2);
    let m = c
        .describe_key()
        .key_id(&sym)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("m");
    assert_eq!(m.description(), Some("tf symmetric v2"));
    let rot = c.get_key_rotation_status().key_id(&sym).send().await.expect("rotation");
    assert_eq!(rot.rotation_period_in_days(), Some(90));
    let tags = c.list_resource_tags().key_id(&sym).send().await.expect("tags");
    let mut kv: Vec<(String, String)> = tags
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
        .collect();
    kv.sort();
    assert_eq!(
        kv,
        [
            ("owner".to_owned(), "ops".to_owned()),
            ("team".to_owned(), "b".to_owned())
        ]
    );
    let policy = c
        .get_key_policy()
        .key_id(out(&o, "rsa_key_id"))
        .send()
        .await
        .expect("policy")
        .policy
        .expect("text");
    assert!(policy.contains("RootV2"), "{policy}");
    let (status, body) = s.iam(&[("Action", "ListUserTags"), ("UserName", "tf-app")]);
    assert!(status == 200 && body.contains("<Value>prod</Value>"), "{body}");
    let (status, body) = s.iam(&[("Action", "ListRoleTags"), ("RoleName", "tf-role")]);
    assert!(status == 200 && body.contains("<Value>prod</Value>"), "{body}");
    app.generate_data_key()
        .key_id("alias/tf-sym")
        .number_of_bytes(32)
        .send()
        .await
        .expect("GenerateDataKey after the group's inline policy changed");
    app.re_encrypt()
        .ciphertext_blob(mine)
        .destination_key_id("alias/tf-sym")
        .send()
        .await
        .expect("ReEncrypt through the managed policy's new default version");

    // 3. Destroy: everything goes (keys to PendingDeletion, as AWS does it).
    let endpoint = format!("endpoint={}", tf.endpoint);
    let destroyed = tf.run(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &endpoint,
        "-var",
        "step=2",
    ]);
    assert!(
        destroyed.contains("Destroy complete! Resources: 23 destroyed."),
        "{destroyed}"
    );
    let m = c
        .describe_key()
        .key_id(&sym)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("m");
    assert_eq!(m.key_state().map(|st| st.as_str()), Some("PendingDeletion"));
    let aliases = c.list_aliases().send().await.expect("aliases");
    assert!(!aliases.aliases().iter().any(|a| a.alias_name() == Some("alias/tf-sym")));
    for (action, gone) in [
        ("ListUsers", "tf-app"),
        ("ListGroups", "tf-group"),
        ("ListRoles", "tf-role"),
        ("ListPolicies", "tf-use"),
    ] {
        let (status, body) = s.iam(&[("Action", action)]);
        assert!(status == 200 && !body.contains(gone), "{action}: {body}");
    }
}

/// Multi-Region keys across two Regions of one deployment: `aws_kms_key` with `multi_region`,
/// `aws_kms_replica_key` through a second provider configuration, an alias per Region; a clean
/// second plan; encrypt in one Region and decrypt in the other; destroy (the primary waits for
/// its replica as AWS makes it).
#[tokio::test(flavor = "multi_thread")]
async fn terraform_replicates_a_multi_region_key() {
    if Command::new("terraform").arg("version").output().is_err() {
        return skip("no terraform on PATH");
    }
    let Some(mirror) = find_mirror() else {
        return skip("no filesystem mirror holding registry.terraform.io/hashicorp/aws");
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start_in(&tmp.path().join("data"), &["--regions", "us-east-1,eu-west-1"]);
    let tf = prepare(&s, &mirror, "tests/terraform/regions/main.tf");
    tf.run(&["init", "-input=false", "-no-color"]);
    let applied = tf.apply(1);
    assert!(
        applied.contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    tf.assert_no_changes(1);
    let o = tf.outputs();
    let (primary, replica) = (out(&o, "primary_arn"), out(&o, "replica_arn"));
    assert!(
        primary.starts_with("arn:aws:kms:us-east-1:") && primary.contains(":key/mrk-"),
        "{primary}"
    );
    assert_eq!(replica, primary.replace("us-east-1", "eu-west-1"));
    let (east, west) = (s.client_in("us-east-1"), s.client_in("eu-west-1"));
    let ct = common::encrypt(&east, "alias/tf-mrk", b"terraform").await;
    assert_eq!(common::decrypt(&west, &ct).await, b"terraform");
    let tags = west.list_resource_tags().key_id(&replica).send().await.expect("tags");
    assert_eq!(tags.tags.unwrap_or_default().len(), 1);
    let destroyed = tf.run(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &format!("endpoint={}", s.endpoint),
    ]);
    assert!(
        destroyed.contains("Destroy complete! Resources: 4 destroyed."),
        "{destroyed}"
    );
    let e = west.describe_key().key_id(&replica).send().await.expect("replica");
    let state = e.key_metadata.expect("m").key_state.expect("state");
    assert_eq!(state, aws_sdk_kms::types::KeyState::PendingDeletion);
}

/// `aws_kms_custom_key_store` (EXTERNAL_KEY_STORE) whose proxy is another Trent, a clean second
/// plan; once connected, an `aws_kms_key` in it (`xks_key_id`) with an alias, a clean plan, and
/// encryption through the alias; then the key and alias destroyed (scheduled for deletion).
#[tokio::test(flavor = "multi_thread")]
async fn terraform_manages_an_external_key_store_and_its_keys() {
    if Command::new("terraform").arg("version").output().is_err() {
        return skip("no terraform on PATH");
    }
    let Some(mirror) = find_mirror() else {
        return skip("no filesystem mirror holding registry.terraform.io/hashicorp/aws");
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let b = common::xks::proxy(tmp.path());
    let user = common::xks::create_user(&b, "tf-xks");
    let (ak, sk) = common::xks::xks_credential(&b, "tf-xks");
    let external = common::xks::proxy_key(&b, Some(&user), aws_sdk_kms::types::KeySpec::SymmetricDefault).await;
    let port = common::xks::port(&b);
    let ca = tmp.path().join("ca.pem");
    let s = Server::start_with(
        &tmp.path().join("data"),
        &[],
        &[("TRENT_XKS_CA_FILE", ca.to_str().expect("utf-8"))],
    );
    let mut tf = prepare(&s, &mirror, "tests/terraform/xks/main.tf");
    for (k, v) in [
        ("TF_VAR_xks_endpoint", format!("https://localhost:{port}")),
        ("TF_VAR_xks_access_key_id", ak),
        ("TF_VAR_xks_secret", sk),
        ("TF_VAR_xks_key_id", external.clone()),
    ] {
        tf.env.push((k.to_owned(), v));
    }
    tf.run(&["init", "-input=false", "-no-color"]);
    let applied = tf.apply(1);
    assert!(
        applied.contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    tf.assert_no_changes(1);
    let store = out(&tf.outputs(), "store_id");
    let c = s.client();
    c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect("connect");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let d = c
            .describe_custom_key_stores()
            .custom_key_store_id(&store)
            .send()
            .await
            .expect("describe");
        if d.custom_key_stores()[0].connection_state() == Some(&aws_sdk_kms::types::ConnectionStateType::Connected) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not connected");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let applied = tf.apply(2);
    assert!(
        applied.contains("Apply complete! Resources: 2 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    tf.assert_no_changes(2);
    let key_arn = out(&tf.outputs(), "key_arn");
    let m = c
        .describe_key()
        .key_id(&key_arn)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("m");
    assert_eq!(m.xks_key_configuration().and_then(|x| x.id()), Some(external.as_str()));
    let ct = common::encrypt(&c, "alias/tf-hyok", b"terraform hyok").await;
    assert_eq!(common::decrypt(&c, &ct).await, b"terraform hyok");
    let applied = tf.apply(1);
    assert!(
        applied.contains("Apply complete! Resources: 0 added, 0 changed, 2 destroyed."),
        "{applied}"
    );
    let m = c
        .describe_key()
        .key_id(&key_arn)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("m");
    assert_eq!(m.key_state(), Some(&aws_sdk_kms::types::KeyState::PendingDeletion));
}
