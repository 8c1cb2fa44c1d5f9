//! AWS Signature Version 4 verification (`AWS4-HMAC-SHA256` in the `Authorization` header).
//!
//! Owns: parsing the `Authorization` header and `X-Amz-Date`, the ±5-minute clock-skew rule, the
//! credential-scope checks (region, service, date), the canonical request and string to sign
//! (written here with aws-lc-rs hashing; AWS's own `aws-sigv4` signer is the test oracle, so the
//! FIPS build covers SigV4 too), signing-key derivation, and the signature comparison (constant
//! time). A narrow [`CredentialLookup`] trait is the only way to reach keys: it hands out the
//! derived signing key of a scope, never the secret. This crate knows nothing about storage or
//! HTTP servers.

#![forbid(unsafe_code)]

mod parse;
mod verify;

pub use parse::{parse_authorization, AuthorizationHeader};
pub use verify::{
    derive_signing_key, verify, verify_parsed, CredentialLookup, Lookup, Scope, SigV4Error, SigningKey, VerifyInput,
    MAX_SKEW_SECS,
};
