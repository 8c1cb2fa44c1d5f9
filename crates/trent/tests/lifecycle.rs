//! Key lifecycle through the real binary: rotation, AWS managed keys, imported key material
//! (wrapped by an independent implementation), and last usage.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::types::{
    AlgorithmSpec, ExpirationModelType, ImportType, IncludeKeyMaterial, KeyManagerType, KeySpec, KeyState,
    KeyUsageType, RotationType, SigningAlgorithmSpec, WrappingKeySpec,
};
use common::{b64, blob, crosscheck, err, unb64, Server};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn rotation_operations_follow_aws() {
    let s = Server::start();
    let c = s.client();
    let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
    let (id, arn) = (m.key_id().to_owned(), m.arn().expect("arn").to_owned());
    let first = m.current_key_material_id().expect("material").to_owned();
    let st = c.get_key_rotation_status().key_id(&id).send().await.expect("status");
    assert!(!st.key_rotation_enabled());
    assert!(st.rotation_period_in_days().is_none() && st.next_rotation_date().is_none());
    assert_eq!(st.key_id(), Some(arn.as_str()));
    for bad in [89, 2561] {
        let e = c
            .enable_key_rotation()
            .key_id(&id)
            .rotation_period_in_days(bad)
            .send()
            .await
            .expect_err("period");
        assert_eq!(err(&e).0, "ValidationException");
        assert!(err(&e).1.contains(&format!("Value '{bad}' at 'rotationPeriodInDays'")));
    }
    c.enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(90)
        .send()
        .await
        .expect("enable");
    let st = c.get_key_rotation_status().key_id(&id).send().await.expect("status");
    assert!(st.key_rotation_enabled());
    assert_eq!(st.rotation_period_in_days(), Some(90));
    let next = st.next_rotation_date().expect("next").secs();
    let days = (next - m.creation_date().expect("c").secs()) as f64 / 86400.0;
    assert!((89.9..=90.1).contains(&days), "{days}");

    let old = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"before"))
        .send()
        .await
        .expect("enc")
        .ciphertext_blob
        .expect("ct");
    let r = c.rotate_key_on_demand().key_id(&id).send().await.expect("rotate");
    assert_eq!(r.key_id(), Some(arn.as_str()));
    let now = c
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    let second = now.current_key_material_id().expect("material").to_owned();
    assert_ne!(first, second);
    let d = c.decrypt().ciphertext_blob(old).send().await.expect("old ciphertext");
    assert_eq!(d.plaintext().expect("pt").as_ref(), b"before");
    assert_eq!(d.key_material_id(), Some(first.as_str()));
    let fresh = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"after"))
        .send()
        .await
        .expect("enc")
        .ciphertext_blob
        .expect("ct");
    assert_eq!(
        c.decrypt()
            .ciphertext_blob(fresh)
            .send()
            .await
            .expect("dec")
            .key_material_id(),
        Some(second.as_str())
    );
    // The on-demand rotation did not move the automatic schedule.
    let st = c.get_key_rotation_status().key_id(&id).send().await.expect("status");
    assert_eq!(st.next_rotation_date().expect("next").secs(), next);

    let list = c.list_key_rotations().key_id(&id).send().await.expect("list");
    assert_eq!(list.rotations().len(), 1);
    let e0 = &list.rotations()[0];
    assert_eq!(e0.rotation_type(), Some(&RotationType::OnDemand));
    assert_eq!(e0.key_material_id(), Some(second.as_str()));
    assert!(e0.rotation_date().is_some());
    let all = c
        .list_key_rotations()
        .key_id(&id)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .send()
        .await
        .expect("all");
    assert_eq!(all.rotations().len(), 2);
    assert_eq!(all.rotations()[0].key_material_id(), Some(first.as_str()));
    assert_eq!(
        all.rotations()[0].key_material_state().map(|s| s.as_str()),
        Some("NON_CURRENT")
    );
    assert_eq!(
        all.rotations()[1].key_material_state().map(|s| s.as_str()),
        Some("CURRENT")
    );
    assert!(all.rotations()[0].rotation_type().is_none());

    for _ in 1..25 {
        c.rotate_key_on_demand().key_id(&id).send().await.expect("rotate");
    }
    let e = c.rotate_key_on_demand().key_id(&id).send().await.expect_err("26th");
    assert_eq!(
        err(&e),
        (
            "LimitExceededException".into(),
            format!("The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {arn}")
        )
    );
    let page = c.list_key_rotations().key_id(&id).limit(10).send().await.expect("page");
    assert_eq!(page.rotations().len(), 10);
    assert!(page.truncated());

    c.schedule_key_deletion().key_id(&id).send().await.expect("schedule");
    assert!(!c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .expect("status")
        .key_rotation_enabled());
    let e = c.enable_key_rotation().key_id(&id).send().await.expect_err("pd");
    assert_eq!(err(&e).0, "KMSInvalidStateException");
    c.cancel_key_deletion().key_id(&id).send().await.expect("cancel");
    assert!(c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .expect("status")
        .key_rotation_enabled());
    let e = c
        .disable_key_rotation()
        .key_id(&id)
        .send()
        .await
        .expect_err("disabled key");
    assert_eq!(err(&e), ("DisabledException".into(), format!("{arn} is disabled.")));
    let e = c
        .rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect_err("disabled key");
    assert_eq!(err(&e).0, "DisabledException");
    c.enable_key().key_id(&id).send().await.expect("enable key");
    c.disable_key_rotation()
        .key_id(&id)
        .send()
        .await
        .expect("disable rotation");
    let st = c.get_key_rotation_status().key_id(&id).send().await.expect("status");
    assert!(!st.key_rotation_enabled() && st.next_rotation_date().is_none());

    let asym = c
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect("ecc");
    let asym_id = asym.key_metadata().expect("m").key_id().to_owned();
    for e in [
        err(&c
            .rotate_key_on_demand()
            .key_id(&asym_id)
            .send()
            .await
            .expect_err("asym")),
        err(&c.enable_key_rotation().key_id(&asym_id).send().await.expect_err("asym")),
    ] {
        assert_eq!(e, ("UnsupportedOperationException".into(), String::new()));
    }
    // Its status is readable, and always false ("The key rotation status of these KMS keys is
    // always false"): Terraform's aws_kms_key reads it for every key it manages.
    let st = c
        .get_key_rotation_status()
        .key_id(&asym_id)
        .send()
        .await
        .expect("status of a key that cannot rotate");
    assert!(!st.key_rotation_enabled());
    assert_eq!(st.rotation_period_in_days(), None);
    assert!(st.key_id().is_some_and(|k| k.ends_with(&asym_id)));
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_managed_keys_are_created_on_first_use_and_protected() {
    let s = Server::start();
    let c = s.client();
    let d = c
        .describe_key()
        .key_id("alias/aws/s3")
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("m");
    assert_eq!(d.key_manager(), Some(&KeyManagerType::Aws));
    assert_eq!(d.key_state(), Some(&KeyState::Enabled));
    let (id, arn) = (d.key_id().to_owned(), d.arn().expect("arn").to_owned());
    let again = c
        .describe_key()
        .key_id("alias/aws/s3")
        .send()
        .await
        .expect("again")
        .key_metadata
        .expect("m");
    assert_eq!(again.key_id(), id, "one key per service and account");
    let keys = c.list_keys().send().await.expect("keys");
    assert!(keys.keys().iter().any(|k| k.key_id() == Some(id.as_str())));
    let aliases = c.list_aliases().send().await.expect("aliases");
    let a = aliases
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some("alias/aws/s3"))
        .expect("alias listed");
    assert_eq!(a.target_key_id(), Some(id.as_str()));
    let st = c.get_key_rotation_status().key_id(&id).send().await.expect("status");
    assert!(st.key_rotation_enabled());
    assert_eq!(st.rotation_period_in_days(), Some(365));
    let policy = c.get_key_policy().key_id(&id).send().await.expect("policy");
    assert!(policy.policy().expect("p").contains("kms:ViaService"));

    let e = c
        .disable_key_rotation()
        .key_id(&id)
        .send()
        .await
        .expect_err("rotation is mandatory");
    assert_eq!(err(&e).0, "UnsupportedOperationException");
    let e = c
        .rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect_err("no on-demand");
    assert_eq!(err(&e).0, "UnsupportedOperationException");
    let denied = [
        err(&c.schedule_key_deletion().key_id(&id).send().await.expect_err("delete")),
        err(&c.disable_key().key_id(&id).send().await.expect_err("disable")),
        err(&c
            .put_key_policy()
            .key_id(&id)
            .policy("{}")
            .send()
            .await
            .expect_err("policy")),
        err(&c
            .encrypt()
            .key_id("alias/aws/s3")
            .plaintext(blob(b"x"))
            .send()
            .await
            .expect_err("direct use")),
        err(&c
            .create_alias()
            .alias_name("alias/mine")
            .target_key_id(&id)
            .send()
            .await
            .expect_err("alias")),
    ];
    for (code, msg) in denied {
        assert_eq!(code, "AccessDeniedException", "{msg}");
        assert!(msg.contains(&arn), "{msg}");
    }
    let e = c
        .tag_resource()
        .key_id(&id)
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("k")
                .tag_value("v")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect_err("tag");
    assert_eq!(err(&e).0, "AccessDeniedException");
    let e = c
        .delete_alias()
        .alias_name("alias/aws/s3")
        .send()
        .await
        .expect_err("reserved");
    assert_eq!(err(&e).0, "NotAuthorizedException");
    let e = c
        .describe_key()
        .key_id("alias/aws/not-a-service")
        .send()
        .await
        .expect_err("unknown");
    assert_eq!(err(&e).0, "NotFoundException");
}

async fn import(
    c: &aws_sdk_kms::Client,
    id: &str,
    material: &[u8],
    alg: &str,
    spec: WrappingKeySpec,
    expiration: Option<ExpirationModelType>,
) -> Result<aws_sdk_kms::operation::import_key_material::ImportKeyMaterialOutput, (String, String)> {
    let p = c
        .get_parameters_for_import()
        .key_id(id)
        .wrapping_algorithm(AlgorithmSpec::from(alg))
        .wrapping_key_spec(spec)
        .send()
        .await
        .expect("parameters");
    let wrapped = crosscheck(
        &json!([{"op":"wrap","spki":b64(p.public_key().expect("pk").as_ref()),"alg":alg,"material":b64(material)}]),
    );
    c.import_key_material()
        .key_id(id)
        .import_token(p.import_token().expect("token").clone())
        .encrypted_key_material(blob(&unb64(&wrapped[0])))
        .set_expiration_model(expiration)
        .send()
        .await
        .map_err(|e| err(&e))
}

#[tokio::test(flavor = "multi_thread")]
async fn imported_symmetric_material_lifecycle() {
    let s = Server::start();
    let c = s.client();
    let material: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
    let m = c
        .create_key()
        .origin(aws_sdk_kms::types::OriginType::External)
        .send()
        .await
        .expect("create");
    let m = m.key_metadata().expect("m");
    let (id, arn) = (m.key_id().to_owned(), m.arn().expect("arn").to_owned());
    assert_eq!(m.key_state(), Some(&KeyState::PendingImport));
    assert!(!m.enabled());
    assert!(m.current_key_material_id().is_none());
    let e = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("pending");
    assert_eq!(
        err(&e),
        ("KMSInvalidStateException".into(), format!("{arn} is pending import."))
    );

    let generated = c.create_key().send().await.expect("create").key_metadata.expect("m");
    let e = c
        .get_parameters_for_import()
        .key_id(generated.key_id())
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .expect_err("AWS_KMS origin");
    assert_eq!(
        err(&e),
        (
            "UnsupportedOperationException".into(),
            format!(
                "{} origin is AWS_KMS which is not valid for this operation.",
                generated.arn().expect("arn")
            )
        )
    );
    let e = import(&c, &id, &material, "RSAES_OAEP_SHA_256", WrappingKeySpec::Rsa4096, None)
        .await
        .expect_err("no ValidTo");
    assert_eq!(
        e,
        (
            "ValidationException".into(),
            "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".into()
        )
    );
    let out = import(
        &c,
        &id,
        &material,
        "RSAES_OAEP_SHA_256",
        WrappingKeySpec::Rsa4096,
        Some(ExpirationModelType::KeyMaterialDoesNotExpire),
    )
    .await
    .expect("import");
    assert_eq!(out.key_id(), Some(arn.as_str()));
    let material_id = out.key_material_id().expect("id").to_owned();
    let d = c
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    assert_eq!(d.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        d.expiration_model(),
        Some(&ExpirationModelType::KeyMaterialDoesNotExpire)
    );
    assert_eq!(d.current_key_material_id(), Some(material_id.as_str()));
    let ct = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"imported"))
        .send()
        .await
        .expect("enc")
        .ciphertext_blob
        .expect("ct");

    let del = c
        .delete_imported_key_material()
        .key_id(&id)
        .send()
        .await
        .expect("delete");
    assert_eq!(del.key_material_id(), Some(material_id.as_str()));
    let d = c
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    assert_eq!(d.key_state(), Some(&KeyState::PendingImport));
    assert!(d.expiration_model().is_none());
    assert_eq!(d.current_key_material_id(), Some(material_id.as_str()));
    let e = c
        .decrypt()
        .ciphertext_blob(ct.clone())
        .send()
        .await
        .expect_err("pending import");
    assert_eq!(
        err(&e),
        ("KMSInvalidStateException".into(), format!("{arn} is pending import."))
    );

    // Re-import of the same bytes (with another wrapping) restores the key and its ciphertext.
    let again = import(
        &c,
        &id,
        &material,
        "RSA_AES_KEY_WRAP_SHA_256",
        WrappingKeySpec::Rsa2048,
        Some(ExpirationModelType::KeyMaterialDoesNotExpire),
    )
    .await
    .expect("reimport");
    assert_eq!(again.key_material_id(), Some(material_id.as_str()));
    let pt = c
        .decrypt()
        .ciphertext_blob(ct)
        .send()
        .await
        .expect("decrypt after reimport");
    assert_eq!(pt.plaintext().expect("pt").as_ref(), b"imported");
    let e = import(
        &c,
        &id,
        &[7u8; 32],
        "RSAES_OAEP_SHA_1",
        WrappingKeySpec::Rsa2048,
        Some(ExpirationModelType::KeyMaterialDoesNotExpire),
    )
    .await
    .expect_err("different material");
    assert_eq!(e.0, "IncorrectKeyMaterialException");

    // Bad wrapping, tampered and foreign tokens.
    let p = c
        .get_parameters_for_import()
        .key_id(&id)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .expect("params");
    let valid_to = p.parameters_valid_to().expect("valid to").secs()
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("t")
            .as_secs() as i64;
    assert!((86_000..=86_400).contains(&valid_to), "valid for 24 hours: {valid_to}");
    let e = c
        .import_key_material()
        .key_id(&id)
        .import_token(p.import_token().expect("t").clone())
        .encrypted_key_material(blob(&[1u8; 256]))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .expect_err("garbage");
    assert_eq!(err(&e), ("InvalidCiphertextException".into(), String::new()));
    let mut token = p.import_token().expect("t").as_ref().to_vec();
    token[30] ^= 1;
    let e = c
        .import_key_material()
        .key_id(&id)
        .import_token(blob(&token))
        .encrypted_key_material(blob(&[1u8; 256]))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .expect_err("tampered");
    assert_eq!(err(&e).0, "InvalidImportTokenException");
    let other = c
        .create_key()
        .origin(aws_sdk_kms::types::OriginType::External)
        .send()
        .await
        .expect("other");
    let e = c
        .import_key_material()
        .key_id(other.key_metadata().expect("m").key_id())
        .import_token(p.import_token().expect("t").clone())
        .encrypted_key_material(blob(&[1u8; 256]))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .expect_err("foreign token");
    assert_eq!(err(&e).0, "InvalidImportTokenException");

    // Imported keys refuse automatic rotation but rotate on demand with new imported material.
    let e = c.enable_key_rotation().key_id(&id).send().await.expect_err("automatic");
    assert_eq!(
        err(&e),
        (
            "UnsupportedOperationException".into(),
            format!("{arn} origin is EXTERNAL which is not valid for this operation.")
        )
    );
    let e = c
        .rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect_err("nothing pending");
    assert_eq!(
        err(&e),
        (
            "KMSInvalidStateException".into(),
            format!("No available key material pending rotation for the key: {arn}.")
        )
    );
    let p2 = c
        .get_parameters_for_import()
        .key_id(&id)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .expect("params");
    let new_material = [42u8; 32];
    let wrapped = crosscheck(
        &json!([{"op":"wrap","spki":b64(p2.public_key().expect("pk").as_ref()),"alg":"RSAES_OAEP_SHA_256","material":b64(&new_material)}]),
    );
    let pending = c
        .import_key_material()
        .key_id(&id)
        .import_token(p2.import_token().expect("t").clone())
        .encrypted_key_material(blob(&unb64(&wrapped[0])))
        .import_type(ImportType::NewKeyMaterial)
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .expect("new material");
    let pending_id = pending.key_material_id().expect("id").to_owned();
    let list = c
        .list_key_rotations()
        .key_id(&id)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .send()
        .await
        .expect("list");
    let states: Vec<_> = list
        .rotations()
        .iter()
        .map(|r| r.key_material_state().map(|s| s.as_str().to_owned()))
        .collect();
    assert_eq!(
        states,
        [Some("CURRENT".to_owned()), Some("PENDING_ROTATION".to_owned())]
    );
    assert_eq!(list.rotations()[1].import_state().map(|s| s.as_str()), Some("IMPORTED"));
    c.rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect("rotate to imported material");
    let d = c
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    assert_eq!(d.current_key_material_id(), Some(pending_id.as_str()));

    // Neither the material nor any encoding of it is anywhere in the data directory.
    s.assert_absent_from_data_dir(&material);
    s.assert_absent_from_data_dir(&new_material);
}

#[tokio::test(flavor = "multi_thread")]
async fn imported_rsa_signing_key_signs_for_its_owner() {
    let s = Server::start();
    let c = s.client();
    let mine = crosscheck(&json!([{"op":"gen_rsa","bits":2048}]));
    let pkcs8 = unb64(&mine[0]["pkcs8"]);
    let m = c
        .create_key()
        .origin(aws_sdk_kms::types::OriginType::External)
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect("create");
    let id = m.key_metadata().expect("m").key_id().to_owned();
    import(
        &c,
        &id,
        &pkcs8,
        "RSA_AES_KEY_WRAP_SHA_256",
        WrappingKeySpec::Rsa3072,
        Some(ExpirationModelType::KeyMaterialDoesNotExpire),
    )
    .await
    .expect("import RSA private key");
    let pk = c.get_public_key().key_id(&id).send().await.expect("pk");
    assert_eq!(
        b64(pk.public_key().expect("spki").as_ref()),
        mine[0]["spki"].as_str().expect("spki")
    );
    let sig = c
        .sign()
        .key_id(&id)
        .message(blob(b"owned"))
        .signing_algorithm(SigningAlgorithmSpec::RsassaPssSha256)
        .send()
        .await
        .expect("sign");
    let ok = crosscheck(
        &json!([{"op":"verify","spki":mine[0]["spki"],"alg":"RSASSA_PSS_SHA_256","message":b64(b"owned"),"message_type":"RAW","signature":b64(sig.signature().expect("s").as_ref())}]),
    );
    assert_eq!(ok[0], json!(true));
    let e = import(
        &c,
        &id,
        &unb64(&crosscheck(&json!([{"op":"gen_rsa","bits":2048}]))[0]["pkcs8"]),
        "RSA_AES_KEY_WRAP_SHA_256",
        WrappingKeySpec::Rsa3072,
        Some(ExpirationModelType::KeyMaterialDoesNotExpire),
    )
    .await
    .expect_err("other RSA key");
    assert_eq!(e.0, "IncorrectKeyMaterialException");
    s.assert_absent_from_data_dir(&pkcs8);
}

#[tokio::test(flavor = "multi_thread")]
async fn last_usage_is_recorded_and_survives_restart() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let mut s = Server::start_in(&dir, &[]);
    let c = s.client();
    let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
    let id = m.key_id().to_owned();
    let u = c.get_key_last_usage().key_id(&id).send().await.expect("usage");
    assert!(u.key_last_usage().is_none());
    assert!(u.tracking_start_date().is_some() && u.key_creation_date().is_some());
    let enc = c.encrypt().key_id(&id).plaintext(blob(b"x")).send().await.expect("enc");
    let request_id = enc.request_id().expect("request id").to_owned();
    let u = c.get_key_last_usage().key_id(&id).send().await.expect("usage");
    let last = u.key_last_usage().expect("recorded");
    assert_eq!(last.operation().map(|o| o.as_str()), Some("Encrypt"));
    assert_eq!(last.kms_request_id(), Some(request_id.as_str()));
    let _ = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(&[0u8; 4097]))
        .send()
        .await
        .expect_err("failed calls do not count");
    let dec = c
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().expect("ct").clone())
        .send()
        .await
        .expect("dec");
    let dec_id = dec.request_id().expect("id").to_owned();
    assert!(s.stop());
    let s2 = Server::start_in(&dir, &[]);
    let u = s2
        .client()
        .get_key_last_usage()
        .key_id(&id)
        .send()
        .await
        .expect("usage after restart");
    let last = u.key_last_usage().expect("persisted");
    assert_eq!(last.operation().map(|o| o.as_str()), Some("Decrypt"));
    assert_eq!(last.kms_request_id(), Some(dec_id.as_str()));
}
