//! An XKS proxy for tests: a Trent serving the XKS proxy API over TLS (a test CA's certificate
//! for `localhost`), an IAM user for the external key store, its XKS credential and keys it may
//! use.

use std::path::Path;
use std::process::Command;

use aws_sdk_kms::types::{KeySpec, KeyUsageType};

use super::{certs, Server};

/// The proxy Trent: a TLS certificate for `localhost` from a test CA, and the XKS listener.
pub fn proxy(tmp: &Path) -> Server {
    certs::issue(tmp, "ca", "proxy", "DNS:localhost,IP:127.0.0.1");
    let cert = tmp.join("proxy.pem");
    let key = tmp.join("proxy.key");
    Server::start_in(
        &tmp.join("proxy"),
        &[
            "--xks-listen",
            "127.0.0.1:0",
            "--xks-tls-cert",
            cert.to_str().expect("utf-8"),
            "--xks-tls-key",
            key.to_str().expect("utf-8"),
        ],
    )
}

/// `trent admin create-xks-credential` for `user`: (access key id, secret).
pub fn xks_credential(s: &Server, user: &str) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["admin", "create-xks-credential", "--user", user, "--data-dir"])
        .arg(&s.dir)
        .output()
        .expect("trent admin");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file: serde_json::Value = serde_json::from_slice(&out.stdout).expect("configuration file JSON");
    assert_eq!(file["XksProxyUriPath"], "/kms/xks/v1");
    let c = &file["XksProxyAuthenticationCredential"];
    let ak = c["AccessKeyId"].as_str().expect("id").to_owned();
    let sk = c["RawSecretAccessKey"].as_str().expect("secret").to_owned();
    // Appendix A's shapes: 20–30 of A-Z2-7; 43–64 of base64 characters.
    assert!((20..=30).contains(&ak.len()) && ak.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
    assert!((43..=64).contains(&sk.len()));
    (ak, sk)
}

/// A key on the proxy whose policy lets `user` use it as an external key (or not).
pub async fn proxy_key(s: &Server, user_arn: Option<&str>, spec: KeySpec) -> String {
    let account = user_arn.map_or_else(String::new, |a| a.split(':').nth(4).expect("account").to_owned());
    let mut statements = vec![serde_json::json!({
        "Sid": "root", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", if account.is_empty() { "000000000000" } else { &account })},
    })];
    if let Some(arn) = user_arn {
        statements.push(serde_json::json!({
            "Sid": "external key store", "Effect": "Allow", "Resource": "*",
            "Principal": {"AWS": arn},
            "Action": ["kms:DescribeKey", "kms:Encrypt", "kms:Decrypt"],
        }));
    }
    let c = s.client();
    let mut req = c.create_key().key_spec(spec.clone());
    if user_arn.is_some() {
        req = req.policy(serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string());
    }
    if spec != KeySpec::SymmetricDefault {
        req = req.key_usage(KeyUsageType::EncryptDecrypt);
    }
    req.send().await.expect("proxy key").key_metadata.expect("m").key_id
}

pub fn create_user(s: &Server, name: &str) -> String {
    let (status, xml) = s.iam(&[("Action", "CreateUser"), ("UserName", name)]);
    assert_eq!(status, 200, "{xml}");
    super::between(&xml, "<Arn>", "</Arn>")
}

/// The port of the proxy's XKS listener (for `https://localhost:<port>` endpoints: the test
/// certificate names `localhost`).
pub fn port(s: &Server) -> String {
    s.xks
        .as_deref()
        .expect("the server serves the XKS proxy API")
        .trim_end_matches("/kms/xks/v1")
        .rsplit(':')
        .next()
        .expect("port")
        .to_owned()
}
