//! Wire types of the AWS KMS API (JSON 1.1, target prefix `TrentService`).
//!
//! Owns: the closed [`Operation`] catalogue and its [`Action`]s, the request/response DTOs, base64 blob types, the
//! [`ErrorCode`] catalogue and the typed [`KmsError`] every layer returns, and the helpers that build
//! AWS's `ValidationException` texts, and the XKS proxy API's wire types ([`xks`]). Must not touch I/O, async runtimes, HTTP or SQL.

#![forbid(unsafe_code)]

pub mod blob;
pub mod dto;
pub mod error;
pub mod operation;
pub mod validate;
pub mod xks;
pub mod xml;

pub use blob::{Blob, SensitiveBlob, SensitiveString};
pub use error::{ErrorCode, KmsError};
pub use operation::{Action, Operation};
