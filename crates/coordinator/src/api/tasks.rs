//! `GET /v1/tasks`, `GET /v1/tasks/{id}`, `GET /v1/tasks/{id}/result`, and `POST /v1/tasks`,
//! which is refused: tasks are created on chain by the client.

use std::collections::HashMap;

use alloy::primitives::{B256, U256};
use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use verity_store::Cid;

use super::{
    ApiState,
    error::{ApiError, codes},
    input::{Params, path_task_id},
    model::{
        OutcomeView, PageOf, ReassignmentView, SeatView, TaskDetail, TaskResult, TaskSummary,
        Verification,
    },
};
use crate::store::{
    AssignmentRecord, OutcomeKind, OutcomeRecord, ReassignmentRecord, TaskQuery, TaskRecord,
};

/// The CID string of a sha2-256 digest.
pub(crate) fn cid(digest: B256) -> String {
    Cid::from_digest(digest.0).to_string()
}

fn summary(
    t: &TaskRecord,
    seats: &[&AssignmentRecord],
    outcomes: &[&OutcomeRecord],
    reassignments: u32,
) -> TaskSummary {
    TaskSummary {
        id: t.id,
        client: t.client,
        mode: t.mode,
        status: t.status,
        verification: Verification::of(t.status),
        bounty: t.bounty,
        replication: t.replication,
        operators: seats.iter().map(|a| a.operator).collect(),
        reassignments,
        result_digest: t.result_digest,
        result_cid: t.result_digest.map(cid),
        latency_ms: outcomes
            .iter()
            .filter(|o| o.kind == OutcomeKind::Completed)
            .filter_map(|o| o.latency_ms)
            .max(),
        created_at: t.created_at,
        settled_at: t.settled_at,
    }
}

/// `GET /v1/tasks?limit&after&order&status`.
pub(crate) async fn list(
    State(state): State<ApiState>,
    uri: Uri,
) -> Result<Json<PageOf<TaskSummary>>, ApiError> {
    let p = Params::parse(uri.query(), &["limit", "after", "order", "status"])?;
    let q = TaskQuery {
        limit: p.limit()?,
        after: p.after_task()?,
        order: p.order()?,
        status: p.status()?,
    };
    let limit = q.limit as usize;
    let tasks = state.views.task_page(q).await?;
    let ids: Vec<U256> = tasks.iter().map(|t| t.id).collect();
    let seats = state.views.assignments_of(&ids).await?;
    let outcomes = state.views.outcomes_of_tasks(&ids).await?;
    let mut seats_of: HashMap<U256, Vec<&AssignmentRecord>> = HashMap::new();
    for a in &seats {
        seats_of.entry(a.task_id).or_default().push(a);
    }
    let mut outcomes_of: HashMap<U256, Vec<&OutcomeRecord>> = HashMap::new();
    for o in &outcomes {
        outcomes_of.entry(o.task_id).or_default().push(o);
    }
    let mut moved: HashMap<U256, u32> = HashMap::new();
    for r in state.views.reassignments_of(&ids).await? {
        *moved.entry(r.task_id).or_default() += 1;
    }
    let items: Vec<TaskSummary> = tasks
        .iter()
        .map(|t| {
            summary(
                t,
                seats_of.get(&t.id).map_or(&[][..], Vec::as_slice),
                outcomes_of.get(&t.id).map_or(&[][..], Vec::as_slice),
                moved.get(&t.id).copied().unwrap_or(0),
            )
        })
        .collect();
    let next = (items.len() == limit)
        .then(|| items.last().map(|t| t.id.to_string()))
        .flatten();
    Ok(Json(PageOf { items, next }))
}

pub(crate) async fn load(state: &ApiState, raw: &str) -> Result<TaskRecord, ApiError> {
    let id = path_task_id(raw)?;
    state.store.task(id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            codes::TASK_NOT_FOUND,
            format!("no task {id} (tasks appear once the indexer has seen them on chain)"),
        )
    })
}

/// `GET /v1/tasks/{id}`.
pub(crate) async fn detail(
    State(state): State<ApiState>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Json<TaskDetail>, ApiError> {
    Params::parse(uri.query(), &[])?;
    let t = load(&state, &raw).await?;
    let seats = state.store.assignments(t.id).await?;
    let moves: Vec<ReassignmentRecord> = state.store.reassignments(t.id).await?;
    let outcomes = state.views.outcomes_of_tasks(&[t.id]).await?;
    let seat_refs: Vec<&AssignmentRecord> = seats.iter().collect();
    let outcome_refs: Vec<&OutcomeRecord> = outcomes.iter().collect();
    let summary = summary(
        &t,
        &seat_refs,
        &outcome_refs,
        u32::try_from(moves.len()).unwrap_or(u32::MAX),
    );
    Ok(Json(TaskDetail {
        summary,
        program_digest: t.program_digest,
        program_cid: cid(t.program_digest),
        input_digest: t.input_digest,
        input_cid: cid(t.input_digest),
        request: t.request.clone(),
        assignments: seats
            .iter()
            .map(|a| SeatView {
                slot: a.slot,
                operator: a.operator,
                backup: a.backup,
                status: a.status,
                assigned_at: a.assigned_at,
            })
            .collect(),
        reassignment_history: moves
            .iter()
            .map(|r| ReassignmentView {
                slot: r.slot,
                round: r.round,
                from: r.from,
                to: r.to,
                reason: r.reason,
                at: r.at,
            })
            .collect(),
        outcomes: outcomes
            .iter()
            .map(|o| OutcomeView {
                operator: o.operator,
                kind: o.kind,
                at: o.at,
                latency_ms: o.latency_ms,
            })
            .collect(),
        settle_secs: t.settled_at.map(|s| s.saturating_sub(t.created_at)),
    }))
}

/// `GET /v1/tasks/{id}/result`: 409 until the task has an agreed result.
pub(crate) async fn result(
    State(state): State<ApiState>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Json<TaskResult>, ApiError> {
    Params::parse(uri.query(), &[])?;
    let t = load(&state, &raw).await?;
    let Some(digest) = t.result_digest else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::NO_RESULT_YET,
            format!(
                "task {} has no agreed result yet (status {})",
                t.id,
                t.status.as_str()
            ),
        ));
    };
    Ok(Json(TaskResult {
        task_id: t.id,
        status: t.status,
        verification: Verification::of(t.status),
        result_digest: digest,
        result_cid: cid(digest),
    }))
}

/// `POST /v1/tasks`: refused. The coordinator holds no client funds and signs nothing for
/// clients; a task is created (and its bounty escrowed) by the client's own transaction.
pub(crate) async fn create_refused() -> Response {
    let mut resp = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::CREATE_ON_CHAIN,
        "tasks are created on chain by the client, which escrows the bounty from its own \
         account: use the SDK (verity_sdk::Requester::submit) or `verity task submit`; the task \
         appears here once the indexer has seen it",
    )
    .into_response();
    resp.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("GET"));
    resp
}
