//! The XKS proxy listener's front (`--xks-listen`, TLS only): the same fixed steps as the KMS
//! pipeline, in the XKS proxy API's vocabulary (AWS "External Key Store Proxy API
//! Specification", v1).
//!
//! ```text
//! POST [/<prefix>]/kms/xks/v1/health | /keys/<externalKeyId>/{metadata,encrypt,decrypt}
//!   ─► route (other paths: 404 InvalidUriPathException; GET and other methods on these URIs: 405)
//!   ─► body (size- and time-limited)
//!   ─► authenticate: SigV4, service `kms-xks-proxy`, an XKS proxy credential
//!      (failures: 401 AuthenticationFailedException)
//!   ─► trent_core::Kms::handle_xks (authorize per key, AES-256-GCM, audit)
//!   ─► 200 application/json, or {"errorName","errorMessage"} with the specification's status
//! ```
//! A `<prefix>` that names a Region the deployment serves (`/eu-west-1/kms/xks/v1`) looks keys
//! up in that Region; any other prefix (the specification's per-customer prefixes) the default
//! Region.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::FutureExt as _;
use trent_api::xks::{ErrorName, XksError, PATH_SUFFIX, SIGNING_NAME};
use trent_core::xks::{ProxyCall, ProxyOp};
use trent_core::{Kms, RequestMeta};
use trent_sigv4::VerifyInput;

use crate::pipeline::{authorization, new_request_id, Credentials};
use crate::AppState;

/// Largest XKS request body: AAD up to 8192 bytes and a plaintext up to 4300 (both in Base64)
/// and the request metadata's ARNs (spec "Encrypt"), with room to spare.
pub const MAX_XKS_BODY: usize = 64 * 1024;

/// The XKS proxy listener's router: every path goes to [`handle`], which routes by itself
/// (the prefix is free-form).
pub fn xks_router(kms: Arc<Kms>, limits: &crate::Limits) -> Router {
    let state = Arc::new(AppState {
        kms,
        service: SIGNING_NAME,
        body_timeout: limits.body_timeout,
    });
    Router::new().fallback(handle).with_state(state)
}

/// Splits `[/<prefix>]/kms/xks/v1/<rest>` into the prefix and the operation.
fn route(path: &str) -> Option<(&str, ProxyCall<'_>)> {
    let at = path.find(PATH_SUFFIX)?;
    let (prefix, rest) = path.split_at(at);
    let rest = rest.strip_prefix(PATH_SUFFIX)?;
    let prefix_ok = prefix.is_empty()
        || (prefix.starts_with('/')
            && prefix.len() + PATH_SUFFIX.len() <= trent_api::xks::MAX_URI_PATH
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_')));
    if !prefix_ok {
        return None;
    }
    if rest == "/health" {
        return Some((
            prefix,
            ProxyCall {
                op: ProxyOp::Health,
                key: None,
            },
        ));
    }
    let rest = rest.strip_prefix("/keys/")?;
    let (key, op) = rest.split_once('/')?;
    // An externalKeyId outside the specification's alphabet is not a path of the API (escapes,
    // dot segments, overlong ids end here, before anything else is read).
    if !trent_api::xks::is_external_key_id(key) {
        return None;
    }
    let op = match op {
        "metadata" => ProxyOp::Metadata,
        "encrypt" => ProxyOp::Encrypt,
        "decrypt" => ProxyOp::Decrypt,
        _ => return None,
    };
    Some((prefix, ProxyCall { op, key: Some(key) }))
}

fn render(request_id: &str, result: Result<Vec<u8>, XksError>) -> Response {
    let (status, body) = match result {
        Ok(b) => (StatusCode::OK, b),
        Err(e) => (
            StatusCode::from_u16(e.name.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            e.to_body().into_bytes(),
        ),
    };
    let mut resp = (status, Body::from(body)).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

fn error(name: ErrorName, message: &str) -> XksError {
    XksError::new(name, message)
}

async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let request_id = new_request_id();
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let Some((prefix, call)) = route(&path) else {
        return render(
            &request_id,
            Err(error(
                ErrorName::InvalidUriPath,
                "The request URI path is not an XKS proxy API path.",
            )),
        );
    };
    // Spec "API operations": a GET on these URIs (and any method but POST) is 405.
    if parts.method != Method::POST {
        let mut resp = render(
            &request_id,
            Err(error(ErrorName::Validation, "The XKS proxy API accepts POST only.")),
        );
        *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        resp.headers_mut().insert("allow", HeaderValue::from_static("POST"));
        return resp;
    }
    let kms = &state.kms;
    let body = match tokio::time::timeout(state.body_timeout, axum::body::to_bytes(body, MAX_XKS_BODY)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            return render(
                &request_id,
                Err(error(
                    ErrorName::UnsupportedOperation,
                    &format!("The request body exceeds {MAX_XKS_BODY} bytes."),
                )),
            )
        }
        Err(_) => {
            let mut resp = render(
                &request_id,
                Err(error(
                    ErrorName::Validation,
                    "The request body was not received in time.",
                )),
            );
            resp.headers_mut()
                .insert("connection", HeaderValue::from_static("close"));
            return resp;
        }
    };
    let auth = authorization(&parts.headers);
    let verified = match &auth {
        Err(e) => Err(e.to_string()),
        Ok(a) => {
            if kms.credential_needs_read(a.access_key_id) {
                if let Err(e) = kms.read_credential(a.access_key_id).await {
                    tracing::error!(%request_id, error = %e, "credential lookup failed");
                }
            }
            let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            // The Region of the scope is the calling KMS's (Appendix A); any is accepted, the
            // signature covers it.
            let input = VerifyInput {
                method: parts.method.as_str(),
                path_and_query,
                headers: &parts.headers,
                body: &body,
                region: a.region,
                service: SIGNING_NAME,
                now: SystemTime::now(),
            };
            let creds = Credentials {
                kms,
                now_ms: kms.now_ms(),
            };
            trent_sigv4::verify_parsed(&input, a, &creds).map_err(|e| e.to_string())
        }
    };
    let region = kms.served_region(prefix.trim_start_matches('/')).cloned();
    let meta = RequestMeta {
        request_id: request_id.clone(),
        source_ip,
        secure: true,
        region,
    };
    let (principal, result) = match verified {
        Err(why) => (None, Err(error(ErrorName::AuthenticationFailed, &why))),
        Ok(caller) => {
            let out = AssertUnwindSafe(kms.handle_xks(&caller, call, &body, &meta))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    tracing::error!(%request_id, "XKS proxy request panicked");
                    Err(error(
                        ErrorName::Internal,
                        "The key manager could not serve the request.",
                    ))
                });
            (Some(caller.arn().to_owned()), out)
        }
    };
    let code = result.as_ref().map_or_else(|e| e.name.as_str(), |_| "ok");
    kms.metrics()
        .request(SIGNING_NAME, call.op.name(), code, started.elapsed());
    let elapsed_us = started.elapsed().as_micros() as u64;
    match &result {
        Ok(_) => {
            tracing::debug!(%request_id, operation = call.op.name(), principal = principal.as_deref().unwrap_or("-"), elapsed_us, "xks ok")
        }
        Err(e) => {
            tracing::info!(%request_id, operation = call.op.name(), principal = principal.as_deref().unwrap_or("-"), elapsed_us, error = e.name.as_str(), "xks client error")
        }
    }
    render(&request_id, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_follow_the_specification_paths() {
        let (p, c) = route("/kms/xks/v1/health").expect("health");
        assert_eq!((p, c.op, c.key), ("", ProxyOp::Health, None));
        let (p, c) = route("/keystores/a-1/kms/xks/v1/keys/abc.D_e-1/encrypt").expect("encrypt");
        assert_eq!(
            (p, c.op, c.key),
            ("/keystores/a-1", ProxyOp::Encrypt, Some("abc.D_e-1"))
        );
        assert_eq!(
            route("/kms/xks/v1/keys/k/metadata").map(|r| r.1.op),
            Some(ProxyOp::Metadata)
        );
        assert_eq!(
            route("/kms/xks/v1/keys/k/decrypt").map(|r| r.1.op),
            Some(ProxyOp::Decrypt)
        );
        for bad in [
            "/",
            "/kms/xks/v2/health",
            "/kms/xks/v1/keys/k/sign",
            "/kms/xks/v1/keys/k",
            "/kms/xks/v1/keys/a%2Fb/metadata",
            "/kms/xks/v1/keys/../health",
            "/kms/xks/v1/healthz",
            "/a.b/kms/xks/v1/health",
            "kms/xks/v1/health",
        ] {
            assert!(route(bad).is_none(), "{bad}");
        }
    }
}
