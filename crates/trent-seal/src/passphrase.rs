//! The `passphrase` seal: `<data-dir>/seal.json` holds the root key wrapped (AES-256-GCM) under
//! a key derived from a passphrase with Argon2id (RFC 9106 §4's second recommended parameters:
//! 64 MiB, 3 passes, 4 lanes), with the salt and parameters. The data directory alone opens
//! nothing; the passphrase comes from a prompt, a file or the environment, never argv.

use std::path::PathBuf;

use trent_crypto::RootKey;

use crate::sealfile::{check_private, write_new_private};
use crate::{RootKeyProvider, SealError};

/// The passphrase seal's file (`seal.json`), version 1.
#[derive(serde::Serialize, serde::Deserialize)]
struct PassphraseFile {
    v: u32,
    seal: String,
    kdf: String,
    m_kib: u32,
    t: u32,
    p: u32,
    /// Base64 of the 16-byte salt.
    salt: String,
    /// Base64 of the 12-byte nonce.
    nonce: String,
    /// Base64 of the AES-256-GCM ciphertext and tag of the root key.
    wrapped: String,
}

/// Argon2id parameters: RFC 9106 §4, second recommended option (64 MiB, t=3, p=4).
const M_KIB: u32 = 64 * 1024;
const T_COST: u32 = 3;
const P_COST: u32 = 4;
/// What the wrapping authenticates besides the key: the format and the seal.
const AAD: &[u8] = b"trent-seal-v1|passphrase";

/// The root key wrapped under a key derived from a passphrase (see the module docs).
pub struct PassphraseSeal {
    path: PathBuf,
    passphrase: trent_crypto::SecretBytes,
}

impl PassphraseSeal {
    pub fn new(path: PathBuf, passphrase: trent_crypto::SecretBytes) -> Self {
        Self { path, passphrase }
    }

    fn derive(&self, salt: &[u8], m_kib: u32, t: u32, p: u32) -> Result<trent_crypto::SecretBytes, SealError> {
        let shown = || self.path.display().to_string();
        let params = argon2::Params::new(m_kib, t, p, Some(32))
            .map_err(|e| SealError::Malformed(shown(), format!("Argon2 parameters: {e}")))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = zeroize::Zeroizing::new(vec![0u8; 32]);
        argon
            .hash_password_into(self.passphrase.expose(), salt, &mut out)
            .map_err(|e| SealError::Malformed(shown(), format!("Argon2: {e}")))?;
        Ok(trent_crypto::SecretBytes::from_zeroizing(out))
    }

    /// Seals `key` into a new seal file (there must be none).
    pub fn write(&self, key: &RootKey) -> Result<(), SealError> {
        if self.passphrase.expose().is_empty() {
            return Err(SealError::Malformed(
                self.path.display().to_string(),
                "the passphrase is empty".into(),
            ));
        }
        let salt = trent_crypto::random::array::<16>().map_err(|_| SealError::Random)?;
        let nonce = trent_crypto::random::array::<12>().map_err(|_| SealError::Random)?;
        let kek = self.derive(&salt, M_KIB, T_COST, P_COST)?;
        let wrapped = trent_crypto::symmetric::seal(kek.expose(), nonce, AAD, key.expose())
            .map_err(|e| SealError::Malformed(self.path.display().to_string(), e.to_string()))?;
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let file = PassphraseFile {
            v: 1,
            seal: "passphrase".into(),
            kdf: "argon2id".into(),
            m_kib: M_KIB,
            t: T_COST,
            p: P_COST,
            salt: b64.encode(salt),
            nonce: b64.encode(nonce),
            wrapped: b64.encode(wrapped),
        };
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| SealError::Malformed(self.path.display().to_string(), e.to_string()))?;
        write_new_private(&self.path, &text)
    }

    /// Opens the seal file.
    pub fn open(&self) -> Result<RootKey, SealError> {
        let shown = self.path.display().to_string();
        check_private(&self.path)?;
        let text = std::fs::read(&self.path).map_err(|source| SealError::Io {
            path: shown.clone(),
            source,
        })?;
        let f: PassphraseFile =
            serde_json::from_slice(&text).map_err(|e| SealError::Malformed(shown.clone(), e.to_string()))?;
        if f.v != 1 || f.seal != "passphrase" || f.kdf != "argon2id" {
            return Err(SealError::Malformed(
                shown,
                format!(
                    "version {} seal {} kdf {} is not one this binary reads",
                    f.v, f.seal, f.kdf
                ),
            ));
        }
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let bad = |what: &str| SealError::Malformed(shown.clone(), format!("{what} is not valid base64"));
        let salt = b64.decode(&f.salt).map_err(|_| bad("salt"))?;
        let nonce: [u8; 12] = b64
            .decode(&f.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| bad("nonce"))?;
        let wrapped = b64.decode(&f.wrapped).map_err(|_| bad("wrapped"))?;
        // A file asking for absurd work is refused rather than obeyed (at most 4 GiB, 100 passes).
        if f.m_kib > 4 * 1024 * 1024 || f.t > 100 || f.p > 64 {
            return Err(SealError::Malformed(shown, "Argon2 parameters out of range".into()));
        }
        let kek = self.derive(&salt, f.m_kib, f.t, f.p)?;
        let key = trent_crypto::symmetric::open(kek.expose(), nonce, AAD, &wrapped)
            .map_err(|_| SealError::WrongPassphrase(shown.clone()))?;
        RootKey::from_slice(key.expose()).ok_or(SealError::BadLength(shown))
    }
}

impl RootKeyProvider for PassphraseSeal {
    fn kind(&self) -> &'static str {
        "passphrase"
    }

    fn unlock_or_create(&self) -> Result<RootKey, SealError> {
        if self.path.exists() {
            return self.open();
        }
        let key = RootKey::generate().map_err(|_| SealError::Random)?;
        self.write(&key)?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealfile::write_new_private;

    #[test]
    fn the_passphrase_seal_opens_with_its_passphrase_only() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("seal.json");
        let seal = |p: &str| PassphraseSeal::new(path.clone(), trent_crypto::SecretBytes::new(p.as_bytes().to_vec()));
        let key = seal("correct horse").unlock_or_create().expect("create");
        assert_eq!(seal("correct horse").unlock_or_create().expect("open"), key);
        assert!(matches!(
            seal("wrong horse").unlock_or_create(),
            Err(SealError::WrongPassphrase(_))
        ));
        let text = std::fs::read(&path).expect("read");
        assert!(
            !text.windows(32).any(|w| w == key.expose()),
            "the root key is not in the seal file"
        );
        // Tampering with the wrapped key or the parameters is refused.
        let mut v: serde_json::Value = serde_json::from_slice(&text).expect("json");
        v["t"] = serde_json::json!(2);
        std::fs::remove_file(&path).expect("rm");
        write_new_private(&path, &serde_json::to_vec(&v).expect("json")).expect("write");
        assert!(seal("correct horse").unlock_or_create().is_err());
    }
}
