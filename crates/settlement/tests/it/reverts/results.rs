//! `submitResult`, `submitProof`, `finalize`, `claimTimeout` and `withdraw`.

use alloy::primitives::{B256, Bytes, U256};
use verity_settlement::{Mode, Seat, Status};

use super::{Frozen, mock_verifier, proof_for, smallest_replicated, unknown_task, warp};
use crate::harness::*;

#[tokio::test]
async fn submit_result_reverts() {
    let net = Net::new().await;
    let (op, other) = (net.op(0), net.op(1));
    let opt = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&opt, &[op]).await;
    let late = net.open_and_assign(&opt, &[other]).await;
    let (open, _) = net.s.create_task(net.client, &opt).await.unwrap();
    let replicated = net
        .open_and_assign(
            &smallest_replicated(&net).await,
            &[net.op(2), net.op(3), net.op(4)],
        )
        .await;
    let out = digest("out");

    let view = net.s.task(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.submit_result(op, unknown_task(), out).await,
        "UnknownTask",
    );
    expect_revert(
        net.s.submit_result(net.op(2), replicated, out).await,
        "WrongMode",
    );
    expect_revert(net.s.submit_result(op, open, out).await, "WrongStatus");
    // Only the assigned operator: not another operator, not the client.
    expect_revert(net.s.submit_result(other, id, out).await, "NotAssigned");
    expect_revert(
        net.s.submit_result(net.client, id, out).await,
        "NotAssigned",
    );
    expect_revert(net.s.submit_result(op, id, B256::ZERO).await, "ZeroDigest");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap(), view);

    net.s.submit_result(op, id, out).await.unwrap();
    let view = net.s.task(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.submit_result(op, id, out).await, "WrongStatus");
    expect_revert(
        net.s.submit_result(op, id, digest("second thoughts")).await,
        "WrongStatus",
    );
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap(), view);
    assert_eq!(view.result, out);

    net.next_block_at(opt.commit_deadline + 1).await;
    let view = net.s.task(late).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.submit_result(other, late, out).await,
        "CommitDeadlinePassed",
    );
    f.check(&net).await;
    assert_eq!(net.s.task(late).await.unwrap(), view);
    assert_eq!((view.status, view.submitted_at), (Status::Assigned, 0));
}

#[tokio::test]
async fn submit_proof_reverts() {
    let net = Net::new().await;
    let vid = mock_verifier(&net).await;
    let (op, other) = (net.op(0), net.op(1));
    let mut zk = net.request(Mode::ZkProof, 100).await;
    zk.verifier_id = vid;
    let id = net.open_and_assign(&zk, &[op]).await;
    let late = net.open_and_assign(&zk, &[other]).await;
    let (open, _) = net.s.create_task(net.client, &zk).await.unwrap();
    let opt = net.request(Mode::Optimistic, 100).await;
    let optimistic = net.open_and_assign(&opt, &[net.op(2)]).await;
    let out = digest("out");
    let good = proof_for(&net, &zk, id, op, out);

    let view = net.s.task(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s
            .submit_proof(op, unknown_task(), out, good.clone())
            .await,
        "UnknownTask",
    );
    let p = proof_for(&net, &zk, optimistic, net.op(2), out);
    expect_revert(
        net.s.submit_proof(net.op(2), optimistic, out, p).await,
        "WrongMode",
    );
    let p = proof_for(&net, &zk, open, op, out);
    expect_revert(net.s.submit_proof(op, open, out, p).await, "WrongStatus");
    expect_revert(
        net.s.submit_proof(other, id, out, good.clone()).await,
        "NotAssigned",
    );
    let p = proof_for(&net, &zk, id, op, B256::ZERO);
    expect_revert(
        net.s.submit_proof(op, id, B256::ZERO, p).await,
        "ZeroDigest",
    );
    // Empty, truncated, for another digest, for another operator's binding.
    expect_revert(
        net.s.submit_proof(op, id, out, Bytes::new()).await,
        "InvalidProof",
    );
    expect_revert(
        net.s.submit_proof(op, id, out, good.slice(..31)).await,
        "InvalidProof",
    );
    let p = proof_for(&net, &zk, id, op, digest("other"));
    expect_revert(net.s.submit_proof(op, id, out, p).await, "InvalidProof");
    let p = proof_for(&net, &zk, id, other, out);
    expect_revert(net.s.submit_proof(op, id, out, p).await, "InvalidProof");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap(), view);

    // A valid proof settles at once; a second one finds the task finalized.
    net.s.submit_proof(op, id, out, good.clone()).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.submit_proof(op, id, out, good).await, "WrongStatus");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);

    net.next_block_at(zk.commit_deadline + 1).await;
    let view = net.s.task(late).await.unwrap();
    let f = Frozen::take(&net).await;
    let p = proof_for(&net, &zk, late, other, out);
    expect_revert(
        net.s.submit_proof(other, late, out, p).await,
        "CommitDeadlinePassed",
    );
    f.check(&net).await;
    assert_eq!(net.s.task(late).await.unwrap(), view);
    assert_eq!(view.status, Status::Assigned);
}

#[tokio::test]
async fn finalize_reverts() {
    let net = Net::new().await;
    let k = net.keeper;
    let vid = mock_verifier(&net).await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let rep = net.request(Mode::Replicated, 100).await;
    let id = net.open_and_assign(&rep, &ops).await;
    let (open, _) = net.s.create_task(net.client, &rep).await.unwrap();
    let opt = net.request(Mode::Optimistic, 100).await;
    let optimistic = net.open_and_assign(&opt, &[net.op(3)]).await;
    let mut zk = net.request(Mode::ZkProof, 100).await;
    zk.verifier_id = vid;
    let zk_id = net.open_and_assign(&zk, &[net.op(4)]).await;
    let out = digest("out");
    for (i, op) in ops.iter().enumerate() {
        net.s
            .commit(*op, id, net.commitment(id, *op, out, salt(i as u8)))
            .await
            .unwrap();
    }
    for (i, op) in ops.iter().enumerate().take(2) {
        net.s.reveal(*op, id, out, salt(i as u8)).await.unwrap();
    }

    let mut before = Vec::new();
    for t in [id, open, optimistic, zk_id] {
        before.push(net.s.task(t).await.unwrap());
    }
    let f = Frozen::take(&net).await;
    expect_revert(net.s.finalize(k, unknown_task()).await, "UnknownTask");
    // ZkProof settles through submitProof (or claimTimeout), never here.
    expect_revert(net.s.finalize(k, zk_id).await, "WrongMode");
    expect_revert(net.s.finalize(k, open).await, "WrongStatus");
    // Optimistic without a result yet.
    expect_revert(net.s.finalize(k, optimistic).await, "WrongStatus");
    // Two of three seats revealed and the reveal deadline is ahead.
    expect_revert(net.s.finalize(k, id).await, "TooEarly");
    expect_revert(net.s.finalize(net.client, id).await, "TooEarly");
    f.check(&net).await;
    for (t, v) in [id, open, optimistic, zk_id].into_iter().zip(&before) {
        assert_eq!(&net.s.task(t).await.unwrap(), v);
    }

    // Optimistic: still too early at the last second of the challenge window.
    net.s
        .submit_result(net.op(3), optimistic, out)
        .await
        .unwrap();
    let ends = net.s.task(optimistic).await.unwrap().challenge_ends();
    net.next_block_at(ends).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.finalize(k, optimistic).await, "TooEarly");
    f.check(&net).await;
    assert_eq!(
        net.s.task(optimistic).await.unwrap().status,
        Status::Submitted
    );
    net.next_block_at(ends + 1).await;
    net.s.finalize(k, optimistic).await.unwrap();

    // Double finalize, both modes.
    net.s.reveal(ops[2], id, out, salt(2)).await.unwrap();
    net.s.finalize(k, id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.finalize(k, id).await, "WrongStatus");
    expect_revert(net.s.finalize(k, optimistic).await, "WrongStatus");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);
    assert_eq!(
        net.s.task(optimistic).await.unwrap().status,
        Status::Finalized
    );
}

#[tokio::test]
async fn claim_timeout_reverts() {
    let net = Net::new().await;
    let k = net.keeper;
    let opt = net.request(Mode::Optimistic, 100).await;
    let (open, _) = net.s.create_task(net.client, &opt).await.unwrap();
    let silent = net.open_and_assign(&opt, &[net.op(0)]).await;
    let submitted = net.open_and_assign(&opt, &[net.op(1)]).await;
    net.s
        .submit_result(net.op(1), submitted, digest("out"))
        .await
        .unwrap();
    let rep = net.request(Mode::Replicated, 100).await;
    let replicated = net
        .open_and_assign(&rep, &[net.op(2), net.op(3), net.op(4)])
        .await;

    // At the last second of the assignment window.
    net.next_block_at(opt.assign_deadline).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.claim_timeout(k, unknown_task()).await, "UnknownTask");
    expect_revert(net.s.claim_timeout(k, open).await, "TooEarly");
    expect_revert(net.s.claim_timeout(k, silent).await, "TooEarly");
    // Replicated tasks leave through finalize.
    expect_revert(net.s.claim_timeout(k, replicated).await, "WrongMode");
    // A posted result leaves through finalize or a challenge.
    expect_revert(net.s.claim_timeout(k, submitted).await, "WrongStatus");
    f.check(&net).await;
    assert_eq!(net.s.task(open).await.unwrap().status, Status::Open);
    net.next_block_at(opt.assign_deadline + 1).await;
    net.s.claim_timeout(k, open).await.unwrap();

    // At the last second of the submit window.
    net.next_block_at(opt.commit_deadline).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.claim_timeout(k, silent).await, "TooEarly");
    f.check(&net).await;
    assert_eq!(net.s.operator(net.op(0)).await.unwrap().times_slashed, 0);
    net.next_block_at(opt.commit_deadline + 1).await;
    net.s.claim_timeout(k, silent).await.unwrap();

    // Long after every deadline: still the wrong mode / status; twice is WrongStatus.
    warp(&net, rep.reveal_deadline + 1).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.claim_timeout(k, replicated).await, "WrongMode");
    expect_revert(net.s.claim_timeout(k, submitted).await, "WrongStatus");
    expect_revert(net.s.claim_timeout(k, open).await, "WrongStatus");
    expect_revert(net.s.claim_timeout(k, silent).await, "WrongStatus");
    f.check(&net).await;
    assert_eq!(net.s.task(silent).await.unwrap().status, Status::Refunded);
    assert_eq!(
        net.s.task(replicated).await.unwrap().status,
        Status::Assigned
    );
    assert_eq!(
        net.s.seat(replicated, net.op(2)).await.unwrap().seat,
        Seat::Assigned
    );
}

#[tokio::test]
async fn withdraw_reverts() {
    let net = Net::new().await;
    let f = Frozen::take(&net).await;
    for who in [net.client, net.keeper, net.treasury, net.op(0)] {
        expect_revert(net.s.withdraw(who).await, "NothingToWithdraw");
    }
    f.check(&net).await;
    // A refund is credited; it is withdrawn once.
    let req = net.request(Mode::Optimistic, 100).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.cancel(net.client, id).await.unwrap();
    assert_eq!(net.s.withdraw(net.client).await.unwrap(), tokens(100));
    let f = Frozen::take(&net).await;
    expect_revert(net.s.withdraw(net.client).await, "NothingToWithdraw");
    expect_revert(net.s.withdraw(net.client2).await, "NothingToWithdraw");
    f.check(&net).await;
    assert_eq!(net.s.market_balance(net.client).await.unwrap(), U256::ZERO);
    assert_eq!(
        net.s.token_balance(net.client).await.unwrap(),
        tokens(10_000)
    );
}
