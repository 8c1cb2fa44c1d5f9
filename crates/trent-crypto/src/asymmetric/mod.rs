//! Asymmetric KMS keys: generation, PKCS#8 storage form, SubjectPublicKeyInfo, and the
//! operations each key spec allows (reference §2.2). Private keys are handled only as PKCS#8 DER
//! in [`SecretBytes`] and as parsed aws-lc-rs key objects; public keys as DER SPKI (RFC 5280).
//!
//! Submodules are named after the standard they implement: [`rsa`] (RFC 8017), [`ecdsa`]
//! (FIPS 186-5 / SEC 1, DER signatures per RFC 3279 §2.2.3), [`ecdh`] (SP 800-56A ECC CDH),
//! [`eddsa`] (RFC 8032), [`mldsa`] (FIPS 204).

pub mod ecdh;
pub mod ecdsa;
pub mod eddsa;
pub mod mldsa;
pub mod rsa;

use crate::{CryptoError, SecretBytes};

/// Key families and sizes Trent generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    P256,
    P384,
    P521,
    Secp256k1,
    Ed25519,
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

/// What a key pair is for (KMS `KeyUsage` of an asymmetric key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Sign,
    Encrypt,
    Agree,
}

/// How `Sign`/`Verify` interpret the `Message` member (KMS `MessageType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Raw,
    Digest,
    ExternalMu,
}

/// Signing algorithms (KMS `SigningAlgorithmSpec`, minus SM2DSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlg {
    RsaPssSha256,
    RsaPssSha384,
    RsaPssSha512,
    RsaPkcs1Sha256,
    RsaPkcs1Sha384,
    RsaPkcs1Sha512,
    EcdsaSha256,
    EcdsaSha384,
    EcdsaSha512,
    Ed25519Sha512,
    Ed25519PhSha512,
    MlDsaShake256,
}

impl SigningAlg {
    /// Length a `DIGEST` message must have (the hash output of the algorithm).
    pub fn digest_len(self) -> usize {
        match self {
            SigningAlg::RsaPssSha256 | SigningAlg::RsaPkcs1Sha256 | SigningAlg::EcdsaSha256 => 32,
            SigningAlg::RsaPssSha384 | SigningAlg::RsaPkcs1Sha384 | SigningAlg::EcdsaSha384 => 48,
            SigningAlg::RsaPssSha512
            | SigningAlg::RsaPkcs1Sha512
            | SigningAlg::EcdsaSha512
            | SigningAlg::Ed25519Sha512
            | SigningAlg::Ed25519PhSha512
            | SigningAlg::MlDsaShake256 => 64,
        }
    }
}

/// RSAES-OAEP variants (KMS `EncryptionAlgorithmSpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OaepAlg {
    Sha1,
    Sha256,
}

enum Inner {
    RsaSign(rsa::Signer),
    RsaEncrypt(rsa::Decrypter),
    Ecdsa(ecdsa::Signer),
    Ecdh(ecdh::Agreer),
    Ed25519(eddsa::Signer),
    MlDsa(mldsa::Signer),
}

/// A parsed private key with its public key.
pub struct AsymmetricKey {
    kind: KeyKind,
    inner: Inner,
    public_der: Vec<u8>,
}

impl std::fmt::Debug for AsymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsymmetricKey")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl AsymmetricKey {
    /// Generates a key pair; returns it with its PKCS#8 DER (to be sealed for storage).
    /// RSA generation takes tens to hundreds of milliseconds: call it off the async executor.
    pub fn generate(kind: KeyKind, purpose: Purpose) -> Result<(Self, SecretBytes), CryptoError> {
        let pkcs8 = match kind {
            KeyKind::Rsa2048 | KeyKind::Rsa3072 | KeyKind::Rsa4096 => rsa::generate(kind)?,
            KeyKind::P256 | KeyKind::P384 | KeyKind::P521 | KeyKind::Secp256k1 => ecdsa::generate(kind)?,
            KeyKind::Ed25519 => eddsa::generate()?,
            KeyKind::MlDsa44 | KeyKind::MlDsa65 | KeyKind::MlDsa87 => mldsa::generate(kind)?,
        };
        let key = Self::from_pkcs8(kind, purpose, pkcs8.expose())?;
        Ok((key, pkcs8))
    }

    /// Parses a stored PKCS#8 private key for `purpose`.
    pub fn from_pkcs8(kind: KeyKind, purpose: Purpose, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let (inner, public_der) = match (kind, purpose) {
            (KeyKind::Rsa2048 | KeyKind::Rsa3072 | KeyKind::Rsa4096, Purpose::Encrypt) => {
                let d = rsa::Decrypter::from_pkcs8(pkcs8)?;
                let p = d.public_der()?;
                (Inner::RsaEncrypt(d), p)
            }
            (KeyKind::Rsa2048 | KeyKind::Rsa3072 | KeyKind::Rsa4096, _) => {
                let s = rsa::Signer::from_pkcs8(pkcs8)?;
                let p = s.public_der()?;
                (Inner::RsaSign(s), p)
            }
            (KeyKind::P256 | KeyKind::P384 | KeyKind::P521, Purpose::Agree) => {
                let a = ecdh::Agreer::from_pkcs8(kind, pkcs8)?;
                let p = a.public_der()?;
                (Inner::Ecdh(a), p)
            }
            (KeyKind::P256 | KeyKind::P384 | KeyKind::P521 | KeyKind::Secp256k1, _) => {
                let s = ecdsa::Signer::from_pkcs8(kind, pkcs8)?;
                let p = s.public_der()?;
                (Inner::Ecdsa(s), p)
            }
            (KeyKind::Ed25519, _) => {
                let s = eddsa::Signer::from_pkcs8(pkcs8)?;
                let p = s.public_der()?;
                (Inner::Ed25519(s), p)
            }
            (KeyKind::MlDsa44 | KeyKind::MlDsa65 | KeyKind::MlDsa87, _) => {
                let s = mldsa::Signer::from_pkcs8(kind, pkcs8)?;
                let p = s.public_der()?;
                (Inner::MlDsa(s), p)
            }
        };
        Ok(Self {
            kind,
            inner,
            public_der,
        })
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// DER SubjectPublicKeyInfo (what GetPublicKey returns).
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// Signs `message` (already checked for length/kind compatibility by the caller).
    pub fn sign(&self, alg: SigningAlg, kind: MessageKind, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &self.inner {
            Inner::RsaSign(s) => s.sign(alg, kind, message),
            Inner::Ecdsa(s) => s.sign(alg, kind, message),
            Inner::Ed25519(s) => s.sign(alg, kind, message),
            Inner::MlDsa(s) => s.sign(kind, message),
            Inner::RsaEncrypt(_) | Inner::Ecdh(_) => Err(CryptoError),
        }
    }

    /// Verifies a signature with the public key; `Ok(false)` for a signature that does not verify.
    pub fn verify(&self, alg: SigningAlg, kind: MessageKind, message: &[u8], sig: &[u8]) -> Result<bool, CryptoError> {
        verify_spki(self.kind, &self.public_der, alg, kind, message, sig)
    }

    /// RSAES-OAEP encryption with the public key.
    pub fn encrypt(&self, alg: OaepAlg, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &self.inner {
            Inner::RsaEncrypt(d) => d.encrypt(alg, plaintext),
            _ => Err(CryptoError),
        }
    }

    /// Largest plaintext RSAES-OAEP accepts for this key (RFC 8017 §7.1.1: k − 2hLen − 2).
    pub fn max_plaintext(&self, alg: OaepAlg) -> usize {
        let k = match self.kind {
            KeyKind::Rsa2048 => 256,
            KeyKind::Rsa3072 => 384,
            KeyKind::Rsa4096 => 512,
            _ => return 0,
        };
        let h = match alg {
            OaepAlg::Sha1 => 20,
            OaepAlg::Sha256 => 32,
        };
        k - 2 * h - 2
    }

    /// RSAES-OAEP decryption; any failure is the detail-free error.
    pub fn decrypt(&self, alg: OaepAlg, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        match &self.inner {
            Inner::RsaEncrypt(d) => d.decrypt(alg, ciphertext),
            _ => Err(CryptoError),
        }
    }

    /// ECDH with a peer's DER SubjectPublicKeyInfo: the raw shared secret (no KDF).
    pub fn agree(&self, peer_spki: &[u8]) -> Result<SecretBytes, CryptoError> {
        match &self.inner {
            Inner::Ecdh(a) => a.agree(peer_spki),
            _ => Err(CryptoError),
        }
    }
}

/// Verifies with a DER SubjectPublicKeyInfo alone (no private key needed).
pub fn verify_spki(
    kind: KeyKind,
    spki: &[u8],
    alg: SigningAlg,
    msg_kind: MessageKind,
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    match kind {
        KeyKind::Rsa2048 | KeyKind::Rsa3072 | KeyKind::Rsa4096 => rsa::verify(spki, alg, msg_kind, message, sig),
        KeyKind::P256 | KeyKind::P384 | KeyKind::P521 | KeyKind::Secp256k1 => {
            ecdsa::verify(kind, spki, alg, msg_kind, message, sig)
        }
        KeyKind::Ed25519 => eddsa::verify(spki, alg, msg_kind, message, sig),
        KeyKind::MlDsa44 | KeyKind::MlDsa65 | KeyKind::MlDsa87 => mldsa::verify(kind, spki, msg_kind, message, sig),
    }
}

/// `aws-lc-rs` digest algorithm for a SHA-2 signing algorithm.
pub(crate) fn sha2(alg: SigningAlg) -> &'static aws_lc_rs::digest::Algorithm {
    match alg.digest_len() {
        32 => &aws_lc_rs::digest::SHA256,
        48 => &aws_lc_rs::digest::SHA384,
        _ => &aws_lc_rs::digest::SHA512,
    }
}

/// A caller-supplied digest as an aws-lc-rs `Digest` (length already checked by the service).
pub(crate) fn imported_digest(alg: SigningAlg, digest: &[u8]) -> Result<aws_lc_rs::digest::Digest, CryptoError> {
    aws_lc_rs::digest::Digest::import_less_safe(digest, sha2(alg)).map_err(|_| CryptoError)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(alg: SigningAlg, m: &[u8]) -> Vec<u8> {
        aws_lc_rs::digest::digest(sha2(alg), m).as_ref().to_vec()
    }

    #[test]
    fn every_signing_kind_round_trips_raw_and_digest() {
        let cases = [
            (KeyKind::Rsa2048, SigningAlg::RsaPssSha256),
            (KeyKind::Rsa2048, SigningAlg::RsaPkcs1Sha512),
            (KeyKind::P256, SigningAlg::EcdsaSha256),
            (KeyKind::P384, SigningAlg::EcdsaSha384),
            (KeyKind::P521, SigningAlg::EcdsaSha512),
            (KeyKind::Secp256k1, SigningAlg::EcdsaSha256),
        ];
        for (kind, alg) in cases {
            let (key, pkcs8) = AsymmetricKey::generate(kind, Purpose::Sign).expect("generate");
            let again = AsymmetricKey::from_pkcs8(kind, Purpose::Sign, pkcs8.expose()).expect("parse");
            assert_eq!(key.public_key_der(), again.public_key_der());
            let sig = key.sign(alg, MessageKind::Raw, b"message").expect("sign");
            assert!(
                key.verify(alg, MessageKind::Raw, b"message", &sig).expect("verify"),
                "{kind:?}"
            );
            assert!(!key.verify(alg, MessageKind::Raw, b"messagE", &sig).expect("verify"));
            // A DIGEST signature is a signature of the message that digest came from.
            let d = sha(alg, b"message");
            let dsig = key.sign(alg, MessageKind::Digest, &d).expect("sign digest");
            assert!(
                key.verify(alg, MessageKind::Raw, b"message", &dsig).expect("verify"),
                "{kind:?}"
            );
            assert!(
                key.verify(alg, MessageKind::Digest, &d, &sig).expect("verify"),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn ed25519_pure_and_prehash() {
        let (key, _) = AsymmetricKey::generate(KeyKind::Ed25519, Purpose::Sign).expect("generate");
        let sig = key
            .sign(SigningAlg::Ed25519Sha512, MessageKind::Raw, b"m")
            .expect("sign");
        assert_eq!(sig.len(), 64);
        assert!(key
            .verify(SigningAlg::Ed25519Sha512, MessageKind::Raw, b"m", &sig)
            .expect("verify"));
        let d = [7u8; 64];
        let ph = key
            .sign(SigningAlg::Ed25519PhSha512, MessageKind::Digest, &d)
            .expect("sign ph");
        assert!(key
            .verify(SigningAlg::Ed25519PhSha512, MessageKind::Digest, &d, &ph)
            .expect("verify"));
        assert!(!key
            .verify(SigningAlg::Ed25519Sha512, MessageKind::Raw, &d, &ph)
            .expect("verify"));
        assert!(key.sign(SigningAlg::Ed25519Sha512, MessageKind::Digest, &d).is_err());
    }

    #[test]
    fn ml_dsa_raw_and_external_mu() {
        for (kind, len) in [
            (KeyKind::MlDsa44, 2420),
            (KeyKind::MlDsa65, 3309),
            (KeyKind::MlDsa87, 4627),
        ] {
            let (key, _) = AsymmetricKey::generate(kind, Purpose::Sign).expect("generate");
            let sig = key
                .sign(SigningAlg::MlDsaShake256, MessageKind::Raw, b"m")
                .expect("sign");
            assert_eq!(sig.len(), len);
            assert!(key
                .verify(SigningAlg::MlDsaShake256, MessageKind::Raw, b"m", &sig)
                .expect("verify"));
            let mu = [9u8; 64];
            let s = key
                .sign(SigningAlg::MlDsaShake256, MessageKind::ExternalMu, &mu)
                .expect("sign mu");
            assert!(key
                .verify(SigningAlg::MlDsaShake256, MessageKind::ExternalMu, &mu, &s)
                .expect("verify"));
            assert!(!key
                .verify(SigningAlg::MlDsaShake256, MessageKind::ExternalMu, &[8u8; 64], &s)
                .expect("verify"));
        }
    }

    #[test]
    fn rsa_oaep_limits_and_round_trip() {
        let (key, _) = AsymmetricKey::generate(KeyKind::Rsa2048, Purpose::Encrypt).expect("generate");
        assert_eq!(key.max_plaintext(OaepAlg::Sha1), 214);
        assert_eq!(key.max_plaintext(OaepAlg::Sha256), 190);
        for alg in [OaepAlg::Sha1, OaepAlg::Sha256] {
            let pt = vec![5u8; key.max_plaintext(alg)];
            let ct = key.encrypt(alg, &pt).expect("encrypt");
            assert_eq!(ct.len(), 256);
            assert_eq!(key.decrypt(alg, &ct).expect("decrypt").expose(), pt.as_slice());
            assert!(key.encrypt(alg, &vec![5u8; key.max_plaintext(alg) + 1]).is_err());
        }
        let ct = key.encrypt(OaepAlg::Sha1, b"x").expect("encrypt");
        assert!(key.decrypt(OaepAlg::Sha256, &ct).is_err());
    }

    #[test]
    fn ecdh_agrees_with_a_peer() {
        for kind in [KeyKind::P256, KeyKind::P384, KeyKind::P521] {
            let (a, _) = AsymmetricKey::generate(kind, Purpose::Agree).expect("a");
            let (b, _) = AsymmetricKey::generate(kind, Purpose::Agree).expect("b");
            let s1 = a.agree(b.public_key_der()).expect("agree");
            let s2 = b.agree(a.public_key_der()).expect("agree");
            assert_eq!(s1, s2);
            assert!(a.agree(b"not a key").is_err());
        }
        let (p256, _) = AsymmetricKey::generate(KeyKind::P256, Purpose::Agree).expect("a");
        let (p384, _) = AsymmetricKey::generate(KeyKind::P384, Purpose::Agree).expect("b");
        assert!(p256.agree(p384.public_key_der()).is_err(), "peer on another curve");
    }
}
