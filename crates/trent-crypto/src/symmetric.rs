//! AES-256-GCM (NIST SP 800-38D; the AEAD interface of RFC 5116) and HKDF-SHA-256 (RFC 5869).

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::hkdf;
use zeroize::Zeroizing;

use crate::{CryptoError, SecretBytes};

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

fn key(k: &[u8]) -> Result<LessSafeKey, CryptoError> {
    let unbound = UnboundKey::new(&AES_256_GCM, k).map_err(|_| CryptoError)?;
    Ok(LessSafeKey::new(unbound))
}

/// Encrypts `buf` in place with an already-built key, returning the tag.
pub fn seal_in_place(
    key: &LessSafeKey,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], CryptoError> {
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
        .map_err(|_| CryptoError)?;
    tag.as_ref().try_into().map_err(|_| CryptoError)
}

/// Decrypts `ciphertext || tag` with an already-built key.
pub fn open_with(
    key: &LessSafeKey,
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let mut buf = Zeroizing::new(sealed.to_vec());
    let len = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
        .map_err(|_| CryptoError)?
        .len();
    buf.truncate(len);
    Ok(SecretBytes::from_zeroizing(buf))
}

/// Encrypts `plaintext`, returning `ciphertext || tag`.
pub fn seal(k: &[u8], nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = key(k)?;
    let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
    out.extend_from_slice(plaintext);
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut out)
        .map_err(|_| CryptoError)?;
    Ok(out)
}

/// Decrypts `ciphertext || tag`; any failure is the one detail-free [`CryptoError`].
pub fn open(k: &[u8], nonce: [u8; NONCE_LEN], aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
    open_with(&key(k)?, nonce, aad, sealed)
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA-256 of `ikm` straight into an AES-256-GCM key (the derived bytes live only in a
/// zeroized stack buffer and inside the key schedule).
pub fn hkdf_key(ikm: &[u8], salt: &[u8], info: &[u8]) -> Result<LessSafeKey, CryptoError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    let okm = prk.expand(&info, Len(KEY_LEN)).map_err(|_| CryptoError)?;
    let mut k = Zeroizing::new([0u8; KEY_LEN]);
    okm.fill(k.as_mut_slice()).map_err(|_| CryptoError)?;
    key(k.as_slice())
}

/// HKDF-SHA-256 extract-and-expand of `ikm` to a 32-byte key.
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8]) -> Result<SecretBytes, CryptoError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    let okm = prk.expand(&info, Len(KEY_LEN)).map_err(|_| CryptoError)?;
    let mut out = Zeroizing::new(vec![0u8; KEY_LEN]);
    okm.fill(&mut out).map_err(|_| CryptoError)?;
    Ok(SecretBytes::from_zeroizing(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    /// NIST GCM test vector (gcmEncryptExtIV256.rsp, Count 0 of Keylen 256/IVlen 96/PTlen 128/
    /// AADlen 128), as published by NIST CAVP.
    #[test]
    fn aes_gcm_nist_cavp_vector() {
        let k = unhex("92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b");
        let iv: [u8; 12] = unhex("ac93a1a6145299bde902f21a").try_into().expect("12");
        let pt = unhex("2d71bcfa914e4ac045b2aa60955fad24");
        let aad = unhex("1e0889016f67601c8ebea4943bc23ad6");
        let out = seal(&k, iv, &aad, &pt).expect("seal");
        assert_eq!(hex::encode(&out[..16]), "8995ae2e6df3dbf96fac7b7137bae67f");
        assert_eq!(hex::encode(&out[16..]), "eca5aa77d51d4a0a14d9c51e1da474ab");
        assert_eq!(open(&k, iv, &aad, &out).expect("open").expose(), pt.as_slice());
        let mut bad = out.clone();
        bad[0] ^= 1;
        assert_eq!(open(&k, iv, &aad, &bad), Err(CryptoError));
        assert_eq!(open(&k, iv, b"other", &out), Err(CryptoError));
    }

    /// RFC 5869 Appendix A.1 (Test Case 1), first 32 bytes of OKM.
    #[test]
    fn hkdf_rfc5869_case1() {
        let ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let okm = hkdf_sha256(&ikm, &salt, &info).expect("hkdf");
        assert_eq!(
            hex::encode(okm.expose()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }
}
