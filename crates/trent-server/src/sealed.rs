//! What a sealed server answers. Until an operator unseals it (the Shamir seal), Trent holds no
//! root key: it cannot check a signature (access-key secrets are sealed), read a key or write
//! an audit event. So every request gets HTTP 503 — `DependencyTimeoutException` for the KMS
//! API, `ServiceUnavailable` for IAM and STS (IAM API Reference, "Common errors") — both of
//! which the AWS SDKs retry, and `/healthz` answers 503 `sealed`. Nothing is read or written.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

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
    let form = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let sts = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("/sts/aws4_request"));
    let request_id = uuid::Uuid::new_v4().to_string();
    let (content_type, body) = if form {
        let ns = trent_core::namespace(if sts { "sts" } else { "iam" });
        (
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse xmlns=\"{ns}\"><Error><Type>Receiver</Type>\
                 <Code>ServiceUnavailable</Code><Message>{MESSAGE}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            ),
        )
    } else {
        (
            "application/x-amz-json-1.1",
            trent_api::KmsError::DependencyTimeout(MESSAGE.to_owned()).to_body(),
        )
    };
    let mut resp = (StatusCode::SERVICE_UNAVAILABLE, Body::from(body)).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    // Tell well-behaved clients when to come back (RFC 9110 §10.2.3).
    h.insert("retry-after", HeaderValue::from_static("5"));
    resp
}
