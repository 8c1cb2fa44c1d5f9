//! The fixed request pipeline (see the crate docs) and the rendering of AWS errors, for both
//! protocols served on the listener: AWS JSON 1.1 (KMS, `X-Amz-Target`) and the AWS Query
//! protocol (IAM and STS, form-encoded, XML), chosen by the SigV4 credential scope's service.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt as _;
use trent_api::xml::Xml;
use trent_api::{KmsError, Operation};
use trent_core::CredentialLookup as Found;
use trent_core::{Caller, IamError, IamErrorCode, Kms, Params, RequestMeta};
use trent_sigv4::{AuthorizationHeader, CredentialLookup, Lookup, Scope, SigV4Error, VerifyInput};

use crate::AppState;

/// Largest request body accepted (the biggest KMS input, a 32 KB policy or 6 KB ciphertext,
/// with room to spare).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const JSON: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "TrentService.";

pub(crate) struct Credentials<'a> {
    pub kms: &'a Kms,
    pub now_ms: i64,
}

impl CredentialLookup for Credentials<'_> {
    type Identity = Caller;
    fn lookup(&self, access_key_id: &str, session_token: Option<&str>, scope: &Scope<'_>) -> Lookup<Caller> {
        match self
            .kms
            .credentials()
            .lookup(access_key_id, session_token, scope, self.now_ms)
        {
            Found::Found(key, caller) => Lookup::Found { key, identity: caller },
            Found::Unknown => Lookup::Unknown,
            Found::Expired => Lookup::Expired,
        }
    }
}

/// Which API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Kms,
    Iam,
    Sts,
    /// CloudTrail's LookupEvents over the audit trail (AWS JSON 1.1, like KMS).
    CloudTrail,
}

impl Api {
    fn service(self) -> &'static str {
        match self {
            Api::Kms => "kms",
            Api::Iam => "iam",
            Api::Sts => "sts",
            Api::CloudTrail => "cloudtrail",
        }
    }
}

/// Maps an authentication failure to its AWS JSON error (exhaustive).
/// Why a request was not authenticated.
enum Refused {
    Signature(SigV4Error),
    /// The credential could not be read (the store is down) and no trusted copy is cached.
    StoreUnavailable,
}

const STORE_UNAVAILABLE: &str = "The credential store is temporarily unavailable; retry the request.";

fn auth_error(r: Refused) -> KmsError {
    let e = match r {
        Refused::Signature(e) => e,
        Refused::StoreUnavailable => return KmsError::Internal(STORE_UNAVAILABLE.to_owned()),
    };
    let text = e.to_string();
    match e {
        SigV4Error::Missing => KmsError::MissingAuthenticationToken(text),
        SigV4Error::Incomplete(_) => KmsError::IncompleteSignature(text),
        SigV4Error::UnknownAccessKey => KmsError::UnrecognizedClient(text),
        SigV4Error::ExpiredToken => KmsError::ExpiredToken(text),
        SigV4Error::SignatureMismatch | SigV4Error::Invalid(_) => KmsError::InvalidSignature(text),
    }
}

/// The same failures in the Query protocol's vocabulary (IAM API Reference, "Common errors").
fn auth_error_query(r: Refused) -> IamError {
    let e = match r {
        Refused::Signature(e) => e,
        Refused::StoreUnavailable => return IamError::new(IamErrorCode::ServiceFailure, STORE_UNAVAILABLE),
    };
    let text = e.to_string();
    match e {
        SigV4Error::Missing => IamError::new(IamErrorCode::MissingAuthenticationToken, text),
        SigV4Error::Incomplete(_) => IamError::new(IamErrorCode::IncompleteSignature, text),
        SigV4Error::UnknownAccessKey => IamError::new(IamErrorCode::InvalidClientTokenId, text),
        SigV4Error::ExpiredToken => IamError::new(IamErrorCode::ExpiredToken, text),
        SigV4Error::SignatureMismatch | SigV4Error::Invalid(_) => {
            IamError::new(IamErrorCode::SignatureDoesNotMatch, text)
        }
    }
}

/// A CloudTrail error in AWS JSON: `{"__type": code, "message": …}`.
fn cloudtrail_body(e: &trent_core::cloudtrail::CloudTrailError) -> String {
    serde_json::json!({"__type": e.code, "message": e.message}).to_string()
}

fn with_headers(mut resp: Response, content_type: &'static str, request_id: &str) -> Response {
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

fn body_timeout(request_id: &str) -> Response {
    tracing::info!(%request_id, "request body not received in time");
    let mut resp = with_headers(
        (
            StatusCode::REQUEST_TIMEOUT,
            Body::from(
                r#"{"__type":"RequestTimeoutException","message":"The request body was not received in time."}"#,
            ),
        )
            .into_response(),
        JSON,
        request_id,
    );
    resp.headers_mut()
        .insert("connection", HeaderValue::from_static("close"));
    resp
}

pub(crate) fn render_json(request_id: &str, result: Result<Vec<u8>, KmsError>) -> Response {
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => {
            let status = StatusCode::from_u16(e.code().http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, e.to_body().into_bytes())
        }
    };
    with_headers((status, Body::from(body)).into_response(), JSON, request_id)
}

pub(crate) fn render_query(
    api: Api,
    action: &str,
    request_id: &str,
    result: Result<Option<Vec<Xml>>, IamError>,
) -> Response {
    let ns = trent_core::namespace(api.service());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let status = match result {
        Ok(children) => {
            let mut parts = Vec::new();
            if let Some(children) = children {
                parts.push(Xml::el(&format!("{action}Result"), children));
            }
            parts.push(Xml::el("ResponseMetadata", vec![Xml::leaf("RequestId", request_id)]));
            out.push_str(&format!("<{action}Response xmlns=\"{ns}\">"));
            for p in parts {
                p.write(&mut out);
            }
            out.push_str(&format!("</{action}Response>"));
            StatusCode::OK
        }
        Err(e) => {
            out.push_str(&format!("<ErrorResponse xmlns=\"{ns}\">"));
            Xml::el(
                "Error",
                vec![
                    Xml::leaf("Type", if e.is_sender() { "Sender" } else { "Receiver" }),
                    Xml::leaf("Code", e.code.as_str()),
                    Xml::leaf("Message", &e.message),
                ],
            )
            .write(&mut out);
            Xml::leaf("RequestId", request_id).write(&mut out);
            out.push_str("</ErrorResponse>");
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST)
        }
    };
    with_headers((status, Body::from(out)).into_response(), "text/xml", request_id)
}

/// A random (version 4) UUID from the userspace DRBG of aws-lc (`uuid::Uuid::new_v4` makes a
/// `getrandom` system call per request).
pub(crate) fn new_request_id() -> String {
    let bytes = trent_crypto::random::array::<16>().unwrap_or_else(|_| {
        // The DRBG does not fail once seeded; should it, the system generator still answers.
        *uuid::Uuid::new_v4().as_bytes()
    });
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// The `Authorization` header, parsed once: the credential scope's service picks the API.
pub(crate) fn authorization(headers: &axum::http::HeaderMap) -> Result<AuthorizationHeader<'_>, SigV4Error> {
    let Some(value) = headers.get("authorization") else {
        return Err(SigV4Error::Missing);
    };
    let Ok(text) = value.to_str() else {
        return Err(SigV4Error::Incomplete("Authorization header is not valid.".to_owned()));
    };
    trent_sigv4::parse_authorization(text)
}

/// The API a request addresses: the credential scope's service when signed, else by content type.
pub(crate) fn api_of(headers: &axum::http::HeaderMap, auth: &Result<AuthorizationHeader<'_>, SigV4Error>) -> Api {
    match auth.as_ref().map(|a| a.service) {
        Ok("iam") => Api::Iam,
        Ok("sts") => Api::Sts,
        Ok("cloudtrail") => Api::CloudTrail,
        Ok(_) => Api::Kms,
        Err(_) => {
            let form = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
            if form {
                Api::Iam
            } else {
                Api::Kms
            }
        }
    }
}

/// A panic in the service is a server fault: answered as `KMSInternalException` (500), logged
/// with the request id, and audited (the request's audit guard records it while unwinding).
fn panicked(request_id: &str, payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(%request_id, panic = %what, "request panicked");
    format!("panic: {what}")
}

pub(crate) async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let secure = req.extensions().get::<crate::serve::Secure>().is_some();
    let started = Instant::now();
    let request_id = new_request_id();
    let (parts, body) = req.into_parts();
    let auth = authorization(&parts.headers);
    let api = api_of(&parts.headers, &auth);
    let kms = &state.kms;
    let body = match tokio::time::timeout(state.body_timeout, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            let e = KmsError::Validation(format!("Request body exceeds {MAX_BODY_BYTES} bytes."));
            return render_json(&request_id, Err(e));
        }
        // A body shorter than its Content-Length, or sent byte by byte: the request ends and
        // so does the connection (its framing can no longer be trusted).
        Err(_) => return body_timeout(&request_id),
    };
    // Dev mode (`trent serve --dev`): any well-formed signature is the dev account's root; no
    // credential is looked up and no signature checked.
    let dev = kms.dev_account();
    // A key not cached yet, or cached 5 s ago or more, is read from the store first.
    let to_read = match &auth {
        Ok(a) if dev.is_none() && kms.credential_needs_read(a.access_key_id) => Some(a.access_key_id.to_owned()),
        _ => None,
    };
    let mut store_down = false;
    if let Some(id) = to_read {
        if let Err(e) = kms.read_credential(&id).await {
            tracing::error!(%request_id, error = %e, "credential lookup failed");
            // Unless a trusted cached copy answers, the store (a database failing over) is
            // what failed, not the caller's key: a retryable server error, never "unknown
            // access key".
            store_down = !kms.trusts_cached_credential(&id);
        }
    }
    // The Region of a request is its credential scope's, when the deployment serves it; a
    // request signed for another Region is verified against the default one and so refused as
    // AWS refuses a scope for the wrong Region ("Credential should be scoped to a valid
    // region"). IAM and STS are global services: AWS SDKs sign them for us-east-1 whatever the
    // client's Region.
    let served = auth.as_ref().ok().and_then(|a| kms.served_region(a.region));
    let region = match (&api, &auth, served) {
        (_, _, Some(r)) => r.as_str(),
        (Api::Iam | Api::Sts, Ok(a), None) if a.region == "us-east-1" => "us-east-1",
        _ => kms.region().as_str(),
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let input = VerifyInput {
        method: parts.method.as_str(),
        path_and_query: path,
        headers: &parts.headers,
        body: &body,
        region,
        service: api.service(),
        now: SystemTime::now(),
    };
    let creds = Credentials {
        kms,
        now_ms: kms.now_ms(),
    };
    let verified = match (&auth, dev) {
        (Ok(a), Some(account)) => Ok(trent_core::Caller::root(&account, a.access_key_id)),
        (auth, _) => match auth {
            _ if store_down => Err(Refused::StoreUnavailable),
            Ok(a) => trent_sigv4::verify_parsed(&input, a, &creds).map_err(Refused::Signature),
            Err(e) => Err(Refused::Signature(e.clone())),
        },
    };
    let meta = RequestMeta {
        request_id: request_id.clone(),
        source_ip,
        secure,
        region: served.cloned(),
    };
    match api {
        Api::Kms => {
            let target = parts
                .headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let operation = target.strip_prefix(TARGET_PREFIX).and_then(Operation::from_name);
            let (principal, result) = match verified {
                Err(e) => (None, Err(auth_error(e))),
                Ok(caller) => {
                    let out = match operation {
                        None => Err(KmsError::UnknownOperation(String::new())),
                        Some(op) => AssertUnwindSafe(kms.handle(&caller, op, &body, &meta))
                            .catch_unwind()
                            .await
                            .unwrap_or_else(|p| Err(KmsError::Internal(panicked(&request_id, p.as_ref())))),
                    };
                    (Some(caller.arn().to_owned()), out)
                }
            };
            let outcome = match &result {
                Ok(_) => Ok(()),
                Err(KmsError::Internal(detail)) => Err(format!("KMSInternalException: {detail}")),
                Err(e) => Err(e.code().as_str().to_owned()),
            };
            // Metric labels come from closed sets only (an unknown target is `Unknown`).
            let op = operation.map_or("Unknown", Operation::name);
            let code = match &result {
                Ok(_) => "ok",
                Err(e) => e.code().as_str(),
            };
            kms.metrics().request("kms", op, code, started.elapsed());
            log(&request_id, target, principal.as_deref(), started, &outcome);
            render_json(&request_id, result)
        }
        Api::CloudTrail => {
            let target = parts
                .headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let (principal, result) = match verified {
                Err(e) => {
                    let e = auth_error(e);
                    let status = e.code().http_status();
                    (None, Err((status, e.to_body())))
                }
                Ok(caller) => {
                    let out = AssertUnwindSafe(kms.handle_cloudtrail(&caller, &target, &body, &meta))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|p| {
                            Err(trent_core::cloudtrail::CloudTrailError {
                                code: "InternalFailure",
                                message: panicked(&request_id, p.as_ref()),
                            })
                        })
                        .map_err(|e| (e.status(), cloudtrail_body(&e)));
                    (Some(caller.arn().to_owned()), out)
                }
            };
            let outcome = result.as_ref().map(|_| ()).map_err(|(status, _)| status.to_string());
            let code = if result.is_ok() { "ok" } else { "error" };
            // Metric labels come from closed sets only.
            let op = match target.rsplit('.').next() {
                Some("LookupEvents") => "LookupEvents",
                Some("GetTrailStatus") => "GetTrailStatus",
                _ => "Unknown",
            };
            kms.metrics().request("cloudtrail", op, code, started.elapsed());
            log(&request_id, &target, principal.as_deref(), started, &outcome);
            let (status, body) = match result {
                Ok(body) => (StatusCode::OK, body),
                Err((status, body)) => (
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                    body.into_bytes(),
                ),
            };
            with_headers((status, Body::from(body)).into_response(), JSON, &request_id)
        }
        Api::Iam | Api::Sts => {
            let params = Params(form_urlencoded::parse(&body).into_owned().collect());
            let action = params.get("Action").unwrap_or("Unknown").to_owned();
            let (principal, result) = match verified {
                Err(e) => (None, Err(auth_error_query(e))),
                Ok(caller) => {
                    let out = AssertUnwindSafe(kms.handle_query(&caller, api.service(), &params, &meta))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|p| {
                            panicked(&request_id, p.as_ref());
                            Err(IamError::new(
                                IamErrorCode::ServiceFailure,
                                "An internal error occurred.",
                            ))
                        });
                    (Some(caller.arn().to_owned()), out)
                }
            };
            let outcome = result.as_ref().map(|_| ()).map_err(|e| e.code.as_str().to_owned());
            let op = trent_core::IamAction::parse(api.service(), &action).map_or("Unknown", |a| a.as_str());
            let code = result.as_ref().map_or_else(|e| e.code.as_str(), |_| "ok");
            kms.metrics().request(api.service(), op, code, started.elapsed());
            log(
                &request_id,
                &format!("{}:{action}", api.service()),
                principal.as_deref(),
                started,
                &outcome,
            );
            render_query(api, &action, &request_id, result)
        }
    }
}

fn log(request_id: &str, target: &str, principal: Option<&str>, started: Instant, outcome: &Result<(), String>) {
    let elapsed_us = started.elapsed().as_micros() as u64;
    let principal = principal.unwrap_or("-");
    match outcome {
        Ok(()) => tracing::debug!(%request_id, operation = %target, principal, elapsed_us, "ok"),
        Err(e) if e.starts_with("KMSInternalException") => {
            tracing::error!(%request_id, operation = %target, elapsed_us, error = %e)
        }
        Err(e) => tracing::info!(%request_id, operation = %target, principal, elapsed_us, error = %e, "client error"),
    }
}
