//! The client's own machinery: nonces under concurrency, retries bounded by attempts and by
//! deadlines, confirmation depth, and naming the revert of a transaction that failed on chain.

use std::time::Duration;

use alloy::{
    network::EthereumWallet,
    primitives::U256,
    providers::{Provider, ProviderBuilder},
};
use verity_devchain::{Devchain, DevchainConfig};
use verity_settlement::{Deployment, Error, Mode, Settlement, Status, TxOptions};

use crate::harness::*;

#[tokio::test]
async fn concurrent_sends_from_one_account_get_consecutive_nonces() {
    let net = Net::new().await;
    let p = net.s.provider();
    let before = p.get_transaction_count(net.owner).await.unwrap();
    let sends: Vec<_> = (0..16u64)
        .map(|i| {
            let s = net.s.clone();
            let (from, to) = (net.owner, net.keeper);
            tokio::spawn(async move { s.mint(from, to, U256::from(i + 1)).await })
        })
        .collect();
    for send in sends {
        send.await.unwrap().unwrap();
    }
    assert_eq!(
        p.get_transaction_count(net.owner).await.unwrap(),
        before + 16
    );
    // 1 + 2 + ... + 16 wei minted on top of the 10 000 tokens.
    assert_eq!(
        net.s.token_balance(net.keeper).await.unwrap(),
        tokens(10_000) + U256::from(136)
    );
}

#[tokio::test]
async fn a_nonce_used_behind_the_clients_back_is_recovered() {
    let net = Net::new().await;
    net.s
        .mint(net.owner, net.owner, U256::from(1))
        .await
        .unwrap();
    // Another client of the same key sends a transaction: the cached nonce is now stale.
    let other = Settlement::new(
        net.s.provider().clone(),
        *net.s.deployment(),
        TxOptions::default(),
    );
    other
        .mint(net.owner, net.owner, U256::from(1))
        .await
        .unwrap();
    let n = net
        .s
        .provider()
        .get_transaction_count(net.owner)
        .await
        .unwrap();
    net.s
        .mint(net.owner, net.owner, U256::from(1))
        .await
        .unwrap();
    assert_eq!(
        net.s
            .provider()
            .get_transaction_count(net.owner)
            .await
            .unwrap(),
        n + 1
    );
}

#[tokio::test]
async fn nothing_is_sent_once_the_deadline_has_passed() {
    let net = Net::new().await;
    let now = net.now().await;
    let nonce = net
        .s
        .provider()
        .get_transaction_count(net.client)
        .await
        .unwrap();
    let err = net
        .s
        .before(now)
        .approve_market(net.client, U256::from(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::DeadlinePassed { deadline, chain_time, .. } if deadline == now && chain_time == now),
        "{err}"
    );
    assert_eq!(
        net.s
            .provider()
            .get_transaction_count(net.client)
            .await
            .unwrap(),
        nonce,
        "nothing sent"
    );
    // A deadline in the future lets the call through.
    net.s
        .before(now + 60)
        .approve_market(net.client, U256::from(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transaction_that_fails_on_chain_names_its_revert() {
    let net = Net::new().await;
    let op = net.op(0);
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[op]).await;
    net.advance(req.commit_deadline - net.now().await + 1).await;
    // Two keepers race to settle the same timeout in one block. They send with a fixed gas
    // limit (an estimate would already see the other's pending transaction), the second fails
    // on chain, and the client names the reason by replaying it on its block.
    net.set_automine(false).await;
    let fixed = TxOptions {
        gas_limit: Some(500_000),
        ..TxOptions::default()
    };
    let race: Vec<_> = [net.keeper, net.client2]
        .into_iter()
        .map(|who| {
            let s = net.s.with_options(fixed.clone());
            tokio::spawn(async move { s.claim_timeout(who, id).await })
        })
        .collect();
    // Both claims are in the pool before the block that holds them is mined.
    net.wait_queued(net.keeper).await;
    net.wait_queued(net.client2).await;
    net.mine().await;
    net.set_automine(true).await;
    let mut results = Vec::new();
    for r in race {
        results.push(r.await.unwrap());
    }
    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failures.len(), 1, "{results:?}");
    match failures[0] {
        Error::FailedOnChain { error, .. } => {
            assert_eq!(
                error.as_ref().map(|e| e.name()).as_deref(),
                Some("WrongStatus")
            )
        }
        other => panic!("expected FailedOnChain, got {other}"),
    }
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Refunded);
}

/// A settlement client on a bare devchain that is served on `port` only when `start` is called.
struct LateChain {
    chain: Devchain,
    port: u16,
    cancel: tokio_util::sync::CancellationToken,
}

impl LateChain {
    fn new() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            chain: Devchain::new(DevchainConfig::default()).unwrap(),
            port,
            cancel: Default::default(),
        }
    }

    fn settlement(&self, opts: TxOptions) -> Settlement {
        let signer = self.chain.accounts()[0].signer.clone();
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(format!("http://127.0.0.1:{}", self.port).parse().unwrap());
        let d = Deployment {
            chain_id: 31337,
            token: alloy::primitives::Address::ZERO,
            registry: alloy::primitives::Address::ZERO,
            market: alloy::primitives::Address::ZERO,
            verifiers: alloy::primitives::Address::ZERO,
            court: alloy::primitives::Address::ZERO,
            deployed_block: 0,
            timelock: alloy::primitives::Address::ZERO,
        };
        Settlement::new(provider, d, opts)
    }

    async fn start(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        tokio::spawn(verity_devchain::serve(
            self.chain.clone(),
            listener,
            self.cancel.clone(),
        ));
    }
}

impl Drop for LateChain {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[tokio::test]
async fn transport_failures_are_retried_within_the_attempt_budget() {
    let late = LateChain::new();
    let from = late.chain.accounts()[0].address;
    let opts = TxOptions {
        attempts: 3,
        backoff: Duration::from_millis(20),
        ..TxOptions::default()
    };
    // Nobody listens: three attempts, then a transport error that says so.
    let err = late
        .settlement(opts.clone())
        .set_treasury(from, from)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rpc { attempts: 3, .. }), "{err}");
    assert!(err.is_transient());

    // The node comes up between attempts: the call goes through. (The target has no code, so
    // the call succeeds as a plain transaction: this exercises the transport, not a contract.)
    let opts = TxOptions {
        attempts: 6,
        backoff: Duration::from_millis(100),
        ..TxOptions::default()
    };
    let s = late.settlement(opts);
    let send = tokio::spawn(async move { s.set_treasury(from, from).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    late.start().await;
    let receipt = send.await.unwrap().unwrap();
    assert!(receipt.status());
}

#[tokio::test]
async fn receipts_wait_for_the_confirmation_depth() {
    let late = LateChain::new();
    late.start().await;
    let from = late.chain.accounts()[0].address;
    // Instant mining and no other traffic: a second confirmation never comes.
    let opts = TxOptions {
        confirmations: 2,
        receipt_timeout: Duration::from_millis(400),
        ..TxOptions::default()
    };
    let err = late
        .settlement(opts)
        .set_treasury(from, from)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotConfirmed { .. }), "{err}");

    // With blocks arriving, the receipt is returned once it is three deep.
    let opts = TxOptions {
        confirmations: 3,
        receipt_timeout: Duration::from_secs(20),
        ..TxOptions::default()
    };
    let s = late.settlement(opts);
    let chain = late.chain.clone();
    let miner = tokio::spawn(async move {
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            chain.mine().unwrap();
        }
    });
    let receipt = s.set_treasury(from, from).await.unwrap();
    let head = s.block_number().await.unwrap();
    assert!(
        head >= receipt.block_number.unwrap() + 2,
        "head {head}, mined in {:?}",
        receipt.block_number
    );
    miner.await.unwrap();
}

/// A client that saw none of a task's transactions (an empty cache, as a node or watchtower
/// started later) rebuilds what every call carries from the events alone, in each phase, and
/// settles the task; its views agree with the client that did everything.
#[tokio::test]
async fn a_fresh_client_rebuilds_tasks_from_events() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let req = net.request(Mode::Replicated, 100).await;
    let id = net.open_and_assign(&req, &ops).await;
    let fresh = || {
        Settlement::new(
            net.s.provider().clone(),
            *net.s.deployment(),
            TxOptions::default(),
        )
    };
    let rec = fresh().task_record(id).await.unwrap();
    assert_eq!(rec, net.s.task_record(id).await.unwrap());
    assert_eq!(rec.task.operators, ops.to_vec());
    assert_eq!(rec.task.assigner, net.coordinator);
    for (i, op) in ops.iter().enumerate() {
        let c = net.commitment(id, *op, digest("out"), salt(i as u8));
        fresh().commit(*op, id, c).await.unwrap();
    }
    for (i, op) in ops.iter().enumerate() {
        fresh()
            .reveal(*op, id, digest("out"), salt(i as u8))
            .await
            .unwrap();
    }
    fresh().finalize(net.keeper, id).await.unwrap();
    let view = fresh().task(id).await.unwrap();
    assert_eq!(view, net.s.task(id).await.unwrap());
    assert_eq!(
        (view.status, view.commits, view.reveals, view.result),
        (Status::Finalized, 3, 3, digest("out"))
    );

    // Optimistic: the submission (digest and time) is found from `ResultSubmitted`.
    let req = net.request(Mode::Optimistic, 100).await;
    let id = net.open_and_assign(&req, &[ops[0]]).await;
    net.s
        .submit_result(ops[0], id, digest("out"))
        .await
        .unwrap();
    let rec = fresh().task_record(id).await.unwrap();
    assert_eq!(rec, net.s.task_record(id).await.unwrap());
    assert_eq!(rec.task.result, digest("out"));
    net.advance(u64::from(req.challenge_window) + 1).await;
    fresh().finalize(net.keeper, id).await.unwrap();
    assert_eq!(fresh().task(id).await.unwrap().status, Status::Finalized);
}
