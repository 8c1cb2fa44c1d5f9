//! AWS's key-spec matrix as it concerns algorithms (reference §2.2): which algorithms each key
//! spec and usage offers, and the mapping from the model's enumerations to `trent-crypto`'s
//! typed algorithms. Every `match` here is exhaustive: a new spec or algorithm does not compile
//! until it is placed.

use trent_crypto::asymmetric::{KeyKind, MessageKind, OaepAlg, Purpose, SigningAlg};
use trent_crypto::hmac::MacAlg;
use trent_types::{
    EncryptionAlgorithm as E, KeyAgreementAlgorithm, KeySpec, KeyUsage, MacAlgorithm, MessageType,
    SigningAlgorithm as S,
};

use crate::keys::Algorithms;

/// The algorithm lists DescribeKey and GetPublicKey show for a spec and usage.
pub(crate) fn algorithms(spec: KeySpec, usage: KeyUsage) -> Algorithms {
    use KeySpec as K;
    let mut a = Algorithms::default();
    match (spec, usage) {
        (K::SymmetricDefault, _) => a.encryption = Some(vec![E::SymmetricDefault]),
        (K::Rsa2048 | K::Rsa3072 | K::Rsa4096, KeyUsage::EncryptDecrypt) => {
            a.encryption = Some(vec![E::RsaesOaepSha1, E::RsaesOaepSha256])
        }
        (K::Rsa2048 | K::Rsa3072 | K::Rsa4096, _) => {
            a.signing = Some(vec![
                S::RsassaPssSha256,
                S::RsassaPssSha384,
                S::RsassaPssSha512,
                S::RsassaPkcs1V15Sha256,
                S::RsassaPkcs1V15Sha384,
                S::RsassaPkcs1V15Sha512,
            ])
        }
        (K::EccNistP256 | K::EccNistP384 | K::EccNistP521 | K::Sm2, KeyUsage::KeyAgreement) => {
            a.key_agreement = Some(vec![KeyAgreementAlgorithm::Ecdh])
        }
        (K::EccNistP256 | K::EccSecgP256k1, _) => a.signing = Some(vec![S::EcdsaSha256]),
        (K::EccNistP384, _) => a.signing = Some(vec![S::EcdsaSha384]),
        (K::EccNistP521, _) => a.signing = Some(vec![S::EcdsaSha512]),
        (K::EccNistEdwards25519, _) => a.signing = Some(vec![S::Ed25519Sha512, S::Ed25519PhSha512]),
        (K::MlDsa44 | K::MlDsa65 | K::MlDsa87, _) => a.signing = Some(vec![S::MlDsaShake256]),
        (K::Sm2, KeyUsage::EncryptDecrypt) => a.encryption = Some(vec![E::Sm2Pke]),
        (K::Sm2, _) => a.signing = Some(vec![S::Sm2Dsa]),
        (K::Hmac224, _) => a.mac = Some(vec![MacAlgorithm::HmacSha224]),
        (K::Hmac256, _) => a.mac = Some(vec![MacAlgorithm::HmacSha256]),
        (K::Hmac384, _) => a.mac = Some(vec![MacAlgorithm::HmacSha384]),
        (K::Hmac512, _) => a.mac = Some(vec![MacAlgorithm::HmacSha512]),
    }
    a
}

/// The asymmetric key family of a spec (`None` for symmetric, HMAC and SM2).
pub(crate) fn key_kind(spec: KeySpec) -> Option<KeyKind> {
    use KeySpec as K;
    Some(match spec {
        K::Rsa2048 => KeyKind::Rsa2048,
        K::Rsa3072 => KeyKind::Rsa3072,
        K::Rsa4096 => KeyKind::Rsa4096,
        K::EccNistP256 => KeyKind::P256,
        K::EccNistP384 => KeyKind::P384,
        K::EccNistP521 => KeyKind::P521,
        K::EccSecgP256k1 => KeyKind::Secp256k1,
        K::EccNistEdwards25519 => KeyKind::Ed25519,
        K::MlDsa44 => KeyKind::MlDsa44,
        K::MlDsa65 => KeyKind::MlDsa65,
        K::MlDsa87 => KeyKind::MlDsa87,
        K::SymmetricDefault | K::Hmac224 | K::Hmac256 | K::Hmac384 | K::Hmac512 | K::Sm2 => return None,
    })
}

pub(crate) fn purpose(usage: KeyUsage) -> Purpose {
    match usage {
        KeyUsage::EncryptDecrypt => Purpose::Encrypt,
        KeyUsage::KeyAgreement => Purpose::Agree,
        KeyUsage::SignVerify | KeyUsage::GenerateVerifyMac => Purpose::Sign,
    }
}

/// The HMAC algorithm of an HMAC key spec.
pub(crate) fn mac_of_spec(spec: KeySpec) -> Option<MacAlg> {
    Some(match spec {
        KeySpec::Hmac224 => MacAlg::Sha224,
        KeySpec::Hmac256 => MacAlg::Sha256,
        KeySpec::Hmac384 => MacAlg::Sha384,
        KeySpec::Hmac512 => MacAlg::Sha512,
        _ => return None,
    })
}

pub(crate) fn mac_alg(a: MacAlgorithm) -> MacAlg {
    match a {
        MacAlgorithm::HmacSha224 => MacAlg::Sha224,
        MacAlgorithm::HmacSha256 => MacAlg::Sha256,
        MacAlgorithm::HmacSha384 => MacAlg::Sha384,
        MacAlgorithm::HmacSha512 => MacAlg::Sha512,
    }
}

/// The crypto algorithm of a signing algorithm (`None`: SM2DSA, China Regions only).
pub(crate) fn signing_alg(a: S) -> Option<SigningAlg> {
    Some(match a {
        S::RsassaPssSha256 => SigningAlg::RsaPssSha256,
        S::RsassaPssSha384 => SigningAlg::RsaPssSha384,
        S::RsassaPssSha512 => SigningAlg::RsaPssSha512,
        S::RsassaPkcs1V15Sha256 => SigningAlg::RsaPkcs1Sha256,
        S::RsassaPkcs1V15Sha384 => SigningAlg::RsaPkcs1Sha384,
        S::RsassaPkcs1V15Sha512 => SigningAlg::RsaPkcs1Sha512,
        S::EcdsaSha256 => SigningAlg::EcdsaSha256,
        S::EcdsaSha384 => SigningAlg::EcdsaSha384,
        S::EcdsaSha512 => SigningAlg::EcdsaSha512,
        S::Ed25519Sha512 => SigningAlg::Ed25519Sha512,
        S::Ed25519PhSha512 => SigningAlg::Ed25519PhSha512,
        S::MlDsaShake256 => SigningAlg::MlDsaShake256,
        S::Sm2Dsa => return None,
    })
}

pub(crate) fn message_kind(t: MessageType) -> MessageKind {
    match t {
        MessageType::Raw => MessageKind::Raw,
        MessageType::Digest => MessageKind::Digest,
        MessageType::ExternalMu => MessageKind::ExternalMu,
    }
}

/// RSAES-OAEP of an encryption algorithm (`None` for SYMMETRIC_DEFAULT and SM2PKE).
pub(crate) fn oaep(a: E) -> Option<OaepAlg> {
    match a {
        E::RsaesOaepSha1 => Some(OaepAlg::Sha1),
        E::RsaesOaepSha256 => Some(OaepAlg::Sha256),
        E::SymmetricDefault | E::Sm2Pke => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_matches_reference() {
        assert_eq!(
            algorithms(KeySpec::EccNistP384, KeyUsage::SignVerify).signing,
            Some(vec![S::EcdsaSha384])
        );
        assert_eq!(
            algorithms(KeySpec::Hmac224, KeyUsage::GenerateVerifyMac).mac,
            Some(vec![MacAlgorithm::HmacSha224])
        );
        assert_eq!(
            algorithms(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt).encryption,
            Some(vec![E::SymmetricDefault])
        );
        for s in KeySpec::ALL {
            for u in s.allowed_usages() {
                assert_ne!(algorithms(*s, *u), Algorithms::default(), "{s} {u}");
            }
        }
    }
}
