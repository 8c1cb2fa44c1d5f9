//! The symmetric ciphertext blob returned by Encrypt and GenerateDataKey*.
//!
//! Version 1 layout (94 bytes of overhead):
//!
//! | offset | len | field |
//! |---|---|---|
//! | 0 | 1 | version = `0x01` |
//! | 1 | 1 | key-id kind: `0x00` single-Region UUID key id, `0x01` multi-Region (`mrk-`) id |
//! | 2 | 16 | key id (UUID / 32 hex digits as bytes) |
//! | 18 | 32 | key material id (the 64-hex `KeyMaterialId`, as bytes) |
//! | 50 | 16 | salt |
//! | 66 | 12 | nonce |
//! | 78 | n+16 | AES-256-GCM ciphertext and tag |
//!
//! The per-message key is HKDF-SHA-256(material, salt, "trent-envelope-v1"), so no AES-GCM key is
//! ever used for more than one message and the 2^32 random-nonce limit of SP 800-38D §8.3 does not
//! bound how much one KMS key can encrypt. AAD = the 78 header bytes || the canonical encryption
//! context ([`crate::context`]): changing any header byte or any context pair fails decryption.

use crate::symmetric::{self, NONCE_LEN, TAG_LEN};
use crate::{CryptoError, SecretBytes};

pub const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 1 + 16 + 32 + 16 + NONCE_LEN;
const HKDF_INFO: &[u8] = b"trent-envelope-v1";
/// Bytes a blob adds to its plaintext.
pub const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// The identity of a KMS key inside a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyIdBytes {
    pub multi_region: bool,
    pub id: [u8; 16],
}

/// What a blob names before it is decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub key: KeyIdBytes,
    pub material_id: [u8; 32],
    /// A version-2 blob: made under a key in an external key store ([`crate::xks`]).
    pub external: bool,
}

/// Byte ranges of the v1 header.
const KIND_AT: usize = 1;
const KEY_ID: std::ops::Range<usize> = 2..18;
const MATERIAL_ID: std::ops::Range<usize> = 18..50;
const SALT: std::ops::Range<usize> = 50..66;
const NONCE: std::ops::Range<usize> = 66..78;

/// Encrypts `plaintext` under `material` (one version of a KMS key's material). One call to the
/// random generator (salt and nonce together) and one buffer: the plaintext is encrypted in
/// place behind the header.
pub fn encrypt(
    key: KeyIdBytes,
    material_id: [u8; 32],
    material: &SecretBytes,
    context: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut blob = Vec::with_capacity(OVERHEAD + plaintext.len());
    blob.push(VERSION);
    blob.push(u8::from(key.multi_region));
    blob.extend_from_slice(&key.id);
    blob.extend_from_slice(&material_id);
    blob.resize(HEADER_LEN, 0);
    crate::random::fill(blob.get_mut(SALT.start..NONCE.end).ok_or(CryptoError)?)?;
    let mut aad = Vec::with_capacity(HEADER_LEN + context.len());
    aad.extend_from_slice(&blob);
    aad.extend_from_slice(context);
    let salt = blob.get(SALT).ok_or(CryptoError)?;
    let nonce: [u8; NONCE_LEN] = blob.get(NONCE).and_then(|n| n.try_into().ok()).ok_or(CryptoError)?;
    let dek = symmetric::hkdf_key(material.expose(), salt, HKDF_INFO)?;
    blob.extend_from_slice(plaintext);
    let body = blob.get_mut(HEADER_LEN..).ok_or(CryptoError)?;
    let tag = symmetric::seal_in_place(&dek, nonce, &aad, body)?;
    blob.extend_from_slice(&tag);
    Ok(blob)
}

/// Reads the key and material a blob names: a version-1 blob, or a version-2 blob of a key in an
/// external key store ([`crate::xks`]), whose first 50 bytes have the same shape. Fails on
/// anything else.
pub fn header(blob: &[u8]) -> Result<Header, CryptoError> {
    let external = match blob.first() {
        Some(&VERSION) if blob.len() >= OVERHEAD => false,
        Some(&crate::xks::BLOB_VERSION) if blob.len() > crate::xks::MIN_BLOB => true,
        _ => return Err(CryptoError),
    };
    let multi_region = match blob.get(KIND_AT) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(CryptoError),
    };
    let id: [u8; 16] = blob.get(KEY_ID).and_then(|b| b.try_into().ok()).ok_or(CryptoError)?;
    let material_id: [u8; 32] = blob
        .get(MATERIAL_ID)
        .and_then(|b| b.try_into().ok())
        .ok_or(CryptoError)?;
    Ok(Header {
        key: KeyIdBytes { multi_region, id },
        material_id,
        external,
    })
}

/// Decrypts a version-1 blob whose header named `material`.
pub fn decrypt(blob: &[u8], material: &SecretBytes, context: &[u8]) -> Result<SecretBytes, CryptoError> {
    if header(blob)?.external {
        return Err(CryptoError);
    }
    let (head, ct) = blob.split_at_checked(HEADER_LEN).ok_or(CryptoError)?;
    let salt = head.get(SALT).ok_or(CryptoError)?;
    let nonce: [u8; NONCE_LEN] = head.get(NONCE).and_then(|n| n.try_into().ok()).ok_or(CryptoError)?;
    let mut aad = Vec::with_capacity(HEADER_LEN + context.len());
    aad.extend_from_slice(head);
    aad.extend_from_slice(context);
    let dek = symmetric::hkdf_key(material.expose(), salt, HKDF_INFO)?;
    symmetric::open_with(&dek, nonce, &aad, ct)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: KeyIdBytes = KeyIdBytes {
        multi_region: false,
        id: [9; 16],
    };

    #[test]
    fn round_trip_and_every_byte_is_authenticated() {
        let m = SecretBytes::new(vec![3; 32]);
        let blob = encrypt(KEY, [5; 32], &m, b"ctx", b"hello").expect("enc");
        assert_eq!(blob.len(), OVERHEAD + 5);
        assert_eq!(
            header(&blob).expect("hdr"),
            Header {
                key: KEY,
                material_id: [5; 32],
                external: false,
            }
        );
        assert_eq!(decrypt(&blob, &m, b"ctx").expect("dec").expose(), b"hello");
        assert!(decrypt(&blob, &m, b"ctx2").is_err());
        for i in 0..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x80;
            assert!(decrypt(&t, &m, b"ctx").is_err(), "byte {i} not authenticated");
        }
        assert!(decrypt(&blob, &SecretBytes::new(vec![4; 32]), b"ctx").is_err());
        assert!(header(&blob[..OVERHEAD - 1]).is_err());
    }

    #[test]
    fn same_plaintext_encrypts_differently() {
        let m = SecretBytes::new(vec![3; 32]);
        let a = encrypt(KEY, [5; 32], &m, b"", b"x").expect("enc");
        let b = encrypt(KEY, [5; 32], &m, b"", b"x").expect("enc");
        assert_ne!(a, b);
    }
}
