//! The fixed request pipeline (see the crate docs) and the rendering of AWS errors.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use trent_api::{KmsError, Operation};
use trent_core::{Caller, CredentialCache};
use trent_sigv4::{CredentialLookup, Lookup, SigV4Error, VerifyInput};

use crate::AppState;

/// Largest request body accepted (the biggest KMS input, a 32 KB policy or 6 KB ciphertext,
/// with room to spare).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "TrentService.";

struct Credentials<'a>(&'a CredentialCache);

impl CredentialLookup for Credentials<'_> {
    type Identity = Caller;
    fn lookup(&self, access_key_id: &str, _session_token: Option<&str>) -> Lookup<Caller> {
        match self.0.lookup(access_key_id) {
            Some((secret, caller)) => Lookup::Found {
                secret,
                identity: caller,
            },
            None => Lookup::Unknown,
        }
    }
}

/// Maps an authentication failure to its AWS error (exhaustive).
fn auth_error(e: SigV4Error) -> KmsError {
    let text = e.to_string();
    match e {
        SigV4Error::Missing => KmsError::MissingAuthenticationToken(text),
        SigV4Error::Incomplete(_) => KmsError::IncompleteSignature(text),
        SigV4Error::UnknownAccessKey => KmsError::UnrecognizedClient(text),
        SigV4Error::ExpiredToken => KmsError::UnrecognizedClient(text),
        SigV4Error::SignatureMismatch | SigV4Error::Invalid(_) => KmsError::InvalidSignature(text),
    }
}

fn render(request_id: &str, result: Result<Vec<u8>, KmsError>) -> Response {
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => {
            let status = StatusCode::from_u16(e.code().http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, e.to_body().into_bytes())
        }
    };
    let mut resp = (status, Body::from(body)).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

pub(crate) async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let result = async {
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| KmsError::Validation(format!("Request body exceeds {MAX_BODY_BYTES} bytes.")))?;
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let input = VerifyInput {
            method: parts.method.as_str(),
            path_and_query: path,
            headers: &parts.headers,
            body: &body,
            region: &state.kms.location().region,
            service: state.service,
            now: SystemTime::now(),
        };
        let caller = trent_sigv4::verify(&input, &Credentials(state.kms.credentials())).map_err(auth_error)?;
        let op = target
            .strip_prefix(TARGET_PREFIX)
            .and_then(Operation::from_name)
            .ok_or_else(|| KmsError::UnknownOperation(String::new()))?;
        let out = state.kms.handle(&caller, op, &body, &request_id).await;
        Ok::<_, KmsError>((caller, out))
    }
    .await;
    let (principal, result) = match result {
        Ok((caller, out)) => (Some(caller.principal_arn), out),
        Err(e) => (None, Err(e)),
    };
    let elapsed_us = started.elapsed().as_micros() as u64;
    match &result {
        Ok(_) => {
            tracing::debug!(%request_id, %target, principal = principal.as_deref().unwrap_or("-"), elapsed_us, "ok")
        }
        Err(KmsError::Internal(detail)) => {
            tracing::error!(%request_id, %target, principal = principal.as_deref().unwrap_or("-"), elapsed_us, %detail, "KMSInternalException")
        }
        Err(e) => {
            tracing::info!(%request_id, %target, principal = principal.as_deref().unwrap_or("-"), elapsed_us, error = e.code().as_str(), "client error")
        }
    }
    render(&request_id, result)
}
