//! Reputation inputs from every way a seat can fail: a holder replaced for silence (the
//! `Reassigned` event), a holder slashed on a timeout (`OperatorSlashed`, reason silent), and a
//! declined seat handed on (one failure, not two). Each shows in the outcomes the reputation is
//! computed from and in the node counters the API serves, on both backends.

use std::sync::Arc;

use alloy::primitives::{Address, U256};
use axum::http::StatusCode;
use verity_coordinator::{
    api::{self, ApiMetrics},
    clock::ManualClock,
    reputation::{Outcome, ReputationPolicy, score},
    store::{OutcomeKind, ReassignReason, Store},
};
use verity_settlement::Mode;

use crate::{api_world, devnet::Net, support::TestDb};

async fn outcomes_of(store: &dyn Store, op: Address) -> Vec<(U256, OutcomeKind)> {
    let mut v: Vec<_> = store
        .outcomes(op, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.task_id, o.kind))
        .collect();
    v.sort_by_key(|(t, _)| *t);
    v
}

async fn counters(store: &dyn Store, op: Address) -> (u64, u64, u64) {
    let n = store.node(op).await.unwrap().unwrap();
    (n.tasks_completed, n.tasks_failed, n.times_slashed)
}

async fn reputation(store: &dyn Store, op: Address, now: u64) -> f64 {
    let o: Vec<Outcome> = store
        .outcomes(op, 0)
        .await
        .unwrap()
        .iter()
        .map(Outcome::from)
        .collect();
    score(&o, now, &ReputationPolicy::default())
}

async fn replaced_timed_out_and_declined_seats_count_against_reputation(db: TestDb) {
    let net = Net::new(4).await;
    let sql = db.open().await;
    let store: Arc<dyn Store> = Arc::new(sql.clone());
    let indexer = net.indexer(store.clone(), 16);
    let ops = net.operators.clone();
    let c = net.coordinator;

    let silent = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    let timed_out = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    let declined = net.create(&net.s, net.client, Mode::Replicated, 30).await;
    net.s.assign(c, silent, &[ops[0]]).await.unwrap();
    net.s.assign(c, timed_out, &[ops[2]]).await.unwrap();
    net.s
        .assign(c, declined, &[ops[0], ops[1], ops[2]])
        .await
        .unwrap();
    // ops[0] goes quiet on `silent`: its seat is handed to ops[1].
    net.s.reassign(c, silent, 0, ops[1]).await.unwrap();
    // ops[1] gives its `declined` seat back; the seat goes to ops[3].
    net.s.decline(ops[1], declined).await.unwrap();
    net.s.reassign(c, declined, 1, ops[3]).await.unwrap();
    // Nobody delivers `timed_out`: after the commit deadline the client claims the timeout.
    net.advance(201).await;
    net.s.claim_timeout(net.client2, timed_out).await.unwrap();
    indexer.sync(1_000).await.unwrap();

    // The replaced holder: one failure (on chain its collateral came back as "not completed").
    assert_eq!(
        outcomes_of(store.as_ref(), ops[0]).await,
        vec![(silent, OutcomeKind::Failed)]
    );
    assert_eq!(counters(store.as_ref(), ops[0]).await, (0, 1, 0));
    let r = store.reassignments(silent).await.unwrap();
    assert_eq!((r[0].from, r[0].to), (ops[0], ops[1]));
    assert_eq!(
        r[0].reason,
        ReassignReason::MissedDeadline,
        "no intent recorded: reason unknown"
    );
    // The decliner: one failure, from `Declined`; the reassignment adds none.
    assert_eq!(
        outcomes_of(store.as_ref(), ops[1]).await,
        vec![(declined, OutcomeKind::Failed)]
    );
    assert_eq!(counters(store.as_ref(), ops[1]).await, (0, 1, 0));
    // No intent was recorded, but the chain shows the seat was declined: that is the reason.
    let r = store.reassignments(declined).await.unwrap();
    assert_eq!(
        (r[0].slot, r[0].from, r[0].to, r[0].reason),
        (1, ops[1], ops[3], ReassignReason::Declined)
    );
    // The timed-out holder: slashed (a failure and a slash in the counters). Its seat on the
    // replicated task is still open, so no outcome there yet.
    assert_eq!(
        outcomes_of(store.as_ref(), ops[2]).await,
        vec![(timed_out, OutcomeKind::Slashed)]
    );
    assert_eq!(counters(store.as_ref(), ops[2]).await, (0, 1, 1));
    // ops[3] took over a seat and has done nothing wrong.
    assert_eq!(outcomes_of(store.as_ref(), ops[3]).await, vec![]);
    assert_eq!(counters(store.as_ref(), ops[3]).await, (0, 0, 0));

    // Reputation: the prior (0.5) for the clean node, lower for a failure, lowest for a slash.
    let now = net.now().await;
    let clean = reputation(store.as_ref(), ops[3], now).await;
    let failed = reputation(store.as_ref(), ops[0], now).await;
    let slashed = reputation(store.as_ref(), ops[2], now).await;
    assert!((clean - 0.5).abs() < 1e-12, "{clean}");
    assert!(failed < clean, "{failed} vs {clean}");
    assert!(slashed < failed, "{slashed} vs {failed}");
    // The same counters and reputation order through `GET /v1/nodes`.
    let app = api::app(
        api_world::state(&sql, ManualClock::new(now), Arc::new(ApiMetrics::new())),
        16 * 1024,
    );
    let (status, page) = api_world::get(&app, "/v1/nodes?limit=10").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let shown = |op: Address| {
        let n = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["operator"] == serde_json::json!(op))
            .unwrap_or_else(|| panic!("{op} not listed: {page}"))
            .clone();
        (
            n["tasksFailed"].as_u64().unwrap(),
            n["timesSlashed"].as_u64().unwrap(),
            n["reputation"].as_f64().unwrap(),
        )
    };
    let (f0, s0, r0) = shown(ops[0]);
    let (f2, s2, r2) = shown(ops[2]);
    let (f3, s3, r3) = shown(ops[3]);
    assert_eq!((f0, s0, f2, s2, f3, s3), (1, 0, 1, 1, 0, 0));
    assert!(r2 < r0 && r0 < r3, "{r2} < {r0} < {r3}");
    // One failure each (a few seconds apart, so decay differs in the fifth digit).
    let decliner = reputation(store.as_ref(), ops[1], now).await;
    assert!((decliner - failed).abs() < 1e-4, "{decliner} vs {failed}");
}

crate::both_backends!(replaced_timed_out_and_declined_seats_count_against_reputation);
