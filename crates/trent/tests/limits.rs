//! HTTP limits (issue 10, finding 4): slow headers, a body shorter than its Content-Length and a
//! flood of idle connections are all cut off, and valid requests keep being served meanwhile;
//! SIGTERM ends the server within its grace period even with a client stuck mid-request, and the
//! audit trail is flushed on the way out.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Server;

fn start(extra: &[&str]) -> (Server, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start_in(&tmp.path().join("data"), extra);
    (s, tmp)
}

/// Whether the server closed `stream` (reads EOF or an error) within `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return started.elapsed() <= within,
        }
    }
}

async fn still_serving(s: &Server) {
    let keys = s.client().list_keys().send().await.expect("a valid request is served");
    assert!(keys.keys.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_headers_are_cut_off() {
    let (s, _tmp) = start(&["--header-timeout-secs", "1"]);
    let mut slow = TcpStream::connect(&s.addr).expect("connect");
    let head = format!("POST / HTTP/1.1\r\nhost: {}\r\n", s.addr);
    let addr = s.addr.clone();
    let writer = std::thread::spawn(move || {
        // One byte every 100 ms: a complete head would take many seconds.
        let mut w = TcpStream::connect(&addr).expect("connect");
        for b in head.bytes().chain(std::iter::repeat_n(b'x', 100)) {
            if w.write_all(&[b]).is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    });
    still_serving(&s).await;
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)),
        "a silent connection is closed"
    );
    let cut = tokio::task::spawn_blocking(move || writer.join().expect("writer"))
        .await
        .expect("join");
    assert!(cut, "the dribbling connection was closed before its head was complete");
    still_serving(&s).await;

    // Idle between keep-alive requests: one complete request, then silence.
    let mut kept = TcpStream::connect(&s.addr).expect("connect");
    let req = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-amz-json-1.1\r\nx-amz-target: TrentService.ListKeys\r\ncontent-length: 2\r\n\r\n{{}}",
        s.addr
    );
    kept.write_all(req.as_bytes()).expect("write");
    kept.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).expect("an answer");
    assert_eq!(&first, b"HTTP/1.1 400", "unsigned: MissingAuthenticationToken");
    assert!(
        closed_within(&mut kept, Duration::from_secs(5)),
        "an idle keep-alive connection is closed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_shorter_than_its_length_is_cut_off() {
    let (s, _tmp) = start(&["--body-timeout-secs", "1"]);
    let mut c = TcpStream::connect(&s.addr).expect("connect");
    let req = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-amz-json-1.1\r\nx-amz-target: TrentService.ListKeys\r\ncontent-length: 100\r\n\r\n{{\"Limit\":",
        s.addr
    );
    c.write_all(req.as_bytes()).expect("write");
    c.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(out.contains("RequestTimeoutException"), "{out}");
    still_serving(&s).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_connection_flood_does_not_lock_out_valid_clients() {
    let (s, _tmp) = start(&["--max-connections", "64", "--header-timeout-secs", "1"]);
    // Four times the limit, opened and left silent.
    let mut idle: Vec<TcpStream> = (0..256).filter_map(|_| TcpStream::connect(&s.addr).ok()).collect();
    assert!(idle.len() >= 200, "opened {}", idle.len());
    let started = Instant::now();
    still_serving(&s).await;
    still_serving(&s).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "served within the idle timeouts"
    );
    // The silent ones were closed by the server.
    let closed = idle
        .iter_mut()
        .take(64)
        .map(|c| closed_within(c, Duration::from_secs(10)))
        .filter(|closed| *closed)
        .count();
    assert_eq!(closed, 64);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_within_the_grace_period_and_flushes_the_audit_trail() {
    let (mut s, _tmp) = start(&["--shutdown-grace-secs", "2", "--body-timeout-secs", "600"]);
    s.client().create_key().send().await.expect("an audited request");
    // A client stuck in the middle of a request body the server waits 600 s for.
    let mut stuck = TcpStream::connect(&s.addr).expect("connect");
    let req = format!("POST / HTTP/1.1\r\nhost: {}\r\ncontent-length: 100\r\n\r\n{{", s.addr);
    stuck.write_all(req.as_bytes()).expect("write");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    assert!(s.stop(), "clean exit");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "stopped after {:?}",
        started.elapsed()
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trent"))
        .args(["audit", "show", "--data-dir"])
        .arg(&s.dir)
        .output()
        .expect("audit show");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\"eventName\":\"CreateKey\""),
        "flushed at shutdown: {text}"
    );
}
