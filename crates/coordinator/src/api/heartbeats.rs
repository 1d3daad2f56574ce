//! `POST /v1/heartbeats`: what `verity node run` sends; `POST /v1/heartbeats/echo`: its echo
//! of the latency probe the answer carried.

use axum::{
    Json,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, Uri},
};
use verity_primitives::heartbeat::SignedHeartbeat;

use super::{
    ApiState,
    error::ApiError,
    input::{Params, strict_json},
};
use crate::heartbeat::{Accepted, Echo, Measured};

/// Verifies and stores a signed heartbeat.
pub(crate) async fn post(
    State(state): State<ApiState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Accepted>, ApiError> {
    Params::parse(uri.query(), &[])?;
    let signed: SignedHeartbeat = strict_json(&headers, body)?;
    Ok(Json(state.intake.accept(&signed).await?))
}

/// Counts the echo of a latency probe.
pub(crate) async fn echo(
    State(state): State<ApiState>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Measured>, ApiError> {
    Params::parse(uri.query(), &[])?;
    let echo: Echo = strict_json(&headers, body)?;
    Ok(Json(state.intake.echo(&echo)?))
}
