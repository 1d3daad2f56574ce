//! Integration tests: alloy's HTTP provider against a spawned devchain.

mod asm;
mod contract;
mod controls;
mod deploy;
mod identity;
mod invalid;
mod logs;
mod raw;
mod transfer;

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{TransactionReceipt, TransactionRequest},
};
use verity_devchain::{DevchainConfig, DevchainHandle, spawn};

/// A devchain with the default (Hardhat) config and a provider signing as account 0.
pub(crate) async fn setup() -> (DevchainHandle, DynProvider) {
    setup_with(DevchainConfig::default()).await
}

pub(crate) async fn setup_with(cfg: DevchainConfig) -> (DevchainHandle, DynProvider) {
    let handle = spawn(cfg).await.expect("devchain spawns");
    let provider = provider(&handle);
    (handle, provider)
}

/// A fresh provider signing as account 0 (alloy's default fillers: its nonce cache starts
/// empty, which matters after an `evm_revert`).
pub(crate) fn provider(handle: &DevchainHandle) -> DynProvider {
    let signer = handle.chain.accounts()[0].signer.clone();
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(handle.url.parse().expect("url"))
        .erased()
}

/// Sends `tx` through the provider's fillers and waits for the receipt.
pub(crate) async fn send(provider: &DynProvider, tx: TransactionRequest) -> TransactionReceipt {
    provider
        .send_transaction(tx)
        .await
        .expect("transaction accepted")
        .get_receipt()
        .await
        .expect("receipt")
}

/// Deploys the test contract and returns its address.
pub(crate) async fn deploy(provider: &DynProvider) -> Address {
    let receipt = send(
        provider,
        TransactionRequest::default().with_deploy_code(contract::initcode()),
    )
    .await;
    assert!(receipt.status(), "deployment succeeds");
    receipt.contract_address.expect("contract address")
}

/// Calls `store(value)` on the test contract.
pub(crate) async fn store(
    provider: &DynProvider,
    contract: Address,
    value: U256,
) -> TransactionReceipt {
    let receipt = send(
        provider,
        TransactionRequest::default()
            .with_to(contract)
            .with_input(Bytes::from(B256::from(value).to_vec())),
    )
    .await;
    assert!(receipt.status(), "store succeeds");
    receipt
}

/// Polls `cond` every `interval` until it holds; panics naming `what` once `timeout` has
/// passed without it. A wait for a condition, never a guess at how long something takes.
pub(crate) async fn poll_until<F, Fut>(
    what: &str,
    timeout: std::time::Duration,
    interval: std::time::Duration,
    mut cond: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cond().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(interval).await;
    }
}
