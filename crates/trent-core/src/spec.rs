//! Key specs, key usages, origins and algorithm names with AWS's compatibility matrix
//! (reference §2.1–§2.2), and their mapping to `trent-crypto`'s typed algorithms.

use trent_crypto::asymmetric::{KeyKind, MessageKind, OaepAlg, Purpose, SigningAlg};
use trent_crypto::hmac::MacAlg;

/// `KeySpec` values in model order (the order AWS lists in enum validation messages).
pub const KEY_SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "ECC_NIST_EDWARDS25519",
];
/// `CustomerMasterKeySpec` (deprecated): KeySpec without ML-DSA and Ed25519.
pub const CUSTOMER_MASTER_KEY_SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
];
pub const KEY_USAGES: &[&str] = &["SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"];
pub const ORIGINS: &[&str] = &["AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"];
pub const ENCRYPTION_ALGORITHMS: &[&str] = &["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"];
pub const DATA_KEY_SPECS: &[&str] = &["AES_256", "AES_128"];

/// Usages a spec allows; the first is its default when the spec is symmetric.
pub fn allowed_usages(spec: &str) -> &'static [&'static str] {
    match spec {
        "SYMMETRIC_DEFAULT" => &["ENCRYPT_DECRYPT"],
        "HMAC_224" | "HMAC_256" | "HMAC_384" | "HMAC_512" => &["GENERATE_VERIFY_MAC"],
        "RSA_2048" | "RSA_3072" | "RSA_4096" => &["ENCRYPT_DECRYPT", "SIGN_VERIFY"],
        "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" => &["SIGN_VERIFY", "KEY_AGREEMENT"],
        "SM2" => &["ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"],
        "ECC_SECG_P256K1" | "ECC_NIST_EDWARDS25519" | "ML_DSA_44" | "ML_DSA_65" | "ML_DSA_87" => &["SIGN_VERIFY"],
        _ => &[],
    }
}

/// The algorithm lists KeyMetadata shows for a spec and usage.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Algorithms {
    pub encryption: Option<Vec<String>>,
    pub signing: Option<Vec<String>>,
    pub mac: Option<Vec<String>>,
    pub key_agreement: Option<Vec<String>>,
}

fn list(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| (*s).to_owned()).collect())
}

pub fn algorithms(spec: &str, usage: &str) -> Algorithms {
    let mut a = Algorithms::default();
    match (spec, usage) {
        ("SYMMETRIC_DEFAULT", _) => a.encryption = list(&["SYMMETRIC_DEFAULT"]),
        ("RSA_2048" | "RSA_3072" | "RSA_4096", "ENCRYPT_DECRYPT") => {
            a.encryption = list(&["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
        }
        ("RSA_2048" | "RSA_3072" | "RSA_4096", _) => {
            a.signing = list(&[
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512",
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
            ])
        }
        ("ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" | "SM2", "KEY_AGREEMENT") => {
            a.key_agreement = list(&["ECDH"])
        }
        ("ECC_NIST_P256" | "ECC_SECG_P256K1", _) => a.signing = list(&["ECDSA_SHA_256"]),
        ("ECC_NIST_P384", _) => a.signing = list(&["ECDSA_SHA_384"]),
        ("ECC_NIST_P521", _) => a.signing = list(&["ECDSA_SHA_512"]),
        ("ECC_NIST_EDWARDS25519", _) => a.signing = list(&["ED25519_SHA_512", "ED25519_PH_SHA_512"]),
        ("ML_DSA_44" | "ML_DSA_65" | "ML_DSA_87", _) => a.signing = list(&["ML_DSA_SHAKE_256"]),
        ("SM2", "ENCRYPT_DECRYPT") => a.encryption = list(&["SM2PKE"]),
        ("SM2", _) => a.signing = list(&["SM2DSA"]),
        ("HMAC_224", _) => a.mac = list(&["HMAC_SHA_224"]),
        ("HMAC_256", _) => a.mac = list(&["HMAC_SHA_256"]),
        ("HMAC_384", _) => a.mac = list(&["HMAC_SHA_384"]),
        ("HMAC_512", _) => a.mac = list(&["HMAC_SHA_512"]),
        _ => {}
    }
    a
}

/// Whether Trent can create keys of this spec (SM2 exists only in AWS's China Regions).
pub fn is_built(spec: &str) -> bool {
    spec != "SM2" && KEY_SPECS.contains(&spec)
}

/// `SigningAlgorithmSpec` in model order.
pub const SIGNING_ALGORITHMS: &[&str] = &[
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "ECDSA_SHA_256",
    "ECDSA_SHA_384",
    "ECDSA_SHA_512",
    "SM2DSA",
    "ML_DSA_SHAKE_256",
    "ED25519_SHA_512",
    "ED25519_PH_SHA_512",
];
pub const MESSAGE_TYPES: &[&str] = &["RAW", "DIGEST", "EXTERNAL_MU"];
/// `MacAlgorithmSpec`, in the order AWS lists it in validation messages (AWS-recorded).
pub const MAC_ALGORITHMS: &[&str] = &["HMAC_SHA_384", "HMAC_SHA_256", "HMAC_SHA_224", "HMAC_SHA_512"];
pub const KEY_AGREEMENT_ALGORITHMS: &[&str] = &["ECDH"];
/// `DataKeyPairSpec` in model order.
pub const KEY_PAIR_SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SM2",
    "ECC_NIST_EDWARDS25519",
];

/// The asymmetric key family of a spec.
pub fn key_kind(spec: &str) -> Option<KeyKind> {
    Some(match spec {
        "RSA_2048" => KeyKind::Rsa2048,
        "RSA_3072" => KeyKind::Rsa3072,
        "RSA_4096" => KeyKind::Rsa4096,
        "ECC_NIST_P256" => KeyKind::P256,
        "ECC_NIST_P384" => KeyKind::P384,
        "ECC_NIST_P521" => KeyKind::P521,
        "ECC_SECG_P256K1" => KeyKind::Secp256k1,
        "ECC_NIST_EDWARDS25519" => KeyKind::Ed25519,
        "ML_DSA_44" => KeyKind::MlDsa44,
        "ML_DSA_65" => KeyKind::MlDsa65,
        "ML_DSA_87" => KeyKind::MlDsa87,
        _ => return None,
    })
}

pub fn purpose(usage: &str) -> Purpose {
    match usage {
        "ENCRYPT_DECRYPT" => Purpose::Encrypt,
        "KEY_AGREEMENT" => Purpose::Agree,
        _ => Purpose::Sign,
    }
}

/// The HMAC algorithm of an HMAC key spec.
pub fn mac_of_spec(spec: &str) -> Option<MacAlg> {
    Some(match spec {
        "HMAC_224" => MacAlg::Sha224,
        "HMAC_256" => MacAlg::Sha256,
        "HMAC_384" => MacAlg::Sha384,
        "HMAC_512" => MacAlg::Sha512,
        _ => return None,
    })
}

pub fn mac_alg(name: &str) -> Option<MacAlg> {
    Some(match name {
        "HMAC_SHA_224" => MacAlg::Sha224,
        "HMAC_SHA_256" => MacAlg::Sha256,
        "HMAC_SHA_384" => MacAlg::Sha384,
        "HMAC_SHA_512" => MacAlg::Sha512,
        _ => return None,
    })
}

pub fn signing_alg(name: &str) -> Option<SigningAlg> {
    Some(match name {
        "RSASSA_PSS_SHA_256" => SigningAlg::RsaPssSha256,
        "RSASSA_PSS_SHA_384" => SigningAlg::RsaPssSha384,
        "RSASSA_PSS_SHA_512" => SigningAlg::RsaPssSha512,
        "RSASSA_PKCS1_V1_5_SHA_256" => SigningAlg::RsaPkcs1Sha256,
        "RSASSA_PKCS1_V1_5_SHA_384" => SigningAlg::RsaPkcs1Sha384,
        "RSASSA_PKCS1_V1_5_SHA_512" => SigningAlg::RsaPkcs1Sha512,
        "ECDSA_SHA_256" => SigningAlg::EcdsaSha256,
        "ECDSA_SHA_384" => SigningAlg::EcdsaSha384,
        "ECDSA_SHA_512" => SigningAlg::EcdsaSha512,
        "ED25519_SHA_512" => SigningAlg::Ed25519Sha512,
        "ED25519_PH_SHA_512" => SigningAlg::Ed25519PhSha512,
        "ML_DSA_SHAKE_256" => SigningAlg::MlDsaShake256,
        _ => return None,
    })
}

pub fn message_kind(name: &str) -> MessageKind {
    match name {
        "DIGEST" => MessageKind::Digest,
        "EXTERNAL_MU" => MessageKind::ExternalMu,
        _ => MessageKind::Raw,
    }
}

pub fn oaep(name: &str) -> Option<OaepAlg> {
    match name {
        "RSAES_OAEP_SHA_1" => Some(OaepAlg::Sha1),
        "RSAES_OAEP_SHA_256" => Some(OaepAlg::Sha256),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_matches_reference() {
        assert_eq!(allowed_usages("RSA_2048"), ["ENCRYPT_DECRYPT", "SIGN_VERIFY"]);
        assert!(!allowed_usages("RSA_2048").contains(&"KEY_AGREEMENT"));
        assert_eq!(allowed_usages("ECC_SECG_P256K1"), ["SIGN_VERIFY"]);
        assert_eq!(
            algorithms("ECC_NIST_P384", "SIGN_VERIFY").signing,
            list(&["ECDSA_SHA_384"])
        );
        assert_eq!(
            algorithms("HMAC_224", "GENERATE_VERIFY_MAC").mac,
            list(&["HMAC_SHA_224"])
        );
        assert_eq!(
            algorithms("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT").encryption,
            list(&["SYMMETRIC_DEFAULT"])
        );
        for s in KEY_SPECS {
            assert!(!allowed_usages(s).is_empty(), "{s}");
        }
    }
}
