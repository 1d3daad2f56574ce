//! The coordinator's HTTP API. So far: `POST /v1/heartbeats` (what `verity node run` sends).
//!
//! [`app`] builds the router without a socket (tests call it with `oneshot`); [`serve`] runs
//! it on a listener until cancelled. Input is strict: `Content-Type: application/json`, a
//! bounded body, no unknown fields, no trailing bytes. Every error is a JSON body
//! `{"error": {"code": "...", "message": "..."}}` with a status that says whose fault it is.

use std::{future::Future, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde::{Serialize, de::DeserializeOwned};
use verity_primitives::heartbeat::SignedHeartbeat;

use crate::heartbeat::{Accepted, HeartbeatIntake, IntakeError};

/// Shared state of the handlers.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// Heartbeat verification and storage.
    pub intake: Arc<HeartbeatIntake>,
}

/// An API error: status, stable code, message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

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

/// Builds the router.
pub fn app(state: ApiState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/v1/heartbeats", post(post_heartbeat))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn post_heartbeat(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Accepted>, ApiError> {
    let signed: SignedHeartbeat = strict_json(&headers, body)?;
    Ok(Json(state.intake.accept(&signed).await?))
}

/// Parses a JSON body strictly: right content type, within the size limit, every field
/// known, nothing after the value.
fn strict_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "V-API-001",
            "expected Content-Type: application/json",
        ));
    }
    let body = body.map_err(|r| {
        let code = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "V-API-002"
        } else {
            "V-API-003"
        };
        ApiError::new(r.status(), code, r.body_text())
    })?;
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(&body);
    let value: T = serde_ignored::deserialize(&mut de, |path| unknown.push(path.to_string()))
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "V-API-004",
                format!("invalid JSON: {e}"),
            )
        })?;
    if !unknown.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "V-API-005",
            format!("unknown fields: {}", unknown.join(", ")),
        ));
    }
    Ok(value)
}
