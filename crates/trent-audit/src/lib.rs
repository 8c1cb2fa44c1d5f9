//! Trent's audit trail: one CloudTrail-shaped event for every authenticated KMS, IAM and STS
//! request, successful or not, chained by HMAC so that editing, reordering or removing a stored
//! event is detectable.
//!
//! Owns: the typed [`Event`] the service records on the request path, the in-memory buffer and
//! its flush ([`AuditLog`]), the versioned binary batch format and the hash chain ([`chain`]),
//! one chain per writer read alone or merged by time ([`read`]), verification against
//! checkpoints, retention, and rendering as CloudTrail JSON ([`render`]). Storage is reached
//! only through `trent_store::Store`; the chain key comes from the service (derived from the
//! root key).
//! Must not depend on the service, HTTP or a concrete backend.
//!
//! What is recorded follows CloudTrail's KMS events: `requestParameters` hold only the members
//! each operation lists (key ids, algorithms, encryption context, grant fields, …). Plaintext,
//! ciphertext, messages, signatures, MACs, imported material, import and grant tokens, public keys
//! and policy documents are never given to an event, so nothing secret can reach the trail.

#![forbid(unsafe_code)]

pub mod chain;
mod compact;
mod event;
mod log;
pub mod read;
pub mod render;
mod verify;

pub use chain::{ChainKey, Entry, Stored};
pub use event::{is_read_only, Event, Identity, IdentityType, Parameters, Source, Value};
pub use log::{AuditLog, MAX_BUFFERED};
pub use verify::{verify, verify_against, ChainReport, Checkpoint, Verification, STARTED, STOPPED};
