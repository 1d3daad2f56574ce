//! `GET /openapi.json`: the OpenAPI 3.1 document of this API, checked in beside this file.
//!
//! Hand-written rather than derived, to keep proc-macro weight out of the build; the tests keep
//! it honest: every routed method and path is in it and nothing else is
//! (`tests/it/api_openapi.rs`), every error code it lists is one the API has, and the JSON the
//! endpoints really answer with matches the schemas it declares.

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

/// The document.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Serves the document.
pub(crate) async fn document() -> Response {
    let mut resp = OPENAPI_JSON.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
