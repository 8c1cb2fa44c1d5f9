//! Metrics and logs: `GET /metrics` on the metrics listener counts requests by operation and
//! outcome with latencies, key-cache lookups, store calls and audit flushes; `--log-format json`
//! writes one JSON object per line whose `request_id` is the answer's `x-amzn-RequestId`; neither
//! carries a plaintext, a secret access key or any other secret.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::{blob, err, Server};

const MARKER: &[u8] = b"observability-plaintext-marker-51c2";

fn get(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut tcp = std::net::TcpStream::connect(host).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    write!(tcp, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").expect("write");
    let mut out = String::new();
    tcp.read_to_string(&mut out).expect("read");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(
        out.to_lowercase().contains("content-type: text/plain; version=0.0.4"),
        "{out}"
    );
    out
}

/// The value of the metric line that starts with `name_and_labels`.
fn value(metrics: &str, name_and_labels: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name_and_labels).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {name_and_labels} in\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_and_json_logs_carry_request_ids_and_no_secret() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let mut s = Server::start_with(
        &dir,
        &["--log-format", "json"],
        &[("TRENT_LOG", "info,trent_server=debug")],
    );
    let metrics_url = s.metrics.clone().expect("the server announces its metrics address");
    let c = s.client();
    let key = c
        .create_key()
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    for _ in 0..3 {
        let ct = c
            .encrypt()
            .key_id(&key)
            .plaintext(blob(MARKER))
            .send()
            .await
            .expect("encrypt")
            .ciphertext_blob
            .expect("ct");
        c.decrypt().ciphertext_blob(ct).send().await.expect("decrypt");
    }
    let missing = c
        .describe_key()
        .key_id("11111111-2222-3333-4444-555555555555")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(err(&missing).0, "NotFoundException");
    let missing_id = missing
        .raw_response()
        .and_then(|r| r.headers().get("x-amzn-RequestId"))
        .expect("request id header")
        .to_owned();
    let (status, body) = s.iam(&[("Action", "CreateUser"), ("UserName", "observed")]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.iam(&[("Action", "CreateAccessKey"), ("UserName", "observed")]);
    assert_eq!(status, 200, "{body}");
    let new_secret = common::between(&body, "<SecretAccessKey>", "</SecretAccessKey>");
    // Let the audit flusher run once.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let m = get(&metrics_url);
    assert_eq!(
        value(
            &m,
            r#"trent_requests_total{api="kms",operation="Encrypt",outcome="ok"}"#
        ),
        3.0
    );
    assert_eq!(
        value(
            &m,
            r#"trent_requests_total{api="kms",operation="Decrypt",outcome="ok"}"#
        ),
        3.0
    );
    assert_eq!(
        value(
            &m,
            r#"trent_requests_total{api="kms",operation="DescribeKey",outcome="NotFoundException"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            r#"trent_requests_total{api="iam",operation="iam:CreateAccessKey",outcome="ok"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            r#"trent_request_duration_seconds_count{api="kms",operation="Encrypt"}"#
        ),
        3.0
    );
    assert!(
        value(&m, r#"trent_key_cache_lookups_total{result="hit"}"#) >= 5.0,
        "{m}"
    );
    assert!(
        value(&m, r#"trent_store_call_duration_seconds_count{kind="write"}"#) >= 1.0,
        "{m}"
    );
    assert!(value(&m, "trent_audit_events_flushed_total") >= 6.0, "{m}");
    assert_eq!(value(&m, "trent_sealed"), 0.0);
    assert!(value(&m, "trent_cached_keys") >= 1.0, "{m}");

    assert!(s.stop(), "clean stop");
    let logs = std::fs::read_to_string(dir.with_extension("log")).expect("log");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["request_id"] == missing_id.as_str() && l["error"] == "NotFoundException"),
        "the client error is logged with the request id the client saw ({missing_id})"
    );
    assert!(
        lines.iter().any(|l| l["operation"] == "TrentService.Encrypt"),
        "debug lines per request: {}",
        logs.lines()
            .filter(|l| l.contains("Encrypt"))
            .take(2)
            .collect::<Vec<_>>()
            .join("\n")
    );
    use base64::Engine;
    let secrets = [
        MARKER.to_vec(),
        base64::engine::general_purpose::STANDARD.encode(MARKER).into_bytes(),
        s.secret_access_key.as_bytes().to_vec(),
        new_secret.as_bytes().to_vec(),
    ];
    for secret in &secrets {
        for (what, text) in [("logs", logs.as_bytes()), ("metrics", m.as_bytes())] {
            assert!(
                !text.windows(secret.len()).any(|w| w == secret.as_slice()),
                "a secret reached the {what}"
            );
        }
    }
}
