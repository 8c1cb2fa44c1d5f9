//! Where the root key comes from: the [`RootKeyProvider`] trait ("seal"). This issue ships the
//! file provider (`<data-dir>/root.key`, mode 0600); passphrase, Shamir-share and PKCS#11 seals
//! implement the same trait later without touching the rest of the service.

use std::io::Write;
use std::path::PathBuf;

use trent_crypto::RootKey;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("root key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("root key file {0} is not a 32-byte key")]
    BadLength(String),
    #[error("random generator failed")]
    Random,
}

/// Unlocks (and on first use creates) the root key.
pub trait RootKeyProvider: Send + Sync {
    /// A short name for logs (`file`).
    fn kind(&self) -> &'static str;
    /// Returns the root key, creating it if the store is being initialised.
    fn unlock_or_create(&self) -> Result<RootKey, SealError>;
}

/// The root key in a file of exactly 32 raw bytes, readable only by its owner.
pub struct FileRootKey {
    path: PathBuf,
}

impl FileRootKey {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl RootKeyProvider for FileRootKey {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn unlock_or_create(&self) -> Result<RootKey, SealError> {
        let shown = self.path.display().to_string();
        let io = |source| SealError::Io {
            path: shown.clone(),
            source,
        };
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let key = RootKey::from_slice(&bytes).ok_or_else(|| SealError::BadLength(shown.clone()));
                zeroize::Zeroize::zeroize(&mut bytes.clone());
                key
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = RootKey::generate().map_err(|_| SealError::Random)?;
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                let mut f = opts.open(&self.path).map_err(io)?;
                f.write_all(key.expose()).map_err(io)?;
                f.sync_all().map_err(io)?;
                Ok(key)
            }
            Err(e) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_root_key_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = FileRootKey::new(dir.path().join("root.key"));
        let a = p.unlock_or_create().expect("create");
        let b = p.unlock_or_create().expect("reuse");
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("root.key"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join("short.key"), [1u8; 5]).expect("write");
        assert!(FileRootKey::new(dir.path().join("short.key"))
            .unlock_or_create()
            .is_err());
    }
}
