//! ML-DSA-44/65/87 (FIPS 204): pure signing with an empty context for `MessageType=RAW`, and
//! external-μ signing for `EXTERNAL_MU` (μ = SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ 0 ‖ M, 64), computed
//! by the caller; FIPS 204 §6.2). A signature over μ verifies as a signature over M.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{KeyPair, UnparsedPublicKey};
use aws_lc_rs::signature::{
    PqdsaKeyPair, ML_DSA_44, ML_DSA_44_SIGNING, ML_DSA_65, ML_DSA_65_SIGNING, ML_DSA_87, ML_DSA_87_SIGNING,
};

use super::{KeyKind, MessageKind};
use crate::{ffi, CryptoError, SecretBytes};

fn signing(kind: KeyKind) -> Result<&'static aws_lc_rs::signature::PqdsaSigningAlgorithm, CryptoError> {
    Ok(match kind {
        KeyKind::MlDsa44 => &ML_DSA_44_SIGNING,
        KeyKind::MlDsa65 => &ML_DSA_65_SIGNING,
        KeyKind::MlDsa87 => &ML_DSA_87_SIGNING,
        _ => return Err(CryptoError),
    })
}

fn verification(kind: KeyKind) -> Result<&'static aws_lc_rs::signature::PqdsaVerificationAlgorithm, CryptoError> {
    Ok(match kind {
        KeyKind::MlDsa44 => &ML_DSA_44,
        KeyKind::MlDsa65 => &ML_DSA_65,
        KeyKind::MlDsa87 => &ML_DSA_87,
        _ => return Err(CryptoError),
    })
}

pub fn generate(kind: KeyKind) -> Result<SecretBytes, CryptoError> {
    let kp = PqdsaKeyPair::generate(signing(kind)?).map_err(|_| CryptoError)?;
    let der = kp.to_pkcs8v1().map_err(|_| CryptoError)?;
    Ok(SecretBytes::new(der.as_ref().to_vec()))
}

pub struct Signer {
    pair: PqdsaKeyPair,
    pkcs8: SecretBytes,
    sig_len: usize,
}

impl Signer {
    pub fn from_pkcs8(kind: KeyKind, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let alg = signing(kind)?;
        let pair = PqdsaKeyPair::from_pkcs8(alg, pkcs8).map_err(|_| CryptoError)?;
        Ok(Self {
            pair,
            pkcs8: SecretBytes::new(pkcs8.to_vec()),
            sig_len: alg.signature_len(),
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

    pub fn sign(&self, kind: MessageKind, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match kind {
            MessageKind::Raw => {
                let mut sig = vec![0u8; self.sig_len];
                let n = self.pair.sign(message, &mut sig).map_err(|_| CryptoError)?;
                sig.truncate(n);
                Ok(sig)
            }
            MessageKind::ExternalMu => {
                let mu: &[u8; 64] = message.try_into().map_err(|_| CryptoError)?;
                ffi::ml_dsa_sign_mu(self.pkcs8.expose(), mu)
            }
            MessageKind::Digest => Err(CryptoError),
        }
    }
}

pub fn verify(
    kind: KeyKind,
    spki: &[u8],
    msg_kind: MessageKind,
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    match msg_kind {
        MessageKind::Raw => Ok(UnparsedPublicKey::new(verification(kind)?, spki)
            .verify(message, sig)
            .is_ok()),
        MessageKind::ExternalMu => {
            let mu: &[u8; 64] = message.try_into().map_err(|_| CryptoError)?;
            ffi::ml_dsa_verify_mu(spki, mu, sig)
        }
        MessageKind::Digest => Err(CryptoError),
    }
}
