//! `GET /v1/stats`: the network at a glance.

use axum::{Json, extract::State, http::Uri};

use super::{ApiState, error::ApiError, input::Params, model::Stats};
use crate::store::{TaskStatus, percentile};

/// Completions the latency percentiles are computed over.
pub const LATENCY_SAMPLE: u32 = 1_000;
/// The window of the throughput figure, seconds.
pub const THROUGHPUT_WINDOW_SECS: u64 = 600;

/// `GET /v1/stats`.
pub(crate) async fn stats(
    State(state): State<ApiState>,
    uri: Uri,
) -> Result<Json<Stats>, ApiError> {
    Params::parse(uri.query(), &[])?;
    let now = state.clock.now();
    // Live or late: the latest heartbeat arrived less than (allowed_misses + 1) intervals ago.
    let window = state
        .liveness
        .allowed_misses
        .saturating_add(1)
        .saturating_mul(state.liveness.interval_secs.max(1));
    let counts = state
        .views
        .network_counts(
            now.saturating_sub(window),
            now.saturating_sub(THROUGHPUT_WINDOW_SECS),
        )
        .await?;
    let mut latencies = state.views.recent_latencies(LATENCY_SAMPLE).await?;
    latencies.sort_unstable();
    let by = |s: TaskStatus| counts.tasks_by_status.get(&s).copied().unwrap_or(0);
    let cursor = state.store.cursor().await?;
    Ok(Json(Stats {
        chain_id: state.network.chain_id,
        market: state.network.market,
        registry: state.network.registry,
        nodes_live: counts.nodes_live,
        nodes_total: counts.nodes_registered,
        queue_length: by(TaskStatus::Open),
        tasks_total: counts.tasks_by_status.values().sum(),
        tasks_running: by(TaskStatus::Assigned)
            + by(TaskStatus::Submitted)
            + by(TaskStatus::Challenged),
        tasks_finalized: by(TaskStatus::Finalized),
        tasks_refunded: by(TaskStatus::Refunded),
        slashes: counts.slashes,
        latency_p50_ms: percentile(&latencies, 50),
        latency_p99_ms: percentile(&latencies, 99),
        latency_samples: latencies.len() as u64,
        throughput_per_min: counts.finalized_recently as f64
            / (THROUGHPUT_WINDOW_SECS as f64 / 60.0),
        indexed_block: cursor.map(|b| b.number),
        now,
    }))
}
