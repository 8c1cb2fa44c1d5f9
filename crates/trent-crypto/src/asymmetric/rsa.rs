//! RSA (RFC 8017): RSASSA-PSS with MGF1 over the same hash and a salt as long as the hash, and
//! RSASSA-PKCS1-v1_5, over SHA-256/384/512; RSAES-OAEP with SHA-1 or SHA-256 (MGF1 same hash,
//! empty label). Exactly AWS KMS's parameters (reference §2.2).

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};
use zeroize::Zeroizing;

use super::{imported_digest, KeyKind, MessageKind, OaepAlg, SigningAlg};
use crate::{CryptoError, SecretBytes};

pub fn generate(kind: KeyKind) -> Result<SecretBytes, CryptoError> {
    let size = match kind {
        KeyKind::Rsa2048 => KeySize::Rsa2048,
        KeyKind::Rsa3072 => KeySize::Rsa3072,
        KeyKind::Rsa4096 => KeySize::Rsa4096,
        _ => return Err(CryptoError),
    };
    let kp = RsaKeyPair::generate(size).map_err(|_| CryptoError)?;
    let der: Pkcs8V1Der<'_> = kp.as_der().map_err(|_| CryptoError)?;
    Ok(SecretBytes::new(der.as_ref().to_vec()))
}

fn encoding(alg: SigningAlg) -> Result<&'static dyn signature::RsaEncoding, CryptoError> {
    Ok(match alg {
        SigningAlg::RsaPssSha256 => &signature::RSA_PSS_SHA256,
        SigningAlg::RsaPssSha384 => &signature::RSA_PSS_SHA384,
        SigningAlg::RsaPssSha512 => &signature::RSA_PSS_SHA512,
        SigningAlg::RsaPkcs1Sha256 => &signature::RSA_PKCS1_SHA256,
        SigningAlg::RsaPkcs1Sha384 => &signature::RSA_PKCS1_SHA384,
        SigningAlg::RsaPkcs1Sha512 => &signature::RSA_PKCS1_SHA512,
        _ => return Err(CryptoError),
    })
}

fn verification(alg: SigningAlg) -> Result<&'static signature::RsaParameters, CryptoError> {
    Ok(match alg {
        SigningAlg::RsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        SigningAlg::RsaPssSha384 => &signature::RSA_PSS_2048_8192_SHA384,
        SigningAlg::RsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
        SigningAlg::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        SigningAlg::RsaPkcs1Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        SigningAlg::RsaPkcs1Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        _ => return Err(CryptoError),
    })
}

/// A signing key pair.
pub struct Signer(RsaKeyPair);

impl Signer {
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        RsaKeyPair::from_pkcs8(pkcs8).map(Signer).map_err(|_| CryptoError)
    }

    pub fn public_der(&self) -> Result<Vec<u8>, CryptoError> {
        let der = self.0.public_key().as_der().map_err(|_| CryptoError)?;
        Ok(der.as_ref().to_vec())
    }

    pub fn sign(&self, alg: SigningAlg, kind: MessageKind, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let enc = encoding(alg)?;
        let mut sig = vec![0u8; self.0.public_modulus_len()];
        match kind {
            MessageKind::Raw => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                self.0.sign(enc, &rng, message, &mut sig).map_err(|_| CryptoError)?;
            }
            MessageKind::Digest => {
                let d = imported_digest(alg, message)?;
                self.0.sign_digest(enc, &d, &mut sig).map_err(|_| CryptoError)?;
            }
            MessageKind::ExternalMu => return Err(CryptoError),
        }
        Ok(sig)
    }
}

pub fn verify(
    spki: &[u8],
    alg: SigningAlg,
    kind: MessageKind,
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    let key = UnparsedPublicKey::new(verification(alg)?, spki);
    Ok(match kind {
        MessageKind::Raw => key.verify(message, sig).is_ok(),
        MessageKind::Digest => key.verify_digest(&imported_digest(alg, message)?, sig).is_ok(),
        MessageKind::ExternalMu => return Err(CryptoError),
    })
}

fn oaep(alg: OaepAlg) -> &'static aws_lc_rs::rsa::OaepAlgorithm {
    match alg {
        OaepAlg::Sha1 => &OAEP_SHA1_MGF1SHA1,
        OaepAlg::Sha256 => &OAEP_SHA256_MGF1SHA256,
    }
}

/// An encryption key pair (ENCRYPT_DECRYPT usage).
pub struct Decrypter {
    private: OaepPrivateDecryptingKey,
    public: OaepPublicEncryptingKey,
    public_der: Vec<u8>,
}

impl Decrypter {
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let private = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| CryptoError)?;
        let public_key = private.public_key();
        let public_der = public_key.as_der().map_err(|_| CryptoError)?.as_ref().to_vec();
        let public = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(&public_der).map_err(|_| CryptoError)?)
            .map_err(|_| CryptoError)?;
        let private = OaepPrivateDecryptingKey::new(private).map_err(|_| CryptoError)?;
        Ok(Self {
            private,
            public,
            public_der,
        })
    }

    pub fn public_der(&self) -> Result<Vec<u8>, CryptoError> {
        Ok(self.public_der.clone())
    }

    pub fn encrypt(&self, alg: OaepAlg, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; self.public.ciphertext_size()];
        let n = self
            .public
            .encrypt(oaep(alg), plaintext, &mut out, None)
            .map_err(|_| CryptoError)?
            .len();
        out.truncate(n);
        Ok(out)
    }

    pub fn decrypt(&self, alg: OaepAlg, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        let mut out = Zeroizing::new(vec![0u8; self.private.min_output_size()]);
        let n = self
            .private
            .decrypt(oaep(alg), ciphertext, &mut out, None)
            .map_err(|_| CryptoError)?
            .len();
        out.truncate(n);
        Ok(SecretBytes::from_zeroizing(out))
    }
}
