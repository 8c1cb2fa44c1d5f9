//! Regression tests for what a hostile client found (issue 10), each named after its finding:
//! SigV4 rules exactly as AWS applies them, IAM input that would break XML for everybody, and
//! oversized input that would bloat the audit trail or stall the server.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use common::Server;

fn code(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["__type"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("not an AWS JSON error: {body}"))
}

#[test]
fn a_signed_request_is_accepted_by_the_hand_signer() {
    // The control for the tests below: the same construction, nothing broken, succeeds.
    let s = Server::start();
    let creds = (s.access_key_id.as_str(), s.secret_access_key.as_str());
    let (status, body) = s.kms_signed(creds, "ListKeys", "{}", &[], &[], &[], None);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn unsigned_x_amz_target_is_refused() {
    let s = Server::start();
    let creds = (s.access_key_id.as_str(), s.secret_access_key.as_str());
    let (status, body) = s.kms_signed(creds, "ListKeys", "{}", &[], &["x-amz-target"], &[], None);
    assert_eq!(
        (status, code(&body).as_str()),
        (400, "InvalidSignatureException"),
        "{body}"
    );
    assert!(body.contains("x-amz-target"), "{body}");
    // Any x-amz-* header, not just the target.
    let (status, body) = s.kms_signed(
        creds,
        "ListKeys",
        "{}",
        &[("x-amz-meta", "1")],
        &["x-amz-meta"],
        &[],
        None,
    );
    assert_eq!(
        (status, code(&body).as_str()),
        (400, "InvalidSignatureException"),
        "{body}"
    );
}

#[test]
fn a_signed_header_that_is_not_sent_is_refused() {
    let s = Server::start();
    let creds = (s.access_key_id.as_str(), s.secret_access_key.as_str());
    let (status, body) = s.kms_signed(creds, "ListKeys", "{}", &[("x-extra", "v")], &[], &["x-extra"], None);
    assert_eq!(
        (status, code(&body).as_str()),
        (400, "InvalidSignatureException"),
        "{body}"
    );
}

#[test]
fn a_security_token_with_long_term_credentials_is_refused() {
    let s = Server::start();
    let creds = (s.access_key_id.as_str(), s.secret_access_key.as_str());
    let (status, body) = s.kms_signed(creds, "ListKeys", "{}", &[], &[], &[], Some("bogus-token"));
    assert_eq!(
        (status, code(&body).as_str()),
        (400, "UnrecognizedClientException"),
        "{body}"
    );
    assert!(
        body.contains("The security token included in the request is invalid."),
        "{body}"
    );
}
