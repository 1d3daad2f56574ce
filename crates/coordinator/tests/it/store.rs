//! The storage suite: every test runs on SQLite and on PostgreSQL.

use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use verity_coordinator::store::{
    Applied, AssignmentRecord, AssignmentStatus, BlockRef, Change, HeartbeatRecord, JournalEvent,
    MAX_PAGE, NodeRecord, OutcomeKind, OutcomeRecord, Page, ReassignReason, ReassignmentRecord,
    SqlStore, Store, StoreError, TaskRecord, TaskStatus,
};

use crate::support::{TestDb, block, log, node, operator, task};

/// Everything the projection holds, read back through the trait.
#[derive(Debug, PartialEq)]
struct Snapshot {
    nodes: Vec<NodeRecord>,
    tasks: Vec<TaskRecord>,
    assignments: Vec<AssignmentRecord>,
    reassignments: Vec<ReassignmentRecord>,
    outcomes: Vec<OutcomeRecord>,
    cursor: Option<BlockRef>,
    blocks: Vec<BlockRef>,
    journal: Vec<JournalEvent>,
    heartbeats: Vec<HeartbeatRecord>,
}

async fn snapshot(s: &dyn Store) -> Snapshot {
    let mut nodes = Vec::new();
    loop {
        let page = s
            .nodes(Page {
                after: nodes.last().map(|n: &NodeRecord| n.operator),
                limit: 2,
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        nodes.extend(page);
    }
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
    // Every operator the fixtures use (`operator(n)`, signers `operator(100 + n)`).
    for n in (0..=16u8).chain(100..=116) {
        outcomes.extend(s.outcomes(operator(n), 0).await.unwrap());
    }
    Snapshot {
        nodes,
        tasks,
        assignments,
        reassignments,
        outcomes,
        cursor: s.cursor().await.unwrap(),
        blocks: s.recent_blocks().await.unwrap(),
        journal: s.journal(0).await.unwrap(),
        heartbeats: s.heartbeats().await.unwrap(),
    }
}

/// Blocks 1 and 2: two nodes register, a task is created and assigned.
async fn history(s: &dyn Store) -> [Applied; 2] {
    let b1 = block(1, 0);
    let first = s
        .apply_block(
            b1,
            &[
                log(
                    b1,
                    0,
                    "OperatorRegistered",
                    vec![Change::Node(node(1, operator(101)))],
                ),
                log(
                    b1,
                    1,
                    "OperatorRegistered",
                    vec![Change::Node(node(2, operator(102)))],
                ),
            ],
            64,
        )
        .await
        .unwrap();
    let b2 = block(2, 0);
    let mut t = task(7, 9);
    let created = Change::Task(t.clone());
    t.status = TaskStatus::Assigned;
    let seat = |slot, op| {
        Change::Assignment(AssignmentRecord {
            task_id: U256::from(7),
            slot,
            operator: operator(op),
            backup: Some(operator(3)),
            status: AssignmentStatus::Active,
            assigned_at: 1_700_000_010,
        })
    };
    let second = s
        .apply_block(
            b2,
            &[
                log(b2, 0, "TaskCreated", vec![created]),
                log(
                    b2,
                    3,
                    "TaskAssigned",
                    vec![Change::Task(t), seat(0, 1), seat(1, 2)],
                ),
            ],
            64,
        )
        .await
        .unwrap();
    [first, second]
}

/// Block 3 touches every table, overwriting rows from blocks 1 and 2.
fn block_3(fork: u8) -> (BlockRef, Vec<verity_coordinator::store::LogChanges>) {
    let b3 = block(3, fork);
    let mut slashed = node(2, operator(102));
    slashed.times_slashed = 1;
    slashed.stake -= U256::from(1_000u64);
    slashed.jailed_until = 1_700_100_000;
    let mut t = task(7, 9);
    t.status = TaskStatus::Finalized;
    t.result_digest = Some(B256::repeat_byte(0xcd));
    t.settled_at = Some(1_700_000_500);
    let logs = vec![
        log(
            b3,
            0,
            "Reassigned",
            vec![
                Change::Assignment(AssignmentRecord {
                    task_id: U256::from(7),
                    slot: 1,
                    operator: operator(3),
                    backup: None,
                    status: AssignmentStatus::Active,
                    assigned_at: 1_700_000_200,
                }),
                Change::Reassignment(ReassignmentRecord {
                    task_id: U256::from(7),
                    slot: 1,
                    round: 1,
                    from: operator(2),
                    to: operator(3),
                    reason: ReassignReason::MissedHeartbeats,
                    at: 1_700_000_200,
                }),
            ],
        ),
        log(
            b3,
            1,
            "Finalized",
            vec![
                Change::Task(t),
                Change::Node(slashed),
                Change::Node(node(3, operator(103))),
                Change::Outcome(OutcomeRecord {
                    task_id: U256::from(7),
                    operator: operator(1),
                    kind: OutcomeKind::Completed,
                    at: 1_700_000_500,
                    latency_ms: Some(4_200),
                }),
                Change::Outcome(OutcomeRecord {
                    task_id: U256::from(7),
                    operator: operator(2),
                    kind: OutcomeKind::Slashed,
                    at: 1_700_000_500,
                    latency_ms: None,
                }),
            ],
        ),
    ];
    (b3, logs)
}

async fn migrations_are_recorded_and_a_reopened_store_finds_everything(db: TestDb) {
    let s = db.open().await;
    assert_eq!(s.schema_versions().await.unwrap(), vec![1, 2, 3]);
    assert_eq!(
        history(&s).await,
        [Applied {
            new: 2,
            duplicate: 0
        }; 2]
    );
    let (b3, logs) = block_3(0);
    s.apply_block(b3, &logs, 64).await.unwrap();
    s.record_heartbeat(&HeartbeatRecord {
        operator: operator(1),
        seq: 42,
        sent_at: 1_700_000_600,
        received_at: 1_700_000_601,
        telemetry: serde_json::json!({"cpuCores": 8}),
    })
    .await
    .unwrap();
    let before = snapshot(&s).await;
    assert_eq!(before.nodes.len(), 3);
    assert_eq!(before.assignments.len(), 2);
    assert_eq!(before.reassignments.len(), 1);
    assert_eq!(before.outcomes.len(), 2);
    assert_eq!(before.journal.len(), 6);
    assert_eq!(before.cursor, Some(b3));
    if let Some(file) = db.sqlite_file() {
        // WAL mode: committed writes sit in the write-ahead log while the store is open.
        let wal = file.with_extension("db-wal");
        assert!(wal.exists(), "{} missing", wal.display());
    }
    s.close().await;
    drop(s);

    let reopened = db.open().await;
    assert_eq!(reopened.schema_versions().await.unwrap(), vec![1, 2, 3]);
    assert_eq!(snapshot(&reopened).await, before);
}

async fn replaying_a_range_duplicates_nothing(db: TestDb) {
    let s = db.open().await;
    history(&s).await;
    let (b3, logs) = block_3(0);
    s.apply_block(b3, &logs, 64).await.unwrap();
    let once = snapshot(&s).await;
    // A restart that resumes from an older cursor replays blocks 2 and 3 in full.
    s.close().await;
    let s = db.open().await;
    assert_eq!(
        history(&s).await,
        [Applied {
            new: 0,
            duplicate: 2
        }; 2]
    );
    let applied = s.apply_block(b3, &logs, 64).await.unwrap();
    assert_eq!(
        applied,
        Applied {
            new: 0,
            duplicate: 2
        }
    );
    assert_eq!(snapshot(&s).await, once);
}

async fn a_reorg_restores_the_projection_exactly(db: TestDb) {
    let s = db.open().await;
    history(&s).await;
    let before = snapshot(&s).await;
    let (b3, logs) = block_3(0);
    s.apply_block(b3, &logs, 64).await.unwrap();
    let after = snapshot(&s).await;
    assert_ne!(after, before);
    assert_eq!(after.tasks[0].status, TaskStatus::Finalized);

    // The chain replaces block 3: a different block at the same height is refused until the
    // old one is reverted.
    let (b3b, logs_b) = block_3(1);
    assert!(matches!(
        s.apply_block(b3b, &logs_b[..1], 64).await,
        Err(StoreError::BlockConflict { number: 3, .. })
    ));
    assert_eq!(s.revert_block(b3.hash).await.unwrap(), 2);
    assert_eq!(snapshot(&s).await, before);
    // Reverting again finds nothing; the projection stays put.
    assert_eq!(s.revert_block(b3.hash).await.unwrap(), 0);
    assert!(!s.revert_log(b3.hash, 0).await.unwrap());

    // The new branch applies cleanly; undoing it log by log (newest first) also restores.
    let applied = s.apply_block(b3b, &logs_b, 64).await.unwrap();
    assert_eq!(applied.new, 2);
    assert_eq!(snapshot(&s).await.cursor, Some(b3b));
    assert!(s.revert_log(b3b.hash, 1).await.unwrap());
    assert!(s.revert_log(b3b.hash, 0).await.unwrap());
    let mut expect = before;
    // revert_log leaves the block itself recorded (only revert_block forgets it).
    expect.cursor = Some(b3b);
    expect.blocks.insert(0, b3b);
    assert_eq!(snapshot(&s).await, expect);
}

async fn reverts_must_go_newest_first(db: TestDb) {
    let s = db.open().await;
    history(&s).await;
    let b1 = block(1, 0);
    let err = s.revert_log(b1.hash, 0).await.unwrap_err();
    assert!(
        matches!(err, StoreError::OutOfOrderRevert { newer_block: 2, .. }),
        "{err}"
    );
    let err = s.revert_block(b1.hash).await.unwrap_err();
    assert!(matches!(err, StoreError::OutOfOrderRevert { .. }), "{err}");
    // Within the newest block, the older log is refused too.
    let b2 = block(2, 0);
    assert!(s.revert_log(b2.hash, 0).await.is_err());
    let unchanged = snapshot(&s).await;
    assert_eq!(unchanged.journal.len(), 4);
}

async fn a_failing_block_writes_nothing(db: TestDb) {
    let s = db.open().await;
    history(&s).await;
    let before = snapshot(&s).await;
    let b3 = block(3, 0);
    let mut bad = node(9, operator(109));
    bad.jailed_until = u64::MAX; // beyond BIGINT
    let err = s
        .apply_block(
            b3,
            &[
                log(
                    b3,
                    0,
                    "OperatorRegistered",
                    vec![Change::Node(node(8, operator(108)))],
                ),
                log(b3, 1, "OperatorRegistered", vec![Change::Node(bad)]),
            ],
            64,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::OutOfRange {
                field: "jailed_until",
                ..
            }
        ),
        "{err}"
    );
    // A log claiming another block is refused before anything is written.
    let err = s
        .apply_block(b3, &[log(block(4, 0), 0, "X", vec![])], 64)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongBlock { .. }), "{err}");
    assert_eq!(snapshot(&s).await, before);
}

async fn only_recent_blocks_are_kept(db: TestDb) {
    let s = db.open().await;
    for n in 1..=10 {
        s.apply_block(block(n, 0), &[], 4).await.unwrap();
    }
    let kept: Vec<u64> = s
        .recent_blocks()
        .await
        .unwrap()
        .iter()
        .map(|b| b.number)
        .collect();
    assert_eq!(kept, vec![10, 9, 8, 7]);
    assert_eq!(s.cursor().await.unwrap(), Some(block(10, 0)));
}

async fn pages_are_ordered_and_bounded(db: TestDb) {
    let s = db.open().await;
    let b1 = block(1, 0);
    let many: Vec<Change> = (0..=MAX_PAGE as u64)
        .map(|i| {
            let mut n = node(1, operator(1));
            let mut a = [0u8; 20];
            a[12..].copy_from_slice(&i.to_be_bytes());
            n.operator = Address::from(a);
            Change::Node(n)
        })
        .collect();
    s.apply_block(b1, &[log(b1, 0, "Many", many)], 64)
        .await
        .unwrap();
    let all = s
        .nodes(Page {
            after: None,
            limit: u32::MAX,
        })
        .await
        .unwrap();
    assert_eq!(all.len(), MAX_PAGE as usize, "a page is capped");
    assert!(all.windows(2).all(|w| w[0].operator < w[1].operator));
    let rest = s
        .nodes(Page {
            after: Some(all.last().unwrap().operator),
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);

    // Task ids order numerically (2 < 10 < 2^200 < 2^256 - 1), not as strings.
    let b2 = block(2, 0);
    let ids = [
        U256::from(10u64),
        U256::MAX,
        U256::from(2u64),
        U256::from(1u64) << 200,
    ];
    let changes = ids
        .iter()
        .map(|&id| {
            let mut t = task(0, 9);
            t.id = id;
            Change::Task(t)
        })
        .collect();
    s.apply_block(b2, &[log(b2, 0, "Tasks", changes)], 64)
        .await
        .unwrap();
    let got: Vec<U256> = s
        .tasks(Page {
            after: None,
            limit: 10,
        })
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(got, vec![ids[2], ids[0], ids[3], ids[1]]);
    let after_ten = s
        .tasks(Page {
            after: Some(U256::from(10u64)),
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(after_ten[0].id, ids[3]);
    assert!(s.task(U256::from(3u64)).await.unwrap().is_none());
}

async fn heartbeats_only_move_forward_even_when_racing(db: TestDb) {
    let s = Arc::new(db.open().await);
    let hb = |seq| HeartbeatRecord {
        operator: operator(1),
        seq,
        sent_at: 1_700_000_000 + seq,
        received_at: 1_700_000_000 + seq,
        telemetry: serde_json::json!({"seq": seq}),
    };
    s.record_heartbeat(&hb(5)).await.unwrap();
    for stale in [5, 4, 0] {
        assert!(matches!(
            s.record_heartbeat(&hb(stale)).await,
            Err(StoreError::StaleHeartbeat { seq, .. }) if seq == stale
        ));
    }
    assert_eq!(s.heartbeat(operator(1)).await.unwrap(), Some(hb(5)));

    // Twenty deliveries at once, in scrambled order: the highest seq ends up stored, and
    // every delivery either won or was told it lost.
    let mut tasks = Vec::new();
    for i in 0..20u64 {
        let s = s.clone();
        let seq = 100 + (i * 7) % 20;
        let rec = hb(seq);
        tasks.push(tokio::spawn(async move { s.record_heartbeat(&rec).await }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::StaleHeartbeat { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert!(won >= 1);
    assert_eq!(s.heartbeat(operator(1)).await.unwrap(), Some(hb(119)));
    assert_eq!(s.heartbeats().await.unwrap().len(), 1);
}

async fn an_edited_migration_is_refused(db: TestDb) {
    let s = db.open().await;
    s.close().await;
    // Simulate a database migrated by a build whose migration 1 differed.
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let err = SqlStore::open(&db.url).await.unwrap_err();
    assert!(
        matches!(err, StoreError::MigrationChanged { version: 1, .. }),
        "{err}"
    );
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE schema_migrations SET version = 99 WHERE version = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let err = SqlStore::open(&db.url).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 99,
                known: 3
            }
        ),
        "{err}"
    );
}

/// One log may change a row twice (created, then updated): undo must restore the first
/// before-image, so the steps are undone newest first.
async fn a_log_that_changes_a_row_twice_reverts_to_before_the_log(db: TestDb) {
    let s = db.open().await;
    history(&s).await;
    let before = snapshot(&s).await;
    let b3 = block(3, 0);
    let mut assigned = task(8, 9);
    assigned.status = TaskStatus::Assigned;
    let mut bumped = node(1, operator(101));
    bumped.locked = U256::from(7u64);
    let mut bumped_again = bumped.clone();
    bumped_again.locked = U256::from(9u64);
    let changes = vec![
        Change::Task(task(8, 9)),
        Change::Node(bumped),
        Change::Task(assigned.clone()),
        Change::Node(bumped_again),
    ];
    s.apply_block(b3, &[log(b3, 0, "CreatedAndAssigned", changes)], 64)
        .await
        .unwrap();
    assert_eq!(s.task(U256::from(8)).await.unwrap(), Some(assigned));
    assert_eq!(
        s.node(operator(1)).await.unwrap().unwrap().locked,
        U256::from(9u64)
    );
    s.revert_block(b3.hash).await.unwrap();
    assert_eq!(snapshot(&s).await, before);
}

#[tokio::test]
async fn in_memory_stores_are_private_working_stand_ins() {
    let a = SqlStore::open("sqlite::memory:").await.unwrap();
    let b = SqlStore::open("sqlite::memory:").await.unwrap();
    assert_eq!(
        history(&a).await,
        [Applied {
            new: 2,
            duplicate: 0
        }; 2]
    );
    let snap = snapshot(&a).await;
    assert_eq!(snap.nodes.len(), 2);
    assert_eq!(snap.assignments.len(), 2);
    assert!(b.node(operator(1)).await.unwrap().is_none());
    assert_eq!(a.revert_block(block(2, 0).hash).await.unwrap(), 2);
    assert!(a.task(U256::from(7)).await.unwrap().is_none());
}

crate::both_backends!(
    migrations_are_recorded_and_a_reopened_store_finds_everything,
    replaying_a_range_duplicates_nothing,
    a_reorg_restores_the_projection_exactly,
    reverts_must_go_newest_first,
    a_failing_block_writes_nothing,
    only_recent_blocks_are_kept,
    pages_are_ordered_and_bounded,
    heartbeats_only_move_forward_even_when_racing,
    an_edited_migration_is_refused,
    a_log_that_changes_a_row_twice_reverts_to_before_the_log,
);

mod stateful {
    //! Random histories of overlapping changes, applied, replayed and reverted from the tip
    //! down: after each revert the projection equals its snapshot at that height.

    use proptest::prelude::*;

    use super::*;
    use verity_coordinator::store::LogChanges;

    fn change() -> impl Strategy<Value = Change> {
        let op = 1u8..3;
        prop_oneof![
            (op.clone(), any::<u64>(), 0u64..5).prop_map(|(n, stake, slashed)| {
                let mut r = node(n, operator(100 + n));
                r.stake = U256::from(stake);
                r.times_slashed = slashed;
                Change::Node(r)
            }),
            (1u64..4, 0usize..6).prop_map(|(id, st)| {
                let mut t = task(id, 9);
                t.status = [
                    TaskStatus::Open,
                    TaskStatus::Assigned,
                    TaskStatus::Submitted,
                    TaskStatus::Challenged,
                    TaskStatus::Finalized,
                    TaskStatus::Refunded,
                ][st];
                Change::Task(t)
            }),
            (1u64..4, 0u32..3, op.clone()).prop_map(|(id, slot, n)| {
                Change::Assignment(AssignmentRecord {
                    task_id: U256::from(id),
                    slot,
                    operator: operator(n),
                    backup: None,
                    status: AssignmentStatus::Active,
                    assigned_at: 1_700_000_000 + u64::from(n),
                })
            }),
            (1u64..4, 0u32..3, 1u32..3, op.clone()).prop_map(|(id, slot, round, n)| {
                Change::Reassignment(ReassignmentRecord {
                    task_id: U256::from(id),
                    slot,
                    round,
                    from: operator(n),
                    to: operator(n % 4 + 1),
                    reason: ReassignReason::MissedDeadline,
                    at: 1_700_000_000,
                })
            }),
            (1u64..4, op, any::<bool>()).prop_map(|(id, n, ok)| {
                Change::Outcome(OutcomeRecord {
                    task_id: U256::from(id),
                    operator: operator(n),
                    kind: if ok {
                        OutcomeKind::Completed
                    } else {
                        OutcomeKind::Failed
                    },
                    at: 1_700_000_000 + id,
                    latency_ms: ok.then_some(1_000),
                })
            }),
        ]
    }

    /// Blocks of logs of changes.
    fn history() -> impl Strategy<Value = Vec<Vec<Vec<Change>>>> {
        proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(change(), 0..5), 0..4),
            1..7,
        )
    }

    fn logs_of(number: u64, logs: &[Vec<Change>]) -> (BlockRef, Vec<LogChanges>) {
        let b = block(number, 0);
        let logs = logs
            .iter()
            .enumerate()
            .map(|(i, c)| log(b, i as u64, "Random", c.clone()))
            .collect();
        (b, logs)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn reverting_from_the_tip_restores_every_earlier_snapshot(
            blocks in history(),
            revert_to in 0usize..7,
        ) {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let s = SqlStore::open("sqlite::memory:").await.unwrap();
                let mut snaps = vec![snapshot(&s).await];
                for (i, logs) in blocks.iter().enumerate() {
                    let (b, logs) = logs_of(i as u64 + 1, logs);
                    s.apply_block(b, &logs, 64).await.unwrap();
                    snaps.push(snapshot(&s).await);
                }
                // Replaying everything changes nothing.
                for (i, logs) in blocks.iter().enumerate() {
                    let (b, logs) = logs_of(i as u64 + 1, logs);
                    let a = s.apply_block(b, &logs, 64).await.unwrap();
                    assert_eq!(a.new, 0);
                }
                assert_eq!(&snapshot(&s).await, snaps.last().unwrap());
                let target = revert_to.min(blocks.len());
                for height in (target..blocks.len()).rev() {
                    s.revert_block(block(height as u64 + 1, 0).hash).await.unwrap();
                    assert_eq!(snapshot(&s).await, snaps[height], "after reverting to {height}");
                }
            });
        }
    }
}
