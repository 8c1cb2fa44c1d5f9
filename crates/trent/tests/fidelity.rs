//! Behaviour a client sees at the edges of the request path: a panic is answered (500,
//! `KMSInternalException`) and audited, and the server keeps serving; errors without a message
//! carry no `message` member; the order of checks AWS applies (key state before key type,
//! ciphertext key before key usage); multi-byte Unicode in every string member; IAM list paging.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::types::{GrantOperation, KeySpec, KeyUsageType, Tag};
use common::{between, blob, err, Server};

/// Strings whose 4th byte falls inside a character (the old `k[..4]` panicked on each).
const UNICODE: [&str; 4] = ["aéé", "日本語キー", "a💡b", "ключ-🔑"];

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().expect("tag")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_is_answered_as_an_internal_error_audited_and_survived() {
    // Fault injection exists in debug builds only (the profile `cargo test` uses).
    if !cfg!(debug_assertions) {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let s = Server::start_in(&dir, &["--fault-panic-on", "GenerateRandom"]);
    let c = s.client();
    let e = c
        .generate_random()
        .number_of_bytes(16)
        .send()
        .await
        .expect_err("injected panic");
    assert_eq!(err(&e).0, "KMSInternalException");
    let raw = e.raw_response().expect("an HTTP answer, not a dropped connection");
    assert_eq!(raw.status().as_u16(), 500);
    let body = std::str::from_utf8(raw.body().bytes().expect("body")).expect("utf-8");
    let json: serde_json::Value = serde_json::from_str(body).expect("AWS JSON error shape");
    assert_eq!(json["__type"], "KMSInternalException");
    assert!(!body.contains("injected"), "internal detail stays in the log: {body}");
    // The server is still serving, on the same and on new connections.
    for _ in 0..3 {
        c.create_key().send().await.expect("still serving");
    }
    // The failed request is in the audit trail, with its error.
    let line = common::wait_for_audit_line(&dir, |l| l.contains("\"eventName\":\"GenerateRandom\""));
    let event: serde_json::Value = serde_json::from_str(&line).expect("event");
    assert_eq!(event["errorCode"], "KMSInternalException", "{event}");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_without_a_message_have_no_message_member() {
    let s = Server::start();
    let c = s.client();
    let id = common::new_key(&c).await;
    let mut ct = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect("enc")
        .ciphertext_blob
        .expect("ct")
        .into_inner();
    if let Some(b) = ct.last_mut() {
        *b ^= 1;
    }
    let e = c
        .decrypt()
        .ciphertext_blob(blob(&ct))
        .send()
        .await
        .expect_err("tampered");
    assert_eq!(e.code(), Some("InvalidCiphertextException"));
    assert_eq!(e.message(), None, "AWS sends {{\"__type\":…}} alone");
    let body = e.raw_response().and_then(|r| r.body().bytes()).expect("body");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(body).expect("json"),
        serde_json::json!({"__type": "InvalidCiphertextException"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn key_state_is_checked_before_key_type_and_ciphertext_key_before_usage() {
    let s = Server::start();
    let c = s.client();
    // RotateKeyOnDemand on a disabled RSA key: DisabledException (AWS-recorded), not
    // UnsupportedOperationException.
    let rsa = c
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect("rsa")
        .key_metadata
        .expect("m");
    c.disable_key().key_id(rsa.key_id()).send().await.expect("disable");
    let e = c
        .rotate_key_on_demand()
        .key_id(rsa.key_id())
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(
        err(&e),
        (
            "DisabledException".into(),
            format!("{} is disabled.", rsa.arn().expect("arn"))
        )
    );
    // ReEncrypt naming an HMAC key as SourceKeyId for a ciphertext of another key: the
    // ciphertext's key is matched first (IncorrectKeyException), before key usage.
    let sym = common::new_key(&c).await;
    let ct = c
        .encrypt()
        .key_id(&sym)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect("enc")
        .ciphertext_blob
        .expect("ct");
    for (spec, usage) in [
        (KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac),
        (KeySpec::EccNistP256, KeyUsageType::SignVerify),
    ] {
        let other = c
            .create_key()
            .key_spec(spec)
            .key_usage(usage)
            .send()
            .await
            .expect("key")
            .key_metadata
            .expect("m")
            .key_id;
        let e = c
            .re_encrypt()
            .ciphertext_blob(ct.clone())
            .source_key_id(&other)
            .destination_key_id(&sym)
            .send()
            .await
            .expect_err("wrong source key");
        assert_eq!(
            err(&e),
            (
                "IncorrectKeyException".into(),
                "The key ID in the request does not identify a CMK that can perform this operation.".into()
            )
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn multi_byte_unicode_in_every_string_member() {
    let s = Server::start();
    let c = s.client();
    let mut create = c.create_key().description(UNICODE.join(" "));
    for (i, k) in UNICODE.iter().enumerate() {
        create = create.tags(tag(k, UNICODE[(i + 1) % UNICODE.len()]));
    }
    let m = create
        .send()
        .await
        .expect("CreateKey with Unicode tags")
        .key_metadata
        .expect("m");
    let id = m.key_id().to_owned();
    assert_eq!(m.description(), Some(UNICODE.join(" ").as_str()));
    let tags = c.list_resource_tags().key_id(&id).send().await.expect("tags");
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.tag_key()).collect();
    for k in UNICODE {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
    c.untag_resource()
        .key_id(&id)
        .set_tag_keys(Some(UNICODE.iter().map(|s| (*s).to_owned()).collect()))
        .send()
        .await
        .expect("UntagResource");
    c.tag_resource()
        .key_id(&id)
        .tags(tag("日本語キー", "値"))
        .send()
        .await
        .expect("TagResource");
    // A tag key with the reserved prefix in any case is refused, whatever follows it.
    let e = c
        .tag_resource()
        .key_id(&id)
        .tags(tag("aws:日本", "v"))
        .send()
        .await
        .expect_err("reserved");
    assert_eq!(err(&e).0, "TagException");
    c.update_key_description()
        .key_id(&id)
        .description("説明 💡")
        .send()
        .await
        .expect("UpdateKeyDescription");

    // Encryption context keys and values round-trip; a different one does not decrypt.
    let mut enc = c.encrypt().key_id(&id).plaintext(blob("秘密".as_bytes()));
    for k in UNICODE {
        enc = enc.encryption_context(k, format!("{k}-値"));
    }
    let ct = enc.send().await.expect("Encrypt").ciphertext_blob.expect("ct");
    let mut dec = c.decrypt().ciphertext_blob(ct.clone());
    for k in UNICODE {
        dec = dec.encryption_context(k, format!("{k}-値"));
    }
    let pt = dec.send().await.expect("Decrypt");
    assert_eq!(pt.plaintext().expect("pt").as_ref(), "秘密".as_bytes());
    let e = c
        .decrypt()
        .ciphertext_blob(ct)
        .encryption_context("日本語キー", "別")
        .send()
        .await
        .expect_err("other context");
    assert_eq!(err(&e).0, "InvalidCiphertextException");

    // Alias and grant names allow only `[a-zA-Z0-9:/_-]`: Unicode is a validation error, not a
    // crash.
    for name in UNICODE {
        let e = c
            .create_alias()
            .alias_name(format!("alias/{name}"))
            .target_key_id(&id)
            .send()
            .await
            .expect_err("alias pattern");
        assert_eq!(err(&e).0, "ValidationException", "alias/{name}");
        let e = c
            .create_grant()
            .key_id(&id)
            .grantee_principal(format!("arn:aws:iam::{}:root", m.aws_account_id().expect("acct")))
            .operations(GrantOperation::Decrypt)
            .name(name)
            .send()
            .await
            .expect_err("grant name pattern");
        assert_eq!(err(&e).0, "ValidationException", "grant name {name}");
    }
    // Grant constraints carry Unicode context pairs.
    c.create_grant()
        .key_id(&id)
        .grantee_principal(format!("arn:aws:iam::{}:root", m.aws_account_id().expect("acct")))
        .operations(GrantOperation::Decrypt)
        .constraints(
            aws_sdk_kms::types::GrantConstraints::builder()
                .encryption_context_subset("日本語キー", "値")
                .build(),
        )
        .send()
        .await
        .expect("grant with Unicode constraints");

    // A key policy whose Sid and condition values hold Latin-1 letters is accepted; characters
    // beyond U+00FF are outside AWS's policy pattern and are a validation error, not a crash.
    let account = m.aws_account_id().expect("acct");
    let policy = |sid: &str| {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": sid, "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": "kms:*", "Resource": "*"
            }]
        })
        .to_string()
    };
    c.put_key_policy()
        .key_id(&id)
        .policy(policy("Accès"))
        .send()
        .await
        .expect("Latin-1 policy");
    let e = c
        .put_key_policy()
        .key_id(&id)
        .policy(policy("日本語キー"))
        .send()
        .await
        .expect_err("beyond U+00FF");
    assert_eq!(err(&e).0, "ValidationException");

    // IAM names are `[\w+=,.@-]`: Unicode is ValidationError (XML), never a dropped connection.
    for name in UNICODE {
        let (status, xml) = s.iam(&[("Action", "CreateUser"), ("UserName", name)]);
        assert_eq!(status, 400, "{xml}");
        assert!(xml.contains("<Code>ValidationError</Code>"), "{xml}");
    }
}

#[test]
fn iam_lists_honour_max_items_and_marker() {
    let s = Server::start();
    let names: Vec<String> = (0..5).map(|i| format!("user-{i}")).collect();
    for n in &names {
        let (status, xml) = s.iam(&[("Action", "CreateUser"), ("UserName", n)]);
        assert_eq!(status, 200, "{xml}");
        let (status, xml) = s.iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "user-0"),
            ("PolicyName", &format!("p-{n}")),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:DescribeKey","Resource":"*"}]}"#,
            ),
        ]);
        assert_eq!(status, 200, "{xml}");
    }
    for (action, extra, item) in [
        ("ListUsers", None, "<UserName>"),
        ("ListUserPolicies", Some(("UserName", "user-0")), "<member>p-"),
    ] {
        let mut seen = Vec::new();
        let mut marker: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut params = vec![("Action", action), ("MaxItems", "2")];
            params.extend(extra);
            if let Some(m) = &marker {
                params.push(("Marker", m.as_str()));
            }
            let (status, xml) = s.iam(&params);
            assert_eq!(status, 200, "{xml}");
            let count = xml.matches(item).count();
            assert!(count <= 2, "MaxItems=2 but {count} items: {xml}");
            seen.push(count);
            pages += 1;
            if xml.contains("<IsTruncated>true</IsTruncated>") {
                marker = Some(between(&xml, "<Marker>", "</Marker>"));
            } else {
                assert!(!xml.contains("<Marker>"), "{xml}");
                break;
            }
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(seen.iter().sum::<usize>(), 5, "{action}: every item exactly once");
        assert_eq!(pages, 3, "{action}: 2 + 2 + 1");
    }
    let (status, xml) = s.iam(&[("Action", "ListUsers"), ("MaxItems", "0")]);
    assert_eq!(status, 400, "{xml}");
    assert!(xml.contains("<Code>ValidationError</Code>"), "{xml}");
}
