//! Imported key material (BYOK, reference §7): wrapping-key unwrap, the import token, and the
//! deterministic key-material id.
//!
//! - `RSAES_OAEP_SHA_1/256`: the material is RSAES-OAEP-encrypted directly (RFC 8017 §7.1).
//! - `RSA_AES_KEY_WRAP_SHA_1/256` (PKCS#11 `CKM_RSA_AES_KEY_WRAP`): an ephemeral AES key is
//!   RSAES-OAEP-encrypted (the first `k` bytes, `k` = modulus length) followed by the material
//!   wrapped with AES Key Wrap with Padding (RFC 5649) under that AES key.
//! - The import token seals the wrapping private key, the algorithm and the expiry under the root
//!   key with the key ARN as AAD: stateless, tamper-evident, usable only for its key.
//! - KeyMaterialId = HMAC-SHA-256(HKDF(root, "trent-material-id-v1"), key id ‖ 0 ‖ material):
//!   re-importing the same bytes yields the same id; the id reveals nothing about the material.

use aws_lc_rs::key_wrap::{AesKek, KeyWrapPadded, AES_128, AES_256};

use crate::asymmetric::{AsymmetricKey, KeyKind, OaepAlg, Purpose};
use crate::seal::{self, Purpose as SealPurpose};
use crate::{symmetric, CryptoError, RootKey, SecretBytes};

/// `AlgorithmSpec` values Trent accepts for wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrappingAlg {
    OaepSha1,
    OaepSha256,
    RsaAesKeyWrapSha1,
    RsaAesKeyWrapSha256,
}

impl WrappingAlg {
    fn code(self) -> u8 {
        match self {
            WrappingAlg::OaepSha1 => 1,
            WrappingAlg::OaepSha256 => 2,
            WrappingAlg::RsaAesKeyWrapSha1 => 3,
            WrappingAlg::RsaAesKeyWrapSha256 => 4,
        }
    }
    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            1 => WrappingAlg::OaepSha1,
            2 => WrappingAlg::OaepSha256,
            3 => WrappingAlg::RsaAesKeyWrapSha1,
            4 => WrappingAlg::RsaAesKeyWrapSha256,
            _ => return None,
        })
    }
    fn oaep(self) -> OaepAlg {
        match self {
            WrappingAlg::OaepSha1 | WrappingAlg::RsaAesKeyWrapSha1 => OaepAlg::Sha1,
            WrappingAlg::OaepSha256 | WrappingAlg::RsaAesKeyWrapSha256 => OaepAlg::Sha256,
        }
    }
}

/// A wrapping key pair and the token that carries its private half.
pub struct ImportParameters {
    pub public_key_der: Vec<u8>,
    pub token: Vec<u8>,
}

const TOKEN_VERSION: u8 = 1;

fn rsa_kind(bits: u32) -> Result<KeyKind, CryptoError> {
    Ok(match bits {
        2048 => KeyKind::Rsa2048,
        3072 => KeyKind::Rsa3072,
        4096 => KeyKind::Rsa4096,
        _ => return Err(CryptoError),
    })
}

/// Generates a wrapping key pair of `bits` and seals it into a token for `key_arn` that expires
/// at `expires_ms`. RSA generation is slow: call off the async executor.
pub fn parameters(
    root: &RootKey,
    key_arn: &str,
    alg: WrappingAlg,
    bits: u32,
    expires_ms: i64,
) -> Result<ImportParameters, CryptoError> {
    let kind = rsa_kind(bits)?;
    let (pair, pkcs8) = AsymmetricKey::generate(kind, Purpose::Encrypt)?;
    let mut payload = Vec::with_capacity(16 + pkcs8.len());
    payload.push(TOKEN_VERSION);
    payload.push(alg.code());
    payload.extend_from_slice(&bits.to_be_bytes());
    payload.extend_from_slice(&expires_ms.to_be_bytes());
    payload.extend_from_slice(pkcs8.expose());
    let payload = SecretBytes::new(payload);
    let token = seal::seal(root, SealPurpose::ImportToken, key_arn, &payload)?;
    Ok(ImportParameters {
        public_key_der: pair.public_key_der().to_vec(),
        token,
    })
}

/// Why a token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Tampered, malformed, or issued for another key.
    Invalid,
    /// Past its 24-hour validity.
    Expired,
}

/// Opens a token for `key_arn` and unwraps `wrapped` with the wrapping key it carries. Unwrap
/// failures are the detail-free [`CryptoError`] (`InvalidCiphertextException`).
pub fn unwrap(
    root: &seal::Keyring,
    key_arn: &str,
    token: &[u8],
    now_ms: i64,
    wrapped: &[u8],
) -> Result<Result<SecretBytes, CryptoError>, TokenError> {
    let payload = root
        .unseal(SealPurpose::ImportToken, key_arn, token)
        .map_err(|_| TokenError::Invalid)?;
    // version (1) ‖ algorithm (1) ‖ modulus bits (4, BE) ‖ expiry ms (8, BE) ‖ PKCS#8 key.
    let Some(([version, code], rest)) = payload.expose().split_first_chunk::<2>() else {
        return Err(TokenError::Invalid);
    };
    let Some((bits, rest)) = rest.split_first_chunk::<4>() else {
        return Err(TokenError::Invalid);
    };
    let Some((expires, pkcs8)) = rest.split_first_chunk::<8>() else {
        return Err(TokenError::Invalid);
    };
    if *version != TOKEN_VERSION {
        return Err(TokenError::Invalid);
    }
    let alg = WrappingAlg::from_code(*code).ok_or(TokenError::Invalid)?;
    let bits = u32::from_be_bytes(*bits);
    let expires = i64::from_be_bytes(*expires);
    if now_ms > expires {
        return Err(TokenError::Expired);
    }
    let kind = rsa_kind(bits).map_err(|_| TokenError::Invalid)?;
    let key = AsymmetricKey::from_pkcs8(kind, Purpose::Encrypt, pkcs8).map_err(|_| TokenError::Invalid)?;
    Ok(unwrap_with(&key, bits as usize / 8, alg, wrapped))
}

fn unwrap_with(key: &AsymmetricKey, k: usize, alg: WrappingAlg, wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
    match alg {
        WrappingAlg::OaepSha1 | WrappingAlg::OaepSha256 => key.decrypt(alg.oaep(), wrapped),
        WrappingAlg::RsaAesKeyWrapSha1 | WrappingAlg::RsaAesKeyWrapSha256 => {
            if wrapped.len() <= k {
                return Err(CryptoError);
            }
            let (rsa_part, kwp_part) = wrapped.split_at(k);
            let aes = key.decrypt(alg.oaep(), rsa_part)?;
            let kek = match aes.len() {
                16 => AesKek::new(&AES_128, aes.expose()),
                32 => AesKek::new(&AES_256, aes.expose()),
                _ => return Err(CryptoError),
            }
            .map_err(|_| CryptoError)?;
            let mut out = zeroize::Zeroizing::new(vec![0u8; kwp_part.len()]);
            let n = kek
                .unwrap_with_padding(kwp_part, &mut out)
                .map_err(|_| CryptoError)?
                .len();
            out.truncate(n);
            Ok(SecretBytes::from_zeroizing(out))
        }
    }
}

/// The deterministic KeyMaterialId of imported material (64 hex digits).
pub fn material_id(root: &RootKey, key_id: &str, material: &SecretBytes) -> Result<String, CryptoError> {
    let k = symmetric::hkdf_sha256(root.expose(), b"trent", b"trent-material-id-v1")?;
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, k.expose());
    let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
    ctx.update(key_id.as_bytes());
    ctx.update(&[0]);
    ctx.update(material.expose());
    Ok(hex::encode(ctx.sign().as_ref()))
}

/// Client side of `RSA_AES_KEY_WRAP_*` (what a customer does with the public key); used by tests.
pub fn wrap_for_test(spki: &[u8], alg: WrappingAlg, material: &[u8]) -> Result<Vec<u8>, CryptoError> {
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256};
    let public = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(spki).map_err(|_| CryptoError)?)
        .map_err(|_| CryptoError)?;
    let oaep = match alg.oaep() {
        OaepAlg::Sha1 => &OAEP_SHA1_MGF1SHA1,
        OaepAlg::Sha256 => &OAEP_SHA256_MGF1SHA256,
    };
    let rsa = |pt: &[u8]| -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; public.ciphertext_size()];
        let n = public.encrypt(oaep, pt, &mut out, None).map_err(|_| CryptoError)?.len();
        out.truncate(n);
        Ok(out)
    };
    match alg {
        WrappingAlg::OaepSha1 | WrappingAlg::OaepSha256 => rsa(material),
        WrappingAlg::RsaAesKeyWrapSha1 | WrappingAlg::RsaAesKeyWrapSha256 => {
            let aes = crate::random::secret(32)?;
            let kek = AesKek::new(&AES_256, aes.expose()).map_err(|_| CryptoError)?;
            let mut kwp = vec![0u8; material.len() + 16];
            let n = kek
                .wrap_with_padding(material, &mut kwp)
                .map_err(|_| CryptoError)?
                .len();
            kwp.truncate(n);
            let mut out = rsa(aes.expose())?;
            out.extend_from_slice(&kwp);
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/k";

    #[test]
    fn token_round_trip_expiry_and_binding() {
        let ring = seal::Keyring::new(RootKey::generate().expect("rng"));
        let root = ring.current();
        for alg in [
            WrappingAlg::OaepSha256,
            WrappingAlg::RsaAesKeyWrapSha256,
            WrappingAlg::RsaAesKeyWrapSha1,
        ] {
            let p = parameters(root, ARN, alg, 2048, 1_000).expect("params");
            let material = [7u8; 32];
            let wrapped = wrap_for_test(&p.public_key_der, alg, &material).expect("wrap");
            let out = unwrap(&ring, ARN, &p.token, 999, &wrapped)
                .expect("token")
                .expect("unwrap");
            assert_eq!(out.expose(), material);
            assert_eq!(
                unwrap(&ring, ARN, &p.token, 1_001, &wrapped).err(),
                Some(TokenError::Expired)
            );
            assert_eq!(
                unwrap(&ring, "arn:other", &p.token, 0, &wrapped).err(),
                Some(TokenError::Invalid)
            );
            let mut bad = p.token.clone();
            bad[20] ^= 1;
            assert_eq!(unwrap(&ring, ARN, &bad, 0, &wrapped).err(), Some(TokenError::Invalid));
            let mut garbled = wrapped.clone();
            garbled[5] ^= 1;
            assert!(unwrap(&ring, ARN, &p.token, 0, &garbled).expect("token ok").is_err());
        }
    }

    #[test]
    fn material_id_is_deterministic_per_key_and_material() {
        let root = RootKey::generate().expect("rng");
        let m = SecretBytes::new(vec![1; 32]);
        let a = material_id(&root, "k", &m).expect("id");
        assert_eq!(a.len(), 64);
        assert_eq!(a, material_id(&root, "k", &m).expect("id"));
        assert_ne!(a, material_id(&root, "k2", &m).expect("id"));
        assert_ne!(a, material_id(&root, "k", &SecretBytes::new(vec![2; 32])).expect("id"));
    }
}
