//! Sealing of stored secrets under the root key (the key hierarchy's first level).
//!
//! Format (version 1): `0x01 || nonce(12) || AES-256-GCM(ciphertext || tag)`.
//! AAD: `"trent-seal-v1" 0x00 || purpose 0x00 || record id`, so a sealed value cannot be moved
//! to another record (another key ARN, material version or access key) or another purpose.

use crate::symmetric::{self, NONCE_LEN};
use crate::{CryptoError, RootKey, SecretBytes};

const VERSION: u8 = 1;

/// What a sealed record holds; part of the AAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// KMS key material; record id = `<key ARN>/<key material id>`.
    KeyMaterial,
    /// An access key's secret; record id = the access key id.
    AccessKeySecret,
    /// An import token (wrapping private key, algorithm, expiry); record id = the key ARN.
    ImportToken,
    /// The secret derived keys (audit chain, grant tokens, material ids) come from once the root
    /// key was rotated; record id = `derivation-key`.
    Derivation,
    /// The secret access key Trent signs an external key store's proxy requests with; record
    /// id = the custom key store id.
    XksProxySecret,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::KeyMaterial => b"key-material",
            Purpose::AccessKeySecret => b"access-key-secret",
            Purpose::ImportToken => b"import-token",
            Purpose::Derivation => b"derivation-key",
            Purpose::XksProxySecret => b"xks-proxy-secret",
        }
    }
}

fn aad(purpose: Purpose, record: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(32 + record.len());
    a.extend_from_slice(b"trent-seal-v1\0");
    a.extend_from_slice(purpose.label());
    a.push(0);
    a.extend_from_slice(record.as_bytes());
    a
}

/// Seals `secret` for storage.
pub fn seal(root: &RootKey, purpose: Purpose, record: &str, secret: &SecretBytes) -> Result<Vec<u8>, CryptoError> {
    let nonce = crate::random::array::<NONCE_LEN>()?;
    let ct = symmetric::seal(root.expose(), nonce, &aad(purpose, record), secret.expose())?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The root keys a running service opens sealed records with: the current one, which seals,
/// and during a root-key rotation the previous one, which only opens what is not re-sealed yet.
pub struct Keyring {
    current: RootKey,
    previous: Option<RootKey>,
}

impl Keyring {
    pub fn new(current: RootKey) -> Keyring {
        Keyring {
            current,
            previous: None,
        }
    }

    /// A rotation from `previous` to `current` in progress.
    pub fn rotating(current: RootKey, previous: RootKey) -> Keyring {
        Keyring {
            current,
            previous: Some(previous),
        }
    }

    /// The key new records are sealed under.
    pub fn current(&self) -> &RootKey {
        &self.current
    }

    pub fn previous(&self) -> Option<&RootKey> {
        self.previous.as_ref()
    }

    /// Opens a record sealed under either key (the current one first).
    pub fn unseal(&self, purpose: Purpose, record: &str, sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
        match unseal(&self.current, purpose, record, sealed) {
            Ok(s) => Ok(s),
            Err(e) => match &self.previous {
                Some(p) => unseal(p, purpose, record, sealed),
                None => Err(e),
            },
        }
    }
}

/// Opens a sealed record; fails (without detail) on any tampering or mismatch of record/purpose.
pub fn unseal(root: &RootKey, purpose: Purpose, record: &str, sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
    let (&version, rest) = sealed.split_first().ok_or(CryptoError)?;
    if version != VERSION || rest.len() < NONCE_LEN + symmetric::TAG_LEN {
        return Err(CryptoError);
    }
    let (nonce, ct) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError)?;
    symmetric::open(root.expose(), nonce, &aad(purpose, record), ct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_record_is_bound_to_its_id_and_purpose() {
        let root = RootKey::generate().expect("rng");
        let s = SecretBytes::new(vec![7u8; 32]);
        let sealed = seal(&root, Purpose::KeyMaterial, "arn:k/1", &s).expect("seal");
        assert!(!sealed.windows(32).any(|w| w == [7u8; 32]));
        assert_eq!(
            unseal(&root, Purpose::KeyMaterial, "arn:k/1", &sealed).expect("open"),
            s
        );
        assert!(unseal(&root, Purpose::KeyMaterial, "arn:k/2", &sealed).is_err());
        assert!(unseal(&root, Purpose::AccessKeySecret, "arn:k/1", &sealed).is_err());
        let other = RootKey::generate().expect("rng");
        assert!(unseal(&other, Purpose::KeyMaterial, "arn:k/1", &sealed).is_err());
        assert!(unseal(&root, Purpose::KeyMaterial, "arn:k/1", &sealed[..10]).is_err());
        assert!(unseal(&root, Purpose::KeyMaterial, "arn:k/1", &[]).is_err());
    }
}
