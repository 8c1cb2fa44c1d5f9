//! `seal.json` and the files of every seal: which seal a data directory uses, and the 0600
//! discipline (written new, never over another file; refused when others can read it).

use std::io::Write;
use std::path::Path;

use crate::SealError;

/// Refuses a secret file that its group or others can read.
pub(crate) fn check_private(path: &std::path::Path) -> Result<(), SealError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(SealError::Exposed(path.display().to_string(), mode));
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to a new file readable by its owner only (never over an existing one).
pub(crate) fn write_new_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), SealError> {
    let io = |source| SealError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

/// Reads a seal file that only its owner may read.
pub(crate) fn read_private(path: &Path) -> Result<Vec<u8>, SealError> {
    check_private(path)?;
    std::fs::read(path).map_err(SealError::io(path))
}

/// Reads `seal.json` as the seal `T` (which checks its own `seal` and `v` fields).
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SealError> {
    let text = read_private(path)?;
    serde_json::from_slice(&text).map_err(|e| SealError::malformed(path, e.to_string()))
}

/// Writes `seal.json` (there must be none).
pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), SealError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| SealError::malformed(path, e.to_string()))?;
    write_new_private(path, &text)
}

/// Standard base64 (RFC 4648 §4), the encoding of every binary field of `seal.json`.
pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn unb64(path: &Path, field: &str, text: &str) -> Result<Vec<u8>, SealError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| SealError::malformed(path, format!("{field} is not valid base64")))
}

/// The seals a data directory can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealKind {
    File,
    Passphrase,
    Shamir,
    Pkcs11,
    Kms,
}

impl SealKind {
    pub const NAMES: [&'static str; 5] = ["file", "passphrase", "shamir", "pkcs11", "kms"];

    pub fn parse(name: &str) -> Option<SealKind> {
        Some(match name {
            "file" => SealKind::File,
            "passphrase" => SealKind::Passphrase,
            "shamir" => SealKind::Shamir,
            "pkcs11" => SealKind::Pkcs11,
            "kms" => SealKind::Kms,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SealKind::File => "file",
            SealKind::Passphrase => "passphrase",
            SealKind::Shamir => "shamir",
            SealKind::Pkcs11 => "pkcs11",
            SealKind::Kms => "kms",
        }
    }

    /// Whether the server starts sealed and waits for an operator (the key is not at hand).
    pub fn starts_sealed(self) -> bool {
        matches!(self, SealKind::Shamir)
    }
}

impl std::fmt::Display for SealKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Just the fields every `seal.json` has.
#[derive(serde::Deserialize)]
struct Header {
    seal: String,
}

/// The seal of the data directory `dir`: `seal.json`'s `seal` field, else `file` when
/// `root.key` exists, else `None` (not initialised).
pub fn seal_kind(dir: &Path) -> Result<Option<SealKind>, SealError> {
    let seal = dir.join("seal.json");
    if seal.exists() {
        let h: Header = read_json(&seal)?;
        return SealKind::parse(&h.seal)
            .map(Some)
            .ok_or_else(|| SealError::malformed(&seal, format!("seal {} is not one this binary knows", h.seal)));
    }
    Ok(dir.join("root.key").exists().then_some(SealKind::File))
}
