//! Trent's HTTP front: the one request pipeline every KMS request goes through.
//!
//! ```text
//! POST / ─► request id ─► body (size-limited) ─► authenticate (SigV4 → Caller)
//!        ─► route (X-Amz-Target → Operation, else UnknownOperationException)
//!        ─► trent_core::Kms::handle (decode → resolve → state → authorize → execute)
//!        ─► encode 200 application/x-amz-json-1.1, or {"__type","message"} with AWS's status
//! ```
//! Logging, request ids and error rendering happen here once, never in operations. Owns no
//! storage and no SQL; must not be bypassed by any operation.
//!
//! Also here: the XKS proxy listener's front ([`xks_router`], the same steps in the XKS proxy
//! API's vocabulary) and the HTTPS transport of Trent's own calls to external key store
//! proxies ([`XksClient`]).

#![forbid(unsafe_code)]

pub mod console;
mod pipeline;
mod sealed;
mod serve;
mod tls;
mod xks;
mod xks_client;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use trent_core::Kms;

pub use pipeline::MAX_BODY_BYTES;
pub use sealed::{metrics_router as sealed_metrics_router, router as sealed_router};
pub use serve::{serve, Limits, Routes, Secure};
pub use tls::{ClientAuth, Tls, TlsFiles};
pub use xks::{xks_router, MAX_XKS_BODY};
pub use xks_client::XksClient;

/// Shared state of the HTTP layer.
pub struct AppState {
    pub kms: Arc<Kms>,
    /// The SigV4 signing name of this endpoint (`kms`).
    pub service: &'static str,
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
}

/// The metrics listener's router: `GET /metrics` (Prometheus text format 0.0.4).
pub fn metrics_router(kms: Arc<Kms>) -> Router {
    Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let kms = Arc::clone(&kms);
            async move {
                (
                    [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    kms.render_metrics(),
                )
            }
        }),
    )
}

/// The router: `POST /` (AWS JSON 1.1) and `GET /healthz`, and the web console's files at
/// `/console/` when `console` is on.
pub fn router(kms: Arc<Kms>, limits: &Limits, console: bool) -> Router {
    let state = Arc::new(AppState {
        kms,
        service: "kms",
        body_timeout: limits.body_timeout,
    });
    let api = Router::new()
        .route("/", post(pipeline::handle))
        .route("/healthz", get(health));
    let api = if console { api.merge(console::router()) } else { api };
    api.with_state(state)
}

async fn health() -> &'static str {
    "ok\n"
}
