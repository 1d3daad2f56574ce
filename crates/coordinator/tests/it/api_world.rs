//! A realistic coordinator database for the API and dashboard tests, written through the
//! store's own `apply_block` and `record_heartbeat` (as the indexer and the intake do), and
//! helpers to call the router.
//!
//! Six operators: live, late, down, jailed (and slashed), never heard from, deregistered.
//! Eight tasks, one or more in every status and mode, with seats, backups, a reassignment,
//! outcomes and latencies.

use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use tower::ServiceExt;
use verity_coordinator::{
    api::{self, ApiMetrics, ApiState, NetworkInfo},
    clock::ManualClock,
    config::HeartbeatConfig,
    heartbeat::HeartbeatIntake,
    metrics::CoordinatorMetrics,
    reputation::ReputationPolicy,
    store::{
        AssignmentRecord, AssignmentStatus, Change, HeartbeatRecord, NodeRecord, OutcomeKind,
        OutcomeRecord, ReassignReason, ReassignmentRecord, SqlStore, Store, TaskMode, TaskRecord,
        TaskStatus,
    },
};
use verity_primitives::heartbeat;

use crate::{
    heartbeat::chain,
    support::{TestDb, block, key, log, operator},
};

/// One token, in wei.
pub(crate) const TOKEN: u128 = 1_000_000_000_000_000_000;
/// The market address the stats report.
pub(crate) const MARKET: Address = Address::repeat_byte(0x77);
/// Completed deliveries in the fixture, ms (tasks 5, 7, 8 and the jailed node's task 3 seat).
pub(crate) const LATENCIES: [u64; 6] = [1_200, 1_800, 2_500, 900, 4_000, 3_100];
/// The last block the fixture applies.
pub(crate) const LAST_BLOCK: u64 = 4;

/// What the fixture wrote, for assertions.
pub(crate) struct World {
    pub(crate) store: SqlStore,
    pub(crate) state: ApiState,
    pub(crate) app: Router,
    pub(crate) now: u64,
    pub(crate) coordinator_metrics: CoordinatorMetrics,
}

pub(crate) fn tokens(n: u128) -> U256 {
    U256::from(n * TOKEN)
}

pub(crate) fn node(n: u8, stake_tokens: u128, earnings: U256) -> NodeRecord {
    NodeRecord {
        operator: operator(n),
        signer: operator(100 + n),
        hardware_hash: B256::repeat_byte(n),
        metadata_cid: format!("bafkreinode{n}"),
        region: [276, 250, 840, 392, 36, 124][usize::from(n - 1) % 6],
        capabilities: 0b101,
        stake: tokens(stake_tokens),
        locked: U256::ZERO,
        jailed_until: 0,
        tasks_completed: 0,
        tasks_failed: 0,
        times_slashed: 0,
        registered: true,
        earnings,
    }
}

fn task(id: u64, mode: TaskMode, status: TaskStatus, created_at: u64) -> TaskRecord {
    TaskRecord {
        id: U256::from(id),
        client: Address::repeat_byte(0xc1),
        mode,
        status,
        program_digest: B256::repeat_byte(0xaa),
        input_digest: B256::repeat_byte(id as u8),
        replication: if mode == TaskMode::Replicated { 3 } else { 1 },
        bounty: tokens(u128::from(id) * 5),
        request: serde_json::json!({"assignDeadline": created_at + 60, "minStake": "1000"}),
        result_digest: None,
        created_at,
        settled_at: None,
    }
}

pub(crate) fn seat(
    task: u64,
    slot: u32,
    op: u8,
    backup: Option<u8>,
    status: AssignmentStatus,
    at: u64,
) -> Change {
    Change::Assignment(AssignmentRecord {
        task_id: U256::from(task),
        slot,
        operator: operator(op),
        backup: backup.map(operator),
        status,
        assigned_at: at,
    })
}

fn outcome(task: u64, op: u8, kind: OutcomeKind, at: u64, latency_ms: Option<u64>) -> Change {
    Change::Outcome(OutcomeRecord {
        task_id: U256::from(task),
        operator: operator(op),
        kind,
        at,
        latency_ms,
    })
}

/// The result digest of task `id` in the fixture.
pub(crate) fn result_digest(id: u64) -> B256 {
    B256::repeat_byte(0xd0 + id as u8)
}

/// Writes the fixture into `store` as of `now`.
pub(crate) async fn populate(store: &SqlStore, now: u64) {
    let t0 = now - 3_000;
    // Block 1: six operators register.
    let mut jailed = node(4, 2_000, tokens(3));
    jailed.jailed_until = now + 3_600;
    jailed.times_slashed = 1;
    jailed.tasks_completed = 4;
    jailed.tasks_failed = 1;
    let mut gone = node(6, 0, tokens(1));
    gone.registered = false;
    gone.times_slashed = 1;
    let mut veteran = node(1, 10_000, U256::from(12_500_000_000_000_000_000u128));
    veteran.tasks_completed = 42;
    let nodes = vec![
        veteran,
        node(2, 5_000, tokens(7)),
        node(3, 2_500, U256::ZERO),
        jailed,
        node(5, 1_000, U256::ZERO),
        gone,
    ];
    let b1 = block(1, 0);
    let logs: Vec<_> = nodes
        .into_iter()
        .enumerate()
        .map(|(i, n)| log(b1, i as u64, "OperatorRegistered", vec![Change::Node(n)]))
        .collect();
    store.apply_block(b1, &logs, 64).await.unwrap();

    // Block 2: eight tasks, every status.
    let b2 = block(2, 0);
    let mut tasks = vec![
        task(1, TaskMode::Replicated, TaskStatus::Open, t0 + 2_900),
        task(2, TaskMode::Replicated, TaskStatus::Assigned, t0 + 2_800),
        task(3, TaskMode::Optimistic, TaskStatus::Submitted, t0 + 2_700),
        task(4, TaskMode::Optimistic, TaskStatus::Challenged, t0 + 2_600),
        task(5, TaskMode::Replicated, TaskStatus::Finalized, t0 + 2_500),
        task(6, TaskMode::Replicated, TaskStatus::Refunded, t0),
        task(7, TaskMode::ZkProof, TaskStatus::Finalized, t0 + 100),
        task(8, TaskMode::Replicated, TaskStatus::Finalized, t0 + 200),
    ];
    tasks[2].result_digest = Some(result_digest(3));
    tasks[3].result_digest = Some(result_digest(4));
    for (i, settled) in [(4, now - 100), (6, t0 + 1_000), (7, now - 300)] {
        tasks[i].result_digest = Some(result_digest(i as u64 + 1));
        tasks[i].settled_at = Some(settled);
    }
    tasks[5].settled_at = Some(t0 + 400);
    let logs: Vec<_> = tasks
        .into_iter()
        .enumerate()
        .map(|(i, t)| log(b2, i as u64, "TaskCreated", vec![Change::Task(t)]))
        .collect();
    store.apply_block(b2, &logs, 64).await.unwrap();

    // Block 3: seats.
    use AssignmentStatus::*;
    let b3 = block(3, 0);
    let seats = vec![
        seat(2, 0, 1, Some(3), Active, t0 + 2_810),
        seat(2, 1, 2, Some(5), Active, t0 + 2_810),
        seat(2, 2, 4, Some(1), Active, t0 + 2_810),
        seat(3, 0, 4, Some(2), Delivered, t0 + 2_710),
        seat(4, 0, 2, Some(1), Delivered, t0 + 2_610),
        seat(5, 0, 1, Some(3), Delivered, t0 + 2_510),
        seat(5, 1, 2, Some(3), Delivered, t0 + 2_510),
        seat(5, 2, 3, Some(1), Delivered, t0 + 2_510),
        seat(6, 0, 3, None, TimedOut, t0 + 10),
        seat(7, 0, 1, None, Delivered, t0 + 110),
        seat(8, 0, 2, Some(1), Delivered, t0 + 210),
        seat(8, 1, 1, None, Delivered, t0 + 260),
    ];
    store
        .apply_block(b3, &[log(b3, 0, "TaskAssigned", seats)], 64)
        .await
        .unwrap();

    // Block 4: a failover on task 8 and every outcome.
    let b4 = block(4, 0);
    let failover = vec![Change::Reassignment(ReassignmentRecord {
        task_id: U256::from(8),
        slot: 1,
        round: 1,
        from: operator(3),
        to: operator(1),
        reason: ReassignReason::MissedHeartbeats,
        at: t0 + 260,
    })];
    let outcomes = vec![
        outcome(3, 4, OutcomeKind::Completed, t0 + 2_750, Some(LATENCIES[5])),
        outcome(5, 1, OutcomeKind::Completed, now - 100, Some(LATENCIES[0])),
        outcome(5, 2, OutcomeKind::Completed, now - 100, Some(LATENCIES[1])),
        outcome(5, 3, OutcomeKind::Completed, now - 100, Some(LATENCIES[2])),
        outcome(6, 3, OutcomeKind::Failed, t0 + 400, None),
        outcome(7, 1, OutcomeKind::Completed, t0 + 1_000, Some(LATENCIES[3])),
        outcome(8, 2, OutcomeKind::Completed, now - 300, Some(LATENCIES[4])),
        outcome(4, 4, OutcomeKind::Slashed, now - 200, None),
    ];
    store
        .apply_block(
            b4,
            &[
                log(b4, 0, "Reassigned", failover),
                log(b4, 1, "Settled", outcomes),
            ],
            64,
        )
        .await
        .unwrap();

    // Heartbeats: 1 and 4 this second, 2 late (two intervals missed), 3 down, 5 never, 6 old.
    for (op, age, cpu) in [
        (1u8, 0u64, 16u32),
        (2, 25, 8),
        (3, 600, 4),
        (4, 3, 2),
        (6, 9_000, 2),
    ] {
        let c = chain();
        let mut hb = heartbeat::example(operator(op), 7, now - age);
        hb.cpuCores = cpu;
        hb.memoryMb = u64::from(cpu) * 2_048;
        hb.gpuMemoryMb = if op == 1 { 24_576 } else { 0 };
        hb.freeSlots = cpu / 2;
        let signed = hb
            .sign(&key(), &heartbeat::domain(c.chain_id, c.registry))
            .unwrap();
        store
            .record_heartbeat(&HeartbeatRecord {
                operator: operator(op),
                seq: 7,
                sent_at: now - age,
                received_at: now - age,
                telemetry: serde_json::to_value(&signed).unwrap(),
            })
            .await
            .unwrap();
    }
}

/// An API state over `store` with a clock at `now`.
pub(crate) fn state(store: &SqlStore, clock: ManualClock, metrics: Arc<ApiMetrics>) -> ApiState {
    let shared: Arc<SqlStore> = Arc::new(store.clone());
    let hb = HeartbeatConfig::default();
    let c = chain();
    ApiState {
        intake: Arc::new(HeartbeatIntake::new(
            shared.clone(),
            Arc::new(clock.clone()),
            &c,
            hb,
        )),
        store: shared.clone(),
        views: shared,
        clock: Arc::new(clock),
        network: NetworkInfo {
            chain_id: c.chain_id,
            market: MARKET,
            registry: c.registry,
        },
        liveness: hb.liveness(),
        reputation: ReputationPolicy::default(),
        metrics,
        disputes: None,
    }
}

/// The fixture in `db`, as of `now`, with its router.
pub(crate) async fn world(db: &TestDb, now: u64) -> World {
    let store = db.open().await;
    populate(&store, now).await;
    let coordinator_metrics = CoordinatorMetrics::default();
    let metrics = Arc::new(ApiMetrics::with_coordinator(&coordinator_metrics));
    let state = state(&store, ManualClock::new(now), metrics);
    let app = api::app(state.clone(), HeartbeatConfig::default().max_body_bytes);
    World {
        store,
        state,
        app,
        now,
        coordinator_metrics,
    }
}

/// Sends a request; answers the status, the content type and the body.
pub(crate) async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<(&str, Vec<u8>)>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some((ct, bytes)) => {
            req = req.header(header::CONTENT_TYPE, ct);
            Body::from(bytes)
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, bytes.to_vec())
}

/// `GET uri` answered with JSON.
pub(crate) async fn get(app: &Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let (status, ct, body) = send(app, "GET", uri, None).await;
    assert!(
        ct.starts_with("application/json"),
        "GET {uri}: {status} with content type {ct:?}"
    );
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("GET {uri}: non-JSON body for {status}: {e}"));
    (status, json)
}

/// The error code of an error body.
pub(crate) fn code(v: &serde_json::Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {v}"))
}

/// `GET uri` must fail with `status` and `code`.
pub(crate) async fn expect_error(app: &Router, uri: &str, status: StatusCode, want: &str) {
    let (s, v) = get(app, uri).await;
    assert_eq!((s, code(&v)), (status, want), "GET {uri}: {v}");
    assert!(
        !v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "GET {uri}: empty message"
    );
}
