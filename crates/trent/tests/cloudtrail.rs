//! CloudTrail's LookupEvents over the audit trail (issue 15: the console's audit view reads
//! it), driven by boto3 (tests/py/test_cloudtrail.py) against the real binary.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use common::Server;

#[test]
fn boto3_looks_up_the_audit_trail() {
    let s = Server::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/test_cloudtrail.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .env("TRENT_ENDPOINT", &s.endpoint)
        .env("AWS_ACCESS_KEY_ID", &s.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &s.secret_access_key)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 with boto3 must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all CloudTrail checks passed"), "{stdout}");
}
