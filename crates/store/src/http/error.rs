//! Errors as HTTP responses: a status and `{"error": {"code": "...", "message": "..."}}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// An error on its way to the HTTP client.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ErrorDetail {
    pub(crate) code: String,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// Neither `?format=` nor `Accept:` said what the client wants.
    pub(crate) fn format_missing() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "V-STO-020",
            "[V-STO-020] say which response format you want: ?format=raw or \
             Accept: application/vnd.ipld.raw",
        )
    }

    /// The client asked only for formats we do not serve.
    pub(crate) fn not_acceptable(asked: &str) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "V-STO-021",
            format!(
                "[V-STO-021] cannot serve {asked:?}: this gateway serves raw blocks only \
                 (?format=raw, Accept: application/vnd.ipld.raw)"
            ),
        )
    }

    /// No route matched.
    pub(crate) fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "V-STO-022",
            format!("[V-STO-022] no such endpoint: {path}; blobs are at /ipfs/{{cid}}"),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        use StoreError as E;
        let status = match &err {
            E::InvalidCid(_) => StatusCode::BAD_REQUEST,
            E::NotFound { .. } => StatusCode::NOT_FOUND,
            E::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::Full { .. } => StatusCode::INSUFFICIENT_STORAGE,
            // Upstream trouble of a store that fetches from other gateways.
            E::Mismatch { .. }
            | E::Gateway { .. }
            | E::Transport { .. }
            | E::Unavailable { .. } => StatusCode::BAD_GATEWAY,
            E::Corrupt { .. }
            | E::Io { .. }
            | E::UploadMismatch { .. }
            | E::BadGatewayUrl { .. }
            | E::Internal(_)
            | E::Serve(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(target: "store::http", error = %err, "request failed");
        }
        Self {
            status,
            code: err.code(),
            message: err.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
