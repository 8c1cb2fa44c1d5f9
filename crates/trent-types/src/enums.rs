//! The closed enumerations of the KMS model (reference §2.1, botocore `service-2.json`), each
//! with its wire spelling, parsed once at the edge. `ALL` lists the values in model order, which
//! is the order AWS prints in `Member must satisfy enum value set: [...]` messages.

use std::fmt;

/// Declares a wire enumeration: variants with their exact AWS spelling, `ALL` in model order,
/// `as_str`, `parse`, `Display` and serde as the plain string.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in model order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every wire spelling, in model order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value with this exact (case-sensitive) spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| serde::de::Error::unknown_variant(&s, $name::NAMES))
            }
        }
    };
}

wire_enum! {
    /// `KeyState` (reference §3).
    KeyState {
        Creating = "Creating",
        Enabled = "Enabled",
        Disabled = "Disabled",
        PendingDeletion = "PendingDeletion",
        PendingImport = "PendingImport",
        PendingReplicaDeletion = "PendingReplicaDeletion",
        Unavailable = "Unavailable",
        Updating = "Updating",
    }
}

impl KeyState {
    /// `PendingDeletion` or `PendingReplicaDeletion`: the states AWS words "pending deletion".
    pub fn is_pending_deletion(self) -> bool {
        matches!(self, KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    }
}

wire_enum! {
    /// `KeySpec` (reference §2.1).
    KeySpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256",
        EccNistP384 = "ECC_NIST_P384",
        EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1",
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        Hmac224 = "HMAC_224",
        Hmac256 = "HMAC_256",
        Hmac384 = "HMAC_384",
        Hmac512 = "HMAC_512",
        Sm2 = "SM2",
        MlDsa44 = "ML_DSA_44",
        MlDsa65 = "ML_DSA_65",
        MlDsa87 = "ML_DSA_87",
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
    }
}

/// The three families of keys AWS distinguishes in UpdateAlias and grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Symmetric,
    Hmac,
    Asymmetric,
}

impl KeyFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyFamily::Symmetric => "SYMMETRIC",
            KeyFamily::Hmac => "HMAC",
            KeyFamily::Asymmetric => "ASYMMETRIC",
        }
    }
}

impl KeySpec {
    /// `CustomerMasterKeySpec` (deprecated): every spec except ML-DSA and Ed25519.
    pub const CUSTOMER_MASTER_KEY_SPECS: &'static [&'static str] = &[
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

    pub fn family(self) -> KeyFamily {
        match self {
            KeySpec::SymmetricDefault => KeyFamily::Symmetric,
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => KeyFamily::Hmac,
            KeySpec::Rsa2048
            | KeySpec::Rsa3072
            | KeySpec::Rsa4096
            | KeySpec::EccNistP256
            | KeySpec::EccNistP384
            | KeySpec::EccNistP521
            | KeySpec::EccSecgP256k1
            | KeySpec::Sm2
            | KeySpec::MlDsa44
            | KeySpec::MlDsa65
            | KeySpec::MlDsa87
            | KeySpec::EccNistEdwards25519 => KeyFamily::Asymmetric,
        }
    }

    pub fn is_symmetric(self) -> bool {
        self == KeySpec::SymmetricDefault
    }

    /// Usages the spec allows (reference §2.2).
    pub fn allowed_usages(self) -> &'static [KeyUsage] {
        use KeyUsage as U;
        match self {
            KeySpec::SymmetricDefault => &[U::EncryptDecrypt],
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => &[U::GenerateVerifyMac],
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[U::EncryptDecrypt, U::SignVerify],
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 => &[U::SignVerify, U::KeyAgreement],
            KeySpec::Sm2 => &[U::EncryptDecrypt, U::SignVerify, U::KeyAgreement],
            KeySpec::EccSecgP256k1
            | KeySpec::EccNistEdwards25519
            | KeySpec::MlDsa44
            | KeySpec::MlDsa65
            | KeySpec::MlDsa87 => &[U::SignVerify],
        }
    }

    /// Whether Trent creates keys of this spec (SM2 exists only in AWS's China Regions).
    pub fn is_built(self) -> bool {
        self != KeySpec::Sm2
    }
}

wire_enum! {
    /// `KeyUsageType`.
    KeyUsage {
        SignVerify = "SIGN_VERIFY",
        EncryptDecrypt = "ENCRYPT_DECRYPT",
        GenerateVerifyMac = "GENERATE_VERIFY_MAC",
        KeyAgreement = "KEY_AGREEMENT",
    }
}

wire_enum! {
    /// `OriginType`.
    Origin {
        AwsKms = "AWS_KMS",
        External = "EXTERNAL",
        AwsCloudhsm = "AWS_CLOUDHSM",
        ExternalKeyStore = "EXTERNAL_KEY_STORE",
    }
}

wire_enum! {
    /// `KeyManagerType`.
    KeyManager {
        Aws = "AWS",
        Customer = "CUSTOMER",
    }
}

wire_enum! {
    /// `EncryptionAlgorithmSpec`.
    EncryptionAlgorithm {
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        Sm2Pke = "SM2PKE",
    }
}

wire_enum! {
    /// `SigningAlgorithmSpec`.
    SigningAlgorithm {
        RsassaPssSha256 = "RSASSA_PSS_SHA_256",
        RsassaPssSha384 = "RSASSA_PSS_SHA_384",
        RsassaPssSha512 = "RSASSA_PSS_SHA_512",
        RsassaPkcs1V15Sha256 = "RSASSA_PKCS1_V1_5_SHA_256",
        RsassaPkcs1V15Sha384 = "RSASSA_PKCS1_V1_5_SHA_384",
        RsassaPkcs1V15Sha512 = "RSASSA_PKCS1_V1_5_SHA_512",
        EcdsaSha256 = "ECDSA_SHA_256",
        EcdsaSha384 = "ECDSA_SHA_384",
        EcdsaSha512 = "ECDSA_SHA_512",
        Sm2Dsa = "SM2DSA",
        MlDsaShake256 = "ML_DSA_SHAKE_256",
        Ed25519Sha512 = "ED25519_SHA_512",
        Ed25519PhSha512 = "ED25519_PH_SHA_512",
    }
}

wire_enum! {
    /// `MacAlgorithmSpec`.
    MacAlgorithm {
        HmacSha224 = "HMAC_SHA_224",
        HmacSha256 = "HMAC_SHA_256",
        HmacSha384 = "HMAC_SHA_384",
        HmacSha512 = "HMAC_SHA_512",
    }
}

impl MacAlgorithm {
    /// The order AWS lists the set in validation messages (AWS-recorded; not model order).
    pub const MESSAGE_ORDER: &'static [&'static str] =
        &["HMAC_SHA_384", "HMAC_SHA_256", "HMAC_SHA_224", "HMAC_SHA_512"];
}

wire_enum! {
    /// `KeyAgreementAlgorithmSpec`.
    KeyAgreementAlgorithm {
        Ecdh = "ECDH",
    }
}

wire_enum! {
    /// `MessageType` of Sign/Verify.
    MessageType {
        Raw = "RAW",
        Digest = "DIGEST",
        ExternalMu = "EXTERNAL_MU",
    }
}

wire_enum! {
    /// `DataKeySpec` of GenerateDataKey*.
    DataKeySpec {
        Aes256 = "AES_256",
        Aes128 = "AES_128",
    }
}

impl DataKeySpec {
    /// The data key's length in bytes.
    pub fn byte_len(self) -> usize {
        match self {
            DataKeySpec::Aes256 => 32,
            DataKeySpec::Aes128 => 16,
        }
    }
}

wire_enum! {
    /// `DataKeyPairSpec` of GenerateDataKeyPair*.
    DataKeyPairSpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256",
        EccNistP384 = "ECC_NIST_P384",
        EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1",
        Sm2 = "SM2",
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
    }
}

impl DataKeyPairSpec {
    /// The key spec whose key pair this is.
    pub fn key_spec(self) -> KeySpec {
        match self {
            DataKeyPairSpec::Rsa2048 => KeySpec::Rsa2048,
            DataKeyPairSpec::Rsa3072 => KeySpec::Rsa3072,
            DataKeyPairSpec::Rsa4096 => KeySpec::Rsa4096,
            DataKeyPairSpec::EccNistP256 => KeySpec::EccNistP256,
            DataKeyPairSpec::EccNistP384 => KeySpec::EccNistP384,
            DataKeyPairSpec::EccNistP521 => KeySpec::EccNistP521,
            DataKeyPairSpec::EccSecgP256k1 => KeySpec::EccSecgP256k1,
            DataKeyPairSpec::Sm2 => KeySpec::Sm2,
            DataKeyPairSpec::EccNistEdwards25519 => KeySpec::EccNistEdwards25519,
        }
    }
}

wire_enum! {
    /// `GrantOperation` (reference §1.1): what a grant can allow.
    GrantOperation {
        Decrypt = "Decrypt",
        Encrypt = "Encrypt",
        GenerateDataKey = "GenerateDataKey",
        GenerateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext",
        ReEncryptFrom = "ReEncryptFrom",
        ReEncryptTo = "ReEncryptTo",
        Sign = "Sign",
        Verify = "Verify",
        GetPublicKey = "GetPublicKey",
        CreateGrant = "CreateGrant",
        RetireGrant = "RetireGrant",
        DescribeKey = "DescribeKey",
        GenerateDataKeyPair = "GenerateDataKeyPair",
        GenerateDataKeyPairWithoutPlaintext = "GenerateDataKeyPairWithoutPlaintext",
        GenerateMac = "GenerateMac",
        VerifyMac = "VerifyMac",
        DeriveSharedSecret = "DeriveSharedSecret",
    }
}

impl GrantOperation {
    /// Operations whose requests carry no encryption context: constraints do not apply.
    pub fn is_context_free(self) -> bool {
        use GrantOperation as G;
        match self {
            G::DescribeKey
            | G::RetireGrant
            | G::CreateGrant
            | G::GetPublicKey
            | G::Sign
            | G::Verify
            | G::GenerateMac
            | G::VerifyMac
            | G::DeriveSharedSecret => true,
            G::Decrypt
            | G::Encrypt
            | G::GenerateDataKey
            | G::GenerateDataKeyWithoutPlaintext
            | G::ReEncryptFrom
            | G::ReEncryptTo
            | G::GenerateDataKeyPair
            | G::GenerateDataKeyPairWithoutPlaintext => false,
        }
    }

    /// The grant operations a key of this spec and usage supports (no Sign on a symmetric key,
    /// no GenerateDataKey on an asymmetric one).
    pub fn supported_by(spec: KeySpec, usage: KeyUsage) -> &'static [GrantOperation] {
        use GrantOperation as G;
        match (spec.family(), usage) {
            (KeyFamily::Symmetric, _) => &[
                G::Decrypt,
                G::Encrypt,
                G::GenerateDataKey,
                G::GenerateDataKeyWithoutPlaintext,
                G::ReEncryptFrom,
                G::ReEncryptTo,
                G::GenerateDataKeyPair,
                G::GenerateDataKeyPairWithoutPlaintext,
                G::CreateGrant,
                G::RetireGrant,
                G::DescribeKey,
            ],
            (_, KeyUsage::EncryptDecrypt) => &[
                G::Decrypt,
                G::Encrypt,
                G::ReEncryptFrom,
                G::ReEncryptTo,
                G::GetPublicKey,
                G::CreateGrant,
                G::RetireGrant,
                G::DescribeKey,
            ],
            (_, KeyUsage::SignVerify) => &[
                G::Sign,
                G::Verify,
                G::GetPublicKey,
                G::CreateGrant,
                G::RetireGrant,
                G::DescribeKey,
            ],
            (_, KeyUsage::GenerateVerifyMac) => &[
                G::GenerateMac,
                G::VerifyMac,
                G::CreateGrant,
                G::RetireGrant,
                G::DescribeKey,
            ],
            (_, KeyUsage::KeyAgreement) => &[
                G::DeriveSharedSecret,
                G::GetPublicKey,
                G::CreateGrant,
                G::RetireGrant,
                G::DescribeKey,
            ],
        }
    }
}

wire_enum! {
    /// `AlgorithmSpec` of GetParametersForImport.
    WrappingAlgorithm {
        RsaesPkcs1V15 = "RSAES_PKCS1_V1_5",
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        RsaAesKeyWrapSha1 = "RSA_AES_KEY_WRAP_SHA_1",
        RsaAesKeyWrapSha256 = "RSA_AES_KEY_WRAP_SHA_256",
        Sm2Pke = "SM2PKE",
    }
}

wire_enum! {
    /// `WrappingKeySpec` of GetParametersForImport.
    WrappingKeySpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        Sm2 = "SM2",
    }
}

wire_enum! {
    /// `ExpirationModelType` of imported key material.
    ExpirationModel {
        KeyMaterialExpires = "KEY_MATERIAL_EXPIRES",
        KeyMaterialDoesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }
}

wire_enum! {
    /// `ImportType` of ImportKeyMaterial.
    ImportType {
        NewKeyMaterial = "NEW_KEY_MATERIAL",
        ExistingKeyMaterial = "EXISTING_KEY_MATERIAL",
    }
}

wire_enum! {
    /// `RotationType` of a material version made by rotation.
    RotationType {
        Automatic = "AUTOMATIC",
        OnDemand = "ON_DEMAND",
    }
}

wire_enum! {
    /// `ImportState` of an imported material version.
    ImportState {
        Imported = "IMPORTED",
        PendingImport = "PENDING_IMPORT",
    }
}

wire_enum! {
    /// `IncludeKeyMaterial` of ListKeyRotations.
    IncludeKeyMaterial {
        AllKeyMaterial = "ALL_KEY_MATERIAL",
        RotationsOnly = "ROTATIONS_ONLY",
    }
}

wire_enum! {
    /// `DryRunModifierType`.
    DryRunModifier {
        IgnoreCiphertext = "IGNORE_CIPHERTEXT",
    }
}

wire_enum! {
    /// IAM `statusType` of an access key.
    AccessKeyStatus {
        Active = "Active",
        Inactive = "Inactive",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_model_order() {
        for s in KeySpec::ALL {
            assert_eq!(KeySpec::parse(s.as_str()), Some(*s));
            assert!(!s.allowed_usages().is_empty(), "{s}");
        }
        assert_eq!(KeySpec::NAMES.len(), 17);
        assert_eq!(KeySpec::NAMES.first(), Some(&"RSA_2048"));
        assert_eq!(KeyState::parse("enabled"), None, "case-sensitive as AWS");
        assert_eq!(GrantOperation::NAMES.len(), 17);
    }

    #[test]
    fn serde_is_the_wire_string() {
        let v = serde_json::to_string(&KeyUsage::EncryptDecrypt).expect("ser");
        assert_eq!(v, "\"ENCRYPT_DECRYPT\"");
        let back: KeyUsage = serde_json::from_str(&v).expect("de");
        assert_eq!(back, KeyUsage::EncryptDecrypt);
        assert!(serde_json::from_str::<KeyUsage>("\"NOPE\"").is_err());
    }

    #[test]
    fn matrix_matches_reference() {
        assert_eq!(
            KeySpec::Rsa2048.allowed_usages(),
            [KeyUsage::EncryptDecrypt, KeyUsage::SignVerify]
        );
        assert_eq!(KeySpec::EccSecgP256k1.allowed_usages(), [KeyUsage::SignVerify]);
        assert_eq!(KeySpec::Hmac384.family(), KeyFamily::Hmac);
        assert!(!KeySpec::Sm2.is_built());
    }
}
