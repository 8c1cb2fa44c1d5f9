//! Grants end to end with aws-sdk-kms: a principal with no policy permission decrypts only through
//! a grant, only with a matching encryption context, only until the grant is retired or revoked;
//! grant tokens, child-grant narrowing, name idempotency and the grant errors.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::types::{GrantConstraints, GrantOperation};
use common::{blob, err, Server};

#[tokio::test(flavor = "multi_thread")]
async fn a_grant_is_the_only_way_in_and_stops_when_retired_or_revoked() {
    let s = Server::start();
    let admin = s.client();
    let (arn, user) = s.user("grantee");
    let key = admin.create_key().send().await.expect("key").key_metadata.expect("m");
    let id = key.key_id();
    let ct = admin
        .encrypt()
        .key_id(id)
        .plaintext(blob(b"for the grantee"))
        .encryption_context("Dept", "IT")
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    let e = user
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("Dept", "IT")
        .send()
        .await
        .expect_err("no policy");
    assert_eq!(err(&e).0, "AccessDeniedException");

    let g = admin
        .create_grant()
        .key_id(id)
        .grantee_principal(&arn)
        .operations(GrantOperation::Decrypt)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("dept", "IT")
                .build(),
        )
        .send()
        .await
        .expect("create grant");
    let grant_id = g.grant_id().expect("id").to_owned();
    assert_eq!(grant_id.len(), 64);
    assert!(grant_id.bytes().all(|b| b.is_ascii_hexdigit()));
    let token = g.grant_token().expect("token").to_owned();

    // Immediately usable (with or without the token); the constraint key matches case-insensitively.
    let d = user
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("Dept", "IT")
        .grant_tokens(&token)
        .send()
        .await
        .expect("decrypt through the grant");
    assert_eq!(d.plaintext().expect("pt").as_ref(), b"for the grantee");
    user.decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("Dept", "IT")
        .send()
        .await
        .expect("no token needed");
    // A context the constraint does not admit is refused; so is an operation the grant lacks.
    let other = admin
        .encrypt()
        .key_id(id)
        .plaintext(blob(b"x"))
        .encryption_context("Dept", "HR")
        .send()
        .await
        .expect("enc");
    let e = user
        .decrypt()
        .ciphertext_blob(other.ciphertext_blob.expect("ct"))
        .encryption_context("Dept", "HR")
        .send()
        .await
        .expect_err("wrong context");
    assert_eq!(err(&e).0, "AccessDeniedException");
    let e = user
        .encrypt()
        .key_id(id)
        .plaintext(blob(b"x"))
        .encryption_context("Dept", "IT")
        .send()
        .await
        .expect_err("op");
    assert_eq!(err(&e).0, "AccessDeniedException");

    // ListGrants shows it.
    let list = admin.list_grants().key_id(id).send().await.expect("list");
    let entry = &list.grants()[0];
    assert_eq!(entry.grant_id(), Some(grant_id.as_str()));
    assert_eq!(entry.grantee_principal(), Some(arn.as_str()));
    assert_eq!(entry.key_id(), key.arn());
    assert_eq!(
        entry.issuing_account(),
        Some(format!("arn:aws:iam::{}:root", key.aws_account_id().expect("acct")).as_str())
    );
    assert_eq!(entry.operations(), [GrantOperation::Decrypt]);
    assert!(entry.constraints().is_some());
    let filtered = admin
        .list_grants()
        .key_id(id)
        .grantee_principal("arn:aws:iam::000000000000:user/none")
        .send()
        .await
        .expect("f");
    assert!(filtered.grants().is_empty());
    let e = admin
        .list_grants()
        .key_id(id)
        .grant_id("not-a-grant")
        .send()
        .await
        .expect_err("bad id");
    assert_eq!(err(&e).0, "InvalidGrantIdException");

    // Revoked: refused at once.
    admin
        .revoke_grant()
        .key_id(id)
        .grant_id(&grant_id)
        .send()
        .await
        .expect("revoke");
    let e = user
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("Dept", "IT")
        .send()
        .await
        .expect_err("revoked");
    assert_eq!(err(&e).0, "AccessDeniedException");
    let e = admin
        .revoke_grant()
        .key_id(id)
        .grant_id(&grant_id)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err(&e).0, "NotFoundException");

    // Retired by its retiring principal, by token.
    let g2 = admin
        .create_grant()
        .key_id(id)
        .grantee_principal(&arn)
        .retiring_principal(&arn)
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .expect("grant 2");
    user.decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("Dept", "IT")
        .send()
        .await
        .expect("decrypt");
    let retirable = admin
        .list_retirable_grants()
        .retiring_principal(&arn)
        .send()
        .await
        .expect("retirable");
    assert_eq!(retirable.grants().len(), 1);
    user.retire_grant()
        .grant_token(g2.grant_token().expect("t"))
        .send()
        .await
        .expect("retire by token");
    let e = user
        .decrypt()
        .ciphertext_blob(ct)
        .encryption_context("Dept", "IT")
        .send()
        .await
        .expect_err("retired");
    assert_eq!(err(&e).0, "AccessDeniedException");
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_names_children_and_errors() {
    let s = Server::start();
    let admin = s.client();
    let (arn, user) = s.user("parent");
    let (child_arn, child) = s.user("child");
    let key = admin.create_key().send().await.expect("key").key_metadata.expect("m");
    let id = key.key_id();

    // Name idempotency: same parameters → same GrantId, new token.
    let make = || {
        admin
            .create_grant()
            .key_id(id)
            .name("parent-grant")
            .grantee_principal(&arn)
            .operations(GrantOperation::CreateGrant)
            .operations(GrantOperation::Encrypt)
            .operations(GrantOperation::Decrypt)
            .constraints(
                GrantConstraints::builder()
                    .encryption_context_subset("app", "a")
                    .build(),
            )
    };
    let a = make().send().await.expect("first");
    let b = make().send().await.expect("again");
    assert_eq!(a.grant_id(), b.grant_id());
    assert_ne!(a.grant_token(), b.grant_token());
    assert_eq!(
        admin
            .list_grants()
            .key_id(id)
            .send()
            .await
            .expect("list")
            .grants()
            .len(),
        1
    );

    // Child grants: a subset of operations, constraints at least as strict.
    user.create_grant()
        .key_id(key.arn().expect("arn"))
        .grantee_principal(&child_arn)
        .operations(GrantOperation::Encrypt)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("app", "a")
                .encryption_context_subset("env", "prod")
                .build(),
        )
        .send()
        .await
        .expect("narrower child");
    child
        .encrypt()
        .key_id(id)
        .plaintext(blob(b"x"))
        .encryption_context("app", "a")
        .encryption_context("env", "prod")
        .send()
        .await
        .expect("child encrypts");
    let e = user
        .create_grant()
        .key_id(id)
        .grantee_principal(&child_arn)
        .operations(GrantOperation::GenerateDataKey)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_subset("app", "a")
                .build(),
        )
        .send()
        .await
        .expect_err("wider operations");
    assert_eq!(err(&e).0, "AccessDeniedException");
    let e = user
        .create_grant()
        .key_id(id)
        .grantee_principal(&child_arn)
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .expect_err("looser constraints");
    assert_eq!(err(&e).0, "AccessDeniedException");

    // Tokens: tampered → InvalidGrantTokenException; more than 10 → validation error.
    let mut t = a.grant_token().expect("t").to_owned().into_bytes();
    t[12] = if t[12] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(t).expect("utf8");
    let e = user
        .encrypt()
        .key_id(id)
        .plaintext(blob(b"x"))
        .encryption_context("app", "a")
        .grant_tokens(&tampered)
        .send()
        .await
        .expect_err("tampered");
    assert_eq!(err(&e).0, "InvalidGrantTokenException");
    let mut req = user.encrypt().key_id(id).plaintext(blob(b"x"));
    for _ in 0..11 {
        req = req.grant_tokens(a.grant_token().expect("t"));
    }
    assert_eq!(err(&req.send().await.expect_err("11 tokens")).0, "ValidationException");

    // Operations must fit the key type; DryRun creates nothing.
    let e = admin
        .create_grant()
        .key_id(id)
        .grantee_principal(&arn)
        .operations(GrantOperation::Sign)
        .send()
        .await
        .expect_err("sign");
    assert_eq!(err(&e).0, "ValidationException");
    let e = admin
        .create_grant()
        .key_id(id)
        .grantee_principal(&arn)
        .operations(GrantOperation::Decrypt)
        .dry_run(true)
        .send()
        .await
        .expect_err("dry run");
    assert_eq!(err(&e).0, "DryRunOperationException");
    assert_eq!(
        admin
            .list_grants()
            .key_id(id)
            .send()
            .await
            .expect("list")
            .grants()
            .len(),
        2
    );

    // Retire by KeyId + GrantId: the issuing account may, the grantee may not (no RetireGrant op).
    let gid = a.grant_id().expect("id");
    let e = user
        .retire_grant()
        .key_id(key.arn().expect("arn"))
        .grant_id(gid)
        .send()
        .await
        .expect_err("grantee");
    assert_eq!(err(&e).0, "AccessDeniedException");
    admin
        .retire_grant()
        .key_id(key.arn().expect("arn"))
        .grant_id(gid)
        .send()
        .await
        .expect("issuing account retires");
    let e = admin
        .retire_grant()
        .grant_token(&tampered)
        .send()
        .await
        .expect_err("bad token");
    assert_eq!(err(&e).0, "InvalidGrantTokenException");

    // Key states: no grants on a disabled key.
    admin.disable_key().key_id(id).send().await.expect("disable");
    let e = admin
        .create_grant()
        .key_id(id)
        .grantee_principal(&arn)
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err(&e).0, "DisabledException");
}
