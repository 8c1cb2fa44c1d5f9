//! Trent's root of trust. Every secret Trent stores is sealed under one 32-byte root key; a
//! *seal* is where that root key is kept and how it is unlocked at start:
//!
//! | seal | where the root key is | what unlocks it |
//! |---|---|---|
//! | `file` | `root.key`, 32 raw bytes, mode 0600 | nothing: reading the file (laptops, tests) |
//! | `passphrase` | `seal.json`, wrapped under an Argon2id-derived key | the passphrase |
//! | `shamir` | `seal.json`, wrapped under a key split into shares | a threshold of shares |
//! | `pkcs11` | `seal.json`, encrypted by a non-extractable AES key in an HSM | the HSM and its PIN |
//! | `kms` | `seal.json`, a ciphertext of another AWS-KMS-API service | that service |
//!
//! The data directory records the seal and its non-secret parameters (`seal.json`); what unlocks
//! it never is. Every seal file is written new (never over another) with mode 0600 and a file
//! that others can read is refused. This crate does no network or HSM I/O at import time and
//! knows nothing of the store or the service.

#![forbid(unsafe_code)]

mod error;
mod file;
pub mod kms;
mod passphrase;
pub mod pkcs11;
mod sealfile;
pub mod shamir;

pub use error::SealError;
pub use file::FileRootKey;
pub use passphrase::PassphraseSeal;
pub use sealfile::{seal_kind, SealKind};

/// Unlocks (and on first use creates) the root key.
pub trait RootKeyProvider: Send + Sync {
    /// A short name for logs (`file`).
    fn kind(&self) -> &'static str;
    /// Returns the root key, creating it if the store is being initialised.
    fn unlock_or_create(&self) -> Result<trent_crypto::RootKey, SealError>;
}
