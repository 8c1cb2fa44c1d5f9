//! Durability: keys, aliases, tags and policies survive a restart, ciphertext made before it
//! decrypts after it, the bootstrap credentials are reused, and SIGTERM exits cleanly.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::types::Tag;
use common::{blob, env_value, Server};

#[tokio::test(flavor = "multi_thread")]
async fn state_survives_restart() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let mut s = Server::start_in(&dir, &[]);
    let c = s.client();
    let m = c
        .create_key()
        .description("durable")
        .tags(Tag::builder().tag_key("k").tag_value("v").build().expect("tag"))
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m");
    let id = m.key_id().to_owned();
    c.create_alias()
        .alias_name("alias/durable")
        .target_key_id(&id)
        .send()
        .await
        .expect("alias");
    let policy = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#,
        m.aws_account_id().expect("acct")
    );
    c.put_key_policy()
        .key_id(&id)
        .policy(&policy)
        .send()
        .await
        .expect("policy");
    let ct = c
        .encrypt()
        .key_id("alias/durable")
        .plaintext(blob(b"across restarts"))
        .encryption_context("c", "1")
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    let disabled = c
        .create_key()
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id()
        .to_owned();
    c.disable_key().key_id(&disabled).send().await.expect("disable");
    let first_env = std::fs::read_to_string(dir.join("admin.env")).expect("env");
    assert!(s.stop(), "graceful shutdown on SIGTERM");

    let s2 = Server::start_in(&dir, &[]);
    let second_env = std::fs::read_to_string(dir.join("admin.env")).expect("env");
    assert_eq!(
        env_value(&first_env, "AWS_ACCESS_KEY_ID"),
        env_value(&second_env, "AWS_ACCESS_KEY_ID")
    );
    assert_eq!(
        env_value(&first_env, "AWS_SECRET_ACCESS_KEY"),
        env_value(&second_env, "AWS_SECRET_ACCESS_KEY")
    );
    let c = s2.client();
    let d = c
        .decrypt()
        .ciphertext_blob(ct)
        .encryption_context("c", "1")
        .send()
        .await
        .expect("decrypt after restart");
    assert_eq!(d.plaintext().expect("pt").as_ref(), b"across restarts");
    let md = c
        .describe_key()
        .key_id("alias/durable")
        .send()
        .await
        .expect("alias")
        .key_metadata
        .expect("m");
    assert_eq!(md.description(), Some("durable"));
    assert_eq!(
        c.get_key_policy().key_id(&id).send().await.expect("p").policy(),
        Some(policy.as_str())
    );
    let tags = c.list_resource_tags().key_id(&id).send().await.expect("tags");
    assert_eq!(tags.tags().len(), 1);
    let st = c
        .describe_key()
        .key_id(&disabled)
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    assert!(!st.enabled());
    assert_eq!(c.list_keys().send().await.expect("list").keys().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_env_has_the_documented_lines_and_mode() {
    let s = Server::start();
    let text = std::fs::read_to_string(s.dir.join("admin.env")).expect("env");
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_ENDPOINT_URL",
    ] {
        assert!(!env_value(&text, name).is_empty(), "{name}");
    }
    assert_eq!(env_value(&text, "AWS_ENDPOINT_URL_KMS"), s.endpoint);
    use std::os::unix::fs::PermissionsExt;
    for f in ["admin.env", "root.key"] {
        let mode = std::fs::metadata(s.dir.join(f)).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
}

/// A data directory keeps its Region: started under another one it is refused with the Region
/// its keys are in (its keys could not open there), and it starts again under its own.
#[tokio::test(flavor = "multi_thread")]
async fn another_region_is_refused_with_the_right_one_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let mut s = Server::start_in(&dir, &["--region", "eu-west-1"]);
    let key = s
        .client()
        .create_key()
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    assert!(s.stop());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trent"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--region",
            "us-west-2",
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("in Region eu-west-1") && text.contains("--regions us-west-2,eu-west-1"),
        "{text}"
    );
    let s = Server::start_in(&dir, &["--region", "eu-west-1"]);
    s.client()
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .expect("its own Region");
}
