//! Audits drawn after an optimistic result is posted: the coin, the collateral floor, and both
//! verdicts of an audit with the exact balance change of every actor.

use alloy::{
    primitives::{B256, U256, keccak256},
    providers::Provider,
    sol_types::SolValue,
};
use verity_contracts::TaskMarket;
use verity_settlement::{CasePhase, Mode, Status, TaskId, collateral_floor};

use crate::harness::*;

/// An optimistic request of `bounty` tokens audited at `audit_bps`, with the harness's 50
/// tokens of collateral.
async fn audited(net: &Net, bounty: u64, audit_bps: u16) -> verity_settlement::TaskRequest {
    let mut req = net.request(Mode::Optimistic, bounty).await;
    req.audit_bps = audit_bps;
    req
}

/// The block `submitResult` of `id` landed in.
async fn submit_block(net: &Net, id: TaskId, op: alloy::primitives::Address, d: B256) -> u64 {
    let r = net.s.submit_result(op, id, d).await.unwrap();
    r.block_number.expect("mined")
}

/// The coin as the market reads it: the hash of the block after the submission, hashed with
/// the task id, below the rate.
async fn coin_says_audited(net: &Net, id: TaskId, submitted: u64, audit_bps: u16) -> bool {
    let block = net
        .s
        .provider()
        .get_block_by_number((submitted + 1).into())
        .await
        .unwrap()
        .expect("coin block");
    let word = keccak256((block.header.hash, id).abi_encode());
    U256::from_be_bytes(word.0) % U256::from(10_000u64) < U256::from(audit_bps)
}

#[tokio::test]
async fn an_audited_wrong_result_is_overturned_and_nobody_is_rewarded_for_the_slash() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = audited(&net, 100, 10_000).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("wrong")).await.unwrap();
    let l0 = net.ledger().await;
    net.advance(121).await;
    // The window closed with no challenge, but the coin (certain at 100 %) sends the result to
    // the court instead of paying it.
    net.s.finalize(net.keeper, id).await.unwrap();
    assert_eq!(net.s.status(id).await.unwrap(), Status::Challenged);
    assert_eq!(
        net.s.challenger_of(id).await.unwrap(),
        alloy::primitives::Address::ZERO
    );
    let case = net.draw(id).await;
    let c = case.committee.clone();
    assert_eq!(c.len(), 3);
    assert!(!c.contains(&op) && !c.contains(&net.client));
    net.vote(
        id,
        &[
            (c[0], digest("out")),
            (c[1], digest("out")),
            (c[2], digest("out")),
        ],
    )
    .await;
    net.s.tally(net.keeper, id).await.unwrap();
    net.s.resolve_dispute(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    // The committee's tenth of the slash, split three ways; no challenger, so the treasury
    // takes the rest and the division dust.
    let share = t(5);
    let each = share / 3;
    l0.assert_deltas(
        &l1,
        &[
            (op, slashed(t(50))),
            (net.client, market(t(100))),
            (
                net.treasury,
                market(t(50) - share) + court(share - 3 * each),
            ),
            (c[0], court(each)),
            (c[1], court(each)),
            (c[2], court(each)),
        ],
    );
    assert_eq!(net.s.status(id).await.unwrap(), Status::Refunded);
}

#[tokio::test]
async fn an_audited_right_result_pays_the_auditors_a_tenth_of_the_bounty() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = audited(&net, 100, 10_000).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    let l0 = net.ledger().await;
    net.advance(121).await;
    net.s.finalize(net.keeper, id).await.unwrap();
    let case = net.draw(id).await;
    let c = case.committee.clone();
    net.vote(
        id,
        &[
            (c[0], digest("out")),
            (c[1], digest("out")),
            (c[2], digest("out")),
        ],
    )
    .await;
    net.s.tally(net.keeper, id).await.unwrap();
    net.s.resolve_dispute(net.keeper, id).await.unwrap();
    let l1 = net.ledger().await;
    let (p, s, rest) = split(t(100));
    let fee = t(10);
    let each = fee / 3;
    l0.assert_deltas(
        &l1,
        &[
            (op, market(rest - fee) + locked(-t(50))),
            (net.coordinator, market(s)),
            (net.treasury, market(p) + court(fee - 3 * each)),
            (c[0], court(each)),
            (c[1], court(each)),
            (c[2], court(each)),
        ],
    );
    assert_eq!(net.s.status(id).await.unwrap(), Status::Finalized);
}

#[tokio::test]
async fn the_coin_is_the_next_blocks_hash_and_is_read_once() {
    let net = Net::new().await;
    let rate = 5_000;
    let (mut audits, mut clears) = (0, 0);
    for i in 0..8 {
        let op = net.op(i % 4);
        let req = audited(&net, 10, rate).await;
        let id = net.open_and_assign(&req, &[op]).await;
        let submitted = submit_block(&net, id, op, digest("out")).await;
        // Read in the block right after the submission: that block's hash is not known yet.
        expect_revert(net.s.roll_audit(net.keeper, id).await, "CoinNotReady");
        net.mine().await;
        let want = coin_says_audited(&net, id, submitted, rate).await;
        net.s.roll_audit(net.keeper, id).await.unwrap();
        let status = net.s.status(id).await.unwrap();
        if want {
            audits += 1;
            assert_eq!(status, Status::Challenged, "task {id}");
            assert_eq!(net.case(id).await.phase, CasePhase::Drawing);
        } else {
            clears += 1;
            assert_eq!(status, Status::Submitted, "task {id}");
            // Read once: a second roll cannot try for another outcome.
            expect_revert(net.s.roll_audit(net.keeper, id).await, "AuditRolled");
            net.advance(121).await;
            net.s.finalize(net.keeper, id).await.unwrap();
            assert_eq!(net.s.status(id).await.unwrap(), Status::Finalized);
        }
    }
    assert_eq!(audits + clears, 8);
}

#[tokio::test]
async fn a_coin_left_to_expire_counts_as_audited() {
    let net = Net::new().await;
    let op = net.op(0);
    // At 1 % the coin would almost surely clear the result; letting its block hash expire must
    // not be a way to skip it.
    let mut req = audited(&net, 1, 100).await;
    req.collateral = collateral_floor(req.bounty, 100).unwrap();
    let id = net.open_and_assign(&req, &[op]).await;
    net.s.submit_result(op, id, digest("out")).await.unwrap();
    net.mine_blocks(258).await;
    net.advance(121).await;
    net.s.finalize(net.keeper, id).await.unwrap();
    assert_eq!(net.s.status(id).await.unwrap(), Status::Challenged);
    assert_eq!(net.case(id).await.phase, CasePhase::Drawing);
}

#[tokio::test]
async fn the_collateral_floor_is_enforced_and_the_sdk_computes_the_same() {
    let net = Net::new().await;
    let market = TaskMarket::new(net.s.deployment().market, net.s.provider());
    for (bounty, bps) in [
        (tokens(10), 2_000u16),
        (tokens(10), 100),
        (tokens(1), 10_000),
        (U256::from(12_345_678_901u64), 333),
        (U256::from(1u64), 1),
        (tokens(10_000), 7_777),
    ] {
        let on_chain = market
            .collateralFloor(bounty, U256::from(bps))
            .call()
            .await
            .unwrap();
        assert_eq!(
            collateral_floor(bounty, bps),
            Some(on_chain),
            "{bounty} at {bps}"
        );
    }
    assert_eq!(collateral_floor(tokens(1), 0), None);
    assert_eq!(collateral_floor(tokens(1), 10_001), None);

    let floor = collateral_floor(tokens(10), 2_000).unwrap();
    assert_eq!(floor, tokens(41));
    let mut req = audited(&net, 10, 2_000).await;
    req.collateral = floor - U256::from(1u8);
    let l0 = net.ledger().await;
    expect_revert(
        net.s.create_task(net.client, &req).await,
        "CollateralTooLow",
    );
    req.audit_bps = 10_001;
    expect_revert(
        net.s.create_task(net.client, &req).await,
        "InvalidAuditRate",
    );
    let mut replicated = net.request(Mode::Replicated, 10).await;
    replicated.audit_bps = 2_000;
    expect_revert(
        net.s.create_task(net.client, &replicated).await,
        "InvalidAuditRate",
    );
    // A refused task moves nothing.
    l0.assert_deltas(&net.ledger().await, &[]);
    req.audit_bps = 2_000;
    req.collateral = floor;
    net.s.create_task(net.client, &req).await.unwrap();
}

#[tokio::test]
async fn an_unaudited_market_is_refused_off_the_devnet_chain_and_a_real_one_enforces_its_minimum() {
    let cfg = verity_devchain::DevchainConfig {
        chain_id: 8453,
        ..verity_devchain::DevchainConfig::default()
    };
    let chain = verity_devchain::spawn(cfg).await.expect("devchain");
    let keys = signers();
    let mut wallet = alloy::network::EthereumWallet::from(keys[0].clone());
    wallet.register_signer(keys[1].clone());
    let provider = alloy::providers::ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(chain.url.parse().expect("url"));
    let (owner, client) = (keys[0].address(), keys[1].address());
    let mut cfg = verity_settlement::DeployConfig::devnet(owner);
    cfg.min_audit_bps = 0;
    let err = verity_settlement::deploy(provider.clone(), &cfg)
        .await
        .expect_err("rate 0 on chain 8453");
    assert!(
        matches!(
            err,
            verity_settlement::Error::InvalidInput {
                what: "min_audit_bps",
                ..
            }
        ),
        "{err}"
    );
    cfg.min_audit_bps = verity_settlement::PRODUCTION_MIN_AUDIT_BPS;
    let d = verity_settlement::deploy(provider.clone(), &cfg)
        .await
        .unwrap();
    let market = TaskMarket::new(d.market, provider.clone());
    assert_eq!(market.minAuditBps().call().await.unwrap(), 100);
    let s =
        verity_settlement::Settlement::new(provider, d, verity_settlement::TxOptions::default());
    s.mint(owner, client, tokens(1_000)).await.unwrap();
    s.approve_market(client, U256::MAX).await.unwrap();
    let now = s.chain_time().await.unwrap();
    let mut req = verity_settlement::TaskRequest {
        mode: Mode::Optimistic,
        replication: 1,
        quorum: 1,
        program_digest: digest("program"),
        input_digest: digest("input"),
        bounty: tokens(10),
        collateral: tokens(1_000),
        assign_deadline: now + 100,
        commit_deadline: now + 200,
        reveal_deadline: 0,
        challenge_window: 120,
        verifier_id: B256::ZERO,
        audit_bps: 99,
    };
    expect_revert(s.create_task(client, &req).await, "InvalidAuditRate");
    req.audit_bps = 0;
    expect_revert(s.create_task(client, &req).await, "InvalidAuditRate");
    req.audit_bps = 100;
    s.create_task(client, &req).await.unwrap();
}
