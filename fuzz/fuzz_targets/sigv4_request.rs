//! SigV4 verification of a whole request as received: the `Authorization` header parser, the
//! query-string and header canonicalisation, the scope and date checks and the signature
//! comparison. Input lines: the request target (path and query), then `name: value` headers,
//! then an empty line and the body. The credential lookup knows every access key id, with one
//! fixed secret. Invariants: no panic; no request is accepted (the fuzzer cannot forge an
//! HMAC-SHA256 signature, so an accepted request means the signature was not checked).
#![no_main]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use trent_sigv4::{derive_signing_key, parse_authorization, verify, CredentialLookup, Lookup, Scope, VerifyInput};

struct AnyKey;

impl CredentialLookup for AnyKey {
    type Identity = ();
    fn lookup(&self, access_key_id: &str, session_token: Option<&str>, scope: &Scope<'_>) -> Lookup<()> {
        if access_key_id.is_empty() || session_token == Some("expired") {
            return Lookup::Expired;
        }
        Lookup::Found {
            key: Arc::new(derive_signing_key(b"fuzz-secret", scope)),
            identity: (),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let target = lines.next().unwrap_or("/");
    let mut headers = http::HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.trim().as_bytes()),
            http::HeaderValue::from_str(value.trim()),
        ) else {
            continue;
        };
        if name == http::header::AUTHORIZATION {
            if let Ok(parsed) = parse_authorization(value.to_str().unwrap_or_default()) {
                let _ = parsed.signs("host");
                let _ = parsed.signed_headers().count();
            }
        }
        headers.append(name, value);
    }
    let input = VerifyInput {
        method: "POST",
        path_and_query: target,
        headers: &headers,
        body: body.as_bytes(),
        region: "us-east-1",
        service: "kms",
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600), // 2026-01-01T00:00:00Z
    };
    assert!(
        verify(&input, &AnyKey).is_err(),
        "a request with a forged signature was accepted"
    );
});
