//! `createTask` and `cancel`.

use alloy::primitives::{B256, U256};
use verity_settlement::{Error, Mode, Status, TaskRequest};

use super::{Frozen, unknown_task, with};
use crate::harness::*;

const DAY: u64 = 86_400;

#[tokio::test]
async fn create_task_reverts() {
    let net = Net::new().await;
    // client2 lets the market take 10 tokens only.
    net.s.approve_market(net.client2, tokens(10)).await.unwrap();
    let rep = net.request(Mode::Replicated, 100).await;
    let opt = net.request(Mode::Optimistic, 100).await;
    let unknown_id = B256::repeat_byte(0x77);
    let zk = with(&net.request(Mode::ZkProof, 100).await, |r| {
        r.verifier_id = unknown_id
    });
    // Every call below is estimated in a pending block at exactly `now`.
    let now = net.now().await + 1;
    net.next_block_at(now).await;
    let max_end = now + 30 * DAY;
    let week = 7 * DAY as u32;
    let u96_max = (U256::from(1) << 96) - U256::from(1);
    let (c, c2) = (net.client, net.client2);

    #[rustfmt::skip]
    let cases: Vec<(&str, _, TaskRequest, &str)> = vec![
        // zero amounts
        ("bounty 0", c, with(&rep, |r| r.bounty = U256::ZERO), "ZeroAmount"),
        ("collateral 0", c, with(&rep, |r| r.collateral = U256::ZERO), "ZeroAmount"),
        ("optimistic bounty 0", c, with(&opt, |r| r.bounty = U256::ZERO), "ZeroAmount"),
        ("zk collateral 0", c, with(&zk, |r| r.collateral = U256::ZERO), "ZeroAmount"),
        ("program digest 0", c, with(&rep, |r| r.program_digest = B256::ZERO), "ZeroDigest"),
        ("input digest 0", c, with(&opt, |r| r.input_digest = B256::ZERO), "ZeroDigest"),
        // replication and quorum
        ("replication 0", c, with(&rep, |r| (r.replication, r.quorum) = (0, 0)), "InvalidReplication"),
        ("replication 17", c, with(&rep, |r| (r.replication, r.quorum) = (17, 9)), "InvalidReplication"),
        ("quorum > replication", c, with(&rep, |r| (r.replication, r.quorum) = (3, 4)), "InvalidReplication"),
        ("quorum 2 of 4", c, with(&rep, |r| (r.replication, r.quorum) = (4, 2)), "InvalidReplication"),
        ("quorum 1 of 3", c, with(&rep, |r| (r.replication, r.quorum) = (3, 1)), "InvalidReplication"),
        ("quorum 0 of 1", c, with(&rep, |r| (r.replication, r.quorum) = (1, 0)), "InvalidReplication"),
        ("optimistic 2 seats", c, with(&opt, |r| (r.replication, r.quorum) = (2, 2)), "InvalidReplication"),
        ("optimistic quorum 0", c, with(&opt, |r| r.quorum = 0), "InvalidReplication"),
        ("zk 3 seats", c, with(&zk, |r| (r.replication, r.quorum) = (3, 2)), "InvalidReplication"),
        // deadlines
        ("assign deadline now", c, with(&rep, |r| r.assign_deadline = now), "DeadlineInPast"),
        ("assign deadline past", c, with(&opt, |r| r.assign_deadline = now - 1), "DeadlineInPast"),
        ("assign deadline 0", c, with(&zk, |r| r.assign_deadline = 0), "DeadlineInPast"),
        ("commit == assign", c, with(&rep, |r| r.commit_deadline = r.assign_deadline), "DeadlinesOutOfOrder"),
        ("commit < assign", c, with(&opt, |r| r.commit_deadline = r.assign_deadline - 1), "DeadlinesOutOfOrder"),
        ("reveal == commit", c, with(&rep, |r| r.reveal_deadline = r.commit_deadline), "DeadlinesOutOfOrder"),
        ("reveal 0 (replicated)", c, with(&rep, |r| r.reveal_deadline = 0), "DeadlinesOutOfOrder"),
        ("reveal on optimistic", c, with(&opt, |r| r.reveal_deadline = r.commit_deadline + 1), "DeadlinesOutOfOrder"),
        ("reveal on zk", c, with(&zk, |r| r.reveal_deadline = r.commit_deadline + 1), "DeadlinesOutOfOrder"),
        ("replicated > 30 days", c, with(&rep, |r| r.reveal_deadline = max_end + 1), "TaskTooLong"),
        ("optimistic > 30 days", c, with(&opt, |r| r.commit_deadline = max_end + 1), "TaskTooLong"),
        ("zk > 30 days", c, with(&zk, |r| r.commit_deadline = max_end + 1), "TaskTooLong"),
        // challenge window
        ("optimistic window 0", c, with(&opt, |r| r.challenge_window = 0), "InvalidChallengeWindow"),
        ("optimistic window > 7 days", c, with(&opt, |r| r.challenge_window = week + 1), "InvalidChallengeWindow"),
        ("optimistic window max", c, with(&opt, |r| r.challenge_window = u32::MAX), "InvalidChallengeWindow"),
        ("replicated window", c, with(&rep, |r| r.challenge_window = 1), "InvalidChallengeWindow"),
        ("zk window", c, with(&zk, |r| r.challenge_window = 1), "InvalidChallengeWindow"),
        // verifier
        ("replicated verifier", c, with(&rep, |r| r.verifier_id = unknown_id), "UnexpectedVerifier"),
        ("optimistic verifier", c, with(&opt, |r| r.verifier_id = unknown_id), "UnexpectedVerifier"),
        ("zk unknown verifier", c, zk.clone(), "UnknownVerifier"),
        ("zk verifier 0", c, with(&zk, |r| r.verifier_id = B256::ZERO), "UnknownVerifier"),
        // the client's funds
        ("bounty > balance", c, with(&rep, |r| r.bounty = tokens(10_001)), "ERC20InsufficientBalance"),
        ("bounty 2^96-1", c, with(&opt, |r| r.bounty = u96_max), "ERC20InsufficientBalance"),
        ("bounty > allowance", c2, with(&rep, |r| r.bounty = tokens(11)), "ERC20InsufficientAllowance"),
    ];

    let f = Frozen::take(&net).await;
    for (what, from, req, want) in &cases {
        let got = net.s.create_task(*from, req).await;
        let name = got.as_ref().err().and_then(Error::revert_name);
        assert_eq!(name.as_deref(), Some(*want), "{what}: {got:?}");
    }
    // Values the contract's types cannot hold are refused by the client: nothing is sent.
    let too_big = U256::from(1) << 96;
    #[rustfmt::skip]
    let invalid: Vec<(&str, TaskRequest)> = vec![
        ("bounty", with(&rep, |r| r.bounty = too_big)),
        ("bounty", with(&opt, |r| r.bounty = U256::MAX)),
        ("collateral", with(&rep, |r| r.collateral = too_big)),
        ("assign_deadline", with(&rep, |r| r.assign_deadline = 1 << 32)),
        ("commit_deadline", with(&opt, |r| r.commit_deadline = 1 << 32)),
        ("reveal_deadline", with(&rep, |r| r.reveal_deadline = u64::MAX)),
    ];
    for (field, req) in &invalid {
        match net.s.create_task(c, req).await {
            Err(Error::InvalidInput { what, .. }) => assert_eq!(what, *field),
            other => panic!("{field}: expected InvalidInput, got {other:?}"),
        }
    }
    f.check(&net).await;
    assert_eq!(net.s.task_count().await.unwrap(), U256::ZERO);

    // The limits themselves are accepted: exactly 30 days (this block is mined at `now`), 16
    // seats with a quorum of 9, a 7-day window, the client's whole balance, client2's whole
    // allowance.
    let (id, _) = net
        .s
        .create_task(c, &with(&rep, |r| r.reveal_deadline = max_end))
        .await
        .unwrap();
    assert_eq!(net.now().await, now);
    assert_eq!(net.s.task(id).await.unwrap().reveal_deadline, max_end);
    net.s
        .create_task(c, &with(&rep, |r| (r.replication, r.quorum) = (16, 9)))
        .await
        .unwrap();
    net.s
        .create_task(c, &with(&opt, |r| r.challenge_window = week))
        .await
        .unwrap();
    net.s
        .create_task(c2, &with(&opt, |r| r.bounty = tokens(10)))
        .await
        .unwrap();
    let rest = tokens(10_000 - 300);
    net.s
        .create_task(c, &with(&opt, |r| r.bounty = rest))
        .await
        .unwrap();
    assert_eq!(net.s.token_balance(c).await.unwrap(), U256::ZERO);
    assert_eq!(net.s.task_count().await.unwrap(), U256::from(5));
}

#[tokio::test]
async fn cancel_reverts() {
    let net = Net::new().await;
    let req = net.request(Mode::Optimistic, 100).await;
    let (open, _) = net.s.create_task(net.client, &req).await.unwrap();
    let assigned = net.open_and_assign(&req, &[net.op(0)]).await;
    let (open_view, assigned_view) = (
        net.s.task(open).await.unwrap(),
        net.s.task(assigned).await.unwrap(),
    );
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.cancel(net.client, unknown_task()).await,
        "UnknownTask",
    );
    expect_revert(net.s.cancel(net.client, U256::ZERO).await, "UnknownTask");
    // Only the client, and only while unassigned.
    for who in [net.client2, net.coordinator, net.owner, net.op(0)] {
        expect_revert(net.s.cancel(who, open).await, "NotClient");
    }
    expect_revert(net.s.cancel(net.client, assigned).await, "WrongStatus");
    expect_revert(net.s.cancel(net.client2, assigned).await, "NotClient");
    f.check(&net).await;
    assert_eq!(net.s.task(open).await.unwrap(), open_view);
    assert_eq!(net.s.task(assigned).await.unwrap(), assigned_view);

    // Cancelling twice.
    net.s.cancel(net.client, open).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.cancel(net.client, open).await, "WrongStatus");
    f.check(&net).await;
    assert_eq!(net.s.task(open).await.unwrap().status, Status::Refunded);
}
