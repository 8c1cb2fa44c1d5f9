//! ECC CDH (NIST SP 800-56A rev. 3 §5.7.1.2) on P-256/P-384/P-521 for KMS `DeriveSharedSecret`:
//! the raw shared secret (x-coordinate), no KDF applied (reference §2.3). The peer key arrives as
//! DER SubjectPublicKeyInfo and must be on the key's curve.

use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::encoding::AsDer;
use zeroize::Zeroizing;

use super::KeyKind;
use crate::{CryptoError, SecretBytes};

fn alg(kind: KeyKind) -> Result<&'static agreement::Algorithm, CryptoError> {
    Ok(match kind {
        KeyKind::P256 => &agreement::ECDH_P256,
        KeyKind::P384 => &agreement::ECDH_P384,
        KeyKind::P521 => &agreement::ECDH_P521,
        _ => return Err(CryptoError),
    })
}

pub struct Agreer {
    kind: KeyKind,
    key: PrivateKey,
}

impl Agreer {
    /// Accepts the same PKCS#8 an ECDSA key of the curve uses.
    pub fn from_pkcs8(kind: KeyKind, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let key = PrivateKey::from_private_key_der(alg(kind)?, pkcs8).map_err(|_| CryptoError)?;
        Ok(Self { kind, key })
    }

    pub fn public_der(&self) -> Result<Vec<u8>, CryptoError> {
        let p = self.key.compute_public_key().map_err(|_| CryptoError)?;
        Ok(p.as_der().map_err(|_| CryptoError)?.as_ref().to_vec())
    }

    pub fn agree(&self, peer_spki: &[u8]) -> Result<SecretBytes, CryptoError> {
        let peer = UnparsedPublicKey::new(alg(self.kind)?, peer_spki);
        agreement::agree(&self.key, peer, CryptoError, |secret| {
            Ok(SecretBytes::from_zeroizing(Zeroizing::new(secret.to_vec())))
        })
    }
}
