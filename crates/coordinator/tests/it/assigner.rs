//! The assigner on the devchain: open tasks get operators (and backups) on chain, a restarted
//! assigner never double-assigns, and a holder that stops sending heartbeats is failed over to
//! its backup by the pure decision.

use std::sync::Arc;

use alloy::primitives::{Address, U256};
use verity_coordinator::{
    assigner::{Assigner, AssignerConfig},
    clock::{Clock, ManualClock, unix_now},
    liveness::LivenessPolicy,
    registry_view::RegistryView,
    reputation::ReputationPolicy,
    store::{AssignmentStatus, HeartbeatRecord, ReassignReason, Store, TaskStatus},
};
use verity_primitives::heartbeat::{Heartbeat, domain};
use verity_scheduler::Policy;
use verity_settlement::{Mode, Status};

use crate::{devnet::Net, support::TestDb};

/// Records a signed heartbeat for operator `i`, received at `at`.
async fn beat(net: &Net, store: &dyn Store, i: usize, seq: u64, at: u64) {
    let op = net.operators[i];
    let hb = Heartbeat {
        operator: op,
        seq,
        timestamp: at,
        cpuCores: 8,
        memoryMb: 16_384,
        gpuMemoryMb: 0,
        loadPermille: 0,
        freeSlots: 4,
        pricePerMegafuel: U256::from(1_000u64 * (i as u64 + 1)),
        region: 276,
        greenEnergyPct: 50,
        capabilities: 1,
    };
    let signed = hb
        .sign(
            &net.signer_key(i),
            &domain(net.s.chain_id(), net.s.deployment().registry),
        )
        .unwrap();
    store
        .record_heartbeat(&HeartbeatRecord {
            operator: op,
            seq,
            sent_at: at,
            received_at: at,
            telemetry: serde_json::to_value(signed).unwrap(),
        })
        .await
        .unwrap();
}

fn assigner(net: &Net, store: Arc<dyn Store>, clock: &ManualClock) -> Assigner {
    let view = RegistryView::new(
        Policy::default(),
        LivenessPolicy {
            interval_secs: 10,
            allowed_misses: 3,
        },
        ReputationPolicy::default(),
    )
    .unwrap();
    Assigner::new(
        store,
        net.s.clone(),
        net.coordinator,
        view,
        Arc::new(clock.clone()),
        AssignerConfig::default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_tasks_are_assigned_once_and_a_silent_holder_fails_over_to_its_backup() {
    let net = Net::new(5).await;
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 50);
    let clock = ManualClock::new(unix_now());
    for i in 0..5 {
        beat(&net, store.as_ref(), i, 1, clock.now()).await;
    }
    let replicated = net.create(&net.s, net.client, Mode::Replicated, 30).await;
    let optimistic = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    indexer.sync(1_000).await.unwrap();

    let mut a = assigner(&net, store.clone(), &clock);
    let r = a.pass().await.unwrap();
    let mut assigned = r.assigned.clone();
    assigned.sort();
    assert_eq!(assigned, vec![replicated, optimistic], "{r:?}");

    // On chain: assigned, with distinct registered operators.
    let ops = net.s.operators_of(replicated).await.unwrap();
    assert_eq!(net.s.status(replicated).await.unwrap(), Status::Assigned);
    assert_eq!(ops.len(), 3);
    assert!(ops.iter().all(|o| net.operators.contains(o)));
    let mut distinct = ops.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3);
    let holder = net.s.operators_of(optimistic).await.unwrap();
    assert_eq!(holder.len(), 1);

    // A restarted assigner, before the indexer saw the assignments: the store still says
    // open, the chain says assigned, nothing is assigned twice and the plans stay.
    let mut restarted = assigner(&net, store.clone(), &clock);
    let r2 = restarted.pass().await.unwrap();
    assert!(r2.assigned.is_empty(), "{r2:?}");
    let mut again = r2.already_assigned.clone();
    again.sort();
    assert_eq!(again, vec![replicated, optimistic]);
    assert_eq!(net.s.operators_of(replicated).await.unwrap(), ops);

    // Indexed: seats with the planned backup (the optimistic task has one: 5 nodes).
    indexer.sync(1_000).await.unwrap();
    // Both went out in one `assignBatch` transaction.
    let assigned: Vec<_> = store
        .journal(0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "TaskAssigned")
        .map(|e| e.tx_hash)
        .collect();
    assert_eq!(assigned.len(), 2);
    assert_eq!(assigned[0], assigned[1], "one transaction");
    let t = store.task(optimistic).await.unwrap().unwrap();
    assert_eq!(t.status, TaskStatus::Assigned);
    let seats = store.assignments(optimistic).await.unwrap();
    assert_eq!(seats.len(), 1);
    assert_eq!(seats[0].operator, holder[0]);
    let backup = seats[0].backup.expect("a backup was planned");
    assert_ne!(backup, holder[0]);
    assert_eq!(seats[0].status, AssignmentStatus::Active);

    // Every node but the holder keeps beating; 40 s later the holder is down.
    clock.advance(45);
    for i in 0..5 {
        if net.operators[i] != holder[0] {
            beat(&net, store.as_ref(), i, 2, clock.now()).await;
        }
    }
    let r3 = a.pass().await.unwrap();
    assert!(r3.failovers_pending.is_empty(), "{r3:?}");
    let moved: Vec<(U256, Address, Address, ReassignReason)> = r3
        .failovers
        .iter()
        .map(|f| (f.task_id, f.from, f.to, f.reason))
        .collect();
    assert_eq!(
        moved,
        vec![(
            optimistic,
            holder[0],
            backup,
            ReassignReason::MissedHeartbeats
        )]
    );
    // On chain the seat changed hands; the indexer records it with the reason.
    assert_eq!(net.s.operators_of(optimistic).await.unwrap(), vec![backup]);
    indexer.sync(1_000).await.unwrap();
    let r = store.reassignments(optimistic).await.unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].slot, r[0].round, r[0].from, r[0].to, r[0].reason),
        (0, 1, holder[0], backup, ReassignReason::MissedHeartbeats)
    );
    let seat = &store.assignments(optimistic).await.unwrap()[0];
    assert_eq!(
        (seat.operator, seat.status),
        (backup, AssignmentStatus::Active)
    );
    // The replaced holder's collateral is back and the backup's is locked.
    let old = net.s.operator(holder[0]).await.unwrap();
    let new = net.s.operator(backup).await.unwrap();
    assert_eq!(
        store.node(holder[0]).await.unwrap().unwrap().locked,
        old.locked
    );
    assert_eq!(
        store.node(backup).await.unwrap().unwrap().locked,
        new.locked
    );
    assert!(new.locked > U256::ZERO);
    // Nothing more to do: the new holder is live.
    let r4 = a.pass().await.unwrap();
    assert!(
        r4.failovers.is_empty() && r4.failovers_pending.is_empty(),
        "{r4:?}"
    );
}
