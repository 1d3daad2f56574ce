//! `challenge` and `resolveDispute` (market), and the `DisputeCourt`'s `draw`, `commit`,
//! `reveal`, `tally` and `arbitrate`.

use alloy::primitives::Address;
use verity_settlement::{Ballot, CasePhase, Mode, Status, TaskId};

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
    assert_eq!(net.s.challenger_of(id).await.unwrap(), Address::ZERO);
    assert_eq!(net.case(id).await.phase, CasePhase::None);

    net.s.challenge(ch, id).await.unwrap();
    let case = net.case(id).await;
    assert_eq!(case.phase, CasePhase::Drawing);
    assert_eq!((case.challenger, case.operator), (ch, op));
    let f = Frozen::take(&net).await;
    expect_revert(net.s.challenge(ch, id).await, "WrongStatus");
    expect_revert(net.s.challenge(net.keeper, id).await, "WrongStatus");
    f.check(&net).await;
    assert_eq!(net.case(id).await, case);

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
async fn draw_reverts() {
    let net = Net::new().await;
    let k = net.keeper;
    let id = submitted(&net, net.op(0)).await;
    let unchallenged = submitted(&net, net.op(1)).await;
    let late = submitted(&net, net.op(2)).await;
    net.s.challenge(net.challenger, late).await.unwrap();
    net.s.challenge(net.challenger, id).await.unwrap();

    let f = Frozen::take(&net).await;
    expect_revert(net.s.draw_committee(k, unknown_task()).await, "UnknownCase");
    expect_revert(net.s.draw_committee(k, unchallenged).await, "UnknownCase");
    // The seed is the hash of the block after the challenge, which does not exist yet.
    expect_revert(net.s.draw_committee(k, id).await, "SeedNotReady");
    f.check(&net).await;
    assert_eq!(net.case(id).await.phase, CasePhase::Drawing);

    let case = net.draw(id).await;
    assert_eq!(case.phase, CasePhase::Voting);
    assert_eq!(case.committee.len(), 3);
    let f = Frozen::take(&net).await;
    expect_revert(net.s.draw_committee(k, id).await, "WrongPhase");
    expect_revert(net.s.draw_committee(net.challenger, id).await, "WrongPhase");
    f.check(&net).await;
    assert_eq!(net.case(id).await, case);

    // Nobody drew `late`'s committee before its draw deadline.
    let deadline = net.case(late).await.draw_deadline;
    net.next_block_at(deadline + 1).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.draw_committee(k, late).await, "DrawClosed");
    f.check(&net).await;
    let c = net.case(late).await;
    assert!(c.phase == CasePhase::Drawing && c.committee.is_empty());
}

#[tokio::test]
async fn ballot_reverts() {
    let net = Net::new().await;
    let op = net.op(0);
    let id = submitted(&net, op).await;
    let unchallenged = submitted(&net, net.op(1)).await;
    let undrawn = submitted(&net, net.op(2)).await;
    net.s.challenge(net.challenger, id).await.unwrap();
    net.s.challenge(net.challenger, undrawn).await.unwrap();
    let case = net.draw(id).await;
    let c = case.committee.clone();
    let outside = (1..7)
        .map(|i| net.op(i))
        .find(|o| !c.contains(o))
        .expect("an operator outside the committee");
    let out = digest("out");
    let s0 = salt(0);

    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.commit_ballot(c[0], unknown_task(), out, s0).await,
        "UnknownCase",
    );
    expect_revert(
        net.s.commit_ballot(c[0], unchallenged, out, s0).await,
        "UnknownCase",
    );
    for who in [op, net.challenger, net.client, net.keeper, outside] {
        expect_revert(
            net.s.commit_ballot(who, id, out, s0).await,
            "NotCommitteeMember",
        );
    }
    // Before the draw the case is not voting.
    expect_revert(
        net.s.commit_ballot(c[0], undrawn, out, s0).await,
        "WrongPhase",
    );
    // Nothing to reveal before a commitment.
    expect_revert(
        net.s.reveal_ballot(c[0], id, out, s0).await,
        "RevealTooEarly",
    );
    f.check(&net).await;
    assert_eq!(net.case(id).await, case);

    net.s.commit_ballot(c[0], id, out, s0).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.commit_ballot(c[0], id, out, s0).await,
        "AlreadyCommitted",
    );
    // A member cannot reveal (or copy a reveal) while others may still commit.
    expect_revert(
        net.s.reveal_ballot(c[0], id, out, s0).await,
        "RevealTooEarly",
    );
    f.check(&net).await;
    assert_eq!(net.s.ballot(id, c[0]).await.unwrap(), Ballot::Committed);

    // A commitment at the deadline second counts; one second later it does not.
    let commit_deadline = case.commit_deadline;
    net.next_block_at(commit_deadline).await;
    net.s.commit_ballot(c[1], id, out, salt(1)).await.unwrap();
    net.next_block_at(commit_deadline + 1).await;
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.commit_ballot(c[2], id, out, salt(2)).await,
        "CommitDeadlinePassed",
    );
    // The reveal must open the commitment exactly, and only a committed member reveals.
    expect_revert(
        net.s.reveal_ballot(c[0], id, digest("other"), s0).await,
        "CommitmentMismatch",
    );
    expect_revert(
        net.s.reveal_ballot(c[0], id, out, salt(9)).await,
        "CommitmentMismatch",
    );
    expect_revert(
        net.s.reveal_ballot(c[2], id, out, salt(2)).await,
        "NotCommitted",
    );
    f.check(&net).await;

    net.s.reveal_ballot(c[0], id, out, s0).await.unwrap();
    assert_eq!(net.s.ballot(id, c[0]).await.unwrap(), Ballot::Agreed);
    let f = Frozen::take(&net).await;
    expect_revert(net.s.reveal_ballot(c[0], id, out, s0).await, "NotCommitted");
    f.check(&net).await;
    // A reveal at the deadline second counts; one second later it does not.
    let reveal_deadline = net.case(id).await.reveal_deadline;
    net.next_block_at(reveal_deadline + 1).await;
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.reveal_ballot(c[1], id, out, salt(1)).await,
        "RevealDeadlinePassed",
    );
    f.check(&net).await;
    let votes = net.case(id).await;
    assert_eq!((votes.committed, votes.revealed, votes.agree), (2, 1, 1));
}

#[tokio::test]
async fn tally_and_arbitrate_revert() {
    let net = Net::new().await;
    let k = net.keeper;
    let id = submitted(&net, net.op(0)).await;
    let unchallenged = submitted(&net, net.op(1)).await;
    net.s.challenge(net.challenger, id).await.unwrap();

    let f = Frozen::take(&net).await;
    expect_revert(net.s.tally(k, unknown_task()).await, "UnknownCase");
    expect_revert(net.s.tally(k, unchallenged).await, "UnknownCase");
    // Drawing, before the draw deadline.
    expect_revert(net.s.tally(k, id).await, "TooEarly");
    expect_revert(net.s.arbitrate(net.arbiter, id, true).await, "WrongPhase");
    f.check(&net).await;

    let case = net.draw(id).await;
    let c = case.committee.clone();
    net.vote_late(id, &[(c[0], digest("out"))]).await;
    // Voting, one reveal of three, at the last second of the reveal phase.
    net.next_block_at(case.reveal_deadline).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.tally(k, id).await, "TooEarly");
    f.check(&net).await;
    net.next_block_at(case.reveal_deadline + 1).await;
    net.s.tally(k, id).await.unwrap();
    let escalated = net.case(id).await;
    assert_eq!(escalated.phase, CasePhase::Escalated);

    let f = Frozen::take(&net).await;
    expect_revert(net.s.tally(k, id).await, "WrongPhase");
    for who in [k, net.owner, net.challenger, c[0]] {
        expect_revert(net.s.arbitrate(who, id, false).await, "NotArbiter");
    }
    f.check(&net).await;
    // The arbiter may decide at the last second of its window, not after.
    net.next_block_at(escalated.arbiter_deadline + 1).await;
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.arbitrate(net.arbiter, id, false).await,
        "ArbiterWindowClosed",
    );
    f.check(&net).await;
    assert_eq!(net.case(id).await, escalated);
}

#[tokio::test]
async fn resolve_dispute_reverts() {
    let net = Net::new().await;
    let k = net.keeper;
    let id = submitted(&net, net.op(0)).await;
    let unchallenged = submitted(&net, net.op(1)).await;
    net.s.challenge(net.challenger, id).await.unwrap();
    net.mine().await;

    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.resolve_dispute(k, unknown_task()).await,
        "UnknownTask",
    );
    expect_revert(net.s.resolve_dispute(k, unchallenged).await, "WrongStatus");
    // The court has no verdict yet.
    expect_revert(net.s.resolve_dispute(k, id).await, "WrongPhase");
    f.check(&net).await;

    let case = net.draw(id).await;
    let ballots: Vec<_> = case.committee.iter().map(|m| (*m, digest("out"))).collect();
    net.vote(id, &ballots).await;
    let f = Frozen::take(&net).await;
    // Every ballot is in, but nobody tallied.
    expect_revert(net.s.resolve_dispute(k, id).await, "WrongPhase");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Challenged);

    net.s.tally(k, id).await.unwrap();
    net.s.resolve_dispute(k, id).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.resolve_dispute(k, id).await, "WrongStatus");
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);
}
