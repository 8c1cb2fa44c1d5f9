//! External key stores: the cryptography of AWS's "External Key Store Proxy API Specification"
//! (v1, Nov 10 2022) on both of its sides.
//!
//! - **The proxy's side** (Trent serving the XKS proxy API): AES-256-GCM under an external key
//!   with the AAD the specification prescribes for `ciphertextMetadata` ("Encrypt", response
//!   member 2): `u16be len(aad) ‖ aad ‖ u8 len(metadata) ‖ metadata`, so metadata can neither be
//!   changed nor moved into the AAD; and the Ciphertext Data Integrity Value of Appendix C,
//!   `SHA-256(aad ‖ metadata ‖ iv ‖ ciphertext ‖ tag)`.
//! - **The KMS's side** (Trent using an external key store): the version-2 ciphertext blob of a
//!   key in an external key store, encrypted twice: first under the key's own material (a whole
//!   version-1 blob, [`crate::envelope`], which binds the encryption context), then by the proxy
//!   under the external key. Neither Trent's material nor the external key alone recovers the
//!   plaintext.
//!
//! Version 2 layout:
//!
//! | offset | len | field |
//! |---|---|---|
//! | 0 | 1 | version = `0x02` |
//! | 1 | 1 | key-id kind (as version 1) |
//! | 2 | 16 | key id |
//! | 18 | 32 | key material id of the inner blob |
//! | 50 | 1 | IV length `l` (12 or 16) |
//! | 51 | l | IV the proxy chose |
//! | 51+l | 16 | authentication tag |
//! | 67+l | 1 | ciphertext metadata length `m` (0–20) |
//! | 68+l | m | ciphertext metadata |
//! | 68+l+m | n | the proxy's ciphertext of the inner version-1 blob |
//!
//! The AAD sent to the proxy is the 50 header bytes: the external layer is bound to this KMS key
//! and material, so a proxy ciphertext cannot be replayed under another KMS key backed by the
//! same external key (the specification's "confused deputy" note, "Authorization").

use crate::envelope::{Header, KeyIdBytes};
use crate::symmetric::{self, NONCE_LEN, TAG_LEN};
use crate::{CryptoError, SecretBytes};

/// The version byte of a blob made under a key in an external key store.
pub const BLOB_VERSION: u8 = 2;
/// The header of a version-2 blob, which is also the AAD sent to the proxy.
pub const HEADER_LEN: usize = 50;
/// The longest `ciphertextMetadata` (before Base64), spec "Encrypt".
pub const MAX_METADATA: usize = 20;
/// The shortest version-2 blob: header, IV length, 12-byte IV, tag, metadata length.
pub const MIN_BLOB: usize = HEADER_LEN + 1 + NONCE_LEN + TAG_LEN + 1;

/// `u16be len(aad) ‖ aad ‖ u8 len(metadata) ‖ metadata` (spec "Encrypt", `ciphertextMetadata`).
/// AAD is at most 8192 bytes in the specification; anything a u16 cannot count is refused.
pub fn proxy_aad(aad: &[u8], metadata: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let aad_len = u16::try_from(aad.len()).map_err(|_| CryptoError)?;
    let meta_len = u8::try_from(metadata.len()).map_err(|_| CryptoError)?;
    if metadata.len() > MAX_METADATA {
        return Err(CryptoError);
    }
    let mut out = Vec::with_capacity(3 + aad.len() + metadata.len());
    out.extend_from_slice(&aad_len.to_be_bytes());
    out.extend_from_slice(aad);
    out.push(meta_len);
    out.extend_from_slice(metadata);
    Ok(out)
}

/// One AES-256-GCM encryption by the proxy: IV, ciphertext (as long as the plaintext) and tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySealed {
    pub iv: [u8; NONCE_LEN],
    pub ciphertext: Vec<u8>,
    pub tag: [u8; TAG_LEN],
}

/// Encrypts under a 256-bit external key with a fresh random 96-bit IV (spec "Encrypt").
pub fn proxy_encrypt(
    key: &SecretBytes,
    aad: &[u8],
    metadata: &[u8],
    plaintext: &[u8],
) -> Result<ProxySealed, CryptoError> {
    let full_aad = proxy_aad(aad, metadata)?;
    let iv = crate::random::array::<NONCE_LEN>()?;
    let mut body = plaintext.to_vec();
    let k = symmetric_key(key)?;
    let tag = symmetric::seal_in_place(&k, iv, &full_aad, &mut body)?;
    Ok(ProxySealed {
        iv,
        ciphertext: body,
        tag,
    })
}

/// Decrypts what [`proxy_encrypt`] made. Only 96-bit IVs are produced here, so a 16-byte IV
/// cannot be one of ours; any failure is the one detail-free error.
pub fn proxy_decrypt(
    key: &SecretBytes,
    aad: &[u8],
    metadata: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let full_aad = proxy_aad(aad, metadata)?;
    let iv: [u8; NONCE_LEN] = iv.try_into().map_err(|_| CryptoError)?;
    if tag.len() != TAG_LEN {
        return Err(CryptoError);
    }
    let mut sealed = Vec::with_capacity(ciphertext.len() + TAG_LEN);
    sealed.extend_from_slice(ciphertext);
    sealed.extend_from_slice(tag);
    symmetric::open_with(&symmetric_key(key)?, iv, &full_aad, &sealed)
}

fn symmetric_key(key: &SecretBytes) -> Result<aws_lc_rs::aead::LessSafeKey, CryptoError> {
    let unbound =
        aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, key.expose()).map_err(|_| CryptoError)?;
    Ok(aws_lc_rs::aead::LessSafeKey::new(unbound))
}

/// The Ciphertext Data Integrity Value (spec Appendix C): SHA-256 over the decoded
/// `aad ‖ metadata ‖ iv ‖ ciphertext ‖ tag`, absent fields as empty strings.
pub fn cdiv(aad: &[u8], metadata: &[u8], iv: &[u8], ciphertext: &[u8], tag: &[u8]) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in [aad, metadata, iv, ciphertext, tag] {
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The 50 header bytes of a version-2 blob (and the AAD the proxy is sent).
pub fn blob_header(key: KeyIdBytes, material_id: [u8; 32]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    let (head, rest) = h.split_at_mut(2);
    head.copy_from_slice(&[BLOB_VERSION, u8::from(key.multi_region)]);
    let (id, material) = rest.split_at_mut(16);
    id.copy_from_slice(&key.id);
    material.copy_from_slice(&material_id);
    h
}

/// The parts of a version-2 blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuterBlob<'a> {
    pub header: Header,
    /// The 50 header bytes (the proxy's AAD).
    pub aad: &'a [u8],
    pub iv: &'a [u8],
    pub tag: &'a [u8],
    pub metadata: &'a [u8],
    pub ciphertext: &'a [u8],
}

/// Assembles a version-2 blob from the proxy's answer. The IV must be 12 or 16 bytes, the tag
/// 16 and the metadata at most 20 (spec "Encrypt"); anything else is refused.
pub fn encode_blob(
    header: &[u8; HEADER_LEN],
    iv: &[u8],
    tag: &[u8],
    metadata: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if !matches!(iv.len(), 12 | 16) || tag.len() != TAG_LEN || metadata.len() > MAX_METADATA {
        return Err(CryptoError);
    }
    let mut out = Vec::with_capacity(HEADER_LEN + 2 + iv.len() + tag.len() + metadata.len() + ciphertext.len());
    out.extend_from_slice(header);
    out.push(u8::try_from(iv.len()).map_err(|_| CryptoError)?);
    out.extend_from_slice(iv);
    out.extend_from_slice(tag);
    out.push(u8::try_from(metadata.len()).map_err(|_| CryptoError)?);
    out.extend_from_slice(metadata);
    out.extend_from_slice(ciphertext);
    Ok(out)
}

/// Splits a version-2 blob; anything malformed is the one detail-free error.
pub fn parse_blob(blob: &[u8]) -> Result<OuterBlob<'_>, CryptoError> {
    let header = crate::envelope::header(blob)?;
    if !header.external {
        return Err(CryptoError);
    }
    let (aad, rest) = blob.split_at_checked(HEADER_LEN).ok_or(CryptoError)?;
    let (&iv_len, rest) = rest.split_first().ok_or(CryptoError)?;
    if !matches!(iv_len, 12 | 16) {
        return Err(CryptoError);
    }
    let (iv, rest) = rest.split_at_checked(usize::from(iv_len)).ok_or(CryptoError)?;
    let (tag, rest) = rest.split_at_checked(TAG_LEN).ok_or(CryptoError)?;
    let (&meta_len, rest) = rest.split_first().ok_or(CryptoError)?;
    if usize::from(meta_len) > MAX_METADATA {
        return Err(CryptoError);
    }
    let (metadata, ciphertext) = rest.split_at_checked(usize::from(meta_len)).ok_or(CryptoError)?;
    if ciphertext.is_empty() {
        return Err(CryptoError);
    }
    Ok(OuterBlob {
        header,
        aad,
        iv,
        tag,
        metadata,
        ciphertext,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn b64(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(s).expect("b64")
    }

    /// Appendix C's worked example: the Encrypt response example's CDIV.
    #[test]
    fn cdiv_matches_the_specification_example() {
        let aad = b64("cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n");
        let metadata = b64("a2V5X3ZlcnNpb249MQ==");
        let iv = b64("HMrlRw85cAJUd5Ax");
        let ct = b64("ghxkK1txeDNn3q8Y");
        let tag = b64("vBxN2ncH1oEkR8WVXpmyYQ==");
        assert_eq!(aad.len() + metadata.len() + iv.len() + ct.len() + tag.len(), 86);
        let value = cdiv(&aad, &metadata, &iv, &ct, &tag);
        assert_eq!(
            hex::encode(value),
            "a8703f2260bd8791ec2d15ea0b23e65a0631eedcf2a13a65cc82db3f47cf5ec7"
        );
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(value),
            "qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc="
        );
    }

    #[test]
    fn proxy_aad_counts_both_lengths() {
        assert_eq!(proxy_aad(b"", b"").expect("aad"), vec![0, 0, 0]);
        assert_eq!(proxy_aad(b"ab", b"c").expect("aad"), vec![0, 2, b'a', b'b', 1, b'c']);
        // Moving metadata into the AAD changes what is authenticated (the spec's NOTE).
        assert_ne!(proxy_aad(b"c", b"").expect("a"), proxy_aad(b"", b"c").expect("b"));
        assert!(proxy_aad(b"", &[0; 21]).is_err());
    }

    #[test]
    fn proxy_round_trip_authenticates_aad_metadata_iv_and_tag() {
        let key = SecretBytes::new(vec![7; 32]);
        let s = proxy_encrypt(&key, b"aad", b"meta", b"hello world").expect("enc");
        assert_eq!(s.ciphertext.len(), 11);
        let back = proxy_decrypt(&key, b"aad", b"meta", &s.iv, &s.ciphertext, &s.tag).expect("dec");
        assert_eq!(back.expose(), b"hello world");
        assert!(proxy_decrypt(&key, b"aad", b"", &s.iv, &s.ciphertext, &s.tag).is_err());
        assert!(proxy_decrypt(&key, b"aadmeta", b"", &s.iv, &s.ciphertext, &s.tag).is_err());
        assert!(proxy_decrypt(&key, b"aaX", b"meta", &s.iv, &s.ciphertext, &s.tag).is_err());
        let mut iv = s.iv;
        iv[0] ^= 1;
        assert!(proxy_decrypt(&key, b"aad", b"meta", &iv, &s.ciphertext, &s.tag).is_err());
        let mut tag = s.tag;
        tag[15] ^= 1;
        assert!(proxy_decrypt(&key, b"aad", b"meta", &s.iv, &s.ciphertext, &tag).is_err());
        let other = SecretBytes::new(vec![8; 32]);
        assert!(proxy_decrypt(&other, b"aad", b"meta", &s.iv, &s.ciphertext, &s.tag).is_err());
    }

    /// NIST SP 800-38D test case 16 (AES-256, 96-bit IV, AAD): the proxy's GCM is the standard one
    /// once its AAD encoding is applied.
    #[test]
    fn gcm_is_the_standard_one() {
        let key = SecretBytes::new(
            hex::decode("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308").expect("k"),
        );
        let iv: [u8; 12] = hex::decode("cafebabefacedbaddecaf888")
            .expect("iv")
            .try_into()
            .expect("12");
        let pt = hex::decode("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39").expect("pt");
        let aad = hex::decode("feedfacedeadbeeffeedfacedeadbeefabaddad2").expect("aad");
        let sealed = symmetric::seal(key.expose(), iv, &aad, &pt).expect("seal");
        assert_eq!(
            hex::encode(&sealed),
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
             76fc6ece0f4e1768cddf8853bb2d551b"
        );
    }

    #[test]
    fn blob_round_trip_and_malformed_blobs() {
        let key = KeyIdBytes {
            multi_region: false,
            id: [4; 16],
        };
        let header = blob_header(key, [6; 32]);
        let blob = encode_blob(&header, &[1; 12], &[2; 16], b"m", b"ciphertext").expect("enc");
        let parts = parse_blob(&blob).expect("parse");
        assert_eq!(parts.header.key, key);
        assert_eq!(parts.header.material_id, [6; 32]);
        assert!(parts.header.external);
        assert_eq!(parts.aad, &header[..]);
        assert_eq!(
            (parts.iv, parts.tag, parts.metadata),
            (&[1u8; 12][..], &[2u8; 16][..], &b"m"[..])
        );
        assert_eq!(parts.ciphertext, b"ciphertext");
        // A version-1 reader never takes a version-2 blob for its own, and the reverse.
        assert!(crate::envelope::decrypt(&blob, &SecretBytes::new(vec![0; 32]), b"").is_err());
        for cut in 0..blob.len() - b"ciphertext".len() + 1 {
            assert!(parse_blob(&blob[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = blob.clone();
        bad[HEADER_LEN] = 13;
        assert!(parse_blob(&bad).is_err());
        assert!(encode_blob(&header, &[1; 11], &[2; 16], b"", b"x").is_err());
        assert!(encode_blob(&header, &[1; 12], &[2; 15], b"", b"x").is_err());
        assert!(encode_blob(&header, &[1; 12], &[2; 16], &[0; 21], b"x").is_err());
    }
}
