//! The real binary on PostgreSQL (`--database`): the same API over the same store traits, state
//! that survives a restart, a second node's data directory that must carry the cluster's root
//! key, and `trent audit verify` against the database. Skips without a PostgreSQL server unless
//! `TRENT_TEST_POSTGRES_REQUIRED=1` (CI), see `trent_store_postgres::testing`.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::types::{GrantOperation, Tag};
use common::{blob, Server};
use trent_store_postgres::testing::TestDb;

fn trent(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(args)
        .env_remove("TRENT_DATABASE_URL")
        .output()
        .expect("run trent")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_on_postgres_keeps_everything_across_restarts_and_nodes() {
    let Some(db) = TestDb::create("binary") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let first = tmp.path().join("node-a");
    let mut a = Server::start_in(&first, &["--database", &db.url]);
    assert!(
        !first.join("trent.db").exists(),
        "with --database nothing is kept in SQLite"
    );
    let c = a.client();
    let meta = c
        .create_key()
        .description("on postgres")
        .tags(Tag::builder().tag_key("team").tag_value("blue").build().expect("tag"))
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("metadata");
    let key = meta.key_id().to_owned();
    let account = meta.aws_account_id().expect("account").to_owned();
    c.create_alias()
        .alias_name("alias/pg")
        .target_key_id(&key)
        .send()
        .await
        .expect("alias");
    let grant = c
        .create_grant()
        .key_id(&key)
        .grantee_principal(format!("arn:aws:iam::{account}:root"))
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .expect("grant")
        .grant_id
        .expect("grant id");
    let ct = c
        .encrypt()
        .key_id("alias/pg")
        .plaintext(blob(b"kept in postgres"))
        .encryption_context("app", "pg")
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ciphertext");
    let dup = c
        .create_alias()
        .alias_name("alias/pg")
        .target_key_id(&key)
        .send()
        .await
        .expect_err("the name is taken");
    assert_eq!(common::err(&dup).0, "AlreadyExistsException");
    let (status, body) = a.iam(&[("Action", "CreateUser"), ("UserName", "pg-user")]);
    assert_eq!(status, 200, "{body}");
    assert!(a.stop(), "clean stop");

    // A second node: its own data directory, the same database. Without the cluster's root key
    // it refuses to start (it would otherwise make a new one that unseals nothing).
    let second = tmp.path().join("node-b");
    std::fs::create_dir_all(&second).expect("dir");
    let out = trent(&[
        "serve",
        "--data-dir",
        second.to_str().expect("utf-8"),
        "--listen",
        "127.0.0.1:0",
        "--database",
        &db.url,
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("copy root.key"), "{stderr}");
    std::fs::copy(first.join("root.key"), second.join("root.key")).expect("copy root key");
    let mut b = Server::start_in(&second, &["--database", &db.url]);
    assert_eq!(b.access_key_id, a.access_key_id, "the same account and bootstrap key");
    let c = b.client();
    let plain = c
        .decrypt()
        .ciphertext_blob(ct)
        .encryption_context("app", "pg")
        .send()
        .await
        .expect("decrypt on the second node");
    assert_eq!(plain.plaintext.expect("plaintext").as_ref(), b"kept in postgres");
    assert_eq!(plain.key_id.expect("key").rsplit('/').next(), Some(key.as_str()));
    let aliases = c.list_aliases().key_id(&key).send().await.expect("aliases");
    assert_eq!(aliases.aliases()[0].alias_name(), Some("alias/pg"));
    let tags = c.list_resource_tags().key_id(&key).send().await.expect("tags");
    assert_eq!(tags.tags()[0].tag_value(), "blue");
    let grants = c.list_grants().key_id(&key).send().await.expect("grants");
    assert_eq!(grants.grants()[0].grant_id(), Some(grant.as_str()));
    let (status, body) = b.iam(&[("Action", "GetUser"), ("UserName", "pg-user")]);
    assert_eq!(status, 200, "{body}");
    assert!(b.stop(), "clean stop: buffered events written");

    // The audit trail is in the database too, and verifies.
    let out = trent(&[
        "audit",
        "verify",
        "--data-dir",
        second.to_str().expect("utf-8"),
        "--database",
        &db.url,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("audit trail intact"), "{stdout}");
    let out = trent(&[
        "audit",
        "show",
        "--data-dir",
        second.to_str().expect("utf-8"),
        "--database",
        &db.url,
        "--key",
        &key,
    ]);
    let shown = String::from_utf8_lossy(&out.stdout);
    for op in ["CreateKey", "CreateAlias", "CreateGrant", "Encrypt", "Decrypt"] {
        assert!(
            shown.contains(&format!("\"eventName\":\"{op}\"")),
            "{op} missing:\n{shown}"
        );
    }
}

#[test]
fn a_database_url_that_is_not_postgres_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = trent(&[
        "serve",
        "--data-dir",
        tmp.path().to_str().expect("utf-8"),
        "--listen",
        "127.0.0.1:0",
        "--database",
        "mysql://localhost/x",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected a postgres:// URL"));
}
