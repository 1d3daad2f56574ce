//! The indexer against a scripted devchain history (register, stake, create, assign, commit,
//! reveal, finalize, slash, timeout): the store matches the chain on both backends, a reorg in
//! the middle converges, and an indexer killed at random points converges to the same tables.

use std::{sync::Arc, time::Duration};

use alloy::primitives::{B256, U256, keccak256};
use verity_coordinator::store::{
    AssignmentRecord, JournalEvent, MAX_PAGE, NodeRecord, OutcomeKind, OutcomeRecord, Page,
    ReassignmentRecord, SqlStore, Store, TaskRecord, TaskStatus,
};
use verity_settlement::{Mode, Settlement, Status, TaskId};

use crate::{
    both_backends,
    devnet::{Net, tokens},
    support::TestDb,
};

/// Every projection table, read back through the trait (plus the journal).
#[derive(Debug, PartialEq)]
struct Dump {
    nodes: Vec<NodeRecord>,
    tasks: Vec<TaskRecord>,
    assignments: Vec<AssignmentRecord>,
    reassignments: Vec<ReassignmentRecord>,
    outcomes: Vec<OutcomeRecord>,
    journal: Vec<JournalEvent>,
}

async fn dump(s: &dyn Store) -> Dump {
    let nodes = s
        .nodes(Page {
            after: None,
            limit: MAX_PAGE,
        })
        .await
        .unwrap();
    let tasks = s
        .tasks(Page {
            after: None,
            limit: MAX_PAGE,
        })
        .await
        .unwrap();
    let mut assignments = Vec::new();
    let mut reassignments = Vec::new();
    for t in &tasks {
        assignments.extend(s.assignments(t.id).await.unwrap());
        reassignments.extend(s.reassignments(t.id).await.unwrap());
    }
    let mut outcomes = Vec::new();
    for n in &nodes {
        outcomes.extend(s.outcomes(n.operator, 0).await.unwrap());
    }
    Dump {
        nodes,
        tasks,
        assignments,
        reassignments,
        outcomes,
        journal: s.journal(0).await.unwrap(),
    }
}

fn digest(s: &str) -> B256 {
    keccak256(s)
}

struct History {
    replicated: TaskId,
    timed_out: TaskId,
    optimistic: TaskId,
}

/// Part one: a replicated task committed and revealed (op 2 dissents), an optimistic task
/// whose operator stays silent, an optimistic task submitted; op 1 starts unstaking.
async fn part_one(net: &Net, s: &Settlement) -> History {
    let ops = &net.operators;
    let replicated = net.create(s, net.client, Mode::Replicated, 30).await;
    s.assign(net.coordinator, replicated, &ops[0..3])
        .await
        .unwrap();
    let digests = [digest("x"), digest("x"), digest("y")];
    for (i, op) in ops[0..3].iter().enumerate() {
        let salt = B256::repeat_byte(i as u8 + 1);
        let c = net.commitment(replicated, *op, digests[i], salt);
        s.commit(*op, replicated, c).await.unwrap();
    }
    for (i, op) in ops[0..3].iter().enumerate() {
        s.reveal(*op, replicated, digests[i], B256::repeat_byte(i as u8 + 1))
            .await
            .unwrap();
    }
    let timed_out = net.create(s, net.client2, Mode::Optimistic, 10).await;
    s.assign(net.coordinator, timed_out, &ops[3..4])
        .await
        .unwrap();
    let optimistic = net.create(s, net.client, Mode::Optimistic, 20).await;
    s.assign(net.coordinator, optimistic, &ops[0..1])
        .await
        .unwrap();
    s.submit_result(ops[0], optimistic, digest("opt"))
        .await
        .unwrap();
    s.request_unstake(ops[1], tokens(100)).await.unwrap();
    History {
        replicated,
        timed_out,
        optimistic,
    }
}

/// Part two: finalize the replicated task (slashes the dissenter), let the silent operator
/// time out (slashed, client refunded), finalize the optimistic task after its window.
async fn part_two(net: &Net, s: &Settlement, h: &History) {
    s.finalize(net.client, h.replicated).await.unwrap();
    net.advance(201).await;
    s.claim_timeout(net.client2, h.timed_out).await.unwrap();
    s.finalize(net.client, h.optimistic).await.unwrap();
}

fn status_name(s: Status) -> TaskStatus {
    match s {
        Status::Open => TaskStatus::Open,
        Status::Assigned => TaskStatus::Assigned,
        Status::Submitted => TaskStatus::Submitted,
        Status::Challenged => TaskStatus::Challenged,
        Status::Finalized => TaskStatus::Finalized,
        Status::Refunded => TaskStatus::Refunded,
        other => panic!("unexpected status {other:?}"),
    }
}

/// The store says what the chain says: every operator's stake, collateral, counters, jail and
/// earnings (its market balance: nothing was withdrawn), every task's status; the outcomes are
/// exactly the ones the history produced.
async fn assert_matches_chain(net: &Net, store: &dyn Store, h: &History) {
    let ops = &net.operators;
    for op in ops {
        let chain = net.s.operator(*op).await.unwrap();
        let n = store.node(*op).await.unwrap().expect("node indexed");
        assert_eq!(n.stake, chain.stake, "stake of {op}");
        assert_eq!(n.locked, chain.locked, "locked of {op}");
        assert_eq!(
            n.tasks_completed,
            u64::from(chain.tasks_completed),
            "completed of {op}"
        );
        assert_eq!(
            n.tasks_failed,
            u64::from(chain.tasks_failed),
            "failed of {op}"
        );
        assert_eq!(
            n.times_slashed,
            u64::from(chain.times_slashed),
            "slashed of {op}"
        );
        assert_eq!(n.jailed_until, chain.jailed_until, "jail of {op}");
        assert_eq!(n.signer, chain.profile.signer);
        assert_eq!(n.region, chain.profile.region);
        assert!(n.registered);
        assert_eq!(
            n.earnings,
            net.s.market_balance(*op).await.unwrap(),
            "earnings of {op}"
        );
    }
    for id in [h.replicated, h.timed_out, h.optimistic] {
        let t = store.task(id).await.unwrap().expect("task indexed");
        assert_eq!(
            t.status,
            status_name(net.s.status(id).await.unwrap()),
            "task {id}"
        );
    }
    let r = store.task(h.replicated).await.unwrap().unwrap();
    assert_eq!(r.result_digest, Some(digest("x")));
    assert_eq!(r.replication, 3);
    let kinds = |o: Vec<OutcomeRecord>| -> Vec<(U256, OutcomeKind)> {
        o.into_iter().map(|o| (o.task_id, o.kind)).collect()
    };
    let mut all = Vec::new();
    for op in ops {
        for (t, k) in kinds(store.outcomes(*op, 0).await.unwrap()) {
            all.push((*op, t, k));
        }
    }
    all.sort_by_key(|(o, t, k)| (*o, *t, k.as_str()));
    let mut want = vec![
        (ops[0], h.replicated, OutcomeKind::Completed),
        (ops[1], h.replicated, OutcomeKind::Completed),
        (ops[2], h.replicated, OutcomeKind::Slashed),
        (ops[3], h.timed_out, OutcomeKind::Slashed),
        (ops[0], h.optimistic, OutcomeKind::Completed),
    ];
    want.sort_by_key(|(o, t, k)| (*o, *t, k.as_str()));
    assert_eq!(all, want);
    // Paid operators earned something; the others nothing.
    assert!(store.node(ops[0]).await.unwrap().unwrap().earnings > U256::ZERO);
    assert_eq!(
        store.node(ops[3]).await.unwrap().unwrap().earnings,
        U256::ZERO
    );
}

async fn the_store_matches_the_chain_after_a_scripted_history(db: TestDb) {
    let net = Net::new(4).await;
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 16);
    let h = part_one(&net, &net.s).await;
    indexer.sync(1_000).await.unwrap();
    let mid = store.task(h.optimistic).await.unwrap().unwrap();
    assert_eq!(mid.status, TaskStatus::Submitted);
    part_two(&net, &net.s, &h).await;
    let p = indexer.sync(1_000).await.unwrap();
    assert!(p.idle && p.duplicate == 0, "{p:?}");
    assert_matches_chain(&net, store.as_ref(), &h).await;
}

async fn a_reorg_in_the_middle_converges(db: TestDb) {
    let net = Net::new(4).await;
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 16);
    let h = part_one(&net, &net.s).await;
    indexer.sync(1_000).await.unwrap();
    let snap = net.snapshot().await;
    // Branch A: everything settles, and is indexed.
    part_two(&net, &net.s, &h).await;
    indexer.sync(1_000).await.unwrap();
    let settled = store.task(h.replicated).await.unwrap().unwrap();
    assert_eq!(settled.status, TaskStatus::Finalized);
    // Branch B: only the replicated task settles, a few blocks later.
    net.revert(snap).await;
    let s = net.fresh();
    net.advance(5).await;
    net.advance(5).await;
    s.finalize(net.client, h.replicated).await.unwrap();
    for _ in 0..6 {
        net.advance(1).await;
    }
    let p = indexer.sync(1_000).await.unwrap();
    assert!(p.reverted > 0 && p.idle, "{p:?}");
    for id in [h.timed_out, h.optimistic] {
        let t = store.task(id).await.unwrap().unwrap();
        assert_eq!(t.status, status_name(net.s.status(id).await.unwrap()));
    }
    assert_eq!(
        store.task(h.optimistic).await.unwrap().unwrap().status,
        TaskStatus::Submitted,
        "branch A's settlement undone"
    );
    // Then the rest settles on branch B, and the store matches the chain throughout.
    net.advance(201).await;
    s.claim_timeout(net.client2, h.timed_out)
        .await
        .unwrap_or_else(|e| panic!("claim timeout on branch B: {e}"));
    let now = net.now().await;
    let ends = store.task(h.optimistic).await.unwrap().unwrap().request["challengeEnds"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    if now <= ends {
        net.advance(ends - now + 1).await;
    }
    s.finalize(net.client, h.optimistic).await.unwrap();
    indexer.sync(1_000).await.unwrap();
    assert_matches_chain(&net, store.as_ref(), &h).await;
    for e in store.journal(0).await.unwrap() {
        let header = verity_coordinator::follow::LogSource::header(
            &verity_coordinator::follow::RpcLogSource::new(net.provider.clone(), vec![]),
            e.block_number,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            header.hash, e.block_hash,
            "journal entry from a dropped block"
        );
    }
}

async fn killed_at_random_points_it_converges_to_the_same_tables(db: TestDb) {
    let net = Net::new(4).await;
    let h = part_one(&net, &net.s).await;
    part_two(&net, &net.s, &h).await;

    // The reference: one uninterrupted run into its own SQLite file.
    let reference_db = TestDb::sqlite();
    let reference: Arc<dyn Store> = Arc::new(reference_db.open().await);
    net.indexer(reference.clone(), 4).sync(1_000).await.unwrap();
    let want = dump(reference.as_ref()).await;
    assert!(
        want.journal.len() > 20,
        "a real history: {}",
        want.journal.len()
    );

    // Interrupted runs: each indexer is dropped after a pseudo-random budget of wall time
    // (mid-step: between RPC calls, inside a block's transaction), sometimes with the store
    // reopened in between; then one run to the end.
    let mut store: Arc<dyn Store> = Arc::new(db.open().await);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut kills = 0;
    let mut cursors = Vec::new();
    for round in 0..150 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Short budgets (0.2-20 ms), so even a fast machine kills the indexer several times
        // before it catches up (1-61 ms let a quick run finish after two kills).
        let budget = Duration::from_micros(200 + x % 20_000);
        if round % 7 == 6 {
            drop(store);
            store = Arc::new(SqlStore::open(&db.url).await.unwrap());
        }
        let indexer = net.indexer(store.clone(), 4);
        match tokio::time::timeout(budget, indexer.sync(1_000)).await {
            Ok(r) => {
                if r.unwrap().idle {
                    break;
                }
            }
            Err(_) => kills += 1,
        }
        cursors.push(store.cursor().await.unwrap().map(|c| c.number));
    }
    let p = net.indexer(store.clone(), 4).sync(1_000).await.unwrap();
    assert!(p.idle);
    assert!(kills > 3, "the test killed the indexer only {kills} times");
    cursors.dedup();
    assert!(
        cursors.len() > 3,
        "the killed runs made too little progress to test anything: {cursors:?}"
    );
    let got = dump(store.as_ref()).await;
    assert_eq!(got, want);
    assert_matches_chain(&net, store.as_ref(), &h).await;
}

both_backends!(
    the_store_matches_the_chain_after_a_scripted_history,
    a_reorg_in_the_middle_converges,
    killed_at_random_points_it_converges_to_the_same_tables,
);
