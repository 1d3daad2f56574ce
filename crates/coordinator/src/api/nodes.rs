//! `GET /v1/nodes` and `GET /v1/nodes/{operator}`: the on-chain record joined with the latest
//! signed heartbeat (liveness, spec) and the decayed reputation.

use std::collections::HashMap;

use alloy::primitives::Address;
use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, Uri},
};
use verity_primitives::heartbeat::SignedHeartbeat;

use super::{
    ApiState,
    error::{ApiError, codes},
    input::{Params, path_address},
    model::{NodeDetail, NodeSpec, NodeStatus, NodeSummary, PageOf},
};
use crate::{
    liveness::{Liveness, liveness},
    reputation::{self, Outcome},
    store::{HeartbeatRecord, NodeQuery, NodeRecord, OutcomeRecord},
};

/// Outcomes older than this many half-lives weigh under 0.1% and are not read.
const HORIZON_HALF_LIVES: u64 = 10;

impl ApiState {
    fn outcomes_since(&self, now: u64) -> u64 {
        now.saturating_sub(
            self.reputation
                .half_life_secs
                .saturating_mul(HORIZON_HALF_LIVES),
        )
    }
}

fn summary(
    state: &ApiState,
    now: u64,
    n: &NodeRecord,
    hb: Option<&HeartbeatRecord>,
    outcomes: &[&OutcomeRecord],
) -> NodeSummary {
    let live = liveness(hb.map(|h| h.received_at), now, state.liveness);
    let status = if !n.registered {
        NodeStatus::Deregistered
    } else if n.jailed_until > now {
        NodeStatus::Jailed
    } else {
        match live {
            Liveness::Live => NodeStatus::Live,
            Liveness::Late { .. } => NodeStatus::Late,
            Liveness::Down { .. } => NodeStatus::Down,
            Liveness::Unknown => NodeStatus::Unknown,
        }
    };
    let inputs: Vec<Outcome> = outcomes.iter().map(|o| Outcome::from(*o)).collect();
    NodeSummary {
        operator: n.operator,
        signer: n.signer,
        status,
        liveness: live,
        jailed_until: n.jailed_until,
        region: n.region,
        capabilities: n.capabilities,
        stake: n.stake,
        locked: n.locked,
        earnings: n.earnings,
        reputation: reputation::score(&inputs, now, &state.reputation),
        tasks_completed: n.tasks_completed,
        tasks_failed: n.tasks_failed,
        times_slashed: n.times_slashed,
        last_heartbeat: hb.map(|h| h.received_at),
    }
}

/// `GET /v1/nodes?limit&after&order`.
pub(crate) async fn list(
    State(state): State<ApiState>,
    uri: Uri,
) -> Result<Json<PageOf<NodeSummary>>, ApiError> {
    let p = Params::parse(uri.query(), &["limit", "after", "order"])?;
    let q = NodeQuery {
        limit: p.limit()?,
        after: p.after_address()?,
        order: p.order()?,
    };
    let limit = q.limit as usize;
    let now = state.clock.now();
    let nodes = state.views.node_page(q).await?;
    let ops: Vec<Address> = nodes.iter().map(|n| n.operator).collect();
    let heartbeats = state.views.heartbeats_of(&ops).await?;
    let outcomes = state
        .views
        .outcomes_of_operators(&ops, state.outcomes_since(now))
        .await?;
    let hb_of: HashMap<Address, &HeartbeatRecord> =
        heartbeats.iter().map(|h| (h.operator, h)).collect();
    let mut outcomes_of: HashMap<Address, Vec<&OutcomeRecord>> = HashMap::new();
    for o in &outcomes {
        outcomes_of.entry(o.operator).or_default().push(o);
    }
    let items: Vec<NodeSummary> = nodes
        .iter()
        .map(|n| {
            summary(
                &state,
                now,
                n,
                hb_of.get(&n.operator).copied(),
                outcomes_of.get(&n.operator).map_or(&[][..], Vec::as_slice),
            )
        })
        .collect();
    let next = (items.len() == limit)
        .then(|| items.last().map(|n| format!("{:#x}", n.operator)))
        .flatten();
    Ok(Json(PageOf { items, next }))
}

fn spec(hb: &HeartbeatRecord) -> Option<NodeSpec> {
    match serde_json::from_value::<SignedHeartbeat>(hb.telemetry.clone()) {
        Ok(s) => {
            let h = s.heartbeat;
            Some(NodeSpec {
                cpu_cores: h.cpuCores,
                memory_mb: h.memoryMb,
                gpu_memory_mb: h.gpuMemoryMb,
                load_permille: h.loadPermille,
                free_slots: h.freeSlots,
                price_per_megafuel: h.pricePerMegafuel,
                region: h.region,
                green_energy_pct: h.greenEnergyPct,
                capabilities: h.capabilities,
                seq: h.seq,
                sent_at: h.timestamp,
            })
        }
        Err(e) => {
            tracing::warn!(target: "coordinator::api", operator = %hb.operator, error = %e, "stored heartbeat telemetry does not parse");
            None
        }
    }
}

/// `GET /v1/nodes/{operator}`.
pub(crate) async fn detail(
    State(state): State<ApiState>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Json<NodeDetail>, ApiError> {
    Params::parse(uri.query(), &[])?;
    let operator = path_address(&raw)?;
    let n = state.store.node(operator).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            codes::NODE_NOT_FOUND,
            format!(
                "no node with operator {operator} (nodes appear once their registration is indexed)"
            ),
        )
    })?;
    let now = state.clock.now();
    let hb = state.store.heartbeat(operator).await?;
    let outcomes = state
        .store
        .outcomes(operator, state.outcomes_since(now))
        .await?;
    let refs: Vec<&OutcomeRecord> = outcomes.iter().collect();
    let active_seats = state.views.active_seat_count(operator).await?;
    Ok(Json(NodeDetail {
        summary: summary(&state, now, &n, hb.as_ref(), &refs),
        hardware_hash: n.hardware_hash,
        metadata_cid: n.metadata_cid.clone(),
        registered: n.registered,
        spec: hb.as_ref().and_then(spec),
        active_seats,
    }))
}
