//! The web console's assets, embedded in the binary and served at `/console/` (issue 15). The
//! console is only a client of the AWS API: its pages sign KMS, IAM and STS requests in the
//! browser (`console/sigv4.js`) and send them to `POST /`, so it adds no authentication path and
//! every action is authorized and audited like any other request. This module serves four
//! static files with a strict Content-Security-Policy (same-origin scripts, styles and
//! connections only; no inline script; no framing) and nothing else.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// The console's policy: everything from this origin only, no inline code, no framing, no
/// forms posting elsewhere, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = include_str!("../console/index.html");
const APP: &str = include_str!("../console/app.js");
const API: &str = include_str!("../console/api.js");
const SIGV4: &str = include_str!("../console/sigv4.js");
const STYLE: &str = include_str!("../console/style.css");
const UI: &str = include_str!("../console/ui.js");
const KEY_STORES: &str = include_str!("../console/keystores.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    r
}

/// `GET /console/…`: the console's files (`/console` redirects to `/console/`).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/console", get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(|| async { asset("text/html; charset=utf-8", INDEX) }))
        .route(
            "/console/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP) }),
        )
        .route(
            "/console/api.js",
            get(|| async { asset("text/javascript; charset=utf-8", API) }),
        )
        .route(
            "/console/sigv4.js",
            get(|| async { asset("text/javascript; charset=utf-8", SIGV4) }),
        )
        .route(
            "/console/ui.js",
            get(|| async { asset("text/javascript; charset=utf-8", UI) }),
        )
        .route(
            "/console/keystores.js",
            get(|| async { asset("text/javascript; charset=utf-8", KEY_STORES) }),
        )
        .route(
            "/console/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pages load no inline script and nothing from another origin (the policy would block
    /// it; this keeps the sources honest too).
    #[test]
    fn assets_have_no_inline_script_and_no_other_origin() {
        assert!(INDEX.contains(r#"<script type="module" src="app.js"></script>"#));
        assert_eq!(
            INDEX.matches("<script").count(),
            1,
            "one external module, no inline script"
        );
        for (name, text) in [
            ("index.html", INDEX),
            ("app.js", APP),
            ("api.js", API),
            ("sigv4.js", SIGV4),
            ("ui.js", UI),
            ("keystores.js", KEY_STORES),
            ("style.css", STYLE),
        ] {
            for bad in [
                "src=\"http",
                "href=\"http",
                "url(http",
                "from \"http",
                "fetch(\"http",
                "eval(",
                "new Function",
                "innerHTML",
                "onclick=\"",
            ] {
                assert!(!text.contains(bad), "{name} contains {bad}");
            }
        }
    }
}
