//! [`ApiError`]: an HTTP status, a stable code and a message, answered as
//! `{"error": {"code": "...", "message": "..."}}`.
//!
//! Codes are stable: clients and operators search for them. `V-API-*` are the HTTP layer's
//! own; heartbeat rejections keep the intake's `V-CH-*` codes.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{
    disputes::DisputeError, heartbeat::IntakeError, latency::EchoError, store::StoreError,
};

/// The HTTP layer's stable error codes, with the status each is answered with.
pub mod codes {
    /// 415: the body is not `application/json`.
    pub const NOT_JSON: &str = "V-API-001";
    /// 413: the body is larger than the limit.
    pub const TOO_LARGE: &str = "V-API-002";
    /// 400: the body could not be read.
    pub const BAD_BODY: &str = "V-API-003";
    /// 400: the body is not valid JSON for the request type (syntax, types, ranges, trailing
    /// bytes, missing fields).
    pub const BAD_JSON: &str = "V-API-004";
    /// 400: the body has fields the request type does not know.
    pub const UNKNOWN_FIELD: &str = "V-API-005";
    /// 400: a query parameter the endpoint does not know.
    pub const UNKNOWN_PARAM: &str = "V-API-006";
    /// 400: a query parameter with an invalid or repeated value.
    pub const BAD_PARAM: &str = "V-API-007";
    /// 400: `limit` above the maximum page size.
    pub const LIMIT_TOO_LARGE: &str = "V-API-008";
    /// 400: a path segment that is not a valid task id or address.
    pub const BAD_PATH: &str = "V-API-009";
    /// 404: no task with that id (yet: tasks appear once indexed).
    pub const TASK_NOT_FOUND: &str = "V-API-010";
    /// 404: no node with that operator address.
    pub const NODE_NOT_FOUND: &str = "V-API-011";
    /// 404: no such route.
    pub const NO_ROUTE: &str = "V-API-012";
    /// 405: the route exists, the method does not.
    pub const METHOD_NOT_ALLOWED: &str = "V-API-013";
    /// 405: tasks are created on chain by the client (SDK or CLI), never by the coordinator.
    pub const CREATE_ON_CHAIN: &str = "V-API-014";
    /// 503: the database is unavailable; retry.
    pub const UNAVAILABLE: &str = "V-API-015";
    /// 500: an internal error (logged with details).
    pub const INTERNAL: &str = "V-API-016";
    /// 409: the task has no agreed result yet.
    pub const NO_RESULT_YET: &str = "V-API-017";
    /// 503: the coordinator has no chain deployment, so it cannot read the dispute court.
    pub const NO_COURT: &str = "V-API-018";
    /// 502: reading the dispute court from the chain failed; retry.
    pub const COURT_READ: &str = "V-API-019";

    /// Every code with its status, for the OpenAPI document and its test.
    pub const ALL: &[(&str, u16)] = &[
        (NOT_JSON, 415),
        (TOO_LARGE, 413),
        (BAD_BODY, 400),
        (BAD_JSON, 400),
        (UNKNOWN_FIELD, 400),
        (UNKNOWN_PARAM, 400),
        (BAD_PARAM, 400),
        (LIMIT_TOO_LARGE, 400),
        (BAD_PATH, 400),
        (TASK_NOT_FOUND, 404),
        (NODE_NOT_FOUND, 404),
        (NO_ROUTE, 404),
        (METHOD_NOT_ALLOWED, 405),
        (CREATE_ON_CHAIN, 405),
        (UNAVAILABLE, 503),
        (INTERNAL, 500),
        (NO_RESULT_YET, 409),
        (NO_COURT, 503),
        (COURT_READ, 502),
    ];
}

/// An API error: status, stable code, message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        let status = match &e {
            IntakeError::InvalidField { .. } | IntakeError::BadSignature(_) => {
                StatusCode::BAD_REQUEST
            }
            IntakeError::WrongSigner { .. } => StatusCode::UNAUTHORIZED,
            IntakeError::UnknownOperator(_) | IntakeError::NotRegistered(_) => {
                StatusCode::FORBIDDEN
            }
            IntakeError::Replayed { .. } => StatusCode::CONFLICT,
            IntakeError::Stale { .. } | IntakeError::FromFuture { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            IntakeError::Store(s) if s.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            IntakeError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(target: "coordinator::api", error = %e, "heartbeat intake failed");
        }
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<EchoError> for ApiError {
    fn from(e: EchoError) -> Self {
        let status = match &e {
            EchoError::NoProbe(_) | EchoError::WrongNonce(_) => StatusCode::CONFLICT,
            EchoError::Expired { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(target: "coordinator::api", error = %e, "store query failed");
        if e.is_transient() {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::UNAVAILABLE,
                "the database is unavailable; retry later",
            )
        } else {
            // The details (which may name tables and rows) go to the log, not to the client.
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL,
                "internal error reading the store (logged by the coordinator)",
            )
        }
    }
}

impl From<DisputeError> for ApiError {
    fn from(e: DisputeError) -> Self {
        // The details (which may name the RPC endpoint) go to the log, not to the client.
        tracing::warn!(target: "coordinator::api", error = %e, "reading the court failed");
        let DisputeError::Court { task, .. } = &e;
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            codes::COURT_READ,
            format!(
                "reading the dispute court{} from the chain failed (logged by the coordinator); \
                 retry later",
                task.map(|t| format!(" for task {t}")).unwrap_or_default()
            ),
        )
    }
}
