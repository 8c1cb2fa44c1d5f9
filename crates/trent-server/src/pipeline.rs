//! The fixed request pipeline (see the crate docs) and the rendering of AWS errors, for both
//! protocols served on the listener: AWS JSON 1.1 (KMS, `X-Amz-Target`) and the AWS Query
//! protocol (IAM and STS, form-encoded, XML), chosen by the SigV4 credential scope's service.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use trent_api::xml::Xml;
use trent_api::{KmsError, Operation};
use trent_core::credentials::CredentialLookup as Found;
use trent_core::iam::{IamError, Params};
use trent_core::{Caller, Kms, RequestMeta};
use trent_sigv4::{CredentialLookup, Lookup, SigV4Error, VerifyInput};

use crate::AppState;

/// Largest request body accepted (the biggest KMS input, a 32 KB policy or 6 KB ciphertext,
/// with room to spare).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const JSON: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "TrentService.";

struct Credentials<'a> {
    kms: &'a Kms,
    now_ms: i64,
}

impl CredentialLookup for Credentials<'_> {
    type Identity = Caller;
    fn lookup(&self, access_key_id: &str, session_token: Option<&str>) -> Lookup<Caller> {
        match self.kms.credentials().lookup(access_key_id, session_token, self.now_ms) {
            Found::Found(secret, caller) => Lookup::Found {
                secret,
                identity: caller,
            },
            Found::Unknown => Lookup::Unknown,
            Found::Expired => Lookup::Expired,
        }
    }
}

/// Which API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Kms,
    Iam,
    Sts,
}

impl Api {
    fn service(self) -> &'static str {
        match self {
            Api::Kms => "kms",
            Api::Iam => "iam",
            Api::Sts => "sts",
        }
    }
}

/// Maps an authentication failure to its AWS JSON error (exhaustive).
fn auth_error(e: SigV4Error) -> KmsError {
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
fn auth_error_query(e: SigV4Error) -> IamError {
    let text = e.to_string();
    match e {
        SigV4Error::Missing => IamError::new("MissingAuthenticationToken", 403, text),
        SigV4Error::Incomplete(_) => IamError::new("IncompleteSignature", 400, text),
        SigV4Error::UnknownAccessKey => IamError::new("InvalidClientTokenId", 403, text),
        SigV4Error::ExpiredToken => IamError::new("ExpiredToken", 400, text),
        SigV4Error::SignatureMismatch | SigV4Error::Invalid(_) => IamError::new("SignatureDoesNotMatch", 403, text),
    }
}

fn with_headers(mut resp: Response, content_type: &'static str, request_id: &str) -> Response {
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

fn render_json(request_id: &str, result: Result<Vec<u8>, KmsError>) -> Response {
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => {
            let status = StatusCode::from_u16(e.code().http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, e.to_body().into_bytes())
        }
    };
    with_headers((status, Body::from(body)).into_response(), JSON, request_id)
}

fn render_query(api: Api, action: &str, request_id: &str, result: Result<Option<Vec<Xml>>, IamError>) -> Response {
    let ns = trent_core::iam::namespace(api.service());
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
                    Xml::leaf("Type", if e.sender { "Sender" } else { "Receiver" }),
                    Xml::leaf("Code", e.code),
                    Xml::leaf("Message", &e.message),
                ],
            )
            .write(&mut out);
            Xml::leaf("RequestId", request_id).write(&mut out);
            out.push_str("</ErrorResponse>");
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST)
        }
    };
    with_headers((status, Body::from(out)).into_response(), "text/xml", request_id)
}

/// The API a request addresses: the credential scope's service when signed, else by content type.
fn api_of(headers: &axum::http::HeaderMap) -> (Api, Option<trent_sigv4::AuthorizationHeader>) {
    let parsed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| trent_sigv4::parse_authorization(h).ok());
    let api = match parsed.as_ref().map(|a| a.service.as_str()) {
        Some("iam") => Api::Iam,
        Some("sts") => Api::Sts,
        Some(_) => Api::Kms,
        None => {
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
    };
    (api, parsed)
}

pub(crate) async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let (api, scope) = api_of(&parts.headers);
    let kms = &state.kms;
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let e = KmsError::Validation(format!("Request body exceeds {MAX_BODY_BYTES} bytes."));
            return render_json(&request_id, Err(e));
        }
    };
    if let Some(s) = &scope {
        if let Err(e) = kms.ensure_credential(&s.access_key_id).await {
            tracing::error!(%request_id, error = %e, "credential lookup failed");
        }
    }
    // IAM and STS are global services: AWS SDKs sign them for us-east-1 whatever the client's Region.
    let region = match (&api, &scope) {
        (Api::Iam | Api::Sts, Some(s)) if s.region == "us-east-1" => "us-east-1".to_owned(),
        _ => kms.location().region.clone(),
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let input = VerifyInput {
        method: parts.method.as_str(),
        path_and_query: path,
        headers: &parts.headers,
        body: &body,
        region: &region,
        service: api.service(),
        now: SystemTime::now(),
    };
    let verified = trent_sigv4::verify(
        &input,
        &Credentials {
            kms,
            now_ms: kms.now_ms(),
        },
    );
    let meta = RequestMeta {
        request_id: request_id.clone(),
        source_ip,
    };
    match api {
        Api::Kms => {
            let target = parts
                .headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let (principal, result) = match verified {
                Err(e) => (None, Err(auth_error(e))),
                Ok(caller) => {
                    let out = match target.strip_prefix(TARGET_PREFIX).and_then(Operation::from_name) {
                        None => Err(KmsError::UnknownOperation(String::new())),
                        Some(op) => kms.handle(&caller, op, &body, &meta).await,
                    };
                    (Some(caller.principal_arn), out)
                }
            };
            let outcome = match &result {
                Ok(_) => Ok(()),
                Err(KmsError::Internal(detail)) => Err(format!("KMSInternalException: {detail}")),
                Err(e) => Err(e.code().as_str().to_owned()),
            };
            log(&request_id, target, principal.as_deref(), started, &outcome);
            render_json(&request_id, result)
        }
        Api::Iam | Api::Sts => {
            let params = Params(form_urlencoded::parse(&body).into_owned().collect());
            let action = params.get("Action").unwrap_or("Unknown").to_owned();
            let (principal, result) = match verified {
                Err(e) => (None, Err(auth_error_query(e))),
                Ok(caller) => {
                    let out = kms.handle_query(&caller, api.service(), &params, &meta).await;
                    (Some(caller.principal_arn), out)
                }
            };
            let outcome = result.as_ref().map(|_| ()).map_err(|e| e.code.to_owned());
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
        Ok(()) => tracing::debug!(%request_id, %target, principal, elapsed_us, "ok"),
        Err(e) if e.starts_with("KMSInternalException") => {
            tracing::error!(%request_id, %target, elapsed_us, error = %e)
        }
        Err(e) => tracing::info!(%request_id, %target, principal, elapsed_us, error = %e, "client error"),
    }
}
