//! HMAC (RFC 2104) with SHA-224/256/384/512 for KMS HMAC keys (GenerateMac / VerifyMac).
//! Verification is constant-time (aws-lc-rs `hmac::verify`).

use aws_lc_rs::hmac;

use crate::{CryptoError, SecretBytes};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacAlg {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl MacAlg {
    fn algorithm(self) -> hmac::Algorithm {
        match self {
            MacAlg::Sha224 => hmac::HMAC_SHA224,
            MacAlg::Sha256 => hmac::HMAC_SHA256,
            MacAlg::Sha384 => hmac::HMAC_SHA384,
            MacAlg::Sha512 => hmac::HMAC_SHA512,
        }
    }

    /// Key length Trent generates: the hash output length (RFC 2104 §3's recommended minimum).
    pub fn key_len(self) -> usize {
        match self {
            MacAlg::Sha224 => 28,
            MacAlg::Sha256 => 32,
            MacAlg::Sha384 => 48,
            MacAlg::Sha512 => 64,
        }
    }
}

pub fn mac(alg: MacAlg, key: &SecretBytes, message: &[u8]) -> Vec<u8> {
    let k = hmac::Key::new(alg.algorithm(), key.expose());
    hmac::sign(&k, message).as_ref().to_vec()
}

/// Constant-time verification; `Err` when the tag does not match.
pub fn verify(alg: MacAlg, key: &SecretBytes, message: &[u8], tag: &[u8]) -> Result<(), CryptoError> {
    let k = hmac::Key::new(alg.algorithm(), key.expose());
    hmac::verify(&k, message, tag).map_err(|_| CryptoError)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 §4.3, Test Case 2 ("what do ya want for nothing?").
    #[test]
    fn rfc4231_case2() {
        let key = SecretBytes::new(b"Jefe".to_vec());
        let msg = b"what do ya want for nothing?";
        let cases = [
            (MacAlg::Sha224, "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"),
            (MacAlg::Sha256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (
                MacAlg::Sha384,
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
            ),
            (
                MacAlg::Sha512,
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
        ];
        for (alg, want) in cases {
            let tag = mac(alg, &key, msg);
            assert_eq!(hex::encode(&tag), want);
            assert!(verify(alg, &key, msg, &tag).is_ok());
            let mut bad = tag.clone();
            bad[0] ^= 1;
            assert!(verify(alg, &key, msg, &bad).is_err());
            assert!(verify(alg, &key, msg, &tag[..tag.len() - 1]).is_err());
        }
    }
}
