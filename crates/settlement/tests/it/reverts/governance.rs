//! Owner-only setters of the three contracts, their two-step ownership, and the registry hooks
//! only the market may call.

use alloy::primitives::{Address, B256, U256};
use verity_contracts::NodeRegistry;
use verity_settlement::{Deployment, Mode, Settlement, TxOptions};

use super::{
    Frozen, NOT_OWNER, expect_raw_revert, market_sol, mock_verifier, registry_sol, verifiers_sol,
};
use crate::harness::*;

const DAY: u64 = 86_400;

#[tokio::test]
async fn set_coordinator_reverts() {
    let net = Net::new().await;
    let m = market_sol(&net);
    let f = Frozen::take(&net).await;
    for who in [net.client, net.coordinator, net.treasury] {
        expect_revert(net.s.set_coordinator(who, who, true).await, NOT_OWNER);
    }
    // Not even a coordinator can remove itself or another.
    expect_revert(
        net.s
            .set_coordinator(net.coordinator, net.coordinator, false)
            .await,
        NOT_OWNER,
    );
    expect_revert(
        net.s.set_coordinator(net.owner, Address::ZERO, true).await,
        "ZeroAddress",
    );
    expect_revert(
        net.s.set_coordinator(net.owner, Address::ZERO, false).await,
        "ZeroAddress",
    );
    f.check(&net).await;
    assert!(m.isCoordinator(net.coordinator).call().await.unwrap());
    for who in [net.client, net.treasury, Address::ZERO] {
        assert!(
            !m.isCoordinator(who).call().await.unwrap(),
            "{who} must not be a coordinator"
        );
    }
}

#[tokio::test]
async fn set_fees_reverts() {
    let net = Net::new().await;
    let m = market_sol(&net);
    let f = Frozen::take(&net).await;
    expect_revert(net.s.set_fees(net.coordinator, 0, 0).await, NOT_OWNER);
    expect_revert(net.s.set_fees(net.client, 10, 10).await, NOT_OWNER);
    for (p, s) in [
        (1001, 0),
        (0, 1001),
        (1001, 1001),
        (u16::MAX, 0),
        (0, u16::MAX),
    ] {
        expect_revert(net.s.set_fees(net.owner, p, s).await, "FeeTooHigh");
    }
    f.check(&net).await;
    assert_eq!(m.protocolFeeBps().call().await.unwrap(), PROTOCOL_BPS);
    assert_eq!(m.schedulerFeeBps().call().await.unwrap(), SCHEDULER_BPS);
    // Tasks still snapshot the old fees.
    let (id, _) = net
        .s
        .create_task(net.client, &net.request(Mode::Optimistic, 100).await)
        .await
        .unwrap();
    let task = net.s.task(id).await.unwrap();
    assert_eq!(
        (task.protocol_fee_bps, task.scheduler_fee_bps),
        (PROTOCOL_BPS, SCHEDULER_BPS)
    );
    // The cap itself is allowed.
    net.s.set_fees(net.owner, 1000, 1000).await.unwrap();
    assert_eq!(m.protocolFeeBps().call().await.unwrap(), 1000);
}

#[tokio::test]
async fn set_treasury_reverts() {
    let net = Net::new().await;
    let m = market_sol(&net);
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.set_treasury(net.treasury, net.treasury).await,
        NOT_OWNER,
    );
    expect_revert(net.s.set_treasury(net.client, net.client).await, NOT_OWNER);
    expect_revert(
        net.s.set_treasury(net.owner, Address::ZERO).await,
        "ZeroAddress",
    );
    f.check(&net).await;
    assert_eq!(m.treasury().call().await.unwrap(), net.treasury);
}

#[tokio::test]
async fn set_dispute_params_reverts() {
    let net = Net::new().await;
    let c = verity_contracts::DisputeCourt::new(net.s.deployment().court, net.s.provider());
    let week = 7 * DAY as u32;
    let f = Frozen::take(&net).await;
    expect_revert(
        net.s.set_dispute_params(net.client, 5, 600, 600).await,
        NOT_OWNER,
    );
    for (size, window, reveal) in [
        (0, 600, 600),
        (2, 600, 600),
        (16, 600, 600),
        (u8::MAX, 600, 600),
        (3, 0, 600),
        (3, 9, 600),
        (3, week + 1, 600),
        (3, 600, 9),
        (3, 600, week + 1),
    ] {
        let r = net
            .s
            .set_dispute_params(net.owner, size, window, reveal)
            .await;
        expect_revert(r, "ParameterOutOfRange");
    }
    f.check(&net).await;
    assert_eq!(c.committeeSize().call().await.unwrap(), 3);
    assert_eq!(c.window().call().await.unwrap(), DISPUTE_WINDOW);
    assert_eq!(c.revealWindow().call().await.unwrap(), REVEAL_WINDOW);
    // Both ends of every range are allowed.
    net.s
        .set_dispute_params(net.owner, 3, 10, 10)
        .await
        .unwrap();
    net.s
        .set_dispute_params(net.owner, 15, week, week)
        .await
        .unwrap();
    assert_eq!(c.committeeSize().call().await.unwrap(), 15);
}

/// `transferOwnership`, `acceptOwnership` and `renounceOwnership` (Ownable2Step) of all three
/// contracts.
#[tokio::test]
async fn ownership_reverts() {
    let net = Net::new().await;
    let (m, r, v) = (market_sol(&net), registry_sol(&net), verifiers_sol(&net));
    let f = Frozen::take(&net).await;
    for who in [net.client, net.coordinator] {
        expect_raw_revert(m.transferOwnership(who).from(who).send().await, NOT_OWNER);
        expect_raw_revert(r.transferOwnership(who).from(who).send().await, NOT_OWNER);
        expect_raw_revert(v.transferOwnership(who).from(who).send().await, NOT_OWNER);
        expect_raw_revert(m.renounceOwnership().from(who).send().await, NOT_OWNER);
        expect_raw_revert(r.renounceOwnership().from(who).send().await, NOT_OWNER);
        expect_raw_revert(v.renounceOwnership().from(who).send().await, NOT_OWNER);
        // Nobody was offered ownership.
        expect_raw_revert(m.acceptOwnership().from(who).send().await, NOT_OWNER);
        expect_raw_revert(r.acceptOwnership().from(who).send().await, NOT_OWNER);
        expect_raw_revert(v.acceptOwnership().from(who).send().await, NOT_OWNER);
    }
    f.check(&net).await;
    assert_eq!(m.owner().call().await.unwrap(), net.owner);
    assert_eq!(r.owner().call().await.unwrap(), net.owner);
    assert_eq!(v.owner().call().await.unwrap(), net.owner);
    assert_eq!(m.pendingOwner().call().await.unwrap(), Address::ZERO);
    // With a transfer pending, only the new owner may accept it.
    let pending = m
        .transferOwnership(net.client2)
        .from(net.owner)
        .send()
        .await
        .unwrap();
    assert!(pending.get_receipt().await.unwrap().status());
    let f = Frozen::take(&net).await;
    expect_raw_revert(m.acceptOwnership().from(net.client).send().await, NOT_OWNER);
    expect_raw_revert(m.acceptOwnership().from(net.owner).send().await, NOT_OWNER);
    f.check(&net).await;
    assert_eq!(m.owner().call().await.unwrap(), net.owner);
    assert_eq!(m.pendingOwner().call().await.unwrap(), net.client2);
}

/// `setVerifier`, and `verifierOf` whose `UnknownVerifier` the market raises for zk tasks.
#[tokio::test]
async fn set_verifier_reverts() {
    let net = Net::new().await;
    let v = verifiers_sol(&net);
    let id = mock_verifier(&net).await;
    let registered = v.verifierOf(id).call().await.unwrap();
    let other = B256::repeat_byte(0x33);
    let f = Frozen::take(&net).await;
    for who in [net.client, net.coordinator] {
        expect_revert(net.s.set_verifier(who, id, who).await, NOT_OWNER);
        expect_revert(net.s.set_verifier(who, id, Address::ZERO).await, NOT_OWNER);
        expect_revert(net.s.set_verifier(who, other, who).await, NOT_OWNER);
    }
    expect_revert(
        net.s.set_verifier(net.owner, B256::ZERO, registered).await,
        "ZeroVerifierId",
    );
    expect_revert(
        net.s
            .set_verifier(net.owner, B256::ZERO, Address::ZERO)
            .await,
        "ZeroVerifierId",
    );
    f.check(&net).await;
    assert_eq!(v.verifierOf(id).call().await.unwrap(), registered);
    expect_raw_revert(v.verifierOf(other).call().await, "UnknownVerifier");
    expect_raw_revert(v.verifierOf(B256::ZERO).call().await, "UnknownVerifier");
    // Removing a verifier makes it unknown again.
    net.s
        .set_verifier(net.owner, id, Address::ZERO)
        .await
        .unwrap();
    expect_raw_revert(v.verifierOf(id).call().await, "UnknownVerifier");
}

#[tokio::test]
async fn set_market_reverts() {
    let net = Net::new().await;
    let d = *net.s.deployment();
    let r = registry_sol(&net);
    let f = Frozen::take(&net).await;
    // Bound once at deployment: even the owner cannot rebind it, to anything.
    for to in [net.client, d.market, Address::ZERO] {
        expect_revert(
            net.s.set_market_in_registry(net.owner, to).await,
            "MarketAlreadySet",
        );
    }
    expect_revert(
        net.s.set_market_in_registry(net.client, net.client).await,
        NOT_OWNER,
    );
    f.check(&net).await;
    assert_eq!(r.market().call().await.unwrap(), d.market);

    // A registry with no market yet: the zero address is refused, and only the owner may bind.
    let code = NodeRegistry::deploy_builder(
        net.s.provider(),
        net.owner,
        d.token,
        tokens(MIN_STAKE),
        U256::from(UNBONDING),
        U256::from(JAIL),
    )
    .calldata()
    .clone();
    let fresh = net.s.create_contract(net.owner, code).await.unwrap();
    let s2 = Settlement::new(
        net.s.provider().clone(),
        Deployment {
            registry: fresh,
            ..d
        },
        TxOptions::default(),
    );
    let f = Frozen::take(&net).await;
    expect_revert(
        s2.set_market_in_registry(net.owner, Address::ZERO).await,
        "ZeroAddress",
    );
    expect_revert(
        s2.set_market_in_registry(net.client, d.market).await,
        NOT_OWNER,
    );
    f.check(&net).await;
    let fresh = NodeRegistry::new(fresh, net.s.provider().clone());
    assert_eq!(fresh.market().call().await.unwrap(), Address::ZERO);
}

#[tokio::test]
async fn set_min_stake_reverts() {
    let net = Net::new().await;
    let r = registry_sol(&net);
    let too_large = U256::from(1) << 96;
    let f = Frozen::take(&net).await;
    expect_revert(net.s.set_min_stake(net.client, U256::ZERO).await, NOT_OWNER);
    expect_revert(
        net.s.set_min_stake(net.coordinator, tokens(1)).await,
        NOT_OWNER,
    );
    for amount in [too_large, too_large + U256::from(1), U256::MAX] {
        expect_revert(
            net.s.set_min_stake(net.owner, amount).await,
            "AmountTooLarge",
        );
    }
    f.check(&net).await;
    assert_eq!(
        U256::from(r.minStake().call().await.unwrap()),
        tokens(MIN_STAKE)
    );
    // 2^96-1 is the largest allowed.
    net.s
        .set_min_stake(net.owner, too_large - U256::from(1))
        .await
        .unwrap();
    assert_eq!(
        U256::from(r.minStake().call().await.unwrap()),
        too_large - U256::from(1)
    );
}

#[tokio::test]
async fn set_unbonding_delay_reverts() {
    let net = Net::new().await;
    let r = registry_sol(&net);
    let f = Frozen::take(&net).await;
    expect_revert(net.s.set_unbonding_delay(net.client, 60).await, NOT_OWNER);
    for secs in [30 * DAY + 1, u64::MAX] {
        expect_revert(
            net.s.set_unbonding_delay(net.owner, secs).await,
            "ParameterOutOfRange",
        );
    }
    f.check(&net).await;
    assert_eq!(
        r.unbondingDelay().call().await.unwrap(),
        U256::from(UNBONDING)
    );
    net.s
        .set_unbonding_delay(net.owner, 30 * DAY)
        .await
        .unwrap();
    assert_eq!(
        r.unbondingDelay().call().await.unwrap(),
        U256::from(30 * DAY)
    );
}

#[tokio::test]
async fn set_jail_duration_reverts() {
    let net = Net::new().await;
    let r = registry_sol(&net);
    let f = Frozen::take(&net).await;
    expect_revert(net.s.set_jail_duration(net.client, 60).await, NOT_OWNER);
    for secs in [30 * DAY + 1, u64::MAX] {
        expect_revert(
            net.s.set_jail_duration(net.owner, secs).await,
            "ParameterOutOfRange",
        );
    }
    f.check(&net).await;
    assert_eq!(r.jailDuration().call().await.unwrap(), U256::from(JAIL));
    net.s.set_jail_duration(net.owner, 30 * DAY).await.unwrap();
    assert_eq!(r.jailDuration().call().await.unwrap(), U256::from(30 * DAY));
}

/// `lockCollateral`, `releaseCollateral` and `slash` called by anyone but the market.
#[tokio::test]
async fn market_hooks_revert_for_everyone_but_the_market() {
    let net = Net::new().await;
    let r = registry_sol(&net);
    let op = net.op(0);
    // `op` has 50 locked on a live task, so a release or a slash would have something to take.
    let req = net.request(Mode::Optimistic, 100).await;
    let _task = net.open_and_assign(&req, &[op]).await;
    let before = net.s.operator(op).await.unwrap();
    assert_eq!(before.locked, tokens(50));
    let f = Frozen::take(&net).await;
    for who in [
        net.owner,
        net.coordinator,
        net.client,
        net.treasury,
        op,
        net.op(1),
    ] {
        expect_raw_revert(
            r.lockCollateral(op, tokens(1), U256::ZERO)
                .from(who)
                .send()
                .await,
            "NotMarket",
        );
        expect_raw_revert(
            r.releaseCollateral(op, tokens(50), true)
                .from(who)
                .send()
                .await,
            "NotMarket",
        );
        expect_raw_revert(
            r.releaseCollateral(op, tokens(50), false)
                .from(who)
                .send()
                .await,
            "NotMarket",
        );
        expect_raw_revert(r.slash(op, tokens(50)).from(who).send().await, "NotMarket");
    }
    f.check(&net).await;
    assert_eq!(net.s.operator(op).await.unwrap(), before);
}
