//! `register`, `updateMetadata`, `stake`, `requestUnstake` and `withdrawUnbonded`.

use alloy::primitives::{Address, Bytes, U256};
use verity_settlement::{Mode, OperatorProfile};

use super::{Frozen, outsider, registry_sol};
use crate::harness::*;

fn cid(len: usize) -> Bytes {
    Bytes::from(vec![0xcd; len])
}

#[tokio::test]
async fn register_reverts() {
    let net = Net::new().await;
    let r = registry_sol(&net);
    let newcomer = outsider(0);
    let good = OperatorProfile {
        signer: Address::repeat_byte(0x99),
        ..profile(9)
    };
    let count = r.operatorCount().call().await.unwrap();

    let f = Frozen::take(&net).await;
    let p = OperatorProfile {
        signer: Address::ZERO,
        ..good.clone()
    };
    expect_revert(net.s.register(newcomer, &p).await, "ZeroAddress");
    let p = OperatorProfile {
        metadata_cid: cid(97),
        ..good.clone()
    };
    expect_revert(net.s.register(newcomer, &p).await, "MetadataTooLong");
    let p = OperatorProfile {
        metadata_cid: cid(10_000),
        ..good.clone()
    };
    expect_revert(net.s.register(newcomer, &p).await, "MetadataTooLong");
    // Registered operators cannot register again, not even with a valid new profile.
    expect_revert(net.s.register(net.op(0), &good).await, "AlreadyRegistered");
    expect_revert(
        net.s.register(net.op(1), &profile(1)).await,
        "AlreadyRegistered",
    );
    f.check(&net).await;
    assert!(!net.s.operator(newcomer).await.unwrap().registered);
    assert_eq!(net.s.operator(net.op(0)).await.unwrap().profile, profile(0));
    assert_eq!(r.operatorCount().call().await.unwrap(), count);

    // 96 bytes is the limit; once registered, the newcomer cannot register again either.
    let p = OperatorProfile {
        metadata_cid: cid(96),
        ..good.clone()
    };
    net.s.register(newcomer, &p).await.unwrap();
    assert_eq!(
        r.operatorCount().call().await.unwrap(),
        count + U256::from(1)
    );
    let f = Frozen::take(&net).await;
    expect_revert(net.s.register(newcomer, &good).await, "AlreadyRegistered");
    f.check(&net).await;
    assert_eq!(net.s.operator(newcomer).await.unwrap().profile, p);
    assert_eq!(
        r.operatorCount().call().await.unwrap(),
        count + U256::from(1)
    );
}

#[tokio::test]
async fn update_metadata_reverts() {
    let net = Net::new().await;
    let op = net.op(0);
    let before = net.s.operator(op).await.unwrap();
    let f = Frozen::take(&net).await;
    for who in [net.client, net.owner, outsider(0)] {
        expect_revert(
            net.s.update_metadata(who, &profile(0)).await,
            "NotRegistered",
        );
    }
    let p = OperatorProfile {
        signer: Address::ZERO,
        ..profile(3)
    };
    expect_revert(net.s.update_metadata(op, &p).await, "ZeroAddress");
    let p = OperatorProfile {
        metadata_cid: cid(97),
        ..profile(3)
    };
    expect_revert(net.s.update_metadata(op, &p).await, "MetadataTooLong");
    f.check(&net).await;
    assert_eq!(net.s.operator(op).await.unwrap(), before);
    // 96 bytes is the limit.
    let p = OperatorProfile {
        metadata_cid: cid(96),
        ..profile(3)
    };
    net.s.update_metadata(op, &p).await.unwrap();
    assert_eq!(net.s.operator(op).await.unwrap().profile, p);
}

#[tokio::test]
async fn stake_reverts() {
    let net = Net::new().await;
    let op = net.op(0);
    // A registered operator with nothing staked yet.
    let newcomer = outsider(0);
    net.s.register(newcomer, &profile(9)).await.unwrap();
    // op1 lets the registry take 5 more tokens only.
    net.s.approve_registry(net.op(1), tokens(5)).await.unwrap();
    let u96_max = (U256::from(1) << 96) - U256::from(1);
    let room = u96_max - tokens(STAKE);
    let before = [
        net.s.operator(op).await.unwrap(),
        net.s.operator(newcomer).await.unwrap(),
    ];

    let f = Frozen::take(&net).await;
    expect_revert(net.s.stake(net.client, tokens(1)).await, "NotRegistered");
    expect_revert(net.s.stake(outsider(1), tokens(1)).await, "NotRegistered");
    expect_revert(net.s.stake(op, U256::ZERO).await, "ZeroAmount");
    expect_revert(net.s.stake(newcomer, U256::ZERO).await, "ZeroAmount");
    // The stake must fit in 96 bits.
    expect_revert(net.s.stake(newcomer, U256::MAX).await, "AmountTooLarge");
    expect_revert(
        net.s.stake(newcomer, u96_max + U256::from(1)).await,
        "AmountTooLarge",
    );
    expect_revert(
        net.s.stake(op, room + U256::from(1)).await,
        "AmountTooLarge",
    );
    expect_revert(net.s.stake(op, u96_max).await, "AmountTooLarge");
    // The token refuses what the operator does not own or did not approve.
    expect_revert(
        net.s.stake(op, tokens(10_000 - STAKE + 1)).await,
        "ERC20InsufficientBalance",
    );
    expect_revert(net.s.stake(op, room).await, "ERC20InsufficientBalance");
    expect_revert(
        net.s.stake(newcomer, tokens(1)).await,
        "ERC20InsufficientAllowance",
    );
    expect_revert(
        net.s.stake(net.op(1), tokens(6)).await,
        "ERC20InsufficientAllowance",
    );
    f.check(&net).await;
    assert_eq!(net.s.operator(op).await.unwrap(), before[0]);
    assert_eq!(net.s.operator(newcomer).await.unwrap(), before[1]);
}

/// Regression: `stake(U256::MAX)` by an operator that already had stake overflowed
/// `stake + amount` before the `AmountTooLarge` check and reverted with `Panic(0x11)`.
#[tokio::test]
async fn stake_max_by_staked_operator_is_amount_too_large() {
    let net = Net::new().await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.stake(net.op(0), U256::MAX).await, "AmountTooLarge");
    f.check(&net).await;
}

#[tokio::test]
async fn request_unstake_reverts() {
    let net = Net::new().await;
    let op = net.op(0);
    // 50 of op's 1000 are locked on a live task: 950 are free.
    let req = net.request(Mode::Optimistic, 100).await;
    let _task = net.open_and_assign(&req, &[op]).await;
    let before = net.s.operator(op).await.unwrap();
    assert_eq!(before.free_stake(), tokens(STAKE - 50));

    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.request_unstake(net.client, tokens(1)).await,
        "NotRegistered",
    );
    expect_revert(net.s.request_unstake(op, U256::ZERO).await, "ZeroAmount");
    expect_revert(
        net.s.request_unstake(net.op(1), U256::ZERO).await,
        "ZeroAmount",
    );
    expect_revert(
        net.s
            .request_unstake(op, tokens(STAKE - 50) + U256::from(1))
            .await,
        "InsufficientFreeStake",
    );
    expect_revert(
        net.s.request_unstake(op, tokens(STAKE)).await,
        "InsufficientFreeStake",
    );
    expect_revert(
        net.s.request_unstake(op, U256::MAX).await,
        "InsufficientFreeStake",
    );
    expect_revert(
        net.s.request_unstake(net.op(1), tokens(STAKE + 1)).await,
        "InsufficientFreeStake",
    );
    f.check(&net).await;
    assert_eq!(net.s.operator(op).await.unwrap(), before);

    // Stake already unbonding is no longer free.
    net.s.request_unstake(op, tokens(900)).await.unwrap();
    let before = net.s.operator(op).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.request_unstake(op, tokens(51)).await,
        "InsufficientFreeStake",
    );
    f.check(&net).await;
    assert_eq!(net.s.operator(op).await.unwrap(), before);
}

/// Regression: re-requesting after `stake + unbonding` passed 2^96-1 overflowed the
/// `uint96 unbonding` field with `Panic(0x11)` instead of a named error.
#[tokio::test]
async fn request_unstake_overflowing_unbonding_is_a_named_error() {
    let net = Net::new().await;
    let op = net.op(0);
    let u96_max = (U256::from(1) << 96) - U256::from(1);
    net.s.mint(op, op, u96_max).await.unwrap();
    net.s.stake(op, u96_max - tokens(STAKE)).await.unwrap();
    net.s.request_unstake(op, u96_max).await.unwrap();
    net.s.stake(op, tokens(1)).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.request_unstake(op, tokens(1)).await, "AmountTooLarge");
    f.check(&net).await;
}

#[tokio::test]
async fn withdraw_unbonded_reverts() {
    let net = Net::new().await;
    let op = net.op(0);
    let f = Frozen::take(&net).await;
    for who in [op, net.client, outsider(0)] {
        expect_revert(net.s.withdraw_unbonded(who).await, "NothingUnbonding");
    }
    f.check(&net).await;

    net.s.request_unstake(op, tokens(100)).await.unwrap();
    let first_ready = net.s.operator(op).await.unwrap().unbonding_ready_at;
    assert_eq!(first_ready, net.now().await + UNBONDING);
    // A second request restarts the clock for the whole amount.
    net.next_block_at(first_ready - 10).await;
    net.s.request_unstake(op, tokens(100)).await.unwrap();
    let ready = net.s.operator(op).await.unwrap().unbonding_ready_at;
    assert_eq!(ready, first_ready - 10 + UNBONDING);
    let before = net.s.operator(op).await.unwrap();
    net.next_block_at(first_ready).await;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.withdraw_unbonded(op).await, "UnbondingNotReady");
    net.next_block_at(ready - 1).await;
    expect_revert(net.s.withdraw_unbonded(op).await, "UnbondingNotReady");
    f.check(&net).await;
    assert_eq!(net.s.operator(op).await.unwrap(), before);

    // Ready at exactly `ready`; then nothing is left.
    net.next_block_at(ready).await;
    net.s.withdraw_unbonded(op).await.unwrap();
    assert_eq!(net.now().await, ready);
    let f = Frozen::take(&net).await;
    expect_revert(net.s.withdraw_unbonded(op).await, "NothingUnbonding");
    f.check(&net).await;
    let after = net.s.operator(op).await.unwrap();
    assert_eq!(
        (after.unbonding, after.stake),
        (U256::ZERO, tokens(STAKE - 200))
    );
}
