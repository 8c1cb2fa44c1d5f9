//! AWS Signature Version 4 verification (`AWS4-HMAC-SHA256` in the `Authorization` header).
//!
//! Owns: parsing the `Authorization` header and `X-Amz-Date`, the ±5-minute clock-skew rule, the
//! credential-scope checks (region, service, date), and the signature comparison (constant time).
//! The canonical request and string-to-sign are recomputed by AWS's own `aws-sigv4` crate, given
//! exactly the headers the client signed (its default exclusion list is cleared, see
//! `reference/dependencies.md` §3). A narrow [`CredentialLookup`] trait is the only way to reach
//! secrets; this crate knows nothing about storage or HTTP servers.

#![forbid(unsafe_code)]

mod parse;
mod verify;

pub use parse::{parse_authorization, AuthorizationHeader};
pub use verify::{verify, CredentialLookup, Lookup, SigV4Error, VerifyInput, MAX_SKEW_SECS};
