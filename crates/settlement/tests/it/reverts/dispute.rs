//! `challenge`, `drawCommittee`, `vote` and `resolveDispute`.

use alloy::primitives::Address;
use verity_settlement::{Mode, Status, TaskId};

use super::{Frozen, outsider, unknown_task};
use crate::harness::*;

/// Creates an optimistic task, assigns `op` and posts `out` as its result.
async fn submitted(net: &Net, op: Address) -> TaskId {
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    id
}

#[tokio::test]
async fn challenge_reverts() {
    let net = Net::new().await;
    let ch = net.challenger;
    let op = net.op(0);
    let id = submitted(&net, op).await;
    let req = net.request(Mode::Optimistic, 100).await;
    let unsubmitted = net.open_and_assign(&req, &[net.op(1)]).await;
    let (open, _) = net.s.create_task(net.client, &req).await.unwrap();
    // Two results posted in consecutive blocks, one for each side of their windows' ends.
    let (at, after) = (
        submitted(&net, net.op(2)).await,
        submitted(&net, net.op(3)).await,
    );
    // client2 lets the market take 10 tokens only; the outsider may spend but owns nothing.
    net.s.approve_market(net.client2, tokens(10)).await.unwrap();
    let broke = outsider(0);
    net.s.approve_market(broke, tokens(50)).await.unwrap();

    let view = net.s.task(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.challenge(ch, unknown_task()).await, "UnknownTask");
    expect_revert(net.s.challenge(ch, open).await, "WrongStatus");
    expect_revert(net.s.challenge(ch, unsubmitted).await, "WrongStatus");
    expect_revert(net.s.challenge(op, id).await, "SelfChallenge");
    // The bond (= collateral, 50) must be paid.
    expect_revert(
        net.s.challenge(net.client2, id).await,
        "ERC20InsufficientAllowance",
    );
    expect_revert(net.s.challenge(broke, id).await, "ERC20InsufficientBalance");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap(), view);
    assert_eq!(net.s.dispute(id).await.unwrap().challenger, Address::ZERO);

    net.s.challenge(ch, id).await.unwrap();
    let dispute = net.s.dispute(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.challenge(ch, id).await, "WrongStatus");
    expect_revert(net.s.challenge(net.keeper, id).await, "WrongStatus");
    f.check(&net).await;
    assert_eq!(net.s.dispute(id).await.unwrap(), dispute);

    // At the last second of its window a result can be challenged; one second after, not.
    let ends = net.s.task(at).await.unwrap().challenge_ends();
    net.next_block_at(ends).await;
    net.s.challenge(ch, at).await.unwrap();
    assert_eq!(net.now().await, ends);
    assert_eq!(net.s.task(at).await.unwrap().status, Status::Challenged);
    let ends = net.s.task(after).await.unwrap().challenge_ends();
    net.next_block_at(ends + 1).await;
    let view = net.s.task(after).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.challenge(ch, after).await, "ChallengeWindowClosed");
    expect_revert(
        net.s.challenge(net.op(3), after).await,
        "ChallengeWindowClosed",
    );
    f.check(&net).await;
    assert_eq!(net.s.task(after).await.unwrap(), view);
    assert_eq!(view.status, Status::Submitted);
}

#[tokio::test]
async fn draw_committee_reverts() {
    let net = Net::new().await;
    let k = net.keeper;
    let id = submitted(&net, net.op(0)).await;
    let unchallenged = submitted(&net, net.op(1)).await;
    let late = submitted(&net, net.op(2)).await;
    net.s.challenge(net.challenger, late).await.unwrap();
    net.s.challenge(net.challenger, id).await.unwrap();

    let f = Frozen::take(&net).await;
    expect_revert(net.s.draw_committee(k, unknown_task()).await, "UnknownTask");
    expect_revert(net.s.draw_committee(k, unchallenged).await, "WrongStatus");
    // The seed is the hash of the block after the challenge, which does not exist yet.
    expect_revert(net.s.draw_committee(k, id).await, "SeedNotReady");
    f.check(&net).await;
    assert!(!net.s.dispute(id).await.unwrap().drawn);

    net.mine().await;
    net.s.draw_committee(k, id).await.unwrap();
    let dispute = net.s.dispute(id).await.unwrap();
    assert!(dispute.drawn && !dispute.committee.is_empty());
    let f = Frozen::take(&net).await;
    expect_revert(net.s.draw_committee(k, id).await, "CommitteeAlreadyDrawn");
    expect_revert(
        net.s.draw_committee(net.challenger, id).await,
        "CommitteeAlreadyDrawn",
    );
    f.check(&net).await;
    assert_eq!(net.s.dispute(id).await.unwrap(), dispute);

    // Nobody drew `late`'s committee before its vote deadline.
    let deadline = net.s.dispute(late).await.unwrap().vote_deadline;
    net.next_block_at(deadline + 1).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.draw_committee(k, late).await, "VotingClosed");
    expect_revert(net.s.draw_committee(k, id).await, "CommitteeAlreadyDrawn");
    f.check(&net).await;
    let d = net.s.dispute(late).await.unwrap();
    assert!(!d.drawn && d.committee.is_empty());
}

#[tokio::test]
async fn vote_reverts() {
    let net = Net::new().await;
    let op = net.op(0);
    let id = submitted(&net, op).await;
    let unchallenged = submitted(&net, net.op(1)).await;
    let undrawn = submitted(&net, net.op(2)).await;
    net.s.challenge(net.challenger, id).await.unwrap();
    net.s.challenge(net.challenger, undrawn).await.unwrap();
    net.s.draw_committee(net.keeper, id).await.unwrap();
    let committee = net.s.dispute(id).await.unwrap().committee;
    assert!(
        committee.len() >= 2,
        "the test needs two members: {committee:?}"
    );
    let outside = (1..7)
        .map(|i| net.op(i))
        .find(|o| !committee.contains(o))
        .expect("an operator outside the committee");
    let out = digest("out");

    let dispute = net.s.dispute(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.vote(committee[0], unknown_task(), out).await,
        "UnknownTask",
    );
    expect_revert(
        net.s.vote(committee[0], unchallenged, out).await,
        "WrongStatus",
    );
    for who in [op, net.challenger, net.client, net.keeper, outside] {
        expect_revert(net.s.vote(who, id, out).await, "NotCommitteeMember");
    }
    // Before the draw nobody is a member.
    expect_revert(
        net.s.vote(committee[0], undrawn, out).await,
        "NotCommitteeMember",
    );
    f.check(&net).await;
    assert_eq!(net.s.dispute(id).await.unwrap(), dispute);

    net.s.vote(committee[0], id, out).await.unwrap();
    let dispute = net.s.dispute(id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.vote(committee[0], id, out).await, "AlreadyVoted");
    expect_revert(
        net.s
            .vote(committee[0], id, digest("changed my mind"))
            .await,
        "AlreadyVoted",
    );
    f.check(&net).await;
    assert_eq!(net.s.dispute(id).await.unwrap(), dispute);
    assert_eq!((dispute.agree, dispute.disagree), (1, 0));

    // A vote at the deadline second counts; one second later it does not.
    net.next_block_at(dispute.vote_deadline).await;
    net.s.vote(committee[1], id, out).await.unwrap();
    assert_eq!(net.now().await, dispute.vote_deadline);
    net.next_block_at(dispute.vote_deadline + 1).await;
    let dispute = net.s.dispute(id).await.unwrap();
    let f = Frozen::take(&net).await;
    for who in committee.iter().skip(2).chain([&committee[0], &outside]) {
        expect_revert(net.s.vote(*who, id, out).await, "VotingClosed");
    }
    f.check(&net).await;
    assert_eq!(net.s.dispute(id).await.unwrap(), dispute);
    assert_eq!(dispute.agree, 2);
}

#[tokio::test]
async fn resolve_dispute_reverts() {
    let net = Net::new().await;
    let k = net.keeper;
    let id = submitted(&net, net.op(0)).await;
    let unchallenged = submitted(&net, net.op(1)).await;
    let undrawn = submitted(&net, net.op(2)).await;
    net.s.challenge(net.challenger, undrawn).await.unwrap();
    net.s.challenge(net.challenger, id).await.unwrap();
    net.mine().await;

    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.resolve_dispute(k, unknown_task()).await,
        "UnknownTask",
    );
    expect_revert(net.s.resolve_dispute(k, unchallenged).await, "WrongStatus");
    // Not drawn, and the vote deadline is ahead.
    expect_revert(net.s.resolve_dispute(k, id).await, "TooEarly");
    expect_revert(net.s.resolve_dispute(k, undrawn).await, "TooEarly");
    f.check(&net).await;

    net.s.draw_committee(k, id).await.unwrap();
    let committee = net.s.dispute(id).await.unwrap().committee;
    assert!(
        committee.len() >= 2,
        "the test needs two members: {committee:?}"
    );
    net.s.vote(committee[0], id, digest("out")).await.unwrap();
    let deadline = net.s.dispute(id).await.unwrap().vote_deadline;
    // Drawn, not everyone voted, at the very last second of the vote.
    net.next_block_at(deadline).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.resolve_dispute(k, id).await, "TooEarly");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Challenged);
    assert_eq!(
        net.s.task(undrawn).await.unwrap().status,
        Status::Challenged
    );

    net.next_block_at(deadline + 1).await;
    net.s.resolve_dispute(k, id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.resolve_dispute(k, id).await, "WrongStatus");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);
}
