//! Ed25519 (RFC 8032 §5.1): PureEdDSA for KMS `ED25519_SHA_512` with `MessageType=RAW`, and
//! HashEdDSA (Ed25519ph) for `ED25519_PH_SHA_512` with `MessageType=DIGEST`, where KMS signs the
//! 64-byte digest as the Ed25519ph message — so the input is pre-hashed again (reference §2.2).

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::signature::{self, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use zeroize::Zeroizing;

use super::{MessageKind, SigningAlg};
use crate::{ffi, CryptoError, SecretBytes};

pub fn generate() -> Result<SecretBytes, CryptoError> {
    let kp = Ed25519KeyPair::generate().map_err(|_| CryptoError)?;
    let der = kp.to_pkcs8v1().map_err(|_| CryptoError)?;
    Ok(SecretBytes::new(der.as_ref().to_vec()))
}

pub struct Signer {
    pair: Ed25519KeyPair,
    seed: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl Signer {
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| CryptoError)?;
        let seed_bin = pair
            .seed()
            .map_err(|_| CryptoError)?
            .as_be_bytes()
            .map_err(|_| CryptoError)?;
        let seed: [u8; 32] = seed_bin.as_ref().try_into().map_err(|_| CryptoError)?;
        let public: [u8; 32] = pair.public_key().as_ref().try_into().map_err(|_| CryptoError)?;
        Ok(Self {
            pair,
            seed: Zeroizing::new(seed),
            public,
        })
    }

    pub fn public_der(&self) -> Result<Vec<u8>, CryptoError> {
        Ok(self
            .pair
            .public_key()
            .as_der()
            .map_err(|_| CryptoError)?
            .as_ref()
            .to_vec())
    }

    pub fn sign(&self, alg: SigningAlg, kind: MessageKind, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match (alg, kind) {
            (SigningAlg::Ed25519Sha512, MessageKind::Raw) => Ok(self.pair.sign(message).as_ref().to_vec()),
            (SigningAlg::Ed25519PhSha512, MessageKind::Digest) => {
                Ok(ffi::ed25519ph_sign(&self.seed, &self.public, message)?.to_vec())
            }
            _ => Err(CryptoError),
        }
    }
}

/// The raw 32-byte key inside an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4: 12-byte prefix).
fn raw_public(spki: &[u8]) -> Result<[u8; 32], CryptoError> {
    const PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    match spki.strip_prefix(&PREFIX[..]) {
        Some(raw) => raw.try_into().map_err(|_| CryptoError),
        None => Err(CryptoError),
    }
}

pub fn verify(
    spki: &[u8],
    alg: SigningAlg,
    kind: MessageKind,
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    let public = raw_public(spki)?;
    match (alg, kind) {
        (SigningAlg::Ed25519Sha512, MessageKind::Raw) => Ok(UnparsedPublicKey::new(&signature::ED25519, public)
            .verify(message, sig)
            .is_ok()),
        (SigningAlg::Ed25519PhSha512, MessageKind::Digest) => Ok(ffi::ed25519ph_verify(&public, message, sig)),
        _ => Err(CryptoError),
    }
}
