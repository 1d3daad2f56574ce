//! Failover (`reassign`) and batched assignment (`assignBatch`): every path, with the exact
//! balance and collateral change of every actor, the registry counters, and the full lifecycle
//! after a reassignment (the replacement is paid; the replaced operator gets and loses nothing).

use alloy::primitives::{Address, U256};
use verity_contracts::TaskMarket;
use verity_settlement::{
    DeployConfig, Mode, Seat, Settlement, Status, TaskId, TaskRecord, TxOptions,
    skipped_assignments,
};

use crate::{
    harness::*,
    reverts::{
        Frozen, mock_verifier, outsider, proof_for, smallest_replicated, unknown_task, warp,
    },
};

fn fresh(net: &Net) -> Settlement {
    Settlement::new(
        net.s.provider().clone(),
        *net.s.deployment(),
        TxOptions::default(),
    )
}

/// (tasks completed, tasks failed, times slashed) of an operator.
async fn counters(net: &Net, op: Address) -> (u32, u32, u32) {
    let o = net.s.operator(op).await.expect("operator");
    (o.tasks_completed, o.tasks_failed, o.times_slashed)
}

#[tokio::test]
async fn optimistic_reassign_moves_the_collateral_and_pays_the_replacement() {
    let net = Net::new().await;
    let (old, new) = (net.op(0), net.op(1));
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[old]).await;
    // A second client cached the task before the failover: it must see the new operator.
    let other = fresh(&net);
    assert_eq!(other.operators_of(id).await.unwrap(), vec![old]);

    let l0 = net.ledger().await;
    let receipt = net.s.reassign(net.coordinator, id, 0, new).await.unwrap();
    let ev = receipt
        .decoded_log::<TaskMarket::Reassigned>()
        .expect("Reassigned event");
    assert_eq!(
        (ev.taskId, ev.seat, ev.from, ev.to),
        (id, U256::ZERO, old, new)
    );
    let l1 = net.ledger().await;
    // Released without a slash (a failure is counted), the replacement's collateral locked.
    l0.assert_deltas(&l1, &[(old, locked(-t(50))), (new, locked(t(50)))]);
    assert_eq!(counters(&net, old).await, (0, 1, 0));
    assert_eq!(counters(&net, new).await, (0, 0, 0));
    assert_eq!(net.s.operators_of(id).await.unwrap(), vec![new]);
    assert_eq!(fresh(&net).operators_of(id).await.unwrap(), vec![new]);
    let task = net.s.task(id).await.unwrap();
    assert_eq!(
        (task.status, task.assigner),
        (Status::Assigned, net.coordinator)
    );

    // The replaced operator can no longer act on the task.
    expect_revert(
        net.s.submit_result(old, id, digest("out")).await,
        "NotAssigned",
    );
    expect_revert(net.s.decline(old, id).await, "NotAssigned");
    // The client that cached the old operators catches up from the `Reassigned` event.
    other.submit_result(new, id, digest("out")).await.unwrap();
    net.advance(u64::from(req.challenge_window) + 1).await;
    fresh(&net).finalize(net.keeper, id).await.unwrap();
    let l2 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    l1.assert_deltas(
        &l2,
        &[
            (new, locked(-t(50))),
            (new, market(rest)),
            (net.treasury, market(p)),
            (net.coordinator, market(s)),
        ],
    );
    assert_eq!(counters(&net, new).await, (1, 0, 0));
    assert_eq!(counters(&net, old).await, (0, 1, 0));
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);
}

#[tokio::test]
async fn zk_reassign_then_the_replacement_proves_and_is_paid() {
    let net = Net::new().await;
    let (old, new) = (net.op(0), net.op(1));
    let vid = mock_verifier(&net).await;
    let mut req = net.request(Mode::ZkProof, 100).await;
    req.verifier_id = vid;
    let id = net.open_and_assign(&req, &[old]).await;
    let l0 = net.ledger().await;
    net.s.reassign(net.coordinator, id, 0, new).await.unwrap();
    // A proof bound to the replaced operator no longer counts, even sent by it.
    expect_revert(
        net.s
            .submit_proof(
                old,
                id,
                digest("out"),
                proof_for(&net, &req, id, old, digest("out")),
            )
            .await,
        "NotAssigned",
    );
    net.s
        .submit_proof(
            new,
            id,
            digest("out"),
            proof_for(&net, &req, id, new, digest("out")),
        )
        .await
        .unwrap();
    let l1 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    l0.assert_deltas(
        &l1,
        &[
            (old, locked(-t(50))),
            (new, market(rest)),
            (net.treasury, market(p)),
            (net.coordinator, market(s)),
        ],
    );
    assert_eq!(counters(&net, old).await, (0, 1, 0));
    assert_eq!(counters(&net, new).await, (1, 0, 0));
}

/// A silent seat and a declined seat are both reassigned while the third seat has already
/// committed; the replacements commit, everyone reveals, and the three holders split the reward.
#[tokio::test]
async fn replicated_reassign_of_a_silent_and_a_declined_seat() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let (r1, r2) = (net.op(3), net.op(4));
    let req = net.request(Mode::Replicated, 100).await;
    let l0 = net.ledger().await;
    let id = net.open_and_assign(&req, &ops).await;
    net.s
        .commit(
            ops[0],
            id,
            net.commitment(id, ops[0], digest("out"), salt(0)),
        )
        .await
        .unwrap();
    net.s.decline(ops[1], id).await.unwrap();
    let l1 = net.ledger().await;

    // The declined seat: its collateral was released by the decline; only the replacement's
    // is locked now, and the decline's failure is not counted twice.
    net.s.reassign(net.coordinator, id, 1, r1).await.unwrap();
    let l2 = net.ledger().await;
    l1.assert_deltas(&l2, &[(r1, locked(t(50)))]);
    assert_eq!(counters(&net, ops[1]).await, (0, 1, 0));
    // The silent seat: released without a slash, a failure counted.
    net.s.reassign(net.coordinator, id, 2, r2).await.unwrap();
    let l3 = net.ledger().await;
    l2.assert_deltas(&l3, &[(ops[2], locked(-t(50))), (r2, locked(t(50)))]);
    assert_eq!(counters(&net, ops[2]).await, (0, 1, 0));

    let holders = [ops[0], r1, r2];
    assert_eq!(net.s.operators_of(id).await.unwrap(), holders.to_vec());
    let task = net.s.task(id).await.unwrap();
    assert_eq!((task.commits, task.declined), (1, 0));
    assert_eq!(net.s.seat(id, ops[1]).await.unwrap().seat, Seat::None);
    assert_eq!(net.s.seat(id, r1).await.unwrap().seat, Seat::Assigned);
    // Reveals stay closed until the new seats commit (or the commit deadline passes).
    expect_revert(
        net.s.reveal(ops[0], id, digest("out"), salt(0)).await,
        "CommitPhaseOpen",
    );
    for (i, op) in holders.iter().enumerate().skip(1) {
        net.s
            .commit(
                *op,
                id,
                net.commitment(id, *op, digest("out"), salt(i as u8)),
            )
            .await
            .unwrap();
    }
    for (i, op) in holders.iter().enumerate() {
        fresh(&net)
            .reveal(*op, id, digest("out"), salt(i as u8))
            .await
            .unwrap();
    }
    fresh(&net).finalize(net.keeper, id).await.unwrap();
    let l4 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    let each = rest / 3;
    l0.assert_deltas(
        &l4,
        &[
            (net.client, wallet(-t(100))),
            (ops[0], market(each)),
            (r1, market(each)),
            (r2, market(each)),
            // The decline forfeited 2 % of the collateral to the treasury.
            (ops[1], stake(-t(1))),
            (net.treasury, market(p + rest - each * 3 + t(1))),
            (net.coordinator, market(s)),
        ],
    );
    for op in holders {
        assert_eq!(counters(&net, op).await, (1, 0, 0));
    }
    for op in [ops[1], ops[2]] {
        assert_eq!(counters(&net, op).await, (0, 1, 0));
    }
    let view = fresh(&net).task(id).await.unwrap();
    assert_eq!(
        (view.status, view.commits, view.reveals, view.declined),
        (Status::Finalized, 3, 3, 0)
    );
}

/// An operator replaced on a seat and later given a seat again: its old decline does not count
/// against its new seat in the views, and it takes part normally.
#[tokio::test]
async fn a_reseated_operator_starts_afresh() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let other = net.op(3);
    let req = net.request(Mode::Replicated, 100).await;
    let id = net.open_and_assign(&req, &ops).await;
    net.s.decline(ops[1], id).await.unwrap();
    net.s.reassign(net.coordinator, id, 1, other).await.unwrap();
    net.s.decline(other, id).await.unwrap();
    // ops[1] declined seat 1 earlier; it now takes seat 1 again.
    net.s
        .reassign(net.coordinator, id, 1, ops[1])
        .await
        .unwrap();
    for s in [&net.s, &fresh(&net)] {
        assert_eq!(s.seat(id, ops[1]).await.unwrap().seat, Seat::Assigned);
        assert_eq!(s.seat(id, other).await.unwrap().seat, Seat::None);
        assert_eq!(s.operators_of(id).await.unwrap(), ops.to_vec());
        assert_eq!(s.task(id).await.unwrap().declined, 0);
    }
    for (i, op) in ops.iter().enumerate() {
        net.s
            .commit(
                *op,
                id,
                net.commitment(id, *op, digest("out"), salt(i as u8)),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        fresh(&net).seat(id, ops[1]).await.unwrap().seat,
        Seat::Committed
    );
    for (i, op) in ops.iter().enumerate() {
        net.s
            .reveal(*op, id, digest("out"), salt(i as u8))
            .await
            .unwrap();
    }
    let l0 = net.ledger().await;
    net.s.finalize(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    let each = rest / 3;
    let mut deltas: Vec<(Address, Delta)> = ops
        .iter()
        .flat_map(|op| [(*op, market(each)), (*op, locked(-t(50)))])
        .collect();
    deltas.push((net.treasury, market(p + rest - each * 3)));
    deltas.push((net.coordinator, market(s)));
    l0.assert_deltas(&l1, &deltas);
    // ops[1]: one decline, one completed task; `other`: one decline.
    assert_eq!(counters(&net, ops[1]).await, (1, 1, 0));
    assert_eq!(counters(&net, other).await, (0, 1, 0));
}

/// Every refusal of `reassign`, by exact name, each leaving every balance, the head block and
/// the task's operators unchanged.
#[tokio::test]
async fn reassign_reverts() {
    let net = Net::new().await;
    let (a, b, c, d) = (net.op(0), net.op(1), net.op(2), net.op(3));
    let opt = net.request(Mode::Optimistic, 100).await;
    let open = {
        let (id, _) = net.s.create_task(net.client, &opt).await.unwrap();
        id
    };
    let o = net.open_and_assign(&opt, &[a]).await;
    let rep = net.request(Mode::Replicated, 100).await;
    let r = net.open_and_assign(&rep, &[a, b, c]).await;
    net.s
        .commit(a, r, net.commitment(r, a, digest("out"), salt(0)))
        .await
        .unwrap();
    let co = net.coordinator;

    let f = Frozen::take(&net).await;
    for who in [net.client, net.owner, a, d] {
        expect_revert(net.s.reassign(who, o, 0, d).await, "NotCoordinator");
    }
    expect_revert(
        net.s.reassign(co, unknown_task(), 0, d).await,
        "UnknownTask",
    );
    expect_revert(net.s.reassign(co, open, 0, d).await, "WrongStatus");
    expect_revert(net.s.reassign(co, o, 1, d).await, "SeatOutOfRange");
    expect_revert(net.s.reassign(co, r, 3, d).await, "SeatOutOfRange");
    expect_revert(net.s.reassign(co, o, u64::MAX, d).await, "SeatOutOfRange");
    expect_revert(net.s.reassign(co, o, 0, Address::ZERO).await, "ZeroAddress");
    // The replacement already holds a seat: this one, or another.
    expect_revert(net.s.reassign(co, o, 0, a).await, "DuplicateOperator");
    expect_revert(net.s.reassign(co, r, 1, b).await, "DuplicateOperator");
    expect_revert(net.s.reassign(co, r, 1, c).await, "DuplicateOperator");
    // A committed seat is the operator's.
    expect_revert(net.s.reassign(co, r, 0, d).await, "AlreadyCommitted");
    // The registry refuses the replacement.
    expect_revert(net.s.reassign(co, o, 0, outsider(0)).await, "NotRegistered");
    expect_revert(net.s.reassign(co, o, 0, net.client).await, "NotRegistered");
    // A calldata Task that is not the stored one.
    let mut tampered: TaskRecord = net.s.task_record(o).await.unwrap();
    tampered.task.operators = vec![b];
    expect_revert(
        net.s.reassign_with(co, &tampered, 0, d).await,
        "TaskMismatch",
    );
    f.check(&net).await;
    assert_eq!(net.s.operators_of(o).await.unwrap(), vec![a]);
    assert_eq!(net.s.operators_of(r).await.unwrap(), vec![a, b, c]);

    // Not enough free stake, and below the minimum stake.
    let mut big = net.request(Mode::Optimistic, 10).await;
    big.collateral = tokens(STAKE - 40);
    let g = net.open_and_assign(&big, &[d]).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.reassign(co, g, 0, a).await, "InsufficientFreeStake");
    f.check(&net).await;
    net.s
        .set_min_stake(net.owner, tokens(STAKE + 1))
        .await
        .unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.reassign(co, o, 0, b).await, "BelowMinimumStake");
    f.check(&net).await;
    net.s
        .set_min_stake(net.owner, tokens(MIN_STAKE))
        .await
        .unwrap();

    // A declined seat can be handed over while reveals are open but nobody revealed yet (the
    // reveal phase then waits for the new seat's commitment)...
    let e = net.op(5);
    let rep = net.request(Mode::Replicated, 100).await;
    let r3 = net.open_and_assign(&rep, &[a, b, c]).await;
    for (i, op) in [a, b].iter().enumerate() {
        net.s
            .commit(
                *op,
                r3,
                net.commitment(r3, *op, digest("out"), salt(i as u8)),
            )
            .await
            .unwrap();
    }
    net.s.decline(c, r3).await.unwrap();
    net.s.reassign(co, r3, 2, e).await.unwrap();
    expect_revert(
        net.s.reveal(a, r3, digest("out"), salt(0)).await,
        "CommitPhaseOpen",
    );
    // ...but not once any seat revealed: the replacement would commit after seeing a digest.
    let r2 = net.open_and_assign(&rep, &[a, b, c]).await;
    for (i, op) in [a, b].iter().enumerate() {
        net.s
            .commit(
                *op,
                r2,
                net.commitment(r2, *op, digest("out"), salt(i as u8)),
            )
            .await
            .unwrap();
    }
    net.s.decline(c, r2).await.unwrap();
    net.s.reveal(a, r2, digest("out"), salt(0)).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.reassign(co, r2, 2, d).await, "RevealPhaseStarted");
    // A revealed seat is committed.
    expect_revert(net.s.reassign(co, r2, 0, d).await, "AlreadyCommitted");
    f.check(&net).await;

    // Optimistic with a result posted: no longer Assigned.
    net.s.submit_result(a, o, digest("out")).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.reassign(co, o, 0, d).await, "WrongStatus");
    f.check(&net).await;

    // The minimum response window: allowed with exactly that much left before the commit
    // deadline, refused with a second less (the seat stays where it was), and after the
    // deadline `CommitDeadlinePassed`.
    let min = u64::from(DeployConfig::devnet(net.owner).min_response_window);
    let opt = net.request(Mode::Optimistic, 100).await;
    let t1 = net.open_and_assign(&opt, &[b]).await;
    let t2 = net.open_and_assign(&opt, &[c]).await;
    net.next_block_at(opt.commit_deadline - min).await;
    net.s.reassign(co, t1, 0, a).await.unwrap();
    assert_eq!(net.now().await, opt.commit_deadline - min);
    warp(&net, opt.commit_deadline - min + 1).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.reassign(co, t2, 0, a).await, "ResponseWindowTooShort");
    f.check(&net).await;
    warp(&net, opt.commit_deadline + 1).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.reassign(co, t2, 0, a).await, "CommitDeadlinePassed");
    f.check(&net).await;
    assert_eq!(net.s.operators_of(t1).await.unwrap(), vec![a]);
    assert_eq!(net.s.operators_of(t2).await.unwrap(), vec![c]);

    // Settled: the last seat declined, the client was refunded.
    let small = smallest_replicated(&net).await;
    let seats = [b, net.op(5), net.op(6)];
    let s1 = net.open_and_assign(&small, &seats).await;
    for s in seats {
        net.s.decline(s, s1).await.unwrap();
    }
    assert_eq!(net.s.status(s1).await.unwrap(), Status::Refunded);
    let f = Frozen::take(&net).await;
    expect_revert(net.s.reassign(co, s1, 0, d).await, "WrongStatus");
    f.check(&net).await;
}

/// The replaced operator of a silent optimistic task is not slashed by `claimTimeout`: the
/// replacement holds the seat and answers for it.
#[tokio::test]
async fn after_a_reassign_only_the_silent_replacement_is_slashed() {
    let net = Net::new().await;
    let (old, new) = (net.op(0), net.op(1));
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[old]).await;
    net.s.reassign(net.coordinator, id, 0, new).await.unwrap();
    let l0 = net.ledger().await;
    warp(&net, req.commit_deadline + 1).await;
    net.s.claim_timeout(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[
            (new, slashed(t(50))),
            (net.treasury, market(t(50))),
            (net.client, market(t(100))),
        ],
    );
    assert_eq!(counters(&net, old).await, (0, 1, 0));
    assert_eq!(counters(&net, new).await, (0, 1, 1));

    // The slashed replacement is jailed: the registry refuses it as a replacement too.
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[old]).await;
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.reassign(net.coordinator, id, 0, new).await,
        "OperatorJailed",
    );
    f.check(&net).await;
}

async fn open(net: &Net, mode: Mode) -> (TaskId, verity_settlement::TaskRequest) {
    let req = net.request(mode, 100).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    (id, req)
}

#[tokio::test]
async fn assign_batch_assigns_every_task() {
    let net = Net::new().await;
    let (o1, _) = open(&net, Mode::Optimistic).await;
    let (r1, _) = open(&net, Mode::Replicated).await;
    let (o2, req) = open(&net, Mode::Optimistic).await;
    let ops = vec![
        vec![net.op(0)],
        vec![net.op(1), net.op(2), net.op(3)],
        vec![net.op(0)],
    ];
    let l0 = net.ledger().await;
    let receipt = net
        .s
        .assign_batch(net.coordinator, &[o1, r1, o2], &ops)
        .await
        .unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[
            (net.op(0), locked(t(100))),
            (net.op(1), locked(t(50))),
            (net.op(2), locked(t(50))),
            (net.op(3), locked(t(50))),
        ],
    );
    let assigned: Vec<(TaskId, Vec<Address>)> = receipt
        .inner
        .logs()
        .iter()
        .filter_map(|l| l.log_decode::<TaskMarket::TaskAssigned>().ok())
        .map(|l| (l.inner.data.taskId, l.inner.data.operators.clone()))
        .collect();
    assert_eq!(
        assigned,
        vec![
            (o1, ops[0].clone()),
            (r1, ops[1].clone()),
            (o2, ops[2].clone())
        ]
    );
    for (id, want) in [o1, r1, o2].iter().zip(&ops) {
        for s in [&net.s, &fresh(&net)] {
            let task = s.task(*id).await.unwrap();
            assert_eq!(
                (task.status, task.assigner),
                (Status::Assigned, net.coordinator)
            );
            assert_eq!(&s.operators_of(*id).await.unwrap(), want);
        }
    }
    // The batch-assigned task runs to the end like any other.
    net.s
        .submit_result(net.op(0), o2, digest("out"))
        .await
        .unwrap();
    net.advance(u64::from(req.challenge_window) + 1).await;
    net.s.finalize(net.keeper, o2).await.unwrap();
    let l2 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    l1.assert_deltas(
        &l2,
        &[
            (net.op(0), locked(-t(50))),
            (net.op(0), market(rest)),
            (net.treasury, market(p)),
            (net.coordinator, market(s)),
        ],
    );
}

/// Every refusal of `assignBatch`; a bad entry is skipped with its error, the rest assigned.
#[tokio::test]
async fn assign_batch_reverts() {
    let net = Net::new().await;
    let (o1, _) = open(&net, Mode::Optimistic).await;
    let (o2, _) = open(&net, Mode::Optimistic).await;
    let (r1, _) = open(&net, Mode::Replicated).await;
    let done = net
        .open_and_assign(&net.request(Mode::Optimistic, 100).await, &[net.op(4)])
        .await;
    let co = net.coordinator;
    let rec = |id| {
        let s = net.s.clone();
        async move { s.task_record(id).await.unwrap() }
    };
    let (ro1, ro2) = (rec(o1).await, rec(o2).await);
    let one = vec![net.op(0)];
    let two = vec![net.op(1)];

    let f = Frozen::take(&net).await;
    expect_revert(
        net.s
            .assign_batch(net.client, &[o1], std::slice::from_ref(&one))
            .await,
        "NotCoordinator",
    );
    expect_revert(net.s.assign_batch(co, &[], &[]).await, "EmptyBatch");
    expect_revert(
        net.s
            .assign_batch(co, &[o1, o2], std::slice::from_ref(&one))
            .await,
        "BatchLengthMismatch",
    );
    expect_revert(
        net.s
            .assign_batch(co, &[o1], &[one.clone(), two.clone()])
            .await,
        "BatchLengthMismatch",
    );
    // More than MAX_ASSIGN_BATCH (32) tasks, whatever they are.
    let recs = vec![ro1.clone(); 33];
    let ops = vec![one.clone(); 33];
    expect_revert(
        net.s.assign_batch_with(co, &recs, &ops).await,
        "BatchTooLarge",
    );
    f.check(&net).await;
    let before = net.ledger().await;
    // A bad entry is skipped with its error (`AssignSkipped`) and moves nothing: already
    // assigned, a wrong operator count, unknown, an operator that cannot take its seat, a
    // tampered task.
    let rec_done = rec(done).await;
    let rec_r1 = rec(r1).await;
    let mut tampered = ro2.clone();
    tampered.task.client = net.client2;
    let cases: Vec<(TaskRecord, Vec<Address>, &str)> = vec![
        (rec_done, two.clone(), "WrongStatus"),
        (rec_r1, two.clone(), "WrongOperatorCount"),
        (ro2.clone(), vec![outsider(0)], "NotRegistered"),
        (tampered, two.clone(), "TaskMismatch"),
    ];
    for (record, ops, want) in cases {
        let receipt = net
            .s
            .assign_batch_with(co, std::slice::from_ref(&record), &[ops])
            .await
            .unwrap();
        let skipped = skipped_assignments(&receipt);
        assert_eq!(skipped.len(), 1, "{want}");
        assert_eq!(
            (skipped[0].0, skipped[0].1.name()),
            (record.id, want.to_string())
        );
    }
    let receipt = net
        .s
        .assign_batch(co, &[unknown_task()], std::slice::from_ref(&two))
        .await
        .unwrap();
    let skipped = skipped_assignments(&receipt);
    assert_eq!(
        (skipped[0].0, skipped[0].1.name()),
        (unknown_task(), "UnknownTask".to_string())
    );
    before.assert_deltas(&net.ledger().await, &[]);
    for id in [o1, o2, r1] {
        assert_eq!(net.s.status(id).await.unwrap(), Status::Open);
    }
    // The same task twice: the second entry carries the task from before the first, so it no
    // longer matches and is skipped; the first is assigned.
    let receipt = net
        .s
        .assign_batch_with(co, &[ro1.clone(), ro1.clone()], &[one.clone(), two.clone()])
        .await
        .unwrap();
    let skipped = skipped_assignments(&receipt);
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        (skipped[0].0, skipped[0].1.name()),
        (o1, "TaskMismatch".to_string())
    );
    assert_eq!(net.s.operators_of(o1).await.unwrap(), one);
    // A good entry beside a bad one is assigned.
    let receipt = net
        .s
        .assign_batch(co, &[o2, done], &[two.clone(), one.clone()])
        .await
        .unwrap();
    assert_eq!(skipped_assignments(&receipt).len(), 1);
    assert_eq!(net.s.operators_of(o2).await.unwrap(), two);
}
