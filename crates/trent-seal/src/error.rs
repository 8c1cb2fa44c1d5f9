//! The one error type of every seal: what went wrong, never a secret.

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("root key file {0} is not a 32-byte key")]
    BadLength(String),
    #[error("random generator failed")]
    Random,
    #[error("{0} can be read by other users (mode {1:o}): run chmod 600 on it")]
    Exposed(String, u32),
    #[error("seal file {0}: {1}")]
    Malformed(String, String),
    #[error("the passphrase does not unseal the root key in {0}")]
    WrongPassphrase(String),
    /// A share that is not one of this seal's, given twice, or too few of them.
    #[error("{0}")]
    Share(String),
    /// The HSM (PKCS#11 module, token, PIN or key) could not be used.
    #[error("PKCS#11: {0}")]
    Hsm(String),
    /// The key management service of the `kms` seal refused or could not be reached.
    #[error("KMS seal: {0}")]
    Kms(String),
}

impl SealError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> SealError + '_ {
        move |source| SealError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn malformed(path: &std::path::Path, what: impl Into<String>) -> SealError {
        SealError::Malformed(path.display().to_string(), what.into())
    }
}
