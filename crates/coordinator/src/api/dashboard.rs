//! `GET /` and `GET /dashboard`: the web dashboard, one self-contained page (no external
//! assets, so it works on an air-gapped devnet) that polls the same REST API as everyone else.

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

/// The page.
pub const DASHBOARD_HTML: &str = include_str!("../../assets/dashboard.html");

/// Only inline script and style from the page itself, and fetches to this origin.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                   connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// Serves the page.
pub(crate) async fn page() -> Response {
    let mut resp = DASHBOARD_HTML.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
