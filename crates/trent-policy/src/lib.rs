//! IAM JSON policy documents (key policies now; identity and trust policies later).
//!
//! Owns: the typed grammar ([`PolicyDocument`], [`Statement`], [`Principal`], conditions) and its
//! parser, which rejects what AWS rejects with `MalformedPolicyDocumentException`. Evaluation
//! (`evaluate(policy, grants, request) -> Decision`) lands with the identities-and-policies work.
//! Must not do I/O.

#![forbid(unsafe_code)]

mod document;

pub use document::{parse, Effect, OneOrMany, PolicyDocument, PolicyError, Principal, Statement};
