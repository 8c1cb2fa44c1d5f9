//! SigV4 rejections and the wire protocol, with raw HTTP requests and real signing.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use common::{err, Server};

/// Signs a KMS request at `time` and returns its headers.
fn signed(s: &Server, target: &str, body: &str, secret: &str, time: SystemTime) -> Vec<(String, String)> {
    let identity: Identity = Credentials::new(&s.access_key_id, secret, None, None, "t").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&s.region)
        .name("kms")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let headers = [
        ("host", s.addr.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target),
    ];
    let req = SignableRequest::new(
        "POST",
        "/",
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(req, &params).expect("sign").into_parts();
    let mut out: Vec<(String, String)> = headers[1..]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    for (k, v) in instructions.headers() {
        out.push((k.to_owned(), v.to_owned()));
    }
    out
}

fn send(s: &Server, headers: &[(String, String)], body: &str) -> (u16, serde_json::Value) {
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, body) = s.raw("POST", "/", &h, body.as_bytes());
    (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_requests_pass_and_bad_ones_are_rejected_as_aws_does() {
    let s = Server::start();
    let now = SystemTime::now();
    let (status, body) = send(
        &s,
        &signed(&s, "TrentService.ListKeys", "{}", &s.secret_access_key, now),
        "{}",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["Keys"].is_array());

    // Missing signature.
    let (status, body) = send(
        &s,
        &[
            ("x-amz-target".into(), "TrentService.ListKeys".into()),
            ("content-type".into(), "application/x-amz-json-1.1".into()),
        ],
        "{}",
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("MissingAuthenticationTokenException"))
    );

    // Wrong secret.
    let (status, body) = send(
        &s,
        &signed(&s, "TrentService.ListKeys", "{}", "not-the-secret", now),
        "{}",
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidSignatureException"))
    );

    // Body changed after signing.
    let (status, body) = send(
        &s,
        &signed(&s, "TrentService.ListKeys", "{}", &s.secret_access_key, now),
        "{\"Limit\":1}",
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidSignatureException"))
    );

    // Six minutes in the past and in the future.
    for (t, text) in [
        (now - Duration::from_secs(360), "Signature expired: "),
        (now + Duration::from_secs(360), "Signature not yet current: "),
    ] {
        let (status, body) = send(
            &s,
            &signed(&s, "TrentService.ListKeys", "{}", &s.secret_access_key, t),
            "{}",
        );
        assert_eq!(
            (status, body["__type"].as_str()),
            (400, Some("InvalidSignatureException"))
        );
        assert!(body["message"].as_str().expect("msg").starts_with(text), "{body}");
    }

    // Malformed Authorization header.
    let mut h = signed(&s, "TrentService.ListKeys", "{}", &s.secret_access_key, now);
    for (k, v) in h.iter_mut() {
        if k == "authorization" {
            *v = "AWS4-HMAC-SHA256 Credential=AKIA/20250101/us-east-1/kms/aws4_request".into();
        }
    }
    let (status, body) = send(&s, &h, "{}");
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("IncompleteSignatureException"))
    );

    // Unknown operations; every operation of the model is built (DeleteCustomKeyStore without
    // its id is a validation error, not UnsupportedOperationException).
    let (status, body) = send(
        &s,
        &signed(&s, "TrentService.Frobnicate", "{}", &s.secret_access_key, now),
        "{}",
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    let (status, body) = send(
        &s,
        &signed(&s, "TrentService.DeleteCustomKeyStore", "{}", &s.secret_access_key, now),
        "{}",
    );
    assert_eq!((status, body["__type"].as_str()), (400, Some("ValidationException")));

    // Malformed JSON and wrong member types.
    let (status, body) = send(
        &s,
        &signed(&s, "TrentService.ListKeys", "{", &s.secret_access_key, now),
        "{",
    );
    assert_eq!((status, body["__type"].as_str()), (400, Some("SerializationException")));
    let b = "{\"Limit\":\"ten\"}";
    let (status, body) = send(
        &s,
        &signed(&s, "TrentService.ListKeys", b, &s.secret_access_key, now),
        b,
    );
    assert_eq!((status, body["__type"].as_str()), (400, Some("SerializationException")));

    // Health.
    assert_eq!(s.raw("GET", "/healthz", &[], b"").0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_access_key_is_unrecognized_client() {
    let s = Server::start();
    let c = s.client_with("AKIAUNKNOWNUNKNOWN00", "secret");
    let e = c.list_keys().send().await.expect_err("unknown key");
    assert_eq!(
        err(&e),
        (
            "UnrecognizedClientException".into(),
            "The security token included in the request is invalid.".into()
        )
    );
    let c = s.client_with(&s.access_key_id, "wrong-secret-wrong-secret-wrong-secret00");
    let e = c.list_keys().send().await.expect_err("bad secret");
    assert_eq!(err(&e).0, "InvalidSignatureException");
}
