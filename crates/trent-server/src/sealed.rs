//! What a sealed server answers. Until an operator unseals it (the Shamir seal), Trent holds no
//! root key: it cannot check a signature (access-key secrets are sealed), read a key or write
//! an audit event. So every request gets HTTP 503 — `DependencyTimeoutException` for the KMS
//! API, `ServiceUnavailable` for IAM and STS (IAM API Reference, "Common errors") — both of
//! which the AWS SDKs retry, and `/healthz` answers 503 `sealed`. Nothing is read or written.

use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use trent_api::KmsError;
use trent_core::{IamError, IamErrorCode};

use crate::pipeline::{self, Api};

const MESSAGE: &str =
    "The key management service is sealed: an operator must unseal it before it can serve requests. Retry later.";

/// The metrics listener's router while sealed: only the `trent_sealed` gauge, at 1 (the
/// service's registry does not exist before the service opens).
pub fn metrics_router() -> Router {
    Router::new().route(
        "/metrics",
        get(|| async {
            (
                [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                "# HELP trent_sealed 1 while the server is sealed (its root key not available), else 0.\n\
                 # TYPE trent_sealed gauge\ntrent_sealed 1\n# EOF\n",
            )
        }),
    )
}

/// The router of a sealed server.
pub fn router() -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "sealed\n") }),
        )
        .fallback(answer)
}

async fn answer(req: axum::extract::Request) -> Response {
    let request_id = pipeline::new_request_id();
    let auth = pipeline::authorization(req.headers());
    let mut resp = match pipeline::api_of(req.headers(), &auth) {
        Api::Kms | Api::CloudTrail => {
            pipeline::render_json(&request_id, Err(KmsError::DependencyTimeout(MESSAGE.to_owned())))
        }
        api => pipeline::render_query(
            api,
            "",
            &request_id,
            Err(IamError::new(IamErrorCode::ServiceUnavailable, MESSAGE)),
        ),
    };
    // Tell well-behaved clients when to come back (RFC 9110 §10.2.3).
    resp.headers_mut().insert("retry-after", HeaderValue::from_static("5"));
    resp
}
