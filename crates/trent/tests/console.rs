//! The web console (issue 15): served by `trent serve` itself from the binary, with a strict
//! Content-Security-Policy; off with `--console off` and off on a non-loopback listener without
//! TLS; and driven in a real browser (headless Chromium through chromedriver, tests/py/
//! test_console.py) from sign-in to AccessDenied. Without Chromium the browser test says it
//! skipped, unless `TRENT_TEST_BROWSER_REQUIRED=1` (CI), where that is a failure.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::process::Command;

use common::Server;

/// (status, headers, body) of a GET.
fn get(s: &Server, path: &str) -> (u16, String) {
    s.raw("GET", path, &[], b"")
}

#[test]
fn the_console_is_served_from_the_binary_with_a_strict_policy() {
    let s = Server::start();
    let (status, text) = get(&s, "/console/");
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains(r#"<script type="module" src="app.js"></script>"#),
        "{text}"
    );
    for path in [
        "/console/app.js",
        "/console/api.js",
        "/console/sigv4.js",
        "/console/ui.js",
        "/console/keystores.js",
        "/console/style.css",
    ] {
        let (status, text) = get(&s, path);
        assert_eq!(status, 200, "{path}: {text}");
    }
    let (status, _) = get(&s, "/console/nothing.js");
    assert_eq!(status, 404);
}

#[test]
fn the_console_answers_with_its_security_headers() {
    let s = Server::start();
    let (_, head, _) = common::raw_response(&s.addr, "GET", "/console/", &[], b"");
    let lower = head.to_ascii_lowercase();
    assert!(
        lower.contains(
            "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'"
        ),
        "{head}"
    );
    assert!(lower.contains("frame-ancestors 'none'"), "{head}");
    assert!(lower.contains("x-content-type-options: nosniff"), "{head}");
    assert!(lower.contains("x-frame-options: deny"), "{head}");
    assert!(lower.contains("content-type: text/html"), "{head}");
}

#[test]
fn the_console_can_be_turned_off_and_stays_off_in_the_clear_off_loopback() {
    let tmp = tempfile::tempdir().expect("tmp");
    let off = Server::start_in(&tmp.path().join("off"), &["--console", "off"]);
    assert_eq!(get(&off, "/console/").0, 404);
    drop(off);
    // Listening on every address without TLS: the API answers, the console does not.
    let open = Server::start_in(&tmp.path().join("open"), &["--listen", "0.0.0.0:0"]);
    assert_eq!(get(&open, "/console/").0, 404);
    assert_eq!(get(&open, "/healthz").0, 200);
    drop(open);
    // With TLS it is served on every address too.
    let certs = tmp.path().join("certs");
    std::fs::create_dir(&certs).expect("dir");
    common::certs::issue(&certs, "ca", "server", "DNS:localhost,IP:127.0.0.1");
    let (cert, key) = (certs.join("server.pem"), certs.join("server.key"));
    let tls = Server::start_in(
        &tmp.path().join("tls"),
        &[
            "--listen",
            "0.0.0.0:0",
            "--tls-cert",
            cert.to_str().expect("utf-8"),
            "--tls-key",
            key.to_str().expect("utf-8"),
        ],
    );
    let port = tls.addr.rsplit(':').next().expect("port").to_owned();
    let mut child = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect", &format!("127.0.0.1:{port}")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"GET /console/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .expect("write");
    }
    let out = child.wait_with_output().expect("openssl output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("app.js"), "{text}");
}

fn browser_available() -> bool {
    let ok = |cmd: &mut Command| cmd.output().is_ok_and(|o| o.status.success());
    std::path::Path::new("/usr/bin/chromium").exists()
        && std::path::Path::new("/usr/bin/chromedriver").exists()
        && ok(Command::new("python3").args(["-c", "import selenium"]))
}

#[test]
fn the_console_works_in_a_real_browser() {
    if !browser_available() {
        assert!(
            std::env::var("TRENT_TEST_BROWSER_REQUIRED").as_deref() != Ok("1"),
            "Chromium, chromedriver and selenium are required (scripts/test installs them)"
        );
        eprintln!("skipped: no Chromium/chromedriver/selenium");
        return;
    }
    let s = Server::start();
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    let shots_dir = shots.to_str().expect("utf-8");
    common::run_python(
        &s,
        "test_console.py",
        &[("TRENT_SCREENSHOTS", shots_dir)],
        "all console checks passed",
    );
    for page in ["keys", "key", "playground", "audit", "iam", "denied"] {
        assert!(shots.join(format!("{page}.png")).exists(), "no screenshot of {page}");
    }
}
