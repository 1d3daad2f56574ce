//! `GET /v1/tasks/{id}/logs`: each seat's execution log (fuel used, wall time, compile time,
//! the failure's code and message), as its node reported it; `POST /v1/tasks/{id}/logs`: a
//! node's signed report (see `verity_primitives::task_log`).

use alloy::primitives::{Address, B256, U256};
use axum::{
    Json,
    body::Bytes,
    extract::{Path, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, Uri},
};
use serde::Serialize;
use verity_primitives::task_log::{ExecutionLog, LogFailure, SignedTaskLog};

use super::{
    ApiState,
    error::{ApiError, codes},
    input::{Params, path_task_id, strict_json},
    model::decimal,
    tasks::{cid, load},
};
use crate::{
    store::{StoreError, TaskLogRecord, TaskStatus},
    task_logs::{self, LogIntakeError},
};

/// A task's execution logs, one per seat that reported.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskLogs {
    /// Task id, decimal.
    #[serde(serialize_with = "decimal")]
    pub task_id: U256,
    /// Status.
    pub status: TaskStatus,
    /// The task's seats as indexed (current holders), by slot.
    pub operators: Vec<Address>,
    /// The logs received, by operator (empty until a node reports).
    pub logs: Vec<SeatLog>,
}

/// One seat's execution log.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatLog {
    /// The operator whose node ran the task.
    pub operator: Address,
    /// sha2-256 of the log's bytes: the blob the node stored them under.
    pub log_digest: B256,
    /// The same as an IPFS CIDv1 (raw, sha2-256).
    pub log_cid: String,
    /// Unix seconds the coordinator received it.
    pub received_at: u64,
    /// The output's digest, when the program produced one.
    pub result_digest: Option<B256>,
    /// Fuel consumed (also by a failed run); `null` when the run never started.
    pub fuel_used: Option<u64>,
    /// Wall-clock time of the attempt on that node, microseconds.
    pub wall_time_us: u64,
    /// Of it, compiling and checking the module, microseconds (0 on a cache hit).
    pub compile_time_us: u64,
    /// Whether the compiled module came from the node's cache.
    pub cache_hit: bool,
    /// Why there is no result, when there is none.
    pub failure: Option<LogFailure>,
}

/// What an accepted report answers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogAccepted {
    /// Task id, decimal.
    #[serde(serialize_with = "decimal")]
    pub task_id: U256,
    /// The operator.
    pub operator: Address,
    /// The stored log's digest.
    pub log_digest: B256,
}

fn seat_log(r: &TaskLogRecord) -> Result<SeatLog, ApiError> {
    // The intake parsed it before storing; a row that no longer parses is corrupt.
    let log: ExecutionLog = serde_json::from_str(&r.log).map_err(|e| {
        ApiError::from(StoreError::Corrupt {
            table: "task_logs",
            key: format!("{}/{:#x}", r.task_id, r.operator),
            reason: format!("log: {e}"),
        })
    })?;
    Ok(SeatLog {
        operator: r.operator,
        log_digest: r.log_digest,
        log_cid: cid(r.log_digest),
        received_at: r.received_at,
        result_digest: log.result_digest,
        fuel_used: log.fuel_used,
        wall_time_us: log.wall_time_us,
        compile_time_us: log.compile_time_us,
        cache_hit: log.cache_hit,
        failure: log.failure,
    })
}

/// `GET /v1/tasks/{id}/logs`.
pub(crate) async fn list(
    State(state): State<ApiState>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Json<TaskLogs>, ApiError> {
    Params::parse(uri.query(), &[])?;
    let t = load(&state, &raw).await?;
    let seats = state.store.assignments(t.id).await?;
    let records = state.store.task_logs(t.id).await?;
    Ok(Json(TaskLogs {
        task_id: t.id,
        status: t.status,
        operators: seats.iter().map(|a| a.operator).collect(),
        logs: records.iter().map(seat_log).collect::<Result<_, _>>()?,
    }))
}

/// `POST /v1/tasks/{id}/logs`: verifies and stores a node's signed log for its seat.
pub(crate) async fn post(
    State(state): State<ApiState>,
    Path(raw): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<LogAccepted>, ApiError> {
    Params::parse(uri.query(), &[])?;
    let id = path_task_id(&raw)?;
    let signed: SignedTaskLog = strict_json(&headers, body)?;
    if signed.posted.taskId != id {
        return Err(ApiError::bad_request(
            codes::BAD_PATH,
            format!(
                "the path names task {id}, the report task {}",
                signed.posted.taskId
            ),
        ));
    }
    let stored = task_logs::accept(
        state.store.as_ref(),
        state.clock.as_ref(),
        state.intake.domain(),
        &signed,
    )
    .await?;
    Ok(Json(LogAccepted {
        task_id: stored.task_id,
        operator: stored.operator,
        log_digest: stored.log_digest,
    }))
}

impl From<LogIntakeError> for ApiError {
    fn from(e: LogIntakeError) -> Self {
        let status = match &e {
            LogIntakeError::Log(_) => StatusCode::BAD_REQUEST,
            LogIntakeError::WrongSigner { .. } => StatusCode::UNAUTHORIZED,
            LogIntakeError::UnknownOperator(_) | LogIntakeError::NotASeat { .. } => {
                StatusCode::FORBIDDEN
            }
            LogIntakeError::Store(s) if s.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
            LogIntakeError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(target: "coordinator::api", error = %e, "task log intake failed");
        }
        ApiError::new(status, e.api_code(), e.to_string())
    }
}
