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

#[tokio::test(flavor = "multi_thread")]
async fn migrate_copies_an_embedded_deployment_and_can_run_again() {
    let Some(db) = TestDb::create("migrate") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let mut embedded = Server::start_in(&dir, &[]);
    let c = embedded.client();
    let meta = c
        .create_key()
        .tags(Tag::builder().tag_key("k").tag_value("v").build().expect("tag"))
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("metadata");
    let key = meta.key_id().to_owned();
    let account = meta.aws_account_id().expect("account").to_owned();
    let old_ct = c
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"before rotation"))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    c.rotate_key_on_demand().key_id(&key).send().await.expect("rotate");
    let new_ct = c
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"after rotation"))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    let hmac = c
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .expect("hmac key")
        .key_metadata
        .expect("metadata")
        .key_id()
        .to_owned();
    let mac = c
        .generate_mac()
        .key_id(&hmac)
        .message(blob(b"m"))
        .mac_algorithm(aws_sdk_kms::types::MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("mac")
        .mac
        .expect("mac");
    c.create_alias()
        .alias_name("alias/moved")
        .target_key_id(&key)
        .send()
        .await
        .expect("alias");
    c.create_grant()
        .key_id(&key)
        .grantee_principal(format!("arn:aws:iam::{account}:root"))
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .expect("grant");
    let (status, xml) = embedded.iam(&[("Action", "CreateUser"), ("UserName", "mover")]);
    assert_eq!(status, 200, "{xml}");
    let (status, xml) = embedded.iam(&[("Action", "CreateAccessKey"), ("UserName", "mover")]);
    assert_eq!(status, 200, "{xml}");
    let user_key = (
        common::between(&xml, "<AccessKeyId>", "</AccessKeyId>"),
        common::between(&xml, "<SecretAccessKey>", "</SecretAccessKey>"),
    );
    assert!(embedded.stop(), "stopped before migrating");

    for run in 0..2 {
        let out = trent(&["migrate", "--from", dir.to_str().expect("utf-8"), "--to", &db.url]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "run {run}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in [
            "keys: 2 in the source, 2 in the copy",
            "key material versions: 3 in the source, 3 in the copy",
            "grants: 1 in the source, 1 in the copy",
            "the copied audit trail verifies",
            // The symmetric key is the sample (the HMAC key's material is checked by VerifyMac).
            "1 keys' material unsealed on the copy",
        ] {
            assert!(stdout.contains(line), "run {run}: {line:?} missing:\n{stdout}");
        }
    }

    let pg = Server::start_in(&dir, &["--database", &db.url]);
    let c = pg.client();
    for (ct, plain) in [(old_ct, &b"before rotation"[..]), (new_ct, &b"after rotation"[..])] {
        let out = c
            .decrypt()
            .ciphertext_blob(ct)
            .send()
            .await
            .expect("decrypt on the copy");
        assert_eq!(out.plaintext.expect("plaintext").as_ref(), plain);
    }
    let verified = c
        .verify_mac()
        .key_id(&hmac)
        .message(blob(b"m"))
        .mac(mac)
        .mac_algorithm(aws_sdk_kms::types::MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("verify mac");
    assert!(verified.mac_valid);
    let d = c.describe_key().key_id("alias/moved").send().await.expect("alias");
    assert_eq!(d.key_metadata.expect("metadata").key_id(), key);
    let rotations = c.list_key_rotations().key_id(&key).send().await.expect("rotations");
    assert_eq!(rotations.rotations().len(), 1);
    // The IAM user's access key still authenticates (its secret was copied sealed).
    let user = pg.client_with(&user_key.0, &user_key.1);
    let err = user
        .list_keys()
        .send()
        .await
        .expect_err("the user has no KMS permission");
    assert_eq!(common::err(&err).0, "AccessDeniedException");
}

/// A PostgreSQL-backed deployment is backed up with PostgreSQL's own tools: `pg_dump` of the
/// database, restored with `pg_restore` into another, serves every key again once the root key
/// (kept apart from the dump) is put beside it; the dump alone holds no root key.
#[tokio::test(flavor = "multi_thread")]
async fn a_pg_dump_round_trip_restores_a_deployment() {
    let Some(src) = TestDb::create("dumpsrc") else {
        return;
    };
    let Some(dst) = TestDb::create("dumpdst") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let node = tmp.path().join("node");
    let mut a = Server::start_in(&node, &["--database", &src.url]);
    let key = a
        .client()
        .create_key()
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    let ct = a
        .client()
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"dumped"))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    assert!(a.stop());
    let dump = tmp.path().join("trent.dump");
    let out = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(&src.url)
        .output()
        .expect("pg_dump");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root_key = std::fs::read(node.join("root.key")).expect("root key");
    let bytes = std::fs::read(&dump).expect("dump");
    assert!(
        !bytes.windows(root_key.len()).any(|w| w == root_key.as_slice()),
        "no root key in the dump"
    );
    let out = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &dst.url])
        .arg(&dump)
        .output()
        .expect("pg_restore");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let restored = tmp.path().join("restored");
    std::fs::create_dir_all(&restored).expect("dir");
    std::fs::copy(node.join("root.key"), restored.join("root.key")).expect("root key");
    let b = Server::start_in(&restored, &["--database", &dst.url]);
    let pt = b
        .client()
        .decrypt()
        .ciphertext_blob(ct)
        .send()
        .await
        .expect("decrypts on the restored database");
    assert_eq!(pt.plaintext().expect("pt").as_ref(), b"dumped");
}
