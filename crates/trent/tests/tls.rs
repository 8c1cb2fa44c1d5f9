//! TLS in process (`--tls-cert`/`--tls-key`): the Rust SDK trusting a test CA (made with the
//! `openssl` CLI) works over `https://`, one that does not trust it is refused, plain HTTP to the
//! port gets no answer, the AWS CLI works with `--ca-bundle`, `aws:SecureTransport` is true, and
//! SIGHUP swaps the certificate for new connections (a bad file keeps the old one).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use common::{blob, err, Server};

/// A CA `<ca>.pem`, and `<name>.pem`/`<name>.key` for localhost and 127.0.0.1 issued by it.
fn issue(dir: &Path, ca: &str, name: &str) {
    common::certs::issue(dir, ca, name, "DNS:localhost,IP:127.0.0.1");
}

fn client(s: &Server, ca_pem: Option<&[u8]>) -> aws_sdk_kms::Client {
    let trust = match ca_pem {
        Some(pem) => TrustStore::empty().with_pem_certificate(pem.to_vec()),
        None => TrustStore::empty(),
    };
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .expect("tls context"),
        )
        .build_https();
    let conf = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(s.region.clone()))
        .credentials_provider(Credentials::new(
            &s.access_key_id,
            &s.secret_access_key,
            None,
            None,
            "test",
        ))
        .endpoint_url(&s.endpoint)
        .http_client(http)
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kms::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_in_process_with_a_reloadable_certificate() {
    let tmp = tempfile::tempdir().expect("tmp");
    let certs = tmp.path().join("certs");
    std::fs::create_dir(&certs).expect("dir");
    issue(&certs, "ca-one", "server");
    let ca_one = std::fs::read(certs.join("ca-one.pem")).expect("ca");
    let (cert, key) = (certs.join("server.pem"), certs.join("server.key"));
    let mut s = Server::start_in(
        &tmp.path().join("data"),
        &[
            "--tls-cert",
            cert.to_str().expect("utf-8"),
            "--tls-key",
            key.to_str().expect("utf-8"),
        ],
    );
    assert!(s.endpoint.starts_with("https://127.0.0.1:"), "{}", s.endpoint);
    let env = std::fs::read_to_string(s.dir.join("admin.env")).expect("admin.env");
    assert!(env.contains(&format!("AWS_ENDPOINT_URL={}", s.endpoint)), "{env}");

    // Trusting the CA: the whole API works.
    let c = client(&s, Some(&ca_one));
    let key_id = c
        .create_key()
        .send()
        .await
        .expect("create over TLS")
        .key_metadata
        .expect("m")
        .key_id;
    let ct = c
        .encrypt()
        .key_id(&key_id)
        .plaintext(blob(b"over tls"))
        .send()
        .await
        .expect("encrypt")
        .ciphertext_blob
        .expect("ct");
    let pt = c.decrypt().ciphertext_blob(ct.clone()).send().await.expect("decrypt");
    assert_eq!(pt.plaintext().expect("pt").as_ref(), b"over tls");

    // Not trusting it: refused before anything is sent.
    let e = client(&s, None)
        .list_keys()
        .send()
        .await
        .expect_err("untrusted certificate");
    assert!(format!("{e:?}").to_lowercase().contains("certificate"), "{e:?}");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut tcp = std::net::TcpStream::connect(&s.addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut got = Vec::new();
    let _ = tcp.read_to_end(&mut got);
    assert!(
        !got.starts_with(b"HTTP/"),
        "plain HTTP must not be served: {:?}",
        String::from_utf8_lossy(&got)
    );

    // aws:SecureTransport is true: a key policy denying Encrypt over TLS denies it.
    let arn = c
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("describe")
        .key_metadata
        .expect("m")
        .arn
        .expect("arn");
    let account = arn.split(':').nth(4).expect("account").to_owned();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}},
          {{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{{"Bool":{{"aws:SecureTransport":"true"}}}}}}]}}"#
    );
    c.put_key_policy()
        .key_id(&key_id)
        .policy(policy)
        .send()
        .await
        .expect("policy");
    let e = c
        .encrypt()
        .key_id(&key_id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("denied over TLS");
    assert_eq!(err(&e).0, "AccessDeniedException");

    // The AWS CLI with --ca-bundle (and refused without it).
    let aws = |extra: &[&str]| {
        Command::new("aws")
            .args(["kms", "list-keys", "--endpoint-url", &s.endpoint, "--region", &s.region])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", &s.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &s.secret_access_key)
            .env_remove("AWS_CA_BUNDLE")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .output()
            .expect("aws CLI")
    };
    let ok = aws(&["--ca-bundle", certs.join("ca-one.pem").to_str().expect("utf-8")]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains(&key_id));
    let refused = aws(&[]);
    assert!(!refused.status.success(), "the CLI must not trust an unknown CA");

    // SIGHUP: a certificate from another CA takes over for new connections.
    issue(&certs, "ca-two", "server");
    let ca_two = std::fs::read(certs.join("ca-two.pem")).expect("ca");
    let hup = |s: &Server| {
        assert!(Command::new("kill")
            .args(["-HUP", &s.pid().to_string()])
            .status()
            .expect("kill")
            .success());
        std::thread::sleep(Duration::from_millis(300));
    };
    hup(&s);
    client(&s, Some(&ca_two))
        .list_keys()
        .send()
        .await
        .expect("the reloaded certificate is served");
    client(&s, Some(&ca_one))
        .list_keys()
        .send()
        .await
        .expect_err("the old certificate is no longer served");
    // A broken file: the reload fails, the certificate in use stays.
    std::fs::write(&key, b"not a key").expect("break the key");
    hup(&s);
    client(&s, Some(&ca_two))
        .list_keys()
        .send()
        .await
        .expect("still served after a failed reload");
    assert!(s.stop(), "clean stop");
}
