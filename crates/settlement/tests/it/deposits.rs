//! Client deposits (bounties paid from a market balance) and the treasury's accrual.

use alloy::primitives::U256;
use verity_contracts::TaskMarket;
use verity_settlement::Mode;

use crate::harness::*;
use crate::reverts::{Frozen, outsider};

fn from_balance(r: &alloy::rpc::types::TransactionReceipt) -> bool {
    r.decoded_log::<TaskMarket::TaskCreated>()
        .expect("TaskCreated")
        .fromBalance
}

#[tokio::test]
async fn deposit_pays_bounties_until_it_runs_short_then_the_wallet_pays() {
    let net = Net::new().await;
    let c = net.client;
    let req = net.request(Mode::Optimistic, 100).await;
    let l0 = net.ledger().await;
    net.s.deposit(c, tokens(150)).await.unwrap();
    let l1 = net.ledger().await;
    l0.assert_deltas(&l1, &[(c, wallet(-t(150))), (c, market(t(150)))]);

    // 150 covers a bounty of 100: it comes from the balance, the wallet is not touched.
    let (_, r) = net.s.create_task(c, &req).await.unwrap();
    assert!(from_balance(&r));
    let l2 = net.ledger().await;
    l1.assert_deltas(&l2, &[(c, market(-t(100)))]);
    assert_eq!(l2.escrowed, tokens(100));

    // 50 left does not cover 100: the whole bounty comes from the wallet, the balance stays.
    let (_, r) = net.s.create_task(c, &req).await.unwrap();
    assert!(!from_balance(&r));
    let l3 = net.ledger().await;
    l2.assert_deltas(&l3, &[(c, wallet(-t(100)))]);
    assert_eq!(l3.escrowed, tokens(200));

    // What is left is withdrawn like any other balance.
    assert_eq!(net.s.withdraw(c).await.unwrap(), tokens(50));
    let l4 = net.ledger().await;
    l3.assert_deltas(&l4, &[(c, wallet(t(50))), (c, market(-t(50)))]);
}

#[tokio::test]
async fn deposit_reverts() {
    let net = Net::new().await;
    // client2 lets the market take 10 tokens only; the outsider may spend but owns nothing.
    net.s.approve_market(net.client2, tokens(10)).await.unwrap();
    let broke = outsider(0);
    net.s.approve_market(broke, tokens(50)).await.unwrap();
    let f = Frozen::take(&net).await;
    expect_revert(net.s.deposit(net.client, U256::ZERO).await, "ZeroAmount");
    expect_revert(
        net.s.deposit(net.client2, tokens(11)).await,
        "ERC20InsufficientAllowance",
    );
    expect_revert(
        net.s.deposit(broke, tokens(1)).await,
        "ERC20InsufficientBalance",
    );
    // A balance is 128 bits of the account word (the rest counts released collateral), so an
    // amount no balance can hold is refused by name before any transfer.
    expect_revert(net.s.deposit(net.client, U256::MAX).await, "AmountTooLarge");
    f.check(&net).await;
    assert_eq!(net.s.market_balance(broke).await.unwrap(), U256::ZERO);
}

#[tokio::test]
async fn treasury_accrual_is_its_balance_and_stays_with_it_when_replaced() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    net.advance(u64::from(req.challenge_window) + 1).await;
    let l0 = net.ledger().await;
    net.s.finalize(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    l0.assert_deltas(
        &l1,
        &[
            (op, market(rest)),
            (op, locked(-t(50))),
            (net.coordinator, market(s)),
            (net.treasury, market(p)),
        ],
    );
    // The fee accrued in the books' slot, not in the treasury's balance slot.
    let p_u = U256::from(p as u128);
    assert_eq!(net.s.market_totals().await.unwrap().treasury_accrued, p_u);

    // A new treasury: what accrued stays the old one's balance; the new one starts at zero.
    let new_treasury = outsider(1);
    net.s.set_treasury(net.owner, new_treasury).await.unwrap();
    let l2 = net.ledger().await;
    l1.assert_deltas(&l2, &[]);
    assert_eq!(
        net.s.market_totals().await.unwrap().treasury_accrued,
        U256::ZERO
    );
    assert_eq!(
        net.s.market_balance(new_treasury).await.unwrap(),
        U256::ZERO
    );
    assert_eq!(net.s.withdraw(net.treasury).await.unwrap(), p_u);
    let l3 = net.ledger().await;
    l2.assert_deltas(
        &l3,
        &[(net.treasury, wallet(p)), (net.treasury, market(-p))],
    );

    // The current treasury withdraws its accrual directly.
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    net.advance(u64::from(req.challenge_window) + 1).await;
    net.s.finalize(net.keeper, id).await.unwrap();
    assert_eq!(net.s.market_balance(new_treasury).await.unwrap(), p_u);
    assert_eq!(net.s.withdraw(new_treasury).await.unwrap(), p_u);
    assert_eq!(net.s.token_balance(new_treasury).await.unwrap(), p_u);
    assert_eq!(
        net.s.market_totals().await.unwrap().treasury_accrued,
        U256::ZERO
    );
}
