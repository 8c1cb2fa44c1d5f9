//! The Trent key management service: everything between an authenticated, routed request and the
//! store.
//!
//! One request path ([`pipeline`]): decode the body once into the operation's typed request →
//! validate it into domain types → check grant tokens → resolve the key(s) it names, check their
//! state and authorize ([`authz`]) → run the operation (one module per operation in `ops`) →
//! encode the typed response. An audit guard records every request that reaches the service,
//! whatever happens to it, early return or panic included.
//!
//! Walls, enforced by the compiler:
//! - `ops` and `iam` are private; the only way into an operation is [`Kms::handle`] /
//!   [`Kms::handle_query`], which run the whole path.
//! - An operation receives its keys only inside an [`authz::Authorized`] value, which only the
//!   authorization step constructs.
//! - Writing to the store takes an `Authority` (a decision, or the service's own background jobs,
//!   see [`service`]); without one, code sees only `trent_store::StoreRead`.
//!
//! Must not depend on HTTP or on a concrete SQL backend; storage is reached only through
//! `trent_store`, always off the async executor.

#![forbid(unsafe_code)]

mod audit;
mod authz;
pub mod bootstrap;
pub mod clock;
pub mod cloudtrail;
mod credentials;
mod grants;
mod iam;
mod ids;
mod keys;
mod lifecycle;
mod managed;
pub mod metrics;
mod ops;
mod pipeline;
mod policy;
pub mod quota;
pub mod rotation;
mod service;
mod simulate;
mod spec;
mod state;
mod usage;
mod validate;
pub mod xks;

pub use audit::{chain_key, render_entry, verify_trail};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{Caller, CredentialCache, CredentialLookup};
pub use iam::protocol::{IamError, IamErrorCode, Params};
pub use iam::{namespace, IamAction};
pub use keys::open_material;
pub use service::{spawn_audit_flusher, spawn_scheduler, Config, Kms, RequestMeta, Seed, SeedKey};
pub use simulate::Simulation;

/// The audit trail's reading side, for the `trent audit` commands.
pub mod trail {
    pub use trent_audit::chain::entries;
    pub use trent_audit::read::{for_each_entry, for_each_merged};
    pub use trent_audit::render::mentions;
    pub use trent_audit::{ChainReport, Checkpoint, Entry, Verification};
}

/// The request futures must be `Send` (the server runs them on a multi-threaded runtime); a
/// change that breaks it fails here, in this crate, rather than in the router.
#[cfg(test)]
mod send_check {
    fn is_send<T: Send>(_: &T) {}

    #[allow(dead_code)]
    fn check(kms: &crate::Kms, caller: &crate::Caller, meta: &crate::RequestMeta, p: &crate::Params) {
        is_send(&kms.handle(caller, trent_api::Operation::Encrypt, b"", meta));
        is_send(&kms.handle_query(caller, "iam", p, meta));
    }
}
