//! Trent's domain vocabulary, shared by the wire layer, the store and the service.
//!
//! Owns: the closed enumerations of the KMS model (key state, key spec, key usage, origin, key
//! manager, every algorithm family, grant operations, …) and the checked newtypes that say a
//! value is well-formed by construction (`KeyId`, `AccountId`, `Region`, `AliasName`, `Arn`,
//! `EncryptionContext`). Parse, don't validate: once a value of these types exists it is valid,
//! so no layer above compares strings against literals.
//!
//! Must not depend on anything but `serde`: no I/O, no crypto, no async.

#![forbid(unsafe_code)]

mod arn;
mod context;
mod enums;
mod ids;

pub use arn::{Arn, ArnError, PARTITION};
pub use context::EncryptionContext;
pub use enums::*;
pub use ids::{AccountId, AliasName, KeyId, Region};
