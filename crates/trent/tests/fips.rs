//! FIPS mode (issue 12). Built with `--features fips` (`scripts/fips-test`), the server runs on
//! the AWS-LC FIPS module in FIPS mode, serves the approved algorithms, and refuses secp256k1
//! keys, Ed25519ph and external-mu signing with `UnsupportedOperationException` naming FIPS
//! mode. In the default build the same test checks the opposite: FIPS mode off, nothing refused.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use common::{blob, err, Server};

const FIPS: bool = cfg!(feature = "fips");

#[tokio::test(flavor = "multi_thread")]
async fn fips_mode_offers_only_what_the_module_approves() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trent"))
        .arg("version")
        .output()
        .expect("version");
    let version = String::from_utf8_lossy(&out.stdout);
    assert_eq!(version.contains("FIPS mode on"), FIPS, "{version}");

    let s = Server::start();
    let c = s.client();
    // Approved: symmetric encryption, ECDSA on P-256, HMAC.
    let key = common::new_key(&c).await;
    let ct = c
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"approved"))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    let pt = c.decrypt().ciphertext_blob(ct).send().await.expect("decrypt");
    assert_eq!(pt.plaintext().expect("pt").as_ref(), b"approved");
    let p256 = c
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect("P-256")
        .key_metadata
        .expect("m")
        .key_id;
    let sig = c
        .sign()
        .key_id(&p256)
        .message(blob(b"m"))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("sign");
    assert!(sig.signature.is_some());

    // secp256k1: refused in FIPS mode only.
    let k1 = c
        .create_key()
        .key_spec(KeySpec::EccSecgP256K1)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await;
    if FIPS {
        let (code, message) = err(&k1.expect_err("refused in FIPS mode"));
        assert_eq!(code, "UnsupportedOperationException");
        assert!(message.contains("FIPS mode"), "{message}");
    } else {
        k1.expect("secp256k1 outside FIPS mode");
    }

    // Ed25519ph (computed outside the module): refused in FIPS mode only.
    let ed = c
        .create_key()
        .key_spec(KeySpec::EccNistEdwards25519)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect("Ed25519")
        .key_metadata
        .expect("m")
        .key_id;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, b"m");
    let ph = c
        .sign()
        .key_id(&ed)
        .message(blob(digest.as_ref()))
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::Ed25519PhSha512)
        .send()
        .await;
    if FIPS {
        let (code, message) = err(&ph.expect_err("refused in FIPS mode"));
        assert_eq!(code, "UnsupportedOperationException");
        assert!(message.contains("FIPS mode"), "{message}");
    } else {
        ph.expect("Ed25519ph outside FIPS mode");
    }
}
