//! ECDSA over P-256, P-384, P-521 (FIPS 186-5) and secp256k1 (SEC 2), with SHA-256/384/512 as
//! AWS KMS pairs them (reference §2.2); signatures are DER `Ecdsa-Sig-Value` (RFC 3279 §2.2.3).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};

use super::{imported_digest, KeyKind, MessageKind, SigningAlg};
use crate::{CryptoError, SecretBytes};

fn signing(kind: KeyKind) -> Result<&'static signature::EcdsaSigningAlgorithm, CryptoError> {
    Ok(match kind {
        KeyKind::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        KeyKind::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        KeyKind::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        KeyKind::Secp256k1 => &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
        _ => return Err(CryptoError),
    })
}

fn verification(kind: KeyKind) -> Result<&'static signature::EcdsaVerificationAlgorithm, CryptoError> {
    Ok(match kind {
        KeyKind::P256 => &signature::ECDSA_P256_SHA256_ASN1,
        KeyKind::P384 => &signature::ECDSA_P384_SHA384_ASN1,
        KeyKind::P521 => &signature::ECDSA_P521_SHA512_ASN1,
        KeyKind::Secp256k1 => &signature::ECDSA_P256K1_SHA256_ASN1,
        _ => return Err(CryptoError),
    })
}

/// The algorithm AWS pairs with each curve.
pub fn algorithm_for(kind: KeyKind) -> Option<SigningAlg> {
    match kind {
        KeyKind::P256 | KeyKind::Secp256k1 => Some(SigningAlg::EcdsaSha256),
        KeyKind::P384 => Some(SigningAlg::EcdsaSha384),
        KeyKind::P521 => Some(SigningAlg::EcdsaSha512),
        _ => None,
    }
}

pub fn generate(kind: KeyKind) -> Result<SecretBytes, CryptoError> {
    let kp = EcdsaKeyPair::generate(signing(kind)?).map_err(|_| CryptoError)?;
    let der = kp.to_pkcs8v1().map_err(|_| CryptoError)?;
    Ok(SecretBytes::new(der.as_ref().to_vec()))
}

pub struct Signer {
    kind: KeyKind,
    pair: EcdsaKeyPair,
}

impl Signer {
    pub fn from_pkcs8(kind: KeyKind, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let pair = EcdsaKeyPair::from_pkcs8(signing(kind)?, pkcs8).map_err(|_| CryptoError)?;
        Ok(Self { kind, pair })
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
        if algorithm_for(self.kind) != Some(alg) {
            return Err(CryptoError);
        }
        let sig = match kind {
            MessageKind::Raw => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                self.pair.sign(&rng, message).map_err(|_| CryptoError)?
            }
            MessageKind::Digest => self
                .pair
                .sign_digest(&imported_digest(alg, message)?)
                .map_err(|_| CryptoError)?,
            MessageKind::ExternalMu => return Err(CryptoError),
        };
        Ok(sig.as_ref().to_vec())
    }
}

pub fn verify(
    kind: KeyKind,
    spki: &[u8],
    alg: SigningAlg,
    msg_kind: MessageKind,
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    if algorithm_for(kind) != Some(alg) {
        return Err(CryptoError);
    }
    let key = UnparsedPublicKey::new(verification(kind)?, spki);
    Ok(match msg_kind {
        MessageKind::Raw => key.verify(message, sig).is_ok(),
        MessageKind::Digest => key.verify_digest(&imported_digest(alg, message)?, sig).is_ok(),
        MessageKind::ExternalMu => return Err(CryptoError),
    })
}
