//! Cryptographically secure randomness from aws-lc-rs (`SystemRandom`).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::{CryptoError, SecretBytes};

pub fn fill(buf: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new().fill(buf).map_err(|_| CryptoError)
}

/// `n` random secret bytes (data keys, GenerateRandom output, new key material).
pub fn secret(n: usize) -> Result<SecretBytes, CryptoError> {
    let mut v = Zeroizing::new(vec![0u8; n]);
    fill(&mut v)?;
    Ok(SecretBytes::from_zeroizing(v))
}

/// `N` random non-secret bytes (nonces, salts, identifiers).
pub fn array<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut a = [0u8; N];
    fill(&mut a)?;
    Ok(a)
}
