//! External key stores both ways (issue 16): a Trent serving the XKS proxy API (checked against
//! the specification's examples with curl's SigV4 and the Python `cryptography` package), and a
//! Trent whose custom key store is that proxy — create, connect, keys, double encryption,
//! disconnection, credential rotation, deletion — driven by the AWS SDK for Rust.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_kms::types::{
    ConnectionStateType, CustomKeyStoreType, KeySpec, KeyState, KeyUsageType, OriginType,
    XksProxyAuthenticationCredentialType, XksProxyConnectivityType,
};
use common::xks::{create_user, port, proxy, proxy_key, xks_credential};
use common::{blob, certs, decrypt, encrypt, err, Server};

#[tokio::test(flavor = "multi_thread")]
async fn the_xks_proxy_api_follows_the_specification() {
    let tmp = tempfile::tempdir().expect("tmp");
    let b = proxy(tmp.path());
    let user = create_user(&b, "xks-store");
    let (ak, sk) = xks_credential(&b, "xks-store");
    let c = b.client();
    // An imported AES key whose material the test knows, to check the ciphertext independently.
    let imported = c
        .create_key()
        .origin(OriginType::External)
        .policy(
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", user.split(':').nth(4).expect("a"))}, "Action": "kms:*", "Resource": "*"},
                {"Effect": "Allow", "Principal": {"AWS": user}, "Action": ["kms:DescribeKey", "kms:Encrypt", "kms:Decrypt"], "Resource": "*"},
            ]})
            .to_string(),
        )
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    let material = [0x5au8; 32];
    common::import_material(&c, &imported, &material).await.expect("import");
    let denied = proxy_key(&b, None, KeySpec::SymmetricDefault).await;
    let rsa = proxy_key(&b, Some(&user), KeySpec::Rsa2048).await;
    let disabled = proxy_key(&b, Some(&user), KeySpec::SymmetricDefault).await;
    c.disable_key().key_id(&disabled).send().await.expect("disable");
    let url = b.xks.clone().expect("XKS listener");
    let ca = tmp.path().join("ca.pem");
    common::run_python(
        &b,
        "test_xks_proxy.py",
        &[
            ("XKS_URL", url.replace("127.0.0.1", "localhost").as_str()),
            ("XKS_AK", &ak),
            ("XKS_SK", &sk),
            ("XKS_CA", ca.to_str().expect("utf-8")),
            ("KEY_IMPORTED", &imported),
            ("MATERIAL_HEX", &common::hex_lower(&material)),
            ("KEY_DENIED", &denied),
            ("KEY_RSA", &rsa),
            ("KEY_DISABLED", &disabled),
        ],
        "xks proxy ok",
    );
    // Every request is audited with its requestMetadata (spec "Logging"), never its plaintext.
    let line = common::wait_for_audit_line(&b.dir, |l| {
        l.contains("kms-xks-proxy") && l.contains("\"Encrypt\"") && l.contains("4112f4d6-db54-4af4-ae30-c55a22a8dfae")
    });
    assert!(line.contains(&imported), "{line}");
    assert!(line.contains("arn:aws:iam::123456789012:user/Alice"), "{line}");
    assert!(
        !line.contains("SGVsbG8gV29ybGQh") && !line.contains("Hello World"),
        "{line}"
    );
    common::wait_for_audit_line(&b.dir, |l| {
        l.contains("kms-xks-proxy") && l.contains("AccessDeniedException")
    });
}

/// Waits until the store's ConnectionState is `state`; returns its ConnectionErrorCode.
async fn wait_connection(c: &aws_sdk_kms::Client, id: &str, state: ConnectionStateType) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = c
            .describe_custom_key_stores()
            .custom_key_store_id(id)
            .send()
            .await
            .expect("describe");
        let s = &out.custom_key_stores()[0];
        if s.connection_state() == Some(&state) {
            return s.connection_error_code().map(|c| c.as_str().to_owned());
        }
        assert!(
            Instant::now() < deadline,
            "store {id} is {:?}, not {state:?}",
            s.connection_state()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn credential(ak: &str, sk: &str) -> XksProxyAuthenticationCredentialType {
    XksProxyAuthenticationCredentialType::builder()
        .access_key_id(ak)
        .raw_secret_access_key(sk)
        .build()
        .expect("credential")
}

#[tokio::test(flavor = "multi_thread")]
async fn trent_keeps_keys_in_another_trent_acting_as_its_external_key_store() {
    let tmp = tempfile::tempdir().expect("tmp");
    let b = proxy(tmp.path());
    let user = create_user(&b, "xks-store");
    let (ak, sk) = xks_credential(&b, "xks-store");
    let external = proxy_key(&b, Some(&user), KeySpec::SymmetricDefault).await;
    let external2 = proxy_key(&b, Some(&user), KeySpec::SymmetricDefault).await;
    let not_allowed = proxy_key(&b, None, KeySpec::SymmetricDefault).await;
    let rsa = proxy_key(&b, Some(&user), KeySpec::Rsa2048).await;
    let port = port(&b);
    let endpoint = format!("https://localhost:{port}");
    let ca = tmp.path().join("ca.pem");
    let a = Server::start_with(
        &tmp.path().join("kms"),
        &[],
        &[("TRENT_XKS_CA_FILE", ca.to_str().expect("utf-8"))],
    );
    let c = a.client();
    let create = |name: &str, path: &str, cred: XksProxyAuthenticationCredentialType| {
        c.create_custom_key_store()
            .custom_key_store_name(name)
            .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
            .xks_proxy_uri_endpoint(&endpoint)
            .xks_proxy_uri_path(path)
            .xks_proxy_connectivity(XksProxyConnectivityType::PublicEndpoint)
            .xks_proxy_authentication_credential(cred)
    };

    // CreateCustomKeyStore's checks and the proxy's refusals in AWS's words.
    let e = create("bad", "/kms/xks/v1", credential(&ak, &"A".repeat(44)))
        .send()
        .await
        .expect_err("wrong secret");
    assert_eq!(err(&e).0, "XksProxyIncorrectAuthenticationCredentialException", "{e:?}");
    let e = c
        .create_custom_key_store()
        .custom_key_store_name("unreachable")
        .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
        .xks_proxy_uri_endpoint("https://localhost:1")
        .xks_proxy_uri_path("/kms/xks/v1")
        .xks_proxy_connectivity(XksProxyConnectivityType::PublicEndpoint)
        .xks_proxy_authentication_credential(credential(&ak, &sk))
        .send()
        .await
        .expect_err("unreachable");
    assert_eq!(err(&e).0, "XksProxyUriUnreachableException", "{e:?}");
    let e = create("vpc", "/kms/xks/v1", credential(&ak, &sk))
        .xks_proxy_connectivity(XksProxyConnectivityType::VpcEndpointService)
        .xks_proxy_vpc_endpoint_service_name("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0")
        .send()
        .await
        .expect_err("vpc");
    assert_eq!(err(&e).0, "XksProxyVpcEndpointServiceNotFoundException", "{e:?}");
    let e = c
        .create_custom_key_store()
        .custom_key_store_name("hsm")
        .cloud_hsm_cluster_id("cluster-1234567abcd")
        .trust_anchor_certificate("x")
        .key_store_password("password1")
        .send()
        .await
        .expect_err("cloudhsm");
    assert_eq!(err(&e).0, "UnsupportedOperationException", "{e:?}");
    assert!(err(&e).1.contains("CloudHSM"), "{e:?}");
    let e = create("shape", "/kms/xks/v1", credential("lowercase-is-not-base32", &sk))
        .send()
        .await
        .expect_err("id shape");
    assert_eq!(err(&e).0, "ValidationException", "{e:?}");

    let store = create("hyok", "/kms/xks/v1", credential(&ak, &sk))
        .send()
        .await
        .expect("create store")
        .custom_key_store_id
        .expect("id");
    assert!(store.starts_with("cks-"), "{store}");
    let e = create("hyok", "/other/kms/xks/v1", credential(&ak, &sk))
        .send()
        .await
        .expect_err("name");
    assert_eq!(err(&e).0, "CustomKeyStoreNameInUseException", "{e:?}");
    let e = create("other", "/kms/xks/v1", credential(&ak, &sk))
        .send()
        .await
        .expect_err("uri");
    assert_eq!(err(&e).0, "XksProxyUriInUseException", "{e:?}");
    let listed = c.describe_custom_key_stores().send().await.expect("list");
    let s = &listed.custom_key_stores()[0];
    assert_eq!(s.custom_key_store_type(), Some(&CustomKeyStoreType::ExternalKeyStore));
    assert_eq!(s.connection_state(), Some(&ConnectionStateType::Disconnected));
    let x = s.xks_proxy_configuration().expect("xks configuration");
    assert_eq!(
        (x.access_key_id(), x.uri_endpoint(), x.uri_path()),
        (Some(ak.as_str()), Some(endpoint.as_str()), Some("/kms/xks/v1"))
    );
    assert!(!format!("{listed:?}").contains(&sk), "the secret is never shown");
    // GenerateRandom can use only CloudHSM key stores (the model's CustomKeyStoreId text).
    let e = c
        .generate_random()
        .number_of_bytes(8)
        .custom_key_store_id(&store)
        .send()
        .await
        .expect_err("xks");
    assert_eq!(err(&e).0, "UnsupportedOperationException", "{e:?}");
    let e = c
        .generate_random()
        .number_of_bytes(8)
        .custom_key_store_id("cks-0000000000000000a")
        .send()
        .await
        .expect_err("none");
    assert_eq!(err(&e).0, "CustomKeyStoreNotFoundException", "{e:?}");

    let new_key = |xks_id: &str| {
        c.create_key()
            .origin(OriginType::ExternalKeyStore)
            .custom_key_store_id(&store)
            .xks_key_id(xks_id)
    };
    for (id, code) in [
        ("cks-0000000000000000a", "CustomKeyStoreNotFoundException"),
        (store.as_str(), "UnsupportedOperationException"),
    ] {
        let e = c
            .create_key()
            .origin(OriginType::AwsCloudhsm)
            .custom_key_store_id(id)
            .send()
            .await
            .expect_err("cloudhsm origin");
        assert_eq!(err(&e).0, code, "{e:?}");
    }
    let e = new_key(&external).send().await.expect_err("disconnected");
    assert_eq!(err(&e).0, "CustomKeyStoreInvalidStateException", "{e:?}");

    // Connecting is asynchronous.
    c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect("connect");
    wait_connection(&c, &store, ConnectionStateType::Connected).await;

    let meta = new_key(&external)
        .description("hyok")
        .send()
        .await
        .expect("create key")
        .key_metadata
        .expect("m");
    assert_eq!(meta.origin(), Some(&OriginType::ExternalKeyStore));
    assert_eq!(meta.custom_key_store_id(), Some(store.as_str()));
    assert_eq!(
        meta.xks_key_configuration().and_then(|x| x.id()),
        Some(external.as_str())
    );
    let key = meta.key_id().to_owned();
    for (xks_id, code) in [
        (external.as_str(), "XksKeyAlreadyInUseException"),
        ("0123abcd-0000-4000-8000-000000000000", "XksKeyNotFoundException"),
        (not_allowed.as_str(), "KMSInvalidStateException"),
        (rsa.as_str(), "XksKeyInvalidConfigurationException"),
    ] {
        let e = new_key(xks_id).send().await.expect_err(code);
        assert_eq!(err(&e).0, code, "{e:?}");
    }
    let e = new_key(&external2)
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::EncryptDecrypt)
        .send()
        .await
        .expect_err("rsa");
    assert_eq!(err(&e).0, "UnsupportedOperationException", "{e:?}");
    let e = c.enable_key_rotation().key_id(&key).send().await.expect_err("rotation");
    assert_eq!(err(&e).0, "UnsupportedOperationException", "{e:?}");
    let e = c
        .rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .expect_err("on demand");
    assert_eq!(err(&e).0, "UnsupportedOperationException", "{e:?}");
    let e = c
        .list_key_rotations()
        .key_id(&key)
        .send()
        .await
        .expect_err("list rotations");
    assert_eq!(err(&e).0, "UnsupportedOperationException", "{e:?}");

    // Encrypt, decrypt, data keys and re-encryption, with an encryption context.
    let ct = c
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"held by my own key"))
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    assert_eq!(ct.as_ref()[0], 2, "version-2 blob (double encryption)");
    let back = c
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect("decrypt");
    assert_eq!(back.plaintext().expect("p").as_ref(), b"held by my own key");
    assert_eq!(back.key_id(), meta.arn());
    let e = c
        .decrypt()
        .ciphertext_blob(ct.clone())
        .send()
        .await
        .expect_err("context");
    assert_eq!(err(&e).0, "InvalidCiphertextException", "{e:?}");
    let dk = c
        .generate_data_key()
        .key_id(&key)
        .number_of_bytes(32)
        .send()
        .await
        .expect("data key");
    let opened = decrypt(&c, dk.ciphertext_blob().expect("ct")).await;
    assert_eq!(opened, dk.plaintext().expect("p").as_ref());
    let e = c
        .generate_data_key_pair()
        .key_id(&key)
        .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .expect_err("pair");
    assert_eq!(err(&e).0, "UnsupportedOperationException", "{e:?}");
    let plain_key = common::new_key(&c).await;
    let moved = c
        .re_encrypt()
        .ciphertext_blob(ct.clone())
        .source_encryption_context("purpose", "test")
        .destination_key_id(&plain_key)
        .send()
        .await
        .expect("re-encrypt out")
        .ciphertext_blob
        .expect("ct");
    let home = c
        .re_encrypt()
        .ciphertext_blob(moved)
        .destination_key_id(&key)
        .send()
        .await
        .expect("re-encrypt in");
    assert_eq!(
        decrypt(&c, home.ciphertext_blob().expect("ct")).await,
        b"held by my own key"
    );

    // Neither side alone decrypts. The proxy alone: its Decrypt of the outer layer (the blob's
    // parts, as the ciphertext format documents them) yields only Trent's inner ciphertext.
    let blob_bytes = ct.as_ref();
    let header = &blob_bytes[..50];
    let iv_len = usize::from(blob_bytes[50]);
    let iv = &blob_bytes[51..51 + iv_len];
    let tag = &blob_bytes[51 + iv_len..67 + iv_len];
    let meta_len = usize::from(blob_bytes[67 + iv_len]);
    let metadata = &blob_bytes[68 + iv_len..68 + iv_len + meta_len];
    let outer = &blob_bytes[68 + iv_len + meta_len..];
    let inner = xks_decrypt(&b, tmp.path(), (&ak, &sk), &external, header, iv, tag, metadata, outer);
    assert_eq!(inner[0], 1, "the proxy's plaintext is Trent's version-1 blob");
    assert!(
        !inner.windows(18).any(|w| w == b"held by my own key"),
        "no plaintext in the inner layer"
    );
    let e = c
        .decrypt()
        .ciphertext_blob(blob(&inner))
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect_err("inner alone");
    assert_eq!(
        err(&e).0,
        "InvalidCiphertextException",
        "a key in an external key store never skips its external key"
    );
    let e = b
        .client()
        .decrypt()
        .ciphertext_blob(blob(&inner))
        .send()
        .await
        .expect_err("proxy's KMS");
    assert_eq!(err(&e).0, "InvalidCiphertextException", "{e:?}");

    // The external key disabled in its key manager: crypto fails as the specification says.
    b.client()
        .disable_key()
        .key_id(&external)
        .send()
        .await
        .expect("disable external");
    let e = c
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("external disabled");
    assert_eq!(err(&e).0, "KMSInvalidStateException");
    assert!(
        err(&e).1.contains("is not enabled in the external key manager"),
        "{e:?}"
    );
    b.client()
        .enable_key()
        .key_id(&external)
        .send()
        .await
        .expect("enable external");

    // Trent's material alone: a disconnected store opens nothing, and its keys are Unavailable.
    c.disconnect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect("disconnect");
    wait_connection(&c, &store, ConnectionStateType::Disconnected).await;
    let e = c
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect_err("disconnected");
    assert_eq!(err(&e).0, "KMSInvalidStateException");
    assert!(
        err(&e).1.contains("not connected to its external key store proxy"),
        "{e:?}"
    );
    let m = c
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("m");
    assert_eq!((m.key_state(), m.enabled()), (Some(&KeyState::Unavailable), false));
    let e = c
        .disconnect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect_err("twice");
    assert_eq!(err(&e).0, "CustomKeyStoreInvalidStateException", "{e:?}");

    // Reconnected, the same ciphertext decrypts again.
    c.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect("reconnect");
    wait_connection(&c, &store, ConnectionStateType::Connected).await;
    assert_eq!(
        c.describe_key()
            .key_id(&key)
            .send()
            .await
            .expect("d")
            .key_metadata
            .expect("m")
            .key_state(),
        Some(&KeyState::Enabled)
    );
    let back = c
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect("decrypt again");
    assert_eq!(back.plaintext().expect("p").as_ref(), b"held by my own key");

    // The external key rotated in its key manager (a Trent key's material): ciphertexts made
    // before decrypt (ciphertextMetadata names the material), new ones use the new material.
    b.client()
        .rotate_key_on_demand()
        .key_id(&external)
        .send()
        .await
        .expect("rotate the external key");
    let back = c
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect("old ciphertext");
    assert_eq!(back.plaintext().expect("p").as_ref(), b"held by my own key");
    assert_eq!(
        decrypt(&c, &encrypt(&c, &key, b"after external rotation").await).await,
        b"after external rotation"
    );

    // Rotating the proxy credential (spec "SigV4 credentials rotation"): a second credential
    // on the proxy, UpdateCustomKeyStore while connected, the old credential deleted.
    let (ak2, sk2) = xks_credential(&b, "xks-store");
    let e = c
        .update_custom_key_store()
        .custom_key_store_id(&store)
        .xks_proxy_authentication_credential(credential(&ak2, &"B".repeat(44)))
        .send()
        .await
        .expect_err("wrong new secret");
    assert_eq!(err(&e).0, "XksProxyIncorrectAuthenticationCredentialException", "{e:?}");
    c.update_custom_key_store()
        .custom_key_store_id(&store)
        .new_custom_key_store_name("hyok-2")
        .xks_proxy_authentication_credential(credential(&ak2, &sk2))
        .send()
        .await
        .expect("rotate credential");
    let (status, xml) = b.iam(&[
        ("Action", "DeleteAccessKey"),
        ("UserName", "xks-store"),
        ("AccessKeyId", &ak),
    ]);
    assert_eq!(status, 200, "{xml}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        decrypt(&c, &encrypt(&c, &key, b"after rotation").await).await,
        b"after rotation"
    );
    let e = c
        .update_custom_key_store()
        .custom_key_store_id(&store)
        .xks_proxy_uri_endpoint("https://127.0.0.2")
        .send()
        .await
        .expect_err("endpoint while connected");
    assert_eq!(err(&e).0, "CustomKeyStoreInvalidStateException", "{e:?}");

    // A store whose proxy refuses its credential fails to connect, with the code saying why.
    let second = create("second", "/tenant-b/kms/xks/v1", credential(&ak2, &sk2))
        .send()
        .await
        .expect("second store")
        .custom_key_store_id
        .expect("id");
    let (status, xml) = b.iam(&[
        ("Action", "UpdateAccessKey"),
        ("UserName", "xks-store"),
        ("AccessKeyId", &ak2),
        ("Status", "Inactive"),
    ]);
    assert_eq!(status, 200, "{xml}");
    tokio::time::sleep(Duration::from_millis(5100)).await;
    c.connect_custom_key_store()
        .custom_key_store_id(&second)
        .send()
        .await
        .expect("connect second");
    let code = wait_connection(&c, &second, ConnectionStateType::Failed).await;
    assert_eq!(code.as_deref(), Some("INVALID_CREDENTIALS"));
    let e = c
        .connect_custom_key_store()
        .custom_key_store_id(&second)
        .send()
        .await
        .expect_err("failed");
    assert_eq!(err(&e).0, "CustomKeyStoreInvalidStateException", "{e:?}");
    c.disconnect_custom_key_store()
        .custom_key_store_id(&second)
        .send()
        .await
        .expect("disconnect failed");
    c.delete_custom_key_store()
        .custom_key_store_id(&second)
        .send()
        .await
        .expect("delete empty store");
    let e = c
        .describe_custom_key_stores()
        .custom_key_store_id(&second)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err(&e).0, "CustomKeyStoreNotFoundException", "{e:?}");

    // A store with keys is not deleted, whatever their state.
    let e = c
        .delete_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect_err("connected");
    assert_eq!(err(&e).0, "CustomKeyStoreInvalidStateException", "{e:?}");
    c.disconnect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect("disconnect");
    c.schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule");
    let e = c
        .delete_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect_err("has keys");
    assert_eq!(err(&e).0, "CustomKeyStoreHasCMKsException", "{e:?}");
}

/// The proxy's Decrypt, signed with the XKS credential by `aws-sigv4` (the outer layer only).
#[allow(clippy::too_many_arguments)]
fn xks_decrypt(
    b: &Server,
    tmp: &Path,
    (ak, sk): (&str, &str),
    key: &str,
    aad: &[u8],
    iv: &[u8],
    tag: &[u8],
    metadata: &[u8],
    ciphertext: &[u8],
) -> Vec<u8> {
    let body = serde_json::json!({
        "requestMetadata": {"awsPrincipalArn": "arn:aws:iam::111122223333:user/test", "kmsOperation": "Decrypt", "kmsRequestId": "test"},
        "ciphertext": common::b64(ciphertext),
        "ciphertextMetadata": common::b64(metadata),
        "encryptionAlgorithm": "AES_GCM",
        "additionalAuthenticatedData": common::b64(aad),
        "initializationVector": common::b64(iv),
        "authenticationTag": common::b64(tag),
    })
    .to_string();
    let url = b.xks.as_deref().expect("xks").replace("127.0.0.1", "localhost");
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(tmp.join("ca.pem"))
        .args([
            "-X",
            "POST",
            "--aws-sigv4",
            "aws:amz:us-east-1:kms-xks-proxy",
            "--user",
            &format!("{ak}:{sk}"),
        ])
        .args(["-H", "Content-Type: application/json", "--data-binary", &body])
        .arg(format!("{url}/keys/{key}/decrypt"))
        .output()
        .expect("curl");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("proxy JSON");
    common::unb64(&doc["plaintext"])
}

#[tokio::test(flavor = "multi_thread")]
async fn the_xks_listener_serves_tls_only_and_checks_client_certificates() {
    let tmp = tempfile::tempdir().expect("tmp");
    // No certificate at all: the start is refused, saying why.
    let log = common::Starting::spawn(&tmp.path().join("none"), &["--xks-listen", "127.0.0.1:0"], &[]).fails();
    assert!(log.contains("--xks-listen serves TLS only"), "{log}");
    // mTLS: client certificates must chain to the client CA and name the subject.
    certs::issue(tmp.path(), "ca", "proxy", "DNS:localhost,IP:127.0.0.1");
    let client = "extendedKeyUsage=clientAuth";
    certs::issue_with(tmp.path(), "clients", "kms", "cks.kms.eu-west-1.amazonaws.com", client);
    certs::issue_with(tmp.path(), "clients", "other", "someone.example.com", client);
    certs::issue_with(
        tmp.path(),
        "rogue",
        "rogue-client",
        "cks.kms.eu-west-1.amazonaws.com",
        client,
    );
    let p = |f: &str| tmp.path().join(f).to_str().expect("utf-8").to_owned();
    let s = Server::start_in(
        &tmp.path().join("mtls"),
        &[
            "--xks-listen",
            "127.0.0.1:0",
            "--xks-tls-cert",
            &p("proxy.pem"),
            "--xks-tls-key",
            &p("proxy.key"),
            "--xks-client-ca",
            &p("clients.pem"),
            "--xks-client-subject",
            "cks.kms.eu-west-1.amazonaws.com",
        ],
    );
    let url = format!(
        "{}/health",
        s.xks.as_deref().expect("xks").replace("127.0.0.1", "localhost")
    );
    let curl = |cert: Option<&str>| {
        let mut cmd = Command::new("curl");
        cmd.args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--cacert",
            &p("ca.pem"),
            "-X",
            "POST",
            "--data-binary",
            "{}",
        ]);
        if let Some(name) = cert {
            cmd.args([
                "--cert",
                &p(&format!("{name}.pem")),
                "--key",
                &p(&format!("{name}.key")),
            ]);
        }
        let out = cmd.arg(&url).output().expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The right client certificate reaches the API (401: the request is not signed).
    assert_eq!(curl(Some("kms")), "401");
    // No certificate, another subject, another CA: the handshake ends (curl reports 000).
    assert_eq!(curl(None), "000");
    assert_eq!(curl(Some("other")), "000");
    assert_eq!(curl(Some("rogue-client")), "000");

    // A Trent whose custom key store is this proxy presents its client certificate
    // (--xks-proxy-client-cert); one without a certificate cannot reach the proxy.
    create_user(&s, "mtls-store");
    let (ak, sk) = xks_credential(&s, "mtls-store");
    let port = port(&s);
    let kms = Server::start_with(
        &tmp.path().join("kms"),
        &[
            "--xks-proxy-client-cert",
            &p("kms.pem"),
            "--xks-proxy-client-key",
            &p("kms.key"),
        ],
        &[("TRENT_XKS_CA_FILE", &p("ca.pem"))],
    );
    let bare = Server::start_with(&tmp.path().join("bare"), &[], &[("TRENT_XKS_CA_FILE", &p("ca.pem"))]);
    for (server, expected) in [(&kms, None), (&bare, Some("XksProxyUriUnreachableException"))] {
        let out = server
            .client()
            .create_custom_key_store()
            .custom_key_store_name("mtls")
            .custom_key_store_type(CustomKeyStoreType::ExternalKeyStore)
            .xks_proxy_uri_endpoint(format!("https://localhost:{port}"))
            .xks_proxy_uri_path("/kms/xks/v1")
            .xks_proxy_connectivity(XksProxyConnectivityType::PublicEndpoint)
            .xks_proxy_authentication_credential(credential(&ak, &sk))
            .send()
            .await;
        match (out, expected) {
            (Ok(o), None) => assert!(o.custom_key_store_id().is_some_and(|id| id.starts_with("cks-"))),
            (Err(e), Some(code)) => assert_eq!(err(&e).0, code, "{e:?}"),
            (other, _) => panic!("{other:?}"),
        }
    }
}
