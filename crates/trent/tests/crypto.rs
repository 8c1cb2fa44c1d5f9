//! Symmetric cryptographic operations through the real binary: Encrypt, Decrypt, ReEncrypt,
//! GenerateDataKey(WithoutPlaintext), GenerateRandom, DryRun, and their errors.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::types::{DataKeySpec, DryRunModifierType, EncryptionAlgorithmSpec};
use common::{blob, err, Server};

async fn key(c: &aws_sdk_kms::Client) -> (String, String) {
    let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
    (m.key_id().to_owned(), m.arn().expect("arn").to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn encrypt_decrypt_round_trip_with_context() {
    let s = Server::start();
    let c = s.client();
    let (id, arn) = key(&c).await;
    let plain = vec![0xA5u8; 4096];
    let out = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(&plain))
        .encryption_context("purpose", "test")
        .encryption_context("tenant", "42")
        .send()
        .await
        .expect("encrypt 4096 bytes");
    assert_eq!(out.key_id(), Some(arn.as_str()));
    assert_eq!(
        out.encryption_algorithm(),
        Some(&EncryptionAlgorithmSpec::SymmetricDefault)
    );
    let ct = out.ciphertext_blob().expect("ct").clone();
    assert!(ct.as_ref().len() < 6144);

    // No KeyId: the blob names its key. Context pairs in another order still match.
    let d = c
        .decrypt()
        .ciphertext_blob(ct.clone())
        .encryption_context("tenant", "42")
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect("decrypt");
    assert_eq!(d.plaintext().expect("pt").as_ref(), plain.as_slice());
    assert_eq!(d.key_id(), Some(arn.as_str()));
    let mat = c
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    assert_eq!(d.key_material_id(), mat.current_key_material_id());

    // Missing, different-case and extra context pairs are all InvalidCiphertextException with no message.
    let attempts = [
        c.decrypt().ciphertext_blob(ct.clone()),
        c.decrypt()
            .ciphertext_blob(ct.clone())
            .encryption_context("purpose", "Test")
            .encryption_context("tenant", "42"),
        c.decrypt()
            .ciphertext_blob(ct.clone())
            .encryption_context("purpose", "test")
            .encryption_context("tenant", "42")
            .encryption_context("extra", "1"),
    ];
    for a in attempts {
        let e = a.send().await.expect_err("context mismatch");
        assert_eq!(err(&e), ("InvalidCiphertextException".into(), String::new()));
    }
    // Any flipped byte of the blob fails the same way.
    for i in [0usize, 1, 10, 40, 60, 70, 80, ct.as_ref().len() - 1] {
        let mut bad = ct.as_ref().to_vec();
        bad[i] ^= 0x01;
        let e = c
            .decrypt()
            .ciphertext_blob(blob(&bad))
            .encryption_context("purpose", "test")
            .encryption_context("tenant", "42")
            .send()
            .await
            .expect_err("tampered");
        assert_eq!(err(&e).0, "InvalidCiphertextException", "byte {i}");
    }
    let e = c
        .decrypt()
        .ciphertext_blob(blob(b"garbage"))
        .send()
        .await
        .expect_err("garbage");
    assert_eq!(err(&e), ("InvalidCiphertextException".into(), String::new()));
}

#[tokio::test(flavor = "multi_thread")]
async fn encrypt_limits_and_incorrect_key() {
    let s = Server::start();
    let c = s.client();
    let (id, _) = key(&c).await;
    let (other, _) = key(&c).await;
    let e = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(&[0u8; 4097]))
        .send()
        .await
        .expect_err("too big");
    assert_eq!(
        err(&e),
        (
            "ValidationException".into(),
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096".into()
        )
    );
    let e = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"x"))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .expect_err("alg");
    assert_eq!(err(&e).0, "InvalidKeyUsageException");
    let ct = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect("enc")
        .ciphertext_blob
        .expect("ct");
    let e = c
        .decrypt()
        .key_id(&other)
        .ciphertext_blob(ct.clone())
        .send()
        .await
        .expect_err("wrong key");
    assert_eq!(
        err(&e),
        (
            "IncorrectKeyException".into(),
            "The key ID in the request does not identify a CMK that can perform this operation.".into()
        )
    );
    // AWS-recorded: naming a key that cannot decrypt at all (an HMAC key) is IncorrectKey too.
    let hmac = c
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .expect("hmac key")
        .key_metadata
        .expect("m")
        .key_id;
    let e = c
        .decrypt()
        .key_id(&hmac)
        .ciphertext_blob(ct.clone())
        .send()
        .await
        .expect_err("hmac key");
    assert_eq!(err(&e).0, "IncorrectKeyException");
    let d = c
        .decrypt()
        .key_id(&id)
        .ciphertext_blob(ct)
        .send()
        .await
        .expect("right key id");
    assert_eq!(d.plaintext().expect("pt").as_ref(), b"x");
    let e = c
        .decrypt()
        .ciphertext_blob(blob(&[0u8; 6145]))
        .send()
        .await
        .expect_err("long");
    assert_eq!(err(&e).0, "ValidationException");
    assert!(err(&e).1.contains(
        "at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to 6144"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn re_encrypt_moves_ciphertext_between_keys() {
    let s = Server::start();
    let c = s.client();
    let (a, a_arn) = key(&c).await;
    let (b, b_arn) = key(&c).await;
    let ct = c
        .encrypt()
        .key_id(&a)
        .plaintext(blob(b"payload"))
        .encryption_context("k", "v")
        .send()
        .await
        .expect("enc")
        .ciphertext_blob
        .expect("ct");
    let r = c
        .re_encrypt()
        .ciphertext_blob(ct.clone())
        .source_encryption_context("k", "v")
        .destination_key_id(&b)
        .destination_encryption_context("k2", "v2")
        .send()
        .await
        .expect("re-encrypt");
    assert_eq!(r.source_key_id(), Some(a_arn.as_str()));
    assert_eq!(r.key_id(), Some(b_arn.as_str()));
    assert_eq!(r.source_key_material_id().map(str::len), Some(64));
    assert_eq!(r.destination_key_material_id().map(str::len), Some(64));
    let d = c
        .decrypt()
        .ciphertext_blob(r.ciphertext_blob().expect("ct").clone())
        .encryption_context("k2", "v2")
        .send()
        .await
        .expect("decrypt re-encrypted");
    assert_eq!(d.key_id(), Some(b_arn.as_str()));
    assert_eq!(d.plaintext().expect("pt").as_ref(), b"payload");
    let e = c
        .re_encrypt()
        .ciphertext_blob(ct.clone())
        .source_key_id(&b)
        .source_encryption_context("k", "v")
        .destination_key_id(&b)
        .send()
        .await
        .expect_err("wrong source");
    assert_eq!(err(&e).0, "IncorrectKeyException");
    let e = c
        .re_encrypt()
        .ciphertext_blob(ct)
        .destination_key_id(&b)
        .send()
        .await
        .expect_err("missing ctx");
    assert_eq!(err(&e).0, "InvalidCiphertextException");
}

#[tokio::test(flavor = "multi_thread")]
async fn generate_data_key_variants() {
    let s = Server::start();
    let c = s.client();
    let (id, arn) = key(&c).await;
    let g = c
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("a", "b")
        .send()
        .await
        .expect("gdk");
    assert_eq!(g.plaintext().expect("pt").as_ref().len(), 32);
    assert_eq!(g.key_id(), Some(arn.as_str()));
    assert_eq!(g.key_material_id().map(str::len), Some(64));
    let d = c
        .decrypt()
        .ciphertext_blob(g.ciphertext_blob().expect("ct").clone())
        .encryption_context("a", "b")
        .send()
        .await
        .expect("decrypt data key");
    assert_eq!(d.plaintext(), g.plaintext());
    let g = c
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes128)
        .send()
        .await
        .expect("aes128");
    assert_eq!(g.plaintext().expect("pt").as_ref().len(), 16);
    for n in [1, 24, 1024] {
        let g = c
            .generate_data_key()
            .key_id(&id)
            .number_of_bytes(n)
            .send()
            .await
            .expect("n bytes");
        assert_eq!(g.plaintext().expect("pt").as_ref().len(), n as usize);
    }
    let e = c
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(1025)
        .send()
        .await
        .expect_err("1025");
    assert_eq!(
        err(&e).1,
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"
    );
    let e = c.generate_data_key().key_id(&id).send().await.expect_err("neither");
    assert_eq!(
        err(&e),
        (
            "ValidationException".into(),
            "Please specify either number of bytes or key spec.".into()
        )
    );
    let e = c
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(32)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect_err("both");
    assert_eq!(err(&e).0, "ValidationException");
    let w = c
        .generate_data_key_without_plaintext()
        .key_id(&id)
        .number_of_bytes(32)
        .send()
        .await
        .expect("without");
    let d = c
        .decrypt()
        .ciphertext_blob(w.ciphertext_blob().expect("ct").clone())
        .send()
        .await
        .expect("decrypt");
    assert_eq!(d.plaintext().expect("pt").as_ref().len(), 32);
}

#[tokio::test(flavor = "multi_thread")]
async fn generate_random_and_its_errors() {
    let s = Server::start();
    let c = s.client();
    let a = c.generate_random().number_of_bytes(1024).send().await.expect("random");
    let b = c.generate_random().number_of_bytes(1024).send().await.expect("random");
    assert_eq!(a.plaintext().expect("pt").as_ref().len(), 1024);
    assert_ne!(a.plaintext(), b.plaintext());
    let e = c.generate_random().send().await.expect_err("required");
    assert_eq!(
        err(&e),
        ("ValidationException".into(), "NumberOfBytes is required.".into())
    );
    let e = c.generate_random().number_of_bytes(0).send().await.expect_err("0");
    assert_eq!(
        err(&e).1,
        "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_succeeds_as_an_error_and_changes_nothing() {
    let s = Server::start();
    let c = s.client();
    let (id, _) = key(&c).await;
    let dry = "The request would have succeeded, but the DryRun option is set.";
    let e = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"x"))
        .dry_run(true)
        .send()
        .await
        .expect_err("dry");
    assert_eq!(err(&e), ("DryRunOperationException".into(), dry.into()));
    let e = c
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(8)
        .dry_run(true)
        .send()
        .await
        .expect_err("dry");
    assert_eq!(err(&e).0, "DryRunOperationException");
    let e = c
        .decrypt()
        .key_id(&id)
        .dry_run(true)
        .dry_run_modifiers(DryRunModifierType::IgnoreCiphertext)
        .send()
        .await
        .expect_err("dry");
    assert_eq!(err(&e), ("DryRunOperationException".into(), dry.into()));
    let ct = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect("enc")
        .ciphertext_blob
        .expect("ct");
    let e = c
        .decrypt()
        .ciphertext_blob(ct)
        .dry_run(true)
        .send()
        .await
        .expect_err("dry");
    assert_eq!(err(&e).0, "DryRunOperationException");
    // A dry run that would fail reports the real error.
    c.disable_key().key_id(&id).send().await.expect("disable");
    let e = c
        .encrypt()
        .key_id(&id)
        .plaintext(blob(b"x"))
        .dry_run(true)
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err(&e).0, "DisabledException");
}
