//! Key specs, key usages and origins with AWS's compatibility matrix (reference §2.1–§2.2).

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

/// Whether Trent can create keys of this spec yet.
pub fn is_built(spec: &str) -> bool {
    spec == "SYMMETRIC_DEFAULT"
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
