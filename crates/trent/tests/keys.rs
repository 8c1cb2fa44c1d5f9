//! Key lifecycle through the real binary with aws-sdk-kms: CreateKey, DescribeKey, ListKeys,
//! UpdateKeyDescription, Enable/DisableKey, Schedule/CancelKeyDeletion and the key-state table.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use common::{blob, err, Server};

#[tokio::test(flavor = "multi_thread")]
async fn create_key_defaults_match_aws() {
    let s = Server::start();
    let c = s.client();
    let m = c
        .create_key()
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("metadata");
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert!(m.enabled());
    assert_eq!(m.description(), Some(""));
    assert_eq!(m.multi_region(), Some(false));
    assert_eq!(m.encryption_algorithms().len(), 1);
    assert!(m.signing_algorithms().is_empty());
    let arn = m.arn().expect("arn");
    assert_eq!(
        arn,
        format!(
            "arn:aws:kms:us-east-1:{}:key/{}",
            m.aws_account_id().expect("acct"),
            m.key_id()
        )
    );
    let mat = m.current_key_material_id().expect("material id");
    assert_eq!(mat.len(), 64);
    assert!(mat.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(m.creation_date().is_some());
    assert!(m.deletion_date().is_none());

    // DescribeKey by id, ARN; all four forms resolve to the same key.
    for id in [m.key_id(), arn] {
        let d = c
            .describe_key()
            .key_id(id)
            .send()
            .await
            .expect("describe")
            .key_metadata
            .expect("m");
        assert_eq!(d.arn(), Some(arn));
    }
    let pol = c.get_key_policy().key_id(m.key_id()).send().await.expect("policy");
    assert_eq!(pol.policy_name(), Some("default"));
    assert!(pol
        .policy()
        .expect("text")
        .contains("\"Sid\" : \"Enable IAM User Permissions\""));
    let names = c.list_key_policies().key_id(m.key_id()).send().await.expect("policies");
    assert_eq!(names.policy_names(), ["default"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_key_validation_errors() {
    let s = Server::start();
    let c = s.client();
    let e = c
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .send()
        .await
        .expect_err("no usage");
    assert_eq!(
        err(&e),
        (
            "ValidationException".into(),
            "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.".into()
        )
    );
    let e = c
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::KeyAgreement)
        .send()
        .await
        .expect_err("bad combo");
    assert_eq!(
        err(&e),
        (
            "ValidationException".into(),
            "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048".into()
        )
    );
    let e = c
        .create_key()
        .key_spec(KeySpec::from("NOPE"))
        .send()
        .await
        .expect_err("enum");
    assert_eq!(err(&e).0, "ValidationException");
    assert!(err(&e).1.starts_with("1 validation error detected: Value 'NOPE' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048,"));
    let e = c
        .create_key()
        .description("x".repeat(8193))
        .send()
        .await
        .expect_err("long");
    assert!(err(&e)
        .1
        .contains("at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192"));
    let e = c.create_key().policy("{not json").send().await.expect_err("policy");
    assert_eq!(err(&e).0, "MalformedPolicyDocumentException");
    let e = c
        .create_key()
        .tags(Tag::builder().tag_key("aws:x").tag_value("v").build().expect("tag"))
        .send()
        .await
        .expect_err("tag");
    assert_eq!(
        err(&e),
        ("TagException".into(), "Tags beginning with aws: are reserved".into())
    );
    let e = c
        .create_key()
        .key_spec(KeySpec::Sm2)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect_err("SM2 exists only in China Regions");
    assert_eq!(err(&e).0, "UnsupportedOperationException");
    // Nothing was created by the failed calls.
    assert!(c.list_keys().send().await.expect("list").keys().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_keys_paginates() {
    let s = Server::start();
    let c = s.client();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            c.create_key()
                .send()
                .await
                .expect("create")
                .key_metadata
                .expect("m")
                .key_id()
                .to_owned(),
        );
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = c
            .list_keys()
            .limit(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("page");
        assert!(page.keys().len() <= 2);
        for k in page.keys() {
            assert!(k.key_arn().expect("arn").ends_with(k.key_id().expect("id")));
            seen.push(k.key_id().expect("id").to_owned());
        }
        if !page.truncated() {
            assert!(page.next_marker().is_none());
            break;
        }
        marker = page.next_marker().map(str::to_owned);
    }
    assert_eq!(seen, ids);
    let e = c.list_keys().limit(0).send().await.expect_err("limit");
    assert_eq!(
        err(&e).1,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    let e = c.list_keys().marker("garbage!!").send().await.expect_err("marker");
    assert_eq!(err(&e).0, "InvalidMarkerException");
}

#[tokio::test(flavor = "multi_thread")]
async fn key_id_forms_and_not_found_texts() {
    let s = Server::start();
    let c = s.client();
    let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
    let account = m.aws_account_id().expect("account").to_owned();
    let e = c.describe_key().key_id("fake-key-id").send().await.expect_err("bad");
    assert_eq!(
        err(&e),
        ("NotFoundException".into(), "Invalid keyId 'fake-key-id'".into())
    );
    let missing = "11111111-2222-3333-4444-555555555555";
    let e = c.describe_key().key_id(missing).send().await.expect_err("missing");
    assert_eq!(
        err(&e),
        (
            "NotFoundException".into(),
            format!("Key 'arn:aws:kms:us-east-1:{account}:key/{missing}' does not exist")
        )
    );
    let e = c
        .describe_key()
        .key_id(format!("arn:aws:kms:us-west-2:{account}:key/{}", m.key_id()))
        .send()
        .await
        .expect_err("region");
    assert_eq!(err(&e), ("NotFoundException".into(), "Invalid arn us-west-2".into()));
    c.create_alias()
        .alias_name("alias/forms")
        .target_key_id(m.key_id())
        .send()
        .await
        .expect("alias");
    for form in [
        "alias/forms".to_owned(),
        format!("arn:aws:kms:us-east-1:{account}:alias/forms"),
    ] {
        let d = c
            .describe_key()
            .key_id(&form)
            .send()
            .await
            .expect("by alias")
            .key_metadata
            .expect("m");
        assert_eq!(d.key_id(), m.key_id());
    }
    // Management operations take only key id or key ARN.
    let e = c
        .disable_key()
        .key_id("alias/forms")
        .send()
        .await
        .expect_err("alias on management op");
    assert_eq!(err(&e).0, "NotFoundException");
    let e = c.describe_key().send().await.expect_err("null");
    assert_eq!(
        err(&e).1,
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn state_machine_follows_the_key_state_table() {
    let s = Server::start();
    let c = s.client();
    let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
    let id = m.key_id();
    let arn = m.arn().expect("arn");
    c.update_key_description()
        .key_id(id)
        .description("new")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        c.describe_key()
            .key_id(id)
            .send()
            .await
            .expect("d")
            .key_metadata
            .expect("m")
            .description(),
        Some("new")
    );

    c.disable_key().key_id(id).send().await.expect("disable");
    let d = c
        .describe_key()
        .key_id(id)
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    assert_eq!(d.key_state(), Some(&KeyState::Disabled));
    assert!(!d.enabled());
    let e = c
        .encrypt()
        .key_id(id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err(&e), ("DisabledException".into(), format!("{arn} is disabled.")));
    let e = c
        .generate_data_key()
        .key_id(id)
        .number_of_bytes(32)
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err(&e).0, "DisabledException");
    c.disable_key().key_id(id).send().await.expect("disable twice is fine");
    c.enable_key().key_id(id).send().await.expect("enable");
    let ct = c
        .encrypt()
        .key_id(id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect("enabled again");

    let e = c
        .cancel_key_deletion()
        .key_id(id)
        .send()
        .await
        .expect_err("not pending");
    assert_eq!(
        err(&e),
        (
            "KMSInvalidStateException".into(),
            format!("{arn} is not pending deletion.")
        )
    );
    for bad in [6, 31] {
        let e = c
            .schedule_key_deletion()
            .key_id(id)
            .pending_window_in_days(bad)
            .send()
            .await
            .expect_err("window");
        assert_eq!(err(&e).0, "ValidationException");
        assert!(err(&e).1.contains(&format!("Value '{bad}' at 'pendingWindowInDays'")));
    }
    let sch = c.schedule_key_deletion().key_id(id).send().await.expect("schedule");
    assert_eq!(sch.key_id(), Some(arn));
    assert_eq!(sch.pending_window_in_days(), Some(30));
    assert_eq!(sch.key_state(), Some(&KeyState::PendingDeletion));
    let d = c
        .describe_key()
        .key_id(id)
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    assert_eq!(d.key_state(), Some(&KeyState::PendingDeletion));
    let days = (d.deletion_date().expect("date").secs() - d.creation_date().expect("c").secs()) as f64 / 86400.0;
    assert!((29.9..=30.1).contains(&days), "{days}");
    let pending = format!("{arn} is pending deletion.");
    let e = c
        .encrypt()
        .key_id(id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("pd");
    assert_eq!(err(&e), ("KMSInvalidStateException".into(), pending.clone()));
    let e = c
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob.clone().expect("ct"))
        .send()
        .await
        .expect_err("pd");
    assert_eq!(err(&e), ("KMSInvalidStateException".into(), pending.clone()));
    let e = c.enable_key().key_id(id).send().await.expect_err("pd");
    assert_eq!(err(&e), ("KMSInvalidStateException".into(), pending.clone()));
    let e = c
        .update_key_description()
        .key_id(id)
        .description("x")
        .send()
        .await
        .expect_err("pd");
    assert_eq!(err(&e).0, "KMSInvalidStateException");
    let e = c.schedule_key_deletion().key_id(id).send().await.expect_err("pd twice");
    assert_eq!(err(&e), ("KMSInvalidStateException".into(), pending.clone()));
    let e = c
        .create_alias()
        .alias_name("alias/pd")
        .target_key_id(id)
        .send()
        .await
        .expect_err("pd");
    assert_eq!(err(&e).0, "KMSInvalidStateException");
    // Still allowed while pending deletion.
    c.get_key_policy().key_id(id).send().await.expect("policy");
    c.list_resource_tags().key_id(id).send().await.expect("tags");

    let cancel = c.cancel_key_deletion().key_id(id).send().await.expect("cancel");
    assert_eq!(cancel.key_id(), Some(arn));
    let d = c
        .describe_key()
        .key_id(id)
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    assert_eq!(d.key_state(), Some(&KeyState::Disabled));
    assert!(d.deletion_date().is_none());
    let sch = c
        .schedule_key_deletion()
        .key_id(id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule 7");
    assert_eq!(sch.pending_window_in_days(), Some(7));
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_custom_key_stores_is_empty_and_names_nothing() {
    let s = Server::start();
    let c = s.client();
    let out = c.describe_custom_key_stores().send().await.expect("describe");
    assert!(out.custom_key_stores().is_empty());
    assert!(!out.truncated());
    let e = c
        .describe_custom_key_stores()
        .custom_key_store_id("cks-1234567890abcdef0")
        .send()
        .await
        .expect_err("unknown id");
    assert_eq!(err(&e).0, "CustomKeyStoreNotFoundException");
    let e = c
        .describe_custom_key_stores()
        .custom_key_store_name("ExampleKeyStore")
        .send()
        .await
        .expect_err("unknown name");
    assert_eq!(err(&e).0, "CustomKeyStoreNotFoundException");
    let e = c.describe_custom_key_stores().limit(0).send().await.expect_err("limit");
    assert_eq!(err(&e).0, "ValidationException");
}
