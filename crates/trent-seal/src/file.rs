//! The `file` seal: `<data-dir>/root.key`, 32 raw bytes, mode 0600 — the default for a first
//! start on a laptop. Whoever copies the data directory has every key (the start-up log says so).

use std::path::PathBuf;

use trent_crypto::RootKey;

use crate::sealfile::{check_private, write_new_private};
use crate::{RootKeyProvider, SealError};

/// The root key in a file of exactly 32 raw bytes, readable only by its owner.
pub struct FileRootKey {
    path: PathBuf,
}

impl FileRootKey {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl FileRootKey {
    /// Writes `key` as a new root key file (there must be none): `migrate-seal --to file`.
    pub fn store(&self, key: &RootKey) -> Result<(), SealError> {
        write_new_private(&self.path, key.expose())
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
        check_private(&self.path)?;
        match std::fs::read(&self.path) {
            Ok(mut bytes) => {
                let key = RootKey::from_slice(&bytes).ok_or_else(|| SealError::BadLength(shown.clone()));
                zeroize::Zeroize::zeroize(&mut bytes);
                key
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = RootKey::generate().map_err(|_| SealError::Random)?;
                write_new_private(&self.path, key.expose())?;
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
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.path().join("short.key");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        assert!(FileRootKey::new(dir.path().join("short.key"))
            .unlock_or_create()
            .is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_root_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("root.key");
        FileRootKey::new(path.clone()).unlock_or_create().expect("create");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = FileRootKey::new(path).unlock_or_create().expect_err("exposed");
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }
}
