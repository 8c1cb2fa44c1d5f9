//! Multi-Region keys in a deployment of one Region (issue 14, first part): `CreateKey
//! MultiRegion=true` makes an `mrk-` primary with AWS's `MultiRegionConfiguration`, for every
//! key type; it encrypts, signs, MACs and rotates like any key; ReplicateKey and
//! UpdatePrimaryRegion are validated, authorized and answered as AWS answers them for what one
//! Region can hold.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::types::{KeySpec, KeyUsageType, MultiRegionKeyType, OriginType};
use common::{blob, err, Server};

#[tokio::test(flavor = "multi_thread")]
async fn multi_region_primaries_work_and_replication_is_answered_as_aws_does() {
    let s = Server::start();
    let c = s.client();
    let m = c
        .create_key()
        .multi_region(true)
        .description("mrk")
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m");
    assert!(m.key_id.starts_with("mrk-") && m.key_id.len() == 36, "{}", m.key_id);
    assert_eq!(m.multi_region, Some(true));
    let conf = m.multi_region_configuration.clone().expect("configuration");
    assert_eq!(conf.multi_region_key_type, Some(MultiRegionKeyType::Primary));
    let primary = conf.primary_key.expect("primary");
    assert_eq!(primary.arn.as_deref(), m.arn.as_deref());
    assert_eq!(primary.region.as_deref(), Some(s.region.as_str()));
    assert_eq!(conf.replica_keys.as_deref(), Some(&[][..]));
    assert!(m.arn.as_deref().expect("arn").ends_with(&format!(":key/{}", m.key_id)));

    // It encrypts and decrypts (the ciphertext names the mrk id), and rotates.
    let ct = c
        .encrypt()
        .key_id(&m.key_id)
        .plaintext(blob(b"everywhere"))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    let out = c.decrypt().ciphertext_blob(ct).send().await.expect("decrypt");
    assert_eq!(out.plaintext().expect("pt").as_ref(), b"everywhere");
    assert_eq!(out.key_id.as_deref(), m.arn.as_deref());
    c.enable_key_rotation()
        .key_id(&m.key_id)
        .send()
        .await
        .expect("rotation");
    c.rotate_key_on_demand()
        .key_id(&m.key_id)
        .send()
        .await
        .expect("on demand");

    // A single-Region key says MultiRegion=false and has no configuration.
    let single = c.create_key().send().await.expect("create").key_metadata.expect("m");
    assert_eq!(single.multi_region, Some(false));
    assert!(single.multi_region_configuration.is_none());

    // Every key type can be multi-Region, imported material too.
    for (spec, usage) in [
        (KeySpec::EccNistP256, KeyUsageType::SignVerify),
        (KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac),
        (KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt),
    ] {
        let k = c
            .create_key()
            .multi_region(true)
            .key_spec(spec.clone())
            .key_usage(usage)
            .send()
            .await
            .expect("create")
            .key_metadata
            .expect("m");
        assert!(k.key_id.starts_with("mrk-"), "{spec:?}");
    }
    let imported = c
        .create_key()
        .multi_region(true)
        .origin(OriginType::External)
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m");
    assert_eq!(imported.key_state, Some(aws_sdk_kms::types::KeyState::PendingImport));

    // ReplicateKey: a single-Region key is not a primary (AWS's recorded message); a Region
    // this endpoint does not serve is refused by name; a malformed Region is a validation error.
    let e = c
        .replicate_key()
        .key_id(&single.key_id)
        .replica_region("eu-west-1")
        .send()
        .await
        .expect_err("not multi-Region");
    assert_eq!(
        err(&e),
        (
            "UnsupportedOperationException".to_owned(),
            format!(
                "{} is not a multi-region primary key.",
                single.arn.as_deref().expect("arn")
            )
        )
    );
    let e = c
        .replicate_key()
        .key_id(&m.key_id)
        .replica_region("eu-west-1")
        .send()
        .await
        .expect_err("other Region");
    let (code, message) = err(&e);
    assert_eq!(code, "UnsupportedOperationException");
    assert!(message.contains("eu-west-1"), "{message}");
    let e = c
        .replicate_key()
        .key_id(&m.key_id)
        .replica_region(&s.region)
        .send()
        .await
        .expect_err("its own Region");
    assert_eq!(err(&e).0, "AlreadyExistsException");
    let e = c
        .replicate_key()
        .key_id(&m.key_id)
        .replica_region("moon")
        .send()
        .await
        .expect_err("bad Region");
    let (code, message) = err(&e);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("replicaRegion"), "{message}");

    // UpdatePrimaryRegion: its own Region is where it is primary already; elsewhere refused.
    c.update_primary_region()
        .key_id(&m.key_id)
        .primary_region(&s.region)
        .send()
        .await
        .expect("already primary");
    let e = c
        .update_primary_region()
        .key_id(&m.key_id)
        .primary_region("ap-south-1")
        .send()
        .await
        .expect_err("other Region");
    assert_eq!(err(&e).0, "UnsupportedOperationException");
    let e = c
        .update_primary_region()
        .key_id(&single.key_id)
        .primary_region(&s.region)
        .send()
        .await
        .expect_err("single-Region");
    assert_eq!(err(&e).0, "UnsupportedOperationException");

    // kms:MultiRegion and kms:MultiRegionKeyType are condition facts: a user allowed to encrypt
    // only with multi-Region primaries.
    let (arn, user) = s.user("mrk-user");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "kms:Encrypt",
            "Resource": "*",
            "Condition": {
                "Bool": {"kms:MultiRegion": "true"},
                "StringEquals": {"kms:MultiRegionKeyType": "PRIMARY"}
            }
        }]
    });
    let (status, xml) = s.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "mrk-user"),
        ("PolicyName", "mrk-only"),
        ("PolicyDocument", &policy.to_string()),
    ]);
    assert_eq!(status, 200, "{xml}");
    assert!(arn.contains("mrk-user"));
    user.encrypt()
        .key_id(&m.key_id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect("allowed on a multi-Region primary");
    let e = user
        .encrypt()
        .key_id(&single.key_id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("denied on a single-Region key");
    assert_eq!(err(&e).0, "AccessDeniedException");
}
