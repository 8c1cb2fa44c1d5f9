//! Asymmetric, HMAC and key-agreement keys through the real binary, with every signature,
//! ciphertext and shared secret checked by an independent implementation (the Python
//! `cryptography` package, via tests/py/crosscheck.py).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_lc_rs::digest;
use aws_sdk_kms::types::{
    DataKeyPairSpec, EncryptionAlgorithmSpec, KeyAgreementAlgorithmSpec, KeySpec, KeyUsageType, MacAlgorithmSpec,
    MessageType, SigningAlgorithmSpec,
};
use common::{b64, blob, crosscheck, err, unb64, Server};
use serde_json::json;

async fn create(c: &aws_sdk_kms::Client, spec: KeySpec, usage: KeyUsageType) -> aws_sdk_kms::types::KeyMetadata {
    c.create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
}

fn sha(alg: &str, m: &[u8]) -> Vec<u8> {
    let a = if alg.ends_with("256") {
        &digest::SHA256
    } else if alg.ends_with("384") {
        &digest::SHA384
    } else {
        &digest::SHA512
    };
    digest::digest(a, m).as_ref().to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_signing_spec_is_verified_by_python() {
    let s = Server::start();
    let c = s.client();
    let cases: &[(KeySpec, &[&str])] = &[
        (
            KeySpec::Rsa2048,
            &[
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512",
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
            ],
        ),
        (KeySpec::Rsa3072, &["RSASSA_PSS_SHA_256"]),
        (KeySpec::Rsa4096, &["RSASSA_PKCS1_V1_5_SHA_512"]),
        (KeySpec::EccNistP256, &["ECDSA_SHA_256"]),
        (KeySpec::EccNistP384, &["ECDSA_SHA_384"]),
        (KeySpec::EccNistP521, &["ECDSA_SHA_512"]),
        (KeySpec::EccSecgP256K1, &["ECDSA_SHA_256"]),
    ];
    let message = b"Trent signs what it is asked to sign".to_vec();
    let mut tasks = Vec::new();
    for (spec, algs) in cases {
        let m = create(&c, spec.clone(), KeyUsageType::SignVerify).await;
        let id = m.key_id();
        let listed: Vec<&str> = m.signing_algorithms().iter().map(|a| a.as_str()).collect();
        for a in *algs {
            assert!(listed.contains(a), "{spec:?} lists {a}");
        }
        assert!(m.encryption_algorithms().is_empty());
        let pk = c.get_public_key().key_id(id).send().await.expect("public key");
        assert_eq!(pk.key_id(), m.arn());
        assert_eq!(pk.key_spec(), Some(spec));
        assert_eq!(pk.key_usage(), Some(&KeyUsageType::SignVerify));
        let spki = pk.public_key().expect("spki").as_ref().to_vec();
        for alg in *algs {
            let sa = SigningAlgorithmSpec::from(*alg);
            let raw = c
                .sign()
                .key_id(id)
                .message(blob(&message))
                .signing_algorithm(sa.clone())
                .send()
                .await
                .expect("sign");
            assert_eq!(raw.key_id(), m.arn());
            let raw_sig = raw.signature().expect("sig").as_ref().to_vec();
            let d = sha(alg, &message);
            let dig = c
                .sign()
                .key_id(id)
                .message(blob(&d))
                .message_type(MessageType::Digest)
                .signing_algorithm(sa.clone())
                .send()
                .await
                .expect("sign digest");
            let dig_sig = dig.signature().expect("sig").as_ref().to_vec();
            // Python checks the RAW signature on the message and the DIGEST one on the same message.
            tasks.push(json!({"op":"verify","spki":b64(&spki),"alg":alg,"message":b64(&message),"message_type":"RAW","signature":b64(&raw_sig)}));
            tasks.push(json!({"op":"verify","spki":b64(&spki),"alg":alg,"message":b64(&message),"message_type":"RAW","signature":b64(&dig_sig)}));
            tasks.push(json!({"op":"verify","spki":b64(&spki),"alg":alg,"message":b64(&d),"message_type":"DIGEST","signature":b64(&raw_sig)}));
            // Trent's Verify agrees, and refuses a tampered message.
            let ok = c
                .verify()
                .key_id(id)
                .message(blob(&message))
                .signature(blob(&dig_sig))
                .signing_algorithm(sa.clone())
                .send()
                .await
                .expect("verify");
            assert!(ok.signature_valid());
            let e = c
                .verify()
                .key_id(id)
                .message(blob(b"other"))
                .signature(blob(&raw_sig))
                .signing_algorithm(sa.clone())
                .send()
                .await
                .expect_err("bad");
            assert_eq!(err(&e), ("KMSInvalidSignatureException".into(), String::new()));
            let e = c
                .sign()
                .key_id(id)
                .message(blob(&d[1..]))
                .message_type(MessageType::Digest)
                .signing_algorithm(sa)
                .send()
                .await
                .expect_err("len");
            assert_eq!(
                err(&e),
                (
                    "ValidationException".into(),
                    format!("Digest is invalid length for algorithm {alg}.")
                )
            );
        }
    }
    let results = crosscheck(&json!(tasks));
    assert_eq!(results.len(), tasks.len());
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r, &json!(true), "task {i}: {}", tasks[i]);
    }
    // And python rejects a tampered signature (the check can fail).
    let mut bad = tasks[0].clone();
    bad["message"] = json!(b64(b"tampered"));
    assert_eq!(crosscheck(&json!([bad]))[0], json!(false));
}

#[tokio::test(flavor = "multi_thread")]
async fn ed25519_and_ml_dsa() {
    let s = Server::start();
    let c = s.client();
    let ed = create(&c, KeySpec::EccNistEdwards25519, KeyUsageType::SignVerify).await;
    let spki = c
        .get_public_key()
        .key_id(ed.key_id())
        .send()
        .await
        .expect("pk")
        .public_key
        .expect("spki");
    let sig = c
        .sign()
        .key_id(ed.key_id())
        .message(blob(b"edwards"))
        .signing_algorithm(SigningAlgorithmSpec::Ed25519Sha512)
        .send()
        .await
        .expect("sign");
    assert_eq!(sig.signature().expect("sig").as_ref().len(), 64);
    let mut tasks = vec![
        json!({"op":"verify","spki":b64(spki.as_ref()),"alg":"ED25519_SHA_512","message":b64(b"edwards"),"message_type":"RAW","signature":b64(sig.signature().expect("s").as_ref())}),
    ];
    let e = c
        .sign()
        .key_id(ed.key_id())
        .message(blob(&[1; 64]))
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::Ed25519Sha512)
        .send()
        .await
        .expect_err("ED25519_SHA_512 takes RAW only");
    assert_eq!(err(&e).0, "ValidationException");
    let d = sha("512", b"edwards");
    let ph = c
        .sign()
        .key_id(ed.key_id())
        .message(blob(&d))
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::Ed25519PhSha512)
        .send()
        .await
        .expect("ph sign");
    let v = c
        .verify()
        .key_id(ed.key_id())
        .message(blob(&d))
        .message_type(MessageType::Digest)
        .signature(ph.signature().expect("s").clone())
        .signing_algorithm(SigningAlgorithmSpec::Ed25519PhSha512)
        .send()
        .await
        .expect("ph verify");
    assert!(v.signature_valid());
    let e = c
        .sign()
        .key_id(ed.key_id())
        .message(blob(b"raw"))
        .signing_algorithm(SigningAlgorithmSpec::Ed25519PhSha512)
        .send()
        .await
        .expect_err("PH takes DIGEST only");
    assert_eq!(err(&e).0, "ValidationException");

    for (spec, len) in [
        (KeySpec::MlDsa44, 2420),
        (KeySpec::MlDsa65, 3309),
        (KeySpec::MlDsa87, 4627),
    ] {
        let m = create(&c, spec, KeyUsageType::SignVerify).await;
        let listed: Vec<&str> = m.signing_algorithms().iter().map(|a| a.as_str()).collect();
        assert_eq!(listed, ["ML_DSA_SHAKE_256"]);
        let spki = c
            .get_public_key()
            .key_id(m.key_id())
            .send()
            .await
            .expect("pk")
            .public_key
            .expect("spki");
        let msg = vec![0x5a; 4096];
        let raw = c
            .sign()
            .key_id(m.key_id())
            .message(blob(&msg))
            .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
            .send()
            .await
            .expect("sign raw");
        assert_eq!(raw.signature().expect("s").as_ref().len(), len);
        let mu = unb64(&crosscheck(&json!([{"op":"mu","spki":b64(spki.as_ref()),"message":b64(&msg)}]))[0]);
        let ext = c
            .sign()
            .key_id(m.key_id())
            .message(blob(&mu))
            .message_type(MessageType::ExternalMu)
            .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
            .send()
            .await
            .expect("sign mu");
        for sig in [raw.signature().expect("s"), ext.signature().expect("s")] {
            tasks.push(json!({"op":"verify","spki":b64(spki.as_ref()),"alg":"ML_DSA_SHAKE_256","message":b64(&msg),"message_type":"RAW","signature":b64(sig.as_ref())}));
        }
        let v = c
            .verify()
            .key_id(m.key_id())
            .message(blob(&mu))
            .message_type(MessageType::ExternalMu)
            .signature(raw.signature().expect("s").clone())
            .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
            .send()
            .await
            .expect("verify raw signature through mu");
        assert!(v.signature_valid());
        let e = c
            .sign()
            .key_id(m.key_id())
            .message(blob(&mu[..32]))
            .message_type(MessageType::ExternalMu)
            .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
            .send()
            .await
            .expect_err("mu is 64 bytes");
        assert_eq!(err(&e).0, "ValidationException");
    }
    for (i, r) in crosscheck(&json!(tasks)).iter().enumerate() {
        assert_eq!(r, &json!(true), "task {i}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rsa_encryption_in_both_directions() {
    let s = Server::start();
    let c = s.client();
    for (spec, limits) in [
        (KeySpec::Rsa2048, (214, 190)),
        (KeySpec::Rsa3072, (342, 318)),
        (KeySpec::Rsa4096, (470, 446)),
    ] {
        let m = create(&c, spec.clone(), KeyUsageType::EncryptDecrypt).await;
        let listed: Vec<&str> = m.encryption_algorithms().iter().map(|a| a.as_str()).collect();
        assert_eq!(listed, ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
        let spki = c
            .get_public_key()
            .key_id(m.key_id())
            .send()
            .await
            .expect("pk")
            .public_key
            .expect("spki");
        for (alg, max) in [
            (EncryptionAlgorithmSpec::RsaesOaepSha1, limits.0),
            (EncryptionAlgorithmSpec::RsaesOaepSha256, limits.1),
        ] {
            let pt = vec![7u8; max];
            let ct = c
                .encrypt()
                .key_id(m.key_id())
                .plaintext(blob(&pt))
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect("encrypt");
            assert_eq!(ct.encryption_algorithm(), Some(&alg));
            let d = c
                .decrypt()
                .key_id(m.key_id())
                .ciphertext_blob(ct.ciphertext_blob().expect("ct").clone())
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect("decrypt");
            assert_eq!(d.plaintext().expect("pt").as_ref(), pt.as_slice());
            assert!(d.key_material_id().is_none());
            let e = c
                .encrypt()
                .key_id(m.key_id())
                .plaintext(blob(&vec![7u8; max + 1]))
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect_err("too long");
            assert_eq!(
                err(&e),
                (
                    "ValidationException".into(),
                    format!(
                        "Algorithm {} and key spec {} cannot encrypt data larger than {max} bytes.",
                        alg.as_str(),
                        spec.as_str()
                    )
                )
            );
            // Ciphertext made by Python with the downloaded public key decrypts in Trent.
            let theirs = crosscheck(
                &json!([{"op":"oaep_encrypt","spki":b64(spki.as_ref()),"alg":alg.as_str(),"plaintext":b64(b"from python")}]),
            );
            let d = c
                .decrypt()
                .key_id(m.key_id())
                .ciphertext_blob(blob(&unb64(&theirs[0])))
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect("decrypt python ciphertext");
            assert_eq!(d.plaintext().expect("pt").as_ref(), b"from python");
        }
        let e = c
            .encrypt()
            .key_id(m.key_id())
            .plaintext(blob(b"x"))
            .send()
            .await
            .expect_err("no algorithm");
        assert_eq!(err(&e).0, "InvalidKeyUsageException");
        let ct = c
            .encrypt()
            .key_id(m.key_id())
            .plaintext(blob(b"x"))
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .send()
            .await
            .expect("enc");
        let ct = ct.ciphertext_blob().expect("ct").clone();
        let e = c
            .decrypt()
            .ciphertext_blob(ct.clone())
            .send()
            .await
            .expect_err("no key id");
        assert_eq!(err(&e).0, "InvalidCiphertextException");
        let e = c
            .decrypt()
            .key_id(m.key_id())
            .ciphertext_blob(ct.clone())
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
            .send()
            .await
            .expect_err("wrong alg");
        assert_eq!(err(&e), ("InvalidCiphertextException".into(), String::new()));
        let e = c
            .encrypt()
            .key_id(m.key_id())
            .plaintext(blob(b"x"))
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .encryption_context("a", "b")
            .send()
            .await
            .expect_err("no context for asymmetric keys");
        assert_eq!(err(&e).0, "ValidationException");
        // ReEncrypt from RSA to a symmetric key.
        let sym = c.create_key().send().await.expect("sym").key_metadata.expect("m");
        let r = c
            .re_encrypt()
            .ciphertext_blob(ct)
            .source_key_id(m.key_id())
            .source_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .destination_key_id(sym.key_id())
            .send()
            .await
            .expect("re-encrypt");
        assert_eq!(
            r.source_encryption_algorithm(),
            Some(&EncryptionAlgorithmSpec::RsaesOaepSha256)
        );
        let d = c
            .decrypt()
            .ciphertext_blob(r.ciphertext_blob().expect("ct").clone())
            .send()
            .await
            .expect("decrypt");
        assert_eq!(d.plaintext().expect("pt").as_ref(), b"x");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn key_agreement_matches_python_ecdh() {
    let s = Server::start();
    let c = s.client();
    for spec in [KeySpec::EccNistP256, KeySpec::EccNistP384, KeySpec::EccNistP521] {
        let m = create(&c, spec.clone(), KeyUsageType::KeyAgreement).await;
        let listed: Vec<&str> = m.key_agreement_algorithms().iter().map(|a| a.as_str()).collect();
        assert_eq!(listed, ["ECDH"]);
        assert!(m.signing_algorithms().is_empty());
        let pk = c.get_public_key().key_id(m.key_id()).send().await.expect("pk");
        assert_eq!(pk.key_agreement_algorithms().len(), 1);
        let theirs = crosscheck(&json!([{"op":"ecdh","spki":b64(pk.public_key().expect("spki").as_ref())}]));
        let out = c
            .derive_shared_secret()
            .key_id(m.key_id())
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(blob(&unb64(&theirs[0]["peer_spki"])))
            .send()
            .await
            .expect("derive");
        assert_eq!(
            out.shared_secret().expect("secret").as_ref(),
            unb64(&theirs[0]["secret"]).as_slice()
        );
        assert_eq!(out.key_id(), m.arn());
        assert_eq!(out.key_origin().map(|o| o.as_str()), Some("AWS_KMS"));
        let e = c
            .derive_shared_secret()
            .key_id(m.key_id())
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(blob(b"not a key"))
            .send()
            .await
            .expect_err("bad peer");
        assert_eq!(err(&e), ("ValidationException".into(), String::new()));
        let e = c
            .sign()
            .key_id(m.key_id())
            .message(blob(b"x"))
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .send()
            .await
            .expect_err("usage");
        assert_eq!(
            err(&e),
            (
                "InvalidKeyUsageException".into(),
                format!(
                    "{} key usage is KEY_AGREEMENT which is not valid for Sign.",
                    m.arn().expect("arn")
                )
            )
        );
    }
    let signer = create(&c, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let e = c
        .derive_shared_secret()
        .key_id(signer.key_id())
        .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
        .public_key(blob(b"x"))
        .send()
        .await
        .expect_err("sign key");
    assert_eq!(
        err(&e),
        (
            "InvalidKeyUsageException".into(),
            format!(
                "{} key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret.",
                signer.arn().expect("arn")
            )
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hmac_keys_generate_and_verify() {
    let s = Server::start();
    let c = s.client();
    for (spec, alg, len) in [
        (KeySpec::Hmac224, MacAlgorithmSpec::HmacSha224, 28),
        (KeySpec::Hmac256, MacAlgorithmSpec::HmacSha256, 32),
        (KeySpec::Hmac384, MacAlgorithmSpec::HmacSha384, 48),
        (KeySpec::Hmac512, MacAlgorithmSpec::HmacSha512, 64),
    ] {
        let m = create(&c, spec.clone(), KeyUsageType::GenerateVerifyMac).await;
        assert_eq!(m.mac_algorithms(), std::slice::from_ref(&alg));
        assert!(m.encryption_algorithms().is_empty());
        let mac = c
            .generate_mac()
            .key_id(m.key_id())
            .message(blob(b"msg"))
            .mac_algorithm(alg.clone())
            .send()
            .await
            .expect("mac");
        assert_eq!(mac.mac().expect("mac").as_ref().len(), len);
        assert_eq!(mac.key_id(), m.arn());
        let again = c
            .generate_mac()
            .key_id(m.key_id())
            .message(blob(b"msg"))
            .mac_algorithm(alg.clone())
            .send()
            .await
            .expect("mac");
        assert_eq!(mac.mac(), again.mac(), "HMAC is deterministic");
        let ok = c
            .verify_mac()
            .key_id(m.key_id())
            .message(blob(b"msg"))
            .mac(mac.mac().expect("m").clone())
            .mac_algorithm(alg.clone())
            .send()
            .await
            .expect("verify");
        assert!(ok.mac_valid());
        let e = c
            .verify_mac()
            .key_id(m.key_id())
            .message(blob(b"msG"))
            .mac(mac.mac().expect("m").clone())
            .mac_algorithm(alg.clone())
            .send()
            .await
            .expect_err("bad");
        assert_eq!(err(&e), ("KMSInvalidMacException".into(), String::new()));
        let e = c
            .encrypt()
            .key_id(m.key_id())
            .plaintext(blob(b"x"))
            .send()
            .await
            .expect_err("usage");
        assert_eq!(err(&e).0, "InvalidKeyUsageException");
    }
    let k224 = create(&c, KeySpec::Hmac224, KeyUsageType::GenerateVerifyMac).await;
    let e = c
        .generate_mac()
        .key_id(k224.key_id())
        .message(blob(b"m"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect_err("alg");
    assert_eq!(
        err(&e),
        (
            "InvalidKeyUsageException".into(),
            "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.".into()
        )
    );
    let e = c
        .generate_mac()
        .key_id(k224.key_id())
        .message(blob(b"m"))
        .mac_algorithm(MacAlgorithmSpec::from("INVALID"))
        .send()
        .await
        .expect_err("enum");
    assert_eq!(
        err(&e).1,
        "1 validation error detected: Value 'INVALID' at 'macAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [HMAC_SHA_384, HMAC_SHA_256, HMAC_SHA_224, HMAC_SHA_512]"
    );
    let e = c
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .send()
        .await
        .expect_err("usage required");
    assert_eq!(
        err(&e).1,
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_and_spec_errors() {
    let s = Server::start();
    let c = s.client();
    let e = c
        .create_key()
        .key_spec(KeySpec::EccSecgP256K1)
        .key_usage(KeyUsageType::KeyAgreement)
        .send()
        .await
        .expect_err("k1");
    assert_eq!(
        err(&e),
        (
            "ValidationException".into(),
            "KeyUsage KEY_AGREEMENT is not compatible with KeySpec ECC_SECG_P256K1".into()
        )
    );
    let e = c
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::EncryptDecrypt)
        .send()
        .await
        .expect_err("hmac");
    assert_eq!(err(&e).0, "ValidationException");
    let e = c
        .create_key()
        .key_spec(KeySpec::Sm2)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect_err("sm2");
    assert_eq!(err(&e).0, "UnsupportedOperationException");
    let sym = c.create_key().send().await.expect("sym").key_metadata.expect("m");
    let arn = sym.arn().expect("arn");
    let e = c
        .sign()
        .key_id(sym.key_id())
        .message(blob(b"x"))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect_err("sign sym");
    assert_eq!(
        err(&e),
        (
            "InvalidKeyUsageException".into(),
            format!("{arn} key usage is ENCRYPT_DECRYPT which is not valid for Sign.")
        )
    );
    let e = c
        .get_public_key()
        .key_id(sym.key_id())
        .send()
        .await
        .expect_err("no public key");
    assert_eq!(err(&e).0, "UnsupportedOperationException");
    let p256 = create(&c, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let e = c
        .sign()
        .key_id(p256.key_id())
        .message(blob(b"x"))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha384)
        .send()
        .await
        .expect_err("alg");
    assert_eq!(
        err(&e),
        (
            "InvalidKeyUsageException".into(),
            "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.".into()
        )
    );
    let e = c
        .sign()
        .key_id(p256.key_id())
        .message(blob(b"x"))
        .send()
        .await
        .expect_err("alg required");
    assert!(err(&e).1.contains("Value null at 'signingAlgorithm'"));
    let e = c
        .generate_data_key()
        .key_id(p256.key_id())
        .number_of_bytes(32)
        .send()
        .await
        .expect_err("gdk");
    assert_eq!(err(&e).0, "InvalidKeyUsageException");
    let e = c
        .encrypt()
        .key_id(p256.key_id())
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("enc");
    assert_eq!(
        err(&e).1,
        format!(
            "{} key usage is SIGN_VERIFY which is not valid for Encrypt.",
            p256.arn().expect("arn")
        )
    );
    c.disable_key().key_id(p256.key_id()).send().await.expect("disable");
    let e = c
        .sign()
        .key_id(p256.key_id())
        .message(blob(b"x"))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err(&e).0, "DisabledException");
    let e = c
        .get_public_key()
        .key_id(p256.key_id())
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err(&e).0, "DisabledException");
    let rsa = create(&c, KeySpec::Rsa2048, KeyUsageType::SignVerify).await;
    let e = c
        .sign()
        .key_id(rsa.key_id())
        .message(blob(b"x"))
        .signing_algorithm(SigningAlgorithmSpec::RsassaPssSha256)
        .dry_run(true)
        .send()
        .await
        .expect_err("dry run");
    assert_eq!(err(&e).0, "DryRunOperationException");
}

#[tokio::test(flavor = "multi_thread")]
async fn generate_data_key_pair_for_every_spec() {
    let s = Server::start();
    let c = s.client();
    let sym = c.create_key().send().await.expect("sym").key_metadata.expect("m");
    let mut tasks = Vec::new();
    let mut expected = Vec::new();
    for spec in [
        DataKeyPairSpec::Rsa2048,
        DataKeyPairSpec::Rsa3072,
        DataKeyPairSpec::Rsa4096,
        DataKeyPairSpec::EccNistP256,
        DataKeyPairSpec::EccNistP384,
        DataKeyPairSpec::EccNistP521,
        DataKeyPairSpec::EccSecgP256K1,
        DataKeyPairSpec::EccNistEdwards25519,
    ] {
        let out = c
            .generate_data_key_pair()
            .key_id(sym.key_id())
            .key_pair_spec(spec.clone())
            .encryption_context("purpose", "pair")
            .send()
            .await
            .expect("pair");
        assert_eq!(out.key_pair_spec(), Some(&spec));
        assert_eq!(out.key_id(), sym.arn());
        let private = out.private_key_plaintext().expect("private").as_ref().to_vec();
        let public = out.public_key().expect("public").as_ref().to_vec();
        let d = c
            .decrypt()
            .ciphertext_blob(out.private_key_ciphertext_blob().expect("ct").clone())
            .encryption_context("purpose", "pair")
            .send()
            .await
            .expect("decrypt private key");
        assert_eq!(d.plaintext().expect("pt").as_ref(), private.as_slice());
        tasks.push(json!({"op":"pkcs8_public","pkcs8":b64(&private)}));
        expected.push(b64(&public));
        let w = c
            .generate_data_key_pair_without_plaintext()
            .key_id(sym.key_id())
            .key_pair_spec(spec)
            .send()
            .await
            .expect("without");
        assert!(w.private_key_ciphertext_blob().is_some());
        assert!(w.public_key().is_some());
    }
    let got = crosscheck(&json!(tasks));
    for (g, want) in got.iter().zip(expected) {
        assert_eq!(
            g,
            &json!(want),
            "the private key's public half is the returned public key"
        );
    }
    let e = c
        .generate_data_key_pair()
        .key_id(sym.key_id())
        .key_pair_spec(DataKeyPairSpec::Sm2)
        .send()
        .await
        .expect_err("sm2");
    assert_eq!(err(&e).0, "UnsupportedOperationException");
    let rsa = create(&c, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    let e = c
        .generate_data_key_pair()
        .key_id(rsa.key_id())
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .expect_err("asym");
    assert_eq!(err(&e).0, "InvalidKeyUsageException");
}

/// Trent's RSAES-OAEP ciphertext decrypts in an independent implementation (a KMS key's private
/// half never leaves Trent, so this runs on Trent's crypto layer with a freshly generated key).
#[test]
fn trent_oaep_ciphertext_decrypts_in_python() {
    use trent_crypto::asymmetric::{AsymmetricKey, KeyKind, OaepAlg, Purpose};
    let mut tasks = Vec::new();
    for kind in [KeyKind::Rsa2048, KeyKind::Rsa3072] {
        let (key, pkcs8) = AsymmetricKey::generate(kind, Purpose::Encrypt).expect("generate");
        for (alg, name) in [
            (OaepAlg::Sha1, "RSAES_OAEP_SHA_1"),
            (OaepAlg::Sha256, "RSAES_OAEP_SHA_256"),
        ] {
            let ct = key.encrypt(alg, b"made by trent").expect("encrypt");
            tasks.push(json!({"op":"oaep_decrypt","pkcs8":b64(pkcs8.expose()),"alg":name,"ciphertext":b64(&ct)}));
        }
    }
    for r in crosscheck(&json!(tasks)) {
        assert_eq!(unb64(&r), b"made by trent");
    }
}
