//! Trent's cryptography, on aws-lc-rs.
//!
//! Owns: secret newtypes ([`SecretBytes`], [`RootKey`]), the sealing of records under the root key
//! ([`seal`], RFC 5116 AES-256-GCM), the symmetric ciphertext-blob format ([`envelope`]), the
//! canonical encryption-context encoding bound as AAD ([`context`]), asymmetric keys
//! ([`asymmetric`]), HMAC ([`hmac`]) and random generation.
//! Must not do I/O, async or HTTP. Every decryption failure is one detail-free error.
//! `unsafe` is denied everywhere except the reviewed `ffi` module (Ed25519ph, ML-DSA external μ).

#![deny(unsafe_code)]

pub mod asymmetric;
pub mod context;

/// SHA-256 of `bytes` (checksums of backups).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

pub mod envelope;
mod ffi;
pub mod fips;
pub mod hmac;
pub mod import;
pub mod random;
pub mod seal;
pub mod secret;
pub mod symmetric;
pub mod xks;

pub use secret::{RootKey, SecretBytes};

/// The single, detail-free failure of every decrypt/unseal/verify path (rustls practice: a
/// failure must not tell an attacker which check failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cryptographic operation failed")]
pub struct CryptoError;
