use std::sync::Arc;

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256},
    providers::{Provider, ProviderBuilder, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use tokio_util::sync::CancellationToken;
use verity_devchain::{DevchainConfig, DevchainHandle};
use verity_sdk::{Outcome, Requester, SdkError, Status, TaskSpec, WaitOptions, parse_tokens};
use verity_settlement::{DeployConfig, OperatorProfile, Settlement, TxOptions, deploy};
use verity_store::{BlobStore, Cid, GatewayClient, MemoryStore};

pub(crate) struct Net {
    _chain: DevchainHandle,
    pub(crate) s: Settlement,
    pub(crate) owner: Address,
    pub(crate) client: Address,
    pub(crate) operator: Address,
    pub(crate) gateway: GatewayClient,
    pub(crate) store: Arc<MemoryStore>,
    _stop: tokio_util::sync::DropGuard,
}

pub(crate) async fn net() -> Net {
    let chain = verity_devchain::spawn(DevchainConfig::default())
        .await
        .unwrap();
    let keys: Vec<PrivateKeySigner> = chain
        .chain
        .accounts()
        .iter()
        .map(|a| a.signer.clone())
        .collect();
    let mut wallet = EthereumWallet::from(keys[0].clone());
    for k in &keys[1..] {
        wallet.register_signer(k.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(chain.url.parse().unwrap());
    let owner = keys[0].address();
    // A test deployment where tasks may go unaudited: the flows that finalize ask for rate 0 so
    // the coin cannot take them to the court; the others keep the SDK's default audit rate.
    let mut cfg = DeployConfig::devnet(owner);
    cfg.min_audit_bps = 0;
    let deployment = deploy(provider.clone(), &cfg).await.unwrap();
    let s = Settlement::new(provider, deployment, TxOptions::default());
    let (client, operator) = (keys[1].address(), keys[2].address());
    for who in [client, operator] {
        s.mint(owner, who, parse_tokens("1000").unwrap())
            .await
            .unwrap();
    }
    s.approve_registry(operator, U256::MAX).await.unwrap();
    let profile = OperatorProfile {
        signer: operator,
        hardware_hash: B256::repeat_byte(7),
        metadata_cid: Bytes::new(),
        region: 276,
        capabilities: 1,
    };
    s.register(operator, &profile).await.unwrap();
    s.stake(operator, parse_tokens("200").unwrap())
        .await
        .unwrap();

    let store = Arc::new(MemoryStore::new(verity_store::Limits::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    tokio::spawn(verity_store::serve(listener, store.clone(), cancel.clone()));
    Net {
        _chain: chain,
        s,
        owner,
        client,
        operator,
        gateway: GatewayClient::new(&url).unwrap(),
        store,
        _stop: cancel.drop_guard(),
    }
}

/// Mines one block one second after the task's challenge window closes, whatever the wall clock
/// did meanwhile (relative time moves race the devchain's own clock).
async fn close_challenge_window(n: &Net, id: U256) {
    let info = n.s.task(id).await.unwrap();
    let provider = n.s.provider();
    let _: serde_json::Value = provider
        .raw_request(
            "evm_setNextBlockTimestamp".into(),
            (info.challenge_ends() + 1,),
        )
        .await
        .unwrap();
    provider.anvil_mine(Some(1), None).await.unwrap();
}

const PROGRAM: &[u8] = b"\0asm\x01\0\0\0"; // the SDK does not run it; nodes do
const OUTPUT: &[u8] = b"the answer is 42";

#[tokio::test]
async fn an_optimistic_task_goes_from_submission_to_a_verified_result() {
    let n = net().await;
    let sdk = Requester::new(n.s.clone(), n.gateway.clone(), n.client);
    let before = n.s.token_balance(n.client).await.unwrap();
    let spec = TaskSpec::optimistic(PROGRAM, b"input".to_vec())
        .bounty(parse_tokens("10").unwrap())
        .audit_bps(0);
    let task = sdk.submit(&spec).await.unwrap();

    // The bounty left the requester's wallet, exactly.
    assert_eq!(
        before - n.s.token_balance(n.client).await.unwrap(),
        parse_tokens("10").unwrap()
    );
    // The program and the input envelope are on the gateway under the digests the task names.
    let info = sdk.task(task.id).await.unwrap();
    assert_eq!(info.status, Status::Open);
    assert_eq!(info.program_digest, B256::from(task.program.digest()));
    assert_eq!(info.input_digest, B256::from(task.input.digest()));
    assert_eq!(&n.gateway.fetch(&task.program).await.unwrap()[..], PROGRAM);
    let envelope = n.gateway.fetch(&task.input).await.unwrap();
    let decoded = verity_primitives::envelope::InputEnvelope::decode(&envelope).unwrap();
    assert_eq!(
        (decoded.payload.as_slice(), decoded.limits),
        (&b"input"[..], spec.limits)
    );

    // Coordinator and operator, by hand; the output is published where the requester looks.
    n.s.assign(n.owner, task.id, &[n.operator]).await.unwrap();
    let out = n
        .store
        .put(bytes::Bytes::from_static(OUTPUT))
        .await
        .unwrap();
    n.s.submit_result(n.operator, task.id, B256::from(out.digest()))
        .await
        .unwrap();
    assert!(matches!(
        sdk.result(task.id).await,
        Err(SdkError::NoResult {
            status: Status::Submitted,
            ..
        })
    ));
    close_challenge_window(&n, task.id).await;
    n.s.finalize(n.client, task.id).await.unwrap();

    let mut seen = Vec::new();
    let outcome = sdk
        .wait(task.id, WaitOptions::default(), |s| seen.push(s))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Finalized {
            result: B256::from(Cid::of(OUTPUT).digest())
        }
    );
    assert_eq!(seen, vec![Status::Finalized]);
    assert_eq!(&sdk.result(task.id).await.unwrap()[..], OUTPUT);
}

#[tokio::test]
async fn a_result_the_gateway_does_not_hold_is_a_store_error_not_bytes() {
    let n = net().await;
    let sdk = Requester::new(n.s.clone(), n.gateway.clone(), n.client);
    let task = sdk
        .submit(&TaskSpec::optimistic(PROGRAM, vec![]).audit_bps(0))
        .await
        .unwrap();
    n.s.assign(n.owner, task.id, &[n.operator]).await.unwrap();
    // The operator claims a digest whose bytes nobody published.
    n.s.submit_result(n.operator, task.id, B256::repeat_byte(9))
        .await
        .unwrap();
    close_challenge_window(&n, task.id).await;
    n.s.finalize(n.client, task.id).await.unwrap();
    let err = sdk.result(task.id).await.unwrap_err();
    assert!(matches!(err, SdkError::Store { source, .. } if source.is_not_found()));
}

#[tokio::test]
async fn waiting_on_an_open_task_times_out_with_its_status() {
    let n = net().await;
    let sdk = Requester::new(n.s.clone(), n.gateway.clone(), n.client);
    let task = sdk
        .submit(&TaskSpec::optimistic(PROGRAM, vec![]))
        .await
        .unwrap();
    let opts = WaitOptions {
        poll: std::time::Duration::from_millis(20),
        timeout: std::time::Duration::from_millis(100),
        settle_overdue: true,
    };
    let err = sdk.wait(task.id, opts, |_| {}).await.unwrap_err();
    assert!(
        matches!(
            err,
            SdkError::WaitTimeout {
                status: Status::Open,
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        sdk.task(U256::from(999)).await,
        Err(SdkError::UnknownTask(_))
    ));
}

#[tokio::test]
async fn an_invalid_spec_spends_nothing() {
    let n = net().await;
    let sdk = Requester::new(n.s.clone(), n.gateway.clone(), n.client);
    let before =
        n.s.provider()
            .get_transaction_count(n.client)
            .await
            .unwrap();
    let err = sdk
        .submit(&TaskSpec::replicated(PROGRAM, vec![], 1))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        SdkError::InvalidSpec {
            field: "replication",
            ..
        }
    ));
    assert_eq!(
        n.s.provider()
            .get_transaction_count(n.client)
            .await
            .unwrap(),
        before
    );
    assert!(n.store.is_empty(), "nothing uploaded for a rejected spec");
}

#[tokio::test]
async fn a_bounty_above_the_balance_is_refused_before_any_approval() {
    let n = net().await;
    let sdk = Requester::new(n.s.clone(), n.gateway.clone(), n.client);
    let provider = n.s.provider();
    let nonce = provider.get_transaction_count(n.client).await.unwrap();
    let wallet = n.s.token_balance(n.client).await.unwrap();
    let bounty = wallet + U256::from(1u64);
    let err = sdk
        .submit(&TaskSpec::optimistic(PROGRAM, b"in".to_vec()).bounty(bounty))
        .await
        .unwrap_err();
    match err {
        SdkError::InsufficientFunds {
            bounty: b,
            wallet: w,
            in_market,
        } => {
            assert_eq!((b, w, in_market), (bounty, wallet, U256::ZERO));
        }
        other => panic!("expected InsufficientFunds, got {other}"),
    }
    // Nothing was sent: no approval, no task, the balance untouched.
    assert_eq!(
        provider.get_transaction_count(n.client).await.unwrap(),
        nonce
    );
    let allowance = verity_contracts::TestToken::new(n.s.deployment().token, provider)
        .allowance(n.client, n.s.deployment().market)
        .call()
        .await
        .unwrap();
    assert_eq!(allowance, U256::ZERO);
    assert_eq!(n.s.task_count().await.unwrap(), U256::ZERO);
    assert_eq!(n.s.token_balance(n.client).await.unwrap(), wallet);
    assert!(
        n.store.is_empty(),
        "nothing uploaded for a bounty the account cannot pay"
    );
}

/// Mines one block at `ts` (chain seconds).
async fn mine_at(n: &Net, ts: u64) {
    let provider = n.s.provider();
    let _: serde_json::Value = provider
        .raw_request("evm_setNextBlockTimestamp".into(), (ts,))
        .await
        .unwrap();
    provider.anvil_mine(Some(1), None).await.unwrap();
}

async fn liquid(n: &Net, who: Address) -> U256 {
    n.s.token_balance(who).await.unwrap() + n.s.market_balance(who).await.unwrap()
}

#[tokio::test]
async fn wait_takes_the_deadline_exit_of_a_task_nobody_assigned() {
    let n = net().await;
    let sdk = Requester::new(n.s.clone(), n.gateway.clone(), n.client);
    let before = liquid(&n, n.client).await;
    let spec = TaskSpec::optimistic(PROGRAM, b"input".to_vec()).bounty(parse_tokens("10").unwrap());
    let task = sdk.submit(&spec).await.unwrap();
    // Not due yet: nothing is sent.
    assert!(!sdk.settle_overdue(task.id).await.unwrap());
    assert_eq!(n.s.status(task.id).await.unwrap(), Status::Open);

    mine_at(&n, task.request.assign_deadline + 1).await;
    let outcome = sdk
        .wait(task.id, WaitOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Refunded);
    // The whole bounty is back (in the market balance, pull-based); nothing accrued.
    assert_eq!(liquid(&n, n.client).await, before);
    assert_eq!(
        n.s.market_totals().await.unwrap().treasury_accrued,
        U256::ZERO
    );
    assert_eq!(n.s.market_totals().await.unwrap().escrowed, U256::ZERO);
    // Settled: a second exit is a no-op, not an error.
    assert!(!sdk.settle_overdue(task.id).await.unwrap());
}

#[tokio::test]
async fn a_silent_optimistic_operator_is_slashed_when_the_requester_takes_the_exit() {
    let n = net().await;
    let sdk = Requester::new(n.s.clone(), n.gateway.clone(), n.client);
    let client_before = liquid(&n, n.client).await;
    let spec = TaskSpec::optimistic(PROGRAM, b"input".to_vec()).bounty(parse_tokens("10").unwrap());
    let task = sdk.submit(&spec).await.unwrap();
    n.s.assign(n.owner, task.id, &[n.operator]).await.unwrap();
    let stake_before = n.s.operator(n.operator).await.unwrap().stake;
    let operator_before = liquid(&n, n.operator).await;

    // Still inside the submit window: not due.
    assert!(!sdk.settle_overdue(task.id).await.unwrap());
    mine_at(&n, task.request.commit_deadline + 1).await;
    assert!(sdk.settle_overdue(task.id).await.unwrap());

    assert_eq!(n.s.status(task.id).await.unwrap(), Status::Refunded);
    let collateral = spec.collateral_wei().unwrap();
    assert_eq!(liquid(&n, n.client).await, client_before, "bounty back");
    assert_eq!(
        n.s.operator(n.operator).await.unwrap().stake,
        stake_before - collateral,
        "the silent operator loses its collateral"
    );
    assert_eq!(liquid(&n, n.operator).await, operator_before);
    assert_eq!(
        n.s.market_totals().await.unwrap().treasury_accrued,
        collateral,
        "the slash accrues to the treasury"
    );
}
