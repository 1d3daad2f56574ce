//! Every lifecycle path of every mode, asserting the exact balance change of every actor.

use alloy::primitives::{B256, Bytes, U256};
use verity_contracts::MockResultVerifier;
use verity_settlement::{CasePhase, Mode, Seat, Status, Verdict};

use crate::harness::*;

#[tokio::test]
async fn optimistic_unchallenged_pays_operator_minus_fees() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;

    let l0 = net.ledger().await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(&l1, &[(net.client, wallet(-t(100)))]);
    assert_eq!(l1.escrowed, l0.escrowed + tokens(100));

    net.s.assign(net.coordinator, id, &[op]).await.unwrap();
    let l2 = net.ledger().await;
    l1.assert_deltas(&l2, &[(op, locked(t(50)))]);

    net.s.submit_result(op, id, digest("out")).await.unwrap();
    let task = net.s.task(id).await.unwrap();
    assert_eq!(task.status, Status::Submitted);
    assert_eq!(task.result, digest("out"));

    net.advance(req.challenge_window as u64 + 1).await;
    net.s.finalize(net.keeper, id).await.unwrap();
    let l3 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    l2.assert_deltas(
        &l3,
        &[
            (op, locked(-t(50))),
            (op, market(rest)),
            (net.treasury, market(p)),
            (net.coordinator, market(s)),
        ],
    );
    let task = net.s.task(id).await.unwrap();
    assert_eq!(task.status, Status::Finalized);
    assert_eq!(net.s.operator(op).await.unwrap().tasks_completed, 1);

    // Pull-based withdrawal moves exactly the credited amount.
    assert_eq!(
        net.s.withdraw(op).await.unwrap(),
        U256::try_from(rest).unwrap()
    );
    let l4 = net.ledger().await;
    l3.assert_deltas(&l4, &[(op, market(-rest)), (op, wallet(rest))]);
}

#[tokio::test]
async fn replicated_unanimous_splits_reward_and_gives_dust_to_treasury() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    // 100 tokens + 1 wei: the reward does not divide by 3; the dust goes to the treasury.
    let mut req = net.request(Mode::Replicated, 100).await;
    req.bounty += U256::from(1);
    let bounty = t(100) + 1;
    let l0 = net.ledger().await;
    let id = net.open_and_assign(&req, &ops).await;
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
    for (i, op) in ops.iter().enumerate() {
        net.s
            .reveal(*op, id, digest("out"), salt(i as u8))
            .await
            .unwrap();
    }
    net.s.finalize(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    let (p, s, rest) = split(bounty);
    let each = rest / 3;
    let dust = rest - each * 3;
    assert!(dust > 0, "the test needs a remainder");
    l0.assert_deltas(
        &l1,
        &[
            (net.client, wallet(-bounty)),
            (ops[0], market(each)),
            (ops[1], market(each)),
            (ops[2], market(each)),
            (net.treasury, market(p + dust)),
            (net.coordinator, market(s)),
        ],
    );
    let task = net.s.task(id).await.unwrap();
    assert_eq!(
        (task.status, task.result, task.reveals),
        (Status::Finalized, digest("out"), 3)
    );
}

#[tokio::test]
async fn replicated_dissenter_and_silent_operator_are_slashed() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2), net.op(3), net.op(4)];
    let mut req = net.request(Mode::Replicated, 90).await;
    req.replication = 5;
    req.quorum = 3;
    let l0 = net.ledger().await;
    let id = net.open_and_assign(&req, &ops).await;
    let digests = [
        digest("out"),
        digest("out"),
        digest("out"),
        digest("wrong"),
        digest("out"),
    ];
    // op4 commits and never reveals.
    for (i, op) in ops.iter().enumerate() {
        net.s
            .commit(*op, id, net.commitment(id, *op, digests[i], salt(i as u8)))
            .await
            .unwrap();
    }
    for (i, op) in ops.iter().enumerate().take(4) {
        net.s
            .reveal(*op, id, digests[i], salt(i as u8))
            .await
            .unwrap();
    }
    // Not every seat revealed: finalize must wait for the reveal deadline.
    expect_revert(net.s.finalize(net.keeper, id).await, "TooEarly");
    net.advance(req.reveal_deadline - net.now().await + 1).await;
    net.s.finalize(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    let (p, s, rest) = split(t(90));
    let each = rest / 3;
    l0.assert_deltas(
        &l1,
        &[
            (net.client, wallet(-t(90))),
            (net.client, market(rest - each * 3)),
            (ops[0], market(each)),
            (ops[1], market(each)),
            (ops[2], market(each)),
            // Locked after the snapshot, then slashed: only the stake changed.
            (ops[3], stake(-t(50))),
            (ops[4], stake(-t(50))),
            (net.treasury, market(p + t(100))),
            (net.coordinator, market(s)),
        ],
    );
    let dissenter = net.s.operator(ops[3]).await.unwrap();
    assert_eq!((dissenter.times_slashed, dissenter.tasks_failed), (1, 1));
    assert!(dissenter.jailed_until > net.now().await);
    assert!(!net.s.is_eligible(ops[3]).await.unwrap());
}

#[tokio::test]
async fn replicated_without_majority_refunds_client_and_slashes_nobody_who_revealed() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let req = net.request(Mode::Replicated, 100).await;
    let l0 = net.ledger().await;
    let id = net.open_and_assign(&req, &ops).await;
    for (i, op) in ops.iter().enumerate() {
        let d = digest(&format!("out-{i}"));
        net.s
            .commit(*op, id, net.commitment(id, *op, d, salt(1)))
            .await
            .unwrap();
    }
    for (i, op) in ops.iter().enumerate() {
        net.s
            .reveal(*op, id, digest(&format!("out-{i}")), salt(1))
            .await
            .unwrap();
    }
    net.s.finalize(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[(net.client, wallet(-t(100))), (net.client, market(t(100)))],
    );
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Refunded);
    for op in ops {
        let o = net.s.operator(op).await.unwrap();
        assert_eq!(
            (o.times_slashed, o.tasks_failed, o.locked),
            (0, 1, U256::ZERO)
        );
    }
}

#[tokio::test]
async fn copied_commitment_earns_nothing_and_is_slashed() {
    let net = Net::new().await;
    let (honest1, honest2, copier) = (net.op(0), net.op(1), net.op(2));
    let req = net.request(Mode::Replicated, 100).await;
    let id = net.open_and_assign(&req, &[honest1, honest2, copier]).await;
    let c1 = net.commitment(id, honest1, digest("out"), salt(7));
    net.s.commit(honest1, id, c1).await.unwrap();
    net.s
        .commit(
            honest2,
            id,
            net.commitment(id, honest2, digest("out"), salt(8)),
        )
        .await
        .unwrap();
    // The copier posts honest1's commitment verbatim ...
    net.s.commit(copier, id, c1).await.unwrap();
    net.s
        .reveal(honest1, id, digest("out"), salt(7))
        .await
        .unwrap();
    // ... and cannot open it even with honest1's digest and salt, since the operator is hashed in.
    expect_revert(
        net.s.reveal(copier, id, digest("out"), salt(7)).await,
        "CommitmentMismatch",
    );
    net.s
        .reveal(honest2, id, digest("out"), salt(8))
        .await
        .unwrap();
    let l0 = net.ledger().await;
    net.advance(req.reveal_deadline - net.now().await + 1).await;
    net.s.finalize(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    let each = rest / 2;
    l0.assert_deltas(
        &l1,
        &[
            (honest1, locked(-t(50))),
            (honest1, market(each)),
            (honest2, locked(-t(50))),
            (honest2, market(each)),
            (copier, slashed(t(50))),
            (net.client, market(rest - 2 * each)),
            (net.treasury, market(p + t(50))),
            (net.coordinator, market(s)),
        ],
    );
}

#[tokio::test]
async fn reveal_in_the_commit_block_fails() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let req = net.request(Mode::Replicated, 100).await;
    let id = net.open_and_assign(&req, &ops).await;
    // The other seats commit first, so the reveal phase opens with the last commit.
    for (i, o) in ops[1..].iter().enumerate() {
        let c = net.commitment(id, *o, digest("out"), salt(10 + i as u8));
        net.s.commit(*o, id, c).await.unwrap();
    }
    let c = net.commitment(id, ops[0], digest("out"), salt(1));
    // Commit and reveal land in the same block: the reveal must fail on chain.
    net.set_automine(false).await;
    let commit = {
        let s = net.s.clone();
        tokio::spawn(async move { s.commit(ops[0], id, c).await })
    };
    // Wait until the commit is in the pool, then queue the reveal with a fixed gas limit (its
    // estimate would fail against the pre-commit state) and mine both together.
    net.wait_queued(ops[0]).await;
    let reveal = {
        let market =
            verity_contracts::TaskMarket::new(net.s.deployment().market, net.s.provider().clone());
        // The commit is not mined yet: its block will be the next one, and so is the reveal's.
        let rec = net.s.task_record(id).await.unwrap();
        let commit_block = net.s.block_number().await.unwrap() + 1;
        let pending = market
            .reveal(
                id,
                rec.task,
                digest("out"),
                salt(1),
                U256::from(commit_block),
            )
            .from(ops[0])
            .gas(200_000)
            .nonce(
                alloy::providers::Provider::get_transaction_count(net.s.provider(), ops[0])
                    .pending()
                    .await
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        *pending.tx_hash()
    };
    net.mine().await;
    net.set_automine(true).await;
    commit.await.unwrap().unwrap();
    let receipt = alloy::providers::Provider::get_transaction_receipt(net.s.provider(), reveal)
        .await
        .unwrap()
        .unwrap();
    let commit_seat = net.s.seat(id, ops[0]).await.unwrap();
    assert_eq!(
        receipt.block_number,
        Some(commit_seat.commit_block),
        "both in one block"
    );
    assert!(!receipt.status(), "reveal in the commit block must revert");
    assert_eq!(commit_seat.seat, Seat::Committed);
    // One block later it succeeds.
    net.s
        .reveal(ops[0], id, digest("out"), salt(1))
        .await
        .unwrap();
    assert_eq!(net.s.seat(id, ops[0]).await.unwrap().seat, Seat::Revealed);
}

#[tokio::test]
async fn optimistic_challenge_upheld_by_committee_pays_challenger() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("wrong")).await.unwrap();
    let l0 = net.ledger().await;
    net.s.challenge(net.challenger, id).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(&l1, &[(net.challenger, wallet(-t(50)))]);
    assert_eq!(l1.bonded, l0.bonded + tokens(50));
    // The seed block is the one after the challenge; it must exist before the draw.
    expect_revert(net.s.draw_committee(net.keeper, id).await, "SeedNotReady");
    let case = net.draw(id).await;
    assert_eq!(case.committee.len(), 3);
    assert!(!case.committee.contains(&op) && !case.committee.contains(&net.challenger));
    // Each member locked a third of the collateral while it sits.
    let bond = t(50) / 3;
    assert_eq!(case.member_bond, U256::from(bond as u128));
    let ballots: Vec<_> = case.committee.iter().map(|m| (*m, digest("out"))).collect();
    net.vote(id, &ballots).await;
    // The market settles only once the court has a verdict.
    expect_revert(net.s.resolve_dispute(net.keeper, id).await, "WrongPhase");
    net.s.tally(net.keeper, id).await.unwrap();
    assert_eq!(net.case(id).await.verdict, Verdict::Overturned);
    net.s.resolve_dispute(net.keeper, id).await.unwrap();
    let l2 = net.ledger().await;
    // A tenth of the slash pays the committee, split equally; the division dust goes to the
    // treasury's court balance.
    let share = t(5);
    let each = share / 3;
    let mut expected = vec![
        (op, slashed(t(50))),
        // Bond back plus a fifth of the slashed collateral; the rest to the treasury.
        (net.challenger, market(t(50) + t(10))),
        (net.treasury, market(t(50) - t(10) - share)),
        (net.treasury, court(share - 3 * each)),
        (net.client, market(t(100))),
    ];
    expected.extend(case.committee.iter().map(|m| (*m, court(each))));
    l1.assert_deltas(&l2, &expected);
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Refunded);
    assert_eq!(net.case(id).await.phase, CasePhase::Closed);
}

#[tokio::test]
async fn optimistic_challenge_rejected_by_committee_pays_operator_the_bond() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    let l0 = net.ledger().await;
    net.s.challenge(net.challenger, id).await.unwrap();
    let case = net.draw(id).await;
    let c = &case.committee;
    for (i, m) in c[..2].iter().enumerate() {
        net.s
            .commit_ballot(*m, id, digest("out"), salt(i as u8))
            .await
            .unwrap();
    }
    // The third member stays silent: the reveals wait for the commit deadline.
    expect_revert(
        net.s.reveal_ballot(c[0], id, digest("out"), salt(0)).await,
        "RevealTooEarly",
    );
    net.advance(u64::from(DISPUTE_WINDOW) + 1).await;
    for (i, m) in c[..2].iter().enumerate() {
        net.s
            .reveal_ballot(*m, id, digest("out"), salt(i as u8))
            .await
            .unwrap();
    }
    expect_revert(net.s.tally(net.keeper, id).await, "TooEarly");
    net.advance(u64::from(REVEAL_WINDOW) + 1).await;
    net.s.tally(net.keeper, id).await.unwrap();
    net.s.resolve_dispute(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    let share = t(5);
    // The silent member loses half its bond into the pot; the two voters split the pot.
    let penalty = t(50) / 3 / 2;
    let each = (share + penalty) / 2;
    l0.assert_deltas(
        &l1,
        &[
            (net.challenger, wallet(-t(50))),
            (op, market(rest + t(50) - share)),
            (op, locked(-t(50))),
            (net.treasury, market(p)),
            (net.treasury, court(share + penalty - 2 * each)),
            (net.coordinator, market(s)),
            (c[0], court(each)),
            (c[1], court(each)),
            (c[2], stake(-penalty)),
        ],
    );
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);
}

#[tokio::test]
async fn a_split_committee_escalates_and_the_arbiter_decides() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("wrong")).await.unwrap();
    net.s.challenge(net.challenger, id).await.unwrap();
    let case = net.draw(id).await;
    let c = case.committee.clone();
    // One for the operator, one against, one silent: no strict majority of the committee.
    net.vote_late(id, &[(c[0], digest("wrong")), (c[1], digest("out"))])
        .await;
    let l0 = net.ledger().await;
    net.advance(u64::from(REVEAL_WINDOW) + 1).await;
    net.s.tally(net.keeper, id).await.unwrap();
    let escalated = net.case(id).await;
    assert_eq!(escalated.phase, CasePhase::Escalated);
    // Only the arbiter decides, and nobody settles before it does or its window passes.
    expect_revert(net.s.arbitrate(net.keeper, id, true).await, "NotArbiter");
    expect_revert(net.s.resolve_dispute(net.keeper, id).await, "TooEarly");
    net.s.arbitrate(net.arbiter, id, true).await.unwrap();
    let decided = net.case(id).await;
    assert_eq!(
        (decided.verdict, decided.by_arbiter),
        (Verdict::Overturned, true)
    );
    net.s.resolve_dispute(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    let share = t(5);
    let bond = t(50) / 3;
    let penalty = bond / 2;
    // Every member's bond is released (the ledger was read while they sat); the member that
    // voted with the verdict takes the pot: the committee's share and the
    // penalties of the member that voted against it and the one that stayed silent.
    l0.assert_deltas(
        &l1,
        &[
            (op, slashed(t(50))),
            (net.challenger, market(t(60))),
            (net.treasury, market(t(50) - t(10) - share)),
            (net.client, market(t(100))),
            (c[1], court(share + 2 * penalty) + locked(-bond)),
            (c[0], stake(-penalty) + locked(-bond)),
            (c[2], stake(-penalty) + locked(-bond)),
        ],
    );
}

#[tokio::test]
async fn an_arbiter_that_stays_silent_slashes_nobody() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    let l0 = net.ledger().await;
    net.s.challenge(net.challenger, id).await.unwrap();
    let case = net.draw(id).await;
    let c = case.committee.clone();
    // Nobody votes: the case escalates, the arbiter's window passes, the verdict is Neutral.
    net.advance(u64::from(DISPUTE_WINDOW + REVEAL_WINDOW) + 2)
        .await;
    net.s.tally(net.keeper, id).await.unwrap();
    net.advance(u64::from(ARBITER_WINDOW) + 1).await;
    expect_revert(
        net.s.arbitrate(net.arbiter, id, true).await,
        "ArbiterWindowClosed",
    );
    net.s.resolve_dispute(net.keeper, id).await.unwrap();
    assert_eq!(net.case(id).await.verdict, Verdict::Neutral);
    let l1 = net.ledger().await;
    let penalty = t(50) / 3 / 2;
    // Bond back, client refunded, operator released; the idle members' penalties go to the
    // treasury.
    l0.assert_deltas(
        &l1,
        &[
            (op, locked(-t(50))),
            (net.challenger, wallet(-t(50)) + market(t(50))),
            (net.client, market(t(100))),
            (net.treasury, court(3 * penalty)),
            (c[0], stake(-penalty)),
            (c[1], stake(-penalty)),
            (c[2], stake(-penalty)),
        ],
    );
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Refunded);
}

#[tokio::test]
async fn timeouts_refund_the_client_and_slash_the_silent_operator() {
    let net = Net::new().await;
    let op = net.op(0);
    // Never assigned: anyone refunds the client after the assignment deadline.
    let req = net.request(Mode::Optimistic, 100).await;
    let l0 = net.ledger().await;
    let (unassigned, _) = net.s.create_task(net.client, &req).await.unwrap();
    expect_revert(
        net.s.claim_timeout(net.keeper, unassigned).await,
        "TooEarly",
    );
    // Assigned but never submitted.
    let silent = net.open_and_assign(&req, &[op]).await;
    net.advance(req.commit_deadline - net.now().await + 1).await;
    net.s.claim_timeout(net.keeper, unassigned).await.unwrap();
    net.s.claim_timeout(net.keeper, silent).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[
            (net.client, wallet(-t(200))),
            (net.client, market(t(200))),
            (op, stake(-t(50))),
            (net.treasury, market(t(50))),
        ],
    );
    for id in [unassigned, silent] {
        assert_eq!(net.s.task(id).await.unwrap().status, Status::Refunded);
        expect_revert(net.s.claim_timeout(net.keeper, id).await, "WrongStatus");
    }
}

#[tokio::test]
async fn client_cancels_open_task_and_declined_seat_refunds() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let l0 = net.ledger().await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    expect_revert(net.s.cancel(net.client2, id).await, "NotClient");
    net.s.cancel(net.client, id).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[(net.client, wallet(-t(100))), (net.client, market(t(100)))],
    );
    // The refund now sits in the client's market balance, so the next task is paid from it.
    let declined = net.open_and_assign(&req, &[op]).await;
    let l2 = net.ledger().await;
    l1.assert_deltas(&l2, &[(net.client, market(-t(100))), (op, locked(t(50)))]);
    net.s.decline(op, declined).await.unwrap();
    let l3 = net.ledger().await;
    // Declining forfeits 2 % of the collateral to the treasury.
    l2.assert_deltas(
        &l3,
        &[
            (net.client, market(t(100))),
            (op, locked(-t(50))),
            (op, stake(-t(1))),
            (net.treasury, market(t(1))),
        ],
    );
    let o = net.s.operator(op).await.unwrap();
    assert_eq!((o.tasks_failed, o.times_slashed), (1, 0));
}

#[tokio::test]
async fn zk_proof_pays_on_valid_proof_and_rejects_copied_or_bad_ones() {
    let net = Net::new().await;
    let verifier = net
        .s
        .create_contract(net.owner, MockResultVerifier::BYTECODE.clone())
        .await
        .unwrap();
    let vid = B256::repeat_byte(0x2a);
    net.s.set_verifier(net.owner, vid, verifier).await.unwrap();
    let (op, other) = (net.op(0), net.op(1));
    let mut req = net.request(Mode::ZkProof, 100).await;
    req.verifier_id = vid;
    let l0 = net.ledger().await;
    let id = net.open_and_assign(&req, &[op]).await;
    let d = net.s.deployment();
    let proof_for = |task, who| {
        let binding = verity_settlement::binding(d.chain_id, d.market, task, who);
        let statement = (req.program_digest, req.input_digest, digest("out"), binding);
        Bytes::from(
            alloy::primitives::keccak256(alloy::sol_types::SolValue::abi_encode(&statement))
                .to_vec(),
        )
    };
    // A proof bound to another operator, or to another task, is rejected.
    expect_revert(
        net.s
            .submit_proof(op, id, digest("out"), proof_for(id, other))
            .await,
        "InvalidProof",
    );
    expect_revert(
        net.s
            .submit_proof(op, id, digest("out"), proof_for(id + U256::from(1), op))
            .await,
        "InvalidProof",
    );
    expect_revert(
        net.s
            .submit_proof(other, id, digest("out"), proof_for(id, other))
            .await,
        "NotAssigned",
    );
    net.s
        .submit_proof(op, id, digest("out"), proof_for(id, op))
        .await
        .unwrap();
    let l1 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    l0.assert_deltas(
        &l1,
        &[
            (net.client, wallet(-t(100))),
            (op, market(rest)),
            (net.treasury, market(p)),
            (net.coordinator, market(s)),
        ],
    );
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);
}

#[tokio::test]
async fn stake_unbonds_only_free_stake_and_withdraws_after_delay() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let _id = net.open_and_assign(&req, &[op]).await;
    let l0 = net.ledger().await;
    // 1000 staked, 50 locked: at most 950 can unbond.
    expect_revert(
        net.s.request_unstake(op, tokens(951)).await,
        "InsufficientFreeStake",
    );
    net.s.request_unstake(op, tokens(950)).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[(
            op,
            Delta {
                stake: -t(950),
                unbonding: t(950),
                ..Delta::default()
            },
        )],
    );
    expect_revert(net.s.withdraw_unbonded(op).await, "UnbondingNotReady");
    net.advance(UNBONDING).await;
    net.s.withdraw_unbonded(op).await.unwrap();
    let l2 = net.ledger().await;
    l1.assert_deltas(
        &l2,
        &[(
            op,
            Delta {
                wallet: t(950),
                unbonding: -t(950),
                ..Delta::default()
            },
        )],
    );
    expect_revert(net.s.withdraw_unbonded(op).await, "NothingUnbonding");
    // Below the minimum stake the operator cannot be assigned.
    let req = net.request(Mode::Optimistic, 100).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    expect_revert(
        net.s.assign(net.coordinator, id, &[op]).await,
        "BelowMinimumStake",
    );
}

/// Issue 2 (gas): a paid winner's collateral is released in the market's account word, not by
/// a registry call. The registry must still see it: what is still locked bounds `requestUnstake`
/// before and after the payment, and the counters include the paid task.
#[tokio::test]
async fn collateral_released_by_payment_frees_stake_and_counts_the_task() {
    let net = Net::new().await;
    let op = net.op(0);
    let m = verity_contracts::TaskMarket::new(net.s.deployment().market, net.s.provider().clone());
    let req = net.request(Mode::Optimistic, 100).await;
    let paid = net.open_and_assign(&req, &[op]).await;
    let live = net.open_and_assign(&req, &[op]).await;
    let o = net.s.operator(op).await.unwrap();
    assert_eq!(
        (o.stake, o.locked, o.tasks_completed),
        (tokens(1000), tokens(100), 0)
    );

    net.s.submit_result(op, paid, digest("out")).await.unwrap();
    net.advance(req.challenge_window as u64 + 1).await;
    net.s.finalize(net.keeper, paid).await.unwrap();
    let o = net.s.operator(op).await.unwrap();
    assert_eq!(
        (o.stake, o.locked, o.tasks_completed),
        (tokens(1000), tokens(50), 1)
    );
    let c = m.collateralOf(op).call().await.unwrap();
    assert_eq!((c.released, c.paid), (tokens(50), U256::from(1u64)));

    // The live task's 50 stay locked: 950 is free, not 951.
    expect_revert(
        net.s.request_unstake(op, tokens(951)).await,
        "InsufficientFreeStake",
    );
    net.s.request_unstake(op, tokens(950)).await.unwrap();
    // The remaining stake is exactly the live task's collateral, and a slash can still take it.
    net.advance(req.commit_deadline - net.now().await + 1).await;
    let l0 = net.ledger().await;
    net.s.claim_timeout(net.keeper, live).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[
            (op, slashed(t(50))),
            (net.client, market(t(100))),
            (net.treasury, market(t(50))),
        ],
    );
    let o = net.s.operator(op).await.unwrap();
    assert_eq!(
        (o.stake, o.locked, o.tasks_completed, o.tasks_failed),
        (U256::ZERO, U256::ZERO, 1, 1)
    );
}
