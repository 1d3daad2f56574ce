//! Issue 15 (trust model v2): each test plays one rational attack against the real contracts
//! and asserts that it no longer pays, with the exact balance change of every actor. Each test
//! names the attack it pins and what it won before the fix.

use alloy::primitives::Address;
use verity_settlement::{Mode, Status, skipped_assignments};

use crate::harness::*;

/// Attack 2, self-challenge: the cheater posts a wrong result and challenges it itself from a
/// second address before an honest watchtower does. Before, the challenger was paid the whole
/// slashed collateral plus its bond back, so the pair lost nothing; now the challenger's reward
/// is a fifth of the collateral and the pair loses the other four fifths (a tenth pays the
/// committee, the rest goes to the treasury).
#[tokio::test]
async fn self_challenge_loses_four_fifths_of_the_collateral() {
    let net = Net::new().await;
    let (cheater, second) = (net.op(0), net.challenger);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[cheater]).await;
    net.s
        .submit_result(cheater, id, digest("skipped the work"))
        .await
        .unwrap();
    let l0 = net.ledger().await;
    net.s.challenge(second, id).await.unwrap();
    let committee = net.draw(id).await.committee;
    let ballots: Vec<_> = committee.iter().map(|m| (*m, digest("out"))).collect();
    net.vote(id, &ballots).await;
    net.s.tally(net.keeper, id).await.unwrap();
    net.s.resolve_dispute(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    let each = t(5) / 3;
    let mut expected = vec![
        (cheater, slashed(t(50))),
        (second, wallet(-t(50))),
        (second, market(t(50) + t(10))),
        (net.treasury, market(t(35))),
        (net.treasury, court(t(5) - 3 * each)),
        (net.client, market(t(100))),
    ];
    expected.extend(committee.iter().map(|m| (*m, court(each))));
    l0.assert_deltas(&l1, &expected);
    let pair = |l: &Ledger| {
        let (a, b) = (l.rows[&cheater], l.rows[&second]);
        a.wallet + a.market + a.stake + b.wallet + b.market + b.stake
    };
    assert_eq!(pair(&l0) - pair(&l1), tokens(40), "the pair lost 40 of 50");
}

/// Attack 3, committee capture: once the seed block is public, the challenger registers and
/// stakes fresh identities and draws. Before, the draw read the registration count at draw time
/// and walked every registration, so fresh identities were drawn; now the draw only sees the
/// eligible set as it was at the challenge.
#[tokio::test]
async fn identities_staked_after_the_challenge_are_never_drawn() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    let fresh = net.fresh_identities().await;
    net.s.challenge(net.challenger, id).await.unwrap();
    let pool = net.case(id).await.pool_size;
    assert_eq!(pool, 7, "the seven staked operators at the challenge");
    for (i, who) in fresh.iter().enumerate() {
        net.s.register(*who, &profile(20 + i)).await.unwrap();
        net.s.stake(*who, tokens(STAKE)).await.unwrap();
    }
    assert_eq!(net.s.eligible_set().await.unwrap().len(), 7 + fresh.len());
    let committee = net.draw(id).await.committee;
    assert_eq!(committee.len(), 3);
    for m in &committee {
        assert!(!fresh.contains(m), "{m} joined after the challenge");
        assert!(net.operators.contains(m) && *m != op);
    }
}

/// Attack 4a, junk registrations: registrations without stake used to sit in the list the draw
/// walked, so enough of them left the committee empty. The eligible set holds staked operators
/// only.
#[tokio::test]
async fn unstaked_registrations_do_not_enter_the_draw() {
    let net = Net::new().await;
    let fresh = net.fresh_identities().await;
    let before = net.s.eligible_set().await.unwrap();
    for (i, who) in fresh.iter().enumerate() {
        net.s.register(*who, &profile(20 + i)).await.unwrap();
    }
    assert_eq!(net.s.eligible_set().await.unwrap(), before);
    // One that stakes below the minimum stays out; at the minimum it joins.
    net.s.stake(fresh[0], tokens(MIN_STAKE - 1)).await.unwrap();
    assert_eq!(net.s.eligible_set().await.unwrap(), before);
    net.s.stake(fresh[0], tokens(1)).await.unwrap();
    let after = net.s.eligible_set().await.unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after.last().unwrap().0, fresh[0]);
    // Leaving takes it out again (swap-and-pop keeps the set dense).
    net.s.request_unstake(fresh[0], tokens(1)).await.unwrap();
    assert_eq!(net.s.eligible_set().await.unwrap(), before);
}

/// Attack 4b, starved committee: with nobody left to draw, "no committee" used to let the
/// challenged result stand and be paid. Now the draw runs its rounds and, still empty, the case
/// goes to the arbiter; if the arbiter does not decide, the dispute slashes nobody, returns the
/// bond and refunds the client.
#[tokio::test]
async fn a_dispute_without_a_committee_slashes_nobody_and_pays_nobody() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    // Every other operator leaves the eligible set before the challenge.
    for other in &net.operators[1..] {
        net.s.request_unstake(*other, tokens(STAKE)).await.unwrap();
    }
    let l0 = net.ledger().await;
    net.s.challenge(net.challenger, id).await.unwrap();
    let case = net.draw(id).await;
    assert!(case.committee.is_empty());
    assert_eq!(case.rounds, 4, "every round was tried");
    net.s.tally(net.keeper, id).await.unwrap();
    assert_eq!(
        net.case(id).await.phase,
        verity_settlement::CasePhase::Escalated
    );
    net.advance(u64::from(ARBITER_WINDOW) + 1).await;
    net.s.resolve_dispute(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[
            (op, locked(-t(50))),
            (net.challenger, wallet(-t(50))),
            (net.challenger, market(t(50))),
            (net.client, market(t(100))),
        ],
    );
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Refunded);
    let o = net.s.operator(op).await.unwrap();
    assert_eq!(o.times_slashed, 0);
}

/// Attack 3b, timing the seed: past the 256-block horizon the draw used to fall back to the
/// previous block's hash, which the caller times (draw, revert unless captured, retry). Now the
/// draw re-arms on a block mined after the call and draws nothing in that call.
#[tokio::test]
async fn an_expired_seed_is_re_armed_not_replaced_by_a_timed_hash() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    net.s.challenge(net.challenger, id).await.unwrap();
    net.mine_blocks(300).await;
    let receipt = net.s.draw_committee(net.keeper, id).await.unwrap();
    let c = net.case(id).await;
    assert_eq!(c.phase, verity_settlement::CasePhase::Drawing);
    assert!(c.committee.is_empty() && c.rounds == 0);
    assert_eq!(c.seed_block, receipt.block_number.unwrap() + 1);
    expect_revert(net.s.draw_committee(net.keeper, id).await, "SeedNotReady");
    let committee = net.draw(id).await.committee;
    assert_eq!(committee.len(), 3);
}

/// Attack 6, forced slashes: a task whose commit deadline follows its assignment deadline by
/// less than the minimum response window cannot be created, and a seat cannot be handed over
/// with less than that window left; a replicated task must leave the minimum reveal window. No
/// balance moves on a refused call.
#[tokio::test]
async fn squeezed_windows_are_refused_and_move_nothing() {
    let net = Net::new().await;
    let window = u64::from(verity_settlement::DeployConfig::devnet(net.owner).min_response_window);
    let l0 = net.ledger().await;
    let mut short = net.request(Mode::Optimistic, 100).await;
    short.commit_deadline = short.assign_deadline + window - 1;
    expect_revert(
        net.s.create_task(net.client, &short).await,
        "WindowTooShort",
    );
    let mut reveal = net.request(Mode::Replicated, 100).await;
    reveal.reveal_deadline = reveal.commit_deadline + 1;
    expect_revert(
        net.s.create_task(net.client, &reveal).await,
        "WindowTooShort",
    );
    l0.assert_deltas(&net.ledger().await, &[]);

    // A reassignment with less than the window left is refused; the seat stays where it was.
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[net.op(0)]).await;
    let l1 = net.ledger().await;
    net.next_block_at(req.commit_deadline - window + 1).await;
    expect_revert(
        net.s.reassign(net.coordinator, id, 0, net.op(1)).await,
        "ResponseWindowTooShort",
    );
    net.mine().await;
    l1.assert_deltas(&net.ledger().await, &[]);
    assert_eq!(net.s.operators_of(id).await.unwrap(), vec![net.op(0)]);
}

/// Attack 8a, the free option: declining a held seat used to cost nothing. It now forfeits
/// `DECLINE_FEE_BPS` (2 %) of the collateral to the treasury; the client, who could otherwise
/// profit from provoking declines, gets its bounty back and nothing more.
#[tokio::test]
async fn declining_a_seat_forfeits_two_percent_to_the_treasury() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Replicated, 100).await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let id = net.open_and_assign(&req, &ops).await;
    let l0 = net.ledger().await;
    net.s.decline(op, id).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[
            (op, stake(-t(1))),
            (op, locked(-t(50))),
            (net.treasury, market(t(1))),
        ],
    );
    let o = net.s.operator(op).await.unwrap();
    assert_eq!((o.tasks_failed, o.times_slashed), (1, 0));
    assert!(net.s.is_eligible(op).await.unwrap(), "a fee is not a jail");
}

/// Attack 8b: one failing entry used to revert a whole `assignBatch`, so one stale or hostile
/// task held every other one up. The failing entry is now skipped, with its reason.
#[tokio::test]
async fn a_failing_batch_entry_is_skipped_and_the_rest_assigned() {
    let net = Net::new().await;
    let req = net.request(Mode::Optimistic, 100).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(net.s.create_task(net.client, &req).await.unwrap().0);
    }
    let l0 = net.ledger().await;
    // The middle entry names a zero address: it cannot be assigned.
    let ops = vec![vec![net.op(0)], vec![Address::ZERO], vec![net.op(1)]];
    let receipt = net
        .s
        .assign_batch(net.coordinator, &ids, &ops)
        .await
        .unwrap();
    let skipped = skipped_assignments(&receipt);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].0, ids[1]);
    assert_eq!(skipped[0].1.name(), "ZeroAddress");
    let l1 = net.ledger().await;
    l0.assert_deltas(
        &l1,
        &[(net.op(0), locked(t(50))), (net.op(1), locked(t(50)))],
    );
    let status = |i: usize| {
        let s = &net.s;
        let id = ids[i];
        async move { s.task(id).await.unwrap().status }
    };
    assert_eq!(status(0).await, Status::Assigned);
    assert_eq!(status(1).await, Status::Open);
    assert_eq!(status(2).await, Status::Assigned);
}

/// The eligible set follows a slash: a jailed operator leaves it at once, and comes back only
/// through `syncEligibility` once its jail ended.
#[tokio::test]
async fn a_slashed_operator_leaves_the_eligible_set_until_synced_after_jail() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.advance(req.commit_deadline - net.now().await + 1).await;
    net.s.claim_timeout(net.keeper, id).await.unwrap();
    let members = |set: Vec<(Address, u64)>| set.into_iter().map(|(a, _)| a).collect::<Vec<_>>();
    assert!(!members(net.s.eligible_set().await.unwrap()).contains(&op));
    net.advance(JAIL + 1).await;
    assert!(net.s.is_eligible(op).await.unwrap());
    assert!(!members(net.s.eligible_set().await.unwrap()).contains(&op));
    net.s.sync_eligibility(net.keeper, op).await.unwrap();
    assert!(members(net.s.eligible_set().await.unwrap()).contains(&op));
}

/// Attack 7a, owner front-running: the owner raised fees or swapped a verifier just before a
/// client's `createTask` landed, and the task locked the new terms in. The client now states the
/// terms it accepts, and a task on changed terms is refused with nothing moved.
#[tokio::test]
async fn a_fee_raise_or_verifier_swap_ahead_of_create_task_is_refused() {
    let net = Net::new().await;
    let req = net.request(Mode::Optimistic, 100).await;
    let terms = net.s.current_terms(&req).await.unwrap();
    assert_eq!(
        (terms.max_protocol_fee_bps, terms.max_scheduler_fee_bps),
        (PROTOCOL_BPS, SCHEDULER_BPS)
    );
    net.s.set_fees(net.owner, 1_000, 1_000).await.unwrap();
    let l0 = net.ledger().await;
    expect_revert(
        net.s
            .create_task_on_terms(net.client, &req, &terms, &[])
            .await,
        "TermsChanged",
    );
    l0.assert_deltas(&net.ledger().await, &[]);

    // A ZkProof task names the verifier it expects; a swap under it is refused too.
    let vid = crate::reverts::mock_verifier(&net).await;
    let mut zk = net.request(Mode::ZkProof, 100).await;
    zk.verifier_id = vid;
    let zk_terms = net.s.current_terms(&zk).await.unwrap();
    assert!(!zk_terms.verifier.is_zero());
    net.s
        .set_verifier(net.owner, vid, net.keeper)
        .await
        .unwrap();
    expect_revert(
        net.s
            .create_task_on_terms(net.client, &zk, &zk_terms, &[])
            .await,
        "TermsChanged",
    );
    l0.assert_deltas(&net.ledger().await, &[]);
}

/// Attack 7b, owner powers: behind the timelock the owner account can no longer change anything
/// directly; a scheduled change runs only after the delay, in public.
#[tokio::test]
async fn governance_through_the_timelock_waits_for_its_delay() {
    let net = Net::new().await;
    let mut s = net.s.clone();
    let d = verity_settlement::hand_to_timelock(&mut s, net.owner, 3_600)
        .await
        .unwrap();
    assert!(!d.timelock.is_zero());
    assert_eq!(s.governance_delay().await.unwrap(), 3_600);
    expect_revert(
        s.set_fees(net.owner, 1_000, 1_000).await,
        "OwnableUnauthorizedAccount",
    );
    let raise = verity_settlement::GovernanceCall::set_fees(&d, 1_000, 1_000, salt(1));
    expect_revert(
        s.schedule_governance(net.client, &raise).await,
        "AccessControlUnauthorizedAccount",
    );
    s.schedule_governance(net.owner, &raise).await.unwrap();
    expect_revert(
        s.execute_governance(net.owner, &raise).await,
        "TimelockUnexpectedOperationState",
    );
    let req = net.request(Mode::Optimistic, 100).await;
    assert_eq!(
        s.current_terms(&req).await.unwrap().max_protocol_fee_bps,
        PROTOCOL_BPS,
        "unchanged while the change waits"
    );
    net.advance(3_600).await;
    s.execute_governance(net.owner, &raise).await.unwrap();
    let terms = s.current_terms(&req).await.unwrap();
    assert_eq!(
        (terms.max_protocol_fee_bps, terms.max_scheduler_fee_bps),
        (1_000, 1_000)
    );
}

/// Attack 7c: the owner changed `committeeSize` or the dispute window under an open dispute.
/// The dispute now keeps what was in force at its challenge.
#[tokio::test]
async fn dispute_parameters_changed_under_a_dispute_do_not_apply_to_it() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    net.s.challenge(net.challenger, id).await.unwrap();
    net.s
        .set_dispute_params(net.owner, 5, 60, 60)
        .await
        .unwrap();
    let c = net.case(id).await;
    assert_eq!((c.size, c.window), (3, DISPUTE_WINDOW));
    let c = net.draw(id).await;
    assert_eq!(c.committee.len(), 3);
    let drawn_at = net.now().await;
    assert_eq!(c.commit_deadline, drawn_at + u64::from(DISPUTE_WINDOW));
    assert_eq!(
        c.reveal_deadline,
        c.commit_deadline + u64::from(REVEAL_WINDOW)
    );
}
