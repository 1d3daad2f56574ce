//! `assign`, `commit`, `reveal` and `decline`.

use alloy::primitives::{Address, B256};
use verity_settlement::{Mode, Seat, Status};

use super::{Frozen, smallest_replicated, unknown_task, warp};
use crate::harness::*;

#[tokio::test]
async fn assign_reverts() {
    let net = Net::new().await;
    let co = net.coordinator;
    let [a, b, c, d] = [net.op(0), net.op(1), net.op(2), net.op(3)];
    // op6 is jailed: it stayed silent on an optimistic task and was slashed.
    let jailed = net.op(6);
    let req = net.request(Mode::Optimistic, 100).await;
    let silent = net.open_and_assign(&req, &[jailed]).await;
    warp(&net, req.commit_deadline + 1).await;
    net.s.claim_timeout(net.keeper, silent).await.unwrap();
    assert!(net.s.operator(jailed).await.unwrap().jailed_until > net.now().await);
    // op5 is below the minimum stake.
    let poor = net.op(5);
    net.s
        .request_unstake(poor, tokens(STAKE - MIN_STAKE + 1))
        .await
        .unwrap();
    // op4 has 600 of its 1000 locked on another task: 400 free.
    let busy = net.op(4);
    let mut big = net.request(Mode::Optimistic, 100).await;
    big.collateral = tokens(600);
    let taken = net.open_and_assign(&big, &[busy]).await;
    let rep = net.request(Mode::Replicated, 100).await;
    let (open, _) = net.s.create_task(net.client, &rep).await.unwrap();
    let mut rep_big = rep.clone();
    rep_big.collateral = tokens(600);
    let (open_big, _) = net.s.create_task(net.client, &rep_big).await.unwrap();
    // Two tasks with the same assignment deadline, one for each side of it.
    let edge = net.request(Mode::Optimistic, 100).await;
    let (at, _) = net.s.create_task(net.client, &edge).await.unwrap();
    let (after, _) = net.s.create_task(net.client, &edge).await.unwrap();
    let view = net.s.task(open).await.unwrap();

    let f = Frozen::take(&net).await;
    for who in [net.client, net.owner, a, net.keeper] {
        expect_revert(net.s.assign(who, open, &[a, b, c]).await, "NotCoordinator");
    }
    expect_revert(
        net.s.assign(co, unknown_task(), &[a, b, c]).await,
        "UnknownTask",
    );
    expect_revert(net.s.assign(co, taken, &[a]).await, "WrongStatus");
    expect_revert(net.s.assign(co, open, &[a, b]).await, "WrongOperatorCount");
    expect_revert(
        net.s.assign(co, open, &[a, b, c, d]).await,
        "WrongOperatorCount",
    );
    expect_revert(net.s.assign(co, open, &[]).await, "WrongOperatorCount");
    expect_revert(
        net.s.assign(co, open, &[a, Address::ZERO, b]).await,
        "ZeroAddress",
    );
    expect_revert(
        net.s.assign(co, open, &[a, a, b]).await,
        "DuplicateOperator",
    );
    expect_revert(
        net.s.assign(co, open, &[a, b, a]).await,
        "DuplicateOperator",
    );
    // The last seat fails after the first two were locked: those locks are undone too.
    expect_revert(
        net.s.assign(co, open, &[a, b, net.client]).await,
        "NotRegistered",
    );
    expect_revert(
        net.s.assign(co, open, &[a, b, jailed]).await,
        "OperatorJailed",
    );
    expect_revert(
        net.s.assign(co, open, &[a, b, poor]).await,
        "BelowMinimumStake",
    );
    expect_revert(
        net.s.assign(co, open_big, &[a, b, busy]).await,
        "InsufficientFreeStake",
    );
    f.check(&net).await;
    assert_eq!(net.s.task(open).await.unwrap(), view);
    assert!(net.s.operators_of(open).await.unwrap().is_empty());
    assert!(net.s.operators_of(open_big).await.unwrap().is_empty());
    for op in [a, b] {
        assert_eq!(net.s.seat(open, op).await.unwrap().seat, Seat::None);
        assert_eq!(net.s.operator(op).await.unwrap().locked, tokens(0));
    }

    // A coordinator that was removed can no longer assign.
    net.s.set_coordinator(net.owner, co, false).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.assign(co, open, &[a, b, c]).await, "NotCoordinator");
    f.check(&net).await;
    net.s.set_coordinator(net.owner, co, true).await.unwrap();

    // At the deadline second the assignment goes through; one second later it does not.
    net.next_block_at(edge.assign_deadline).await;
    net.s.assign(co, at, &[a]).await.unwrap();
    assert_eq!(net.now().await, edge.assign_deadline);
    assert_eq!(net.s.task(at).await.unwrap().status, Status::Assigned);
    net.next_block_at(edge.assign_deadline + 1).await;
    let view = net.s.task(after).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.assign(co, after, &[b]).await, "AssignDeadlinePassed");
    f.check(&net).await;
    assert_eq!(net.s.task(after).await.unwrap(), view);
    assert_eq!(view.status, Status::Open);
}

#[tokio::test]
async fn commit_reverts() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let rep = net.request(Mode::Replicated, 100).await;
    let id = net.open_and_assign(&rep, &ops).await;
    net.s.decline(ops[2], id).await.unwrap();
    let opt = net.request(Mode::Optimistic, 100).await;
    let optimistic = net.open_and_assign(&opt, &[net.op(3)]).await;
    let (open, _) = net.s.create_task(net.client, &rep).await.unwrap();
    // Two tasks with the same commit deadline, one for each side of it (op 4 commits to the
    // first, op 5 to the second).
    let edge = smallest_replicated(&net).await;
    let at = net
        .open_and_assign(&edge, &[net.op(4), net.op(5), net.op(6)])
        .await;
    let after = net
        .open_and_assign(&edge, &[net.op(5), net.op(4), net.op(6)])
        .await;
    let c0 = net.commitment(id, ops[0], digest("out"), salt(0));
    let view = net.s.task(id).await.unwrap();

    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.commit(ops[0], unknown_task(), c0).await,
        "UnknownTask",
    );
    expect_revert(net.s.commit(net.op(3), optimistic, c0).await, "WrongMode");
    expect_revert(net.s.commit(ops[0], open, c0).await, "WrongStatus");
    expect_revert(net.s.commit(net.op(6), id, c0).await, "NotAssigned");
    expect_revert(net.s.commit(net.client, id, c0).await, "NotAssigned");
    // A declined seat is given back for good.
    expect_revert(net.s.commit(ops[2], id, c0).await, "NotAssigned");
    expect_revert(net.s.commit(ops[0], id, B256::ZERO).await, "ZeroCommitment");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap(), view);
    assert_eq!(net.s.seat(id, ops[0]).await.unwrap().seat, Seat::Assigned);

    net.s.commit(ops[0], id, c0).await.unwrap();
    let seat = net.s.seat(id, ops[0]).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.commit(ops[0], id, c0).await, "AlreadyCommitted");
    expect_revert(net.s.commit(ops[0], id, salt(9)).await, "AlreadyCommitted");
    f.check(&net).await;
    assert_eq!(net.s.seat(id, ops[0]).await.unwrap(), seat);
    assert_eq!(net.s.task(id).await.unwrap().commits, 1);

    // At the deadline second the commitment is taken; one second later it is not.
    net.next_block_at(edge.commit_deadline).await;
    let c4 = net.commitment(at, net.op(4), digest("out"), salt(4));
    net.s.commit(net.op(4), at, c4).await.unwrap();
    assert_eq!(net.now().await, edge.commit_deadline);
    assert_eq!(
        net.s.seat(at, net.op(4)).await.unwrap().seat,
        Seat::Committed
    );
    net.next_block_at(edge.commit_deadline + 1).await;
    let view = net.s.task(after).await.unwrap();
    let f = Frozen::take(&net).await;
    let c5 = net.commitment(after, net.op(5), digest("out"), salt(5));
    expect_revert(
        net.s.commit(net.op(5), after, c5).await,
        "CommitDeadlinePassed",
    );
    f.check(&net).await;
    assert_eq!(net.s.task(after).await.unwrap(), view);
    assert_eq!(
        net.s.seat(after, net.op(5)).await.unwrap().seat,
        Seat::Assigned
    );
}

#[tokio::test]
async fn reveal_reverts() {
    let net = Net::new().await;
    let ops: Vec<_> = (0..5).map(|i| net.op(i)).collect();
    let mut rep = net.request(Mode::Replicated, 100).await;
    (rep.replication, rep.quorum) = (5, 3);
    let id = net.open_and_assign(&rep, &ops).await;
    let opt = net.request(Mode::Optimistic, 100).await;
    let optimistic = net.open_and_assign(&opt, &[net.op(5)]).await;
    let (open, _) = net
        .s
        .create_task(net.client, &smallest_replicated(&net).await)
        .await
        .unwrap();
    let out = digest("out");
    let c = |i: usize| net.commitment(id, ops[i], out, salt(i as u8));
    net.s.commit(ops[0], id, c(0)).await.unwrap();

    let view = net.s.task(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.reveal(ops[0], unknown_task(), out, salt(0)).await,
        "UnknownTask",
    );
    expect_revert(
        net.s.reveal(net.op(5), optimistic, out, salt(0)).await,
        "WrongMode",
    );
    expect_revert(
        net.s.reveal(ops[0], open, out, salt(0)).await,
        "WrongStatus",
    );
    // Assigned but not committed, and not assigned at all.
    expect_revert(net.s.reveal(ops[1], id, out, salt(1)).await, "NotCommitted");
    expect_revert(
        net.s.reveal(net.op(6), id, out, salt(6)).await,
        "NotCommitted",
    );
    // Four seats have not committed and the commit deadline is ahead.
    expect_revert(
        net.s.reveal(ops[0], id, out, salt(0)).await,
        "CommitPhaseOpen",
    );
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap(), view);
    assert_eq!(net.s.seat(id, ops[0]).await.unwrap().seat, Seat::Committed);

    // op1 commits honestly, op2 copies op0's commitment, op3 declines, op4 commits: the commit
    // phase is closed.
    net.s.commit(ops[1], id, c(1)).await.unwrap();
    net.s.commit(ops[2], id, c(0)).await.unwrap();
    net.s.decline(ops[3], id).await.unwrap();
    net.s.commit(ops[4], id, c(4)).await.unwrap();
    let seats = [
        net.s.seat(id, ops[1]).await.unwrap(),
        net.s.seat(id, ops[2]).await.unwrap(),
    ];
    let f = Frozen::take(&net).await;
    expect_revert(net.s.reveal(ops[3], id, out, salt(3)).await, "NotCommitted");
    // Wrong salt, wrong digest.
    expect_revert(
        net.s.reveal(ops[1], id, out, salt(0)).await,
        "CommitmentMismatch",
    );
    expect_revert(
        net.s.reveal(ops[1], id, digest("other"), salt(1)).await,
        "CommitmentMismatch",
    );
    // The copier cannot open op0's commitment, with op0's digest and salt or any other.
    expect_revert(
        net.s.reveal(ops[2], id, out, salt(0)).await,
        "CommitmentMismatch",
    );
    expect_revert(
        net.s.reveal(ops[2], id, out, salt(2)).await,
        "CommitmentMismatch",
    );
    f.check(&net).await;
    assert_eq!(net.s.seat(id, ops[1]).await.unwrap(), seats[0]);
    assert_eq!(net.s.seat(id, ops[2]).await.unwrap(), seats[1]);
    assert_eq!(net.s.task(id).await.unwrap().reveals, 0);

    net.s.reveal(ops[0], id, out, salt(0)).await.unwrap();
    let seat = net.s.seat(id, ops[0]).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.reveal(ops[0], id, out, salt(0)).await,
        "AlreadyRevealed",
    );
    expect_revert(
        net.s.reveal(ops[0], id, digest("other"), salt(0)).await,
        "AlreadyRevealed",
    );
    f.check(&net).await;
    assert_eq!(net.s.seat(id, ops[0]).await.unwrap(), seat);

    // At the reveal deadline op4 still reveals; a second later op1 cannot.
    net.next_block_at(rep.reveal_deadline).await;
    net.s.reveal(ops[4], id, out, salt(4)).await.unwrap();
    assert_eq!(net.now().await, rep.reveal_deadline);
    net.next_block_at(rep.reveal_deadline + 1).await;
    let view = net.s.task(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.reveal(ops[1], id, out, salt(1)).await,
        "RevealDeadlinePassed",
    );
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap(), view);
    assert_eq!(view.reveals, 2);
    assert_eq!(net.s.seat(id, ops[1]).await.unwrap().seat, Seat::Committed);
}

#[tokio::test]
async fn decline_reverts() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let rep = net.request(Mode::Replicated, 100).await;
    let id = net.open_and_assign(&rep, &ops).await;
    let (open, _) = net.s.create_task(net.client, &rep).await.unwrap();
    let opt = net.request(Mode::Optimistic, 100).await;
    let submitted = net.open_and_assign(&opt, &[net.op(3)]).await;
    net.s
        .submit_result(net.op(3), submitted, digest("out"))
        .await
        .unwrap();
    net.s
        .commit(
            ops[0],
            id,
            net.commitment(id, ops[0], digest("out"), salt(0)),
        )
        .await
        .unwrap();
    net.s.decline(ops[1], id).await.unwrap();

    let view = net.s.task(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.decline(ops[2], unknown_task()).await, "UnknownTask");
    expect_revert(net.s.decline(ops[2], open).await, "WrongStatus");
    // The optimistic operator already posted its result.
    expect_revert(net.s.decline(net.op(3), submitted).await, "WrongStatus");
    expect_revert(net.s.decline(net.op(4), id).await, "NotAssigned");
    // Committed seats cannot walk away, nor can a seat decline twice.
    expect_revert(net.s.decline(ops[0], id).await, "NotAssigned");
    expect_revert(net.s.decline(ops[1], id).await, "NotAssigned");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap(), view);
    assert_eq!(view.declined, 1);

    net.next_block_at(rep.commit_deadline + 1).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.decline(ops[2], id).await, "CommitDeadlinePassed");
    f.check(&net).await;
    assert_eq!(net.s.seat(id, ops[2]).await.unwrap().seat, Seat::Assigned);
    assert_eq!(net.s.task(id).await.unwrap(), view);
}
