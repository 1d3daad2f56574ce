//! Transactions the devchain refuses, with clear errors.

use alloy::{
    eips::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Bytes, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};

use crate::{send, setup};

/// Signs a complete EIP-1559 transfer from account 0.
async fn signed(
    handle: &verity_devchain::DevchainHandle,
    nonce: u64,
    chain_id: u64,
    max_fee: u128,
) -> Bytes {
    let wallet = EthereumWallet::from(handle.chain.accounts()[0].signer.clone());
    let tx = TransactionRequest::default()
        .with_from(handle.chain.accounts()[0].address)
        .with_to(handle.chain.accounts()[1].address)
        .with_value(U256::from(1u64))
        .with_nonce(nonce)
        .with_chain_id(chain_id)
        .with_gas_limit(21_000)
        .with_max_fee_per_gas(max_fee)
        .with_max_priority_fee_per_gas(1);
    let envelope = tx.build(&wallet).await.expect("signable");
    Bytes::from(envelope.encoded_2718())
}

async fn rejection(provider: &impl Provider, raw: &Bytes) -> (i64, String) {
    let err = provider.send_raw_transaction(raw).await.unwrap_err();
    let payload = err.as_error_resp().expect("a JSON-RPC error").clone();
    (payload.code, payload.message.to_string())
}

#[tokio::test]
async fn bad_nonce_chain_id_fees_and_encoding_are_rejected() {
    let (handle, provider) = setup().await;
    let fee = 10_000_000_000u128;

    let (code, message) = rejection(&provider, &signed(&handle, 5, 31337, fee).await).await;
    assert_eq!(code, -32000);
    assert!(
        message.contains("Nonce too high. Expected nonce to be 0 but got 5"),
        "{message}"
    );

    let (_, message) = rejection(&provider, &signed(&handle, 0, 1, fee).await).await;
    assert!(message.contains("invalid chainId"), "{message}");
    assert!(message.contains("31337"), "{message}");

    let (_, message) = rejection(&provider, &signed(&handle, 0, 31337, 1).await).await;
    assert!(message.contains("too low for the next block"), "{message}");

    let (code, message) = rejection(&provider, &Bytes::from_static(&[0x02, 0xc0])).await;
    assert_eq!(code, -32000);
    assert!(message.contains("Invalid transaction"), "{message}");

    // A valid one goes through; replaying it is refused.
    let good = signed(&handle, 0, 31337, fee).await;
    let pending = provider.send_raw_transaction(&good).await.unwrap();
    let receipt = pending.get_receipt().await.unwrap();
    assert!(receipt.status());
    let (_, message) = rejection(&provider, &good).await;
    assert!(message.contains("Known transaction"), "{message}");
    let (_, message) = rejection(&provider, &signed(&handle, 0, 31337, fee + 1).await).await;
    assert!(
        message.contains("Nonce too low. Expected nonce to be 1 but got 0"),
        "{message}"
    );

    // Nothing of the rejected ones was mined.
    assert_eq!(provider.get_block_number().await.unwrap(), 1);
}

#[tokio::test]
async fn insufficient_funds_and_intrinsic_gas_are_rejected() {
    let (handle, provider) = setup().await;
    let poor = alloy::signers::local::PrivateKeySigner::random();
    let wallet = EthereumWallet::from(poor.clone());
    let tx = TransactionRequest::default()
        .with_from(poor.address())
        .with_to(handle.chain.accounts()[1].address)
        .with_value(U256::from(1u64))
        .with_nonce(0)
        .with_chain_id(31337)
        .with_gas_limit(21_000)
        .with_max_fee_per_gas(10_000_000_000)
        .with_max_priority_fee_per_gas(1);
    let raw = Bytes::from(tx.build(&wallet).await.unwrap().encoded_2718());
    let (_, message) = rejection(&provider, &raw).await;
    assert!(message.contains("doesn't have enough funds"), "{message}");

    let wallet = EthereumWallet::from(handle.chain.accounts()[0].signer.clone());
    let tx = TransactionRequest::default()
        .with_from(handle.chain.accounts()[0].address)
        .with_to(handle.chain.accounts()[1].address)
        .with_nonce(0)
        .with_chain_id(31337)
        .with_gas_limit(20_000)
        .with_max_fee_per_gas(10_000_000_000)
        .with_max_priority_fee_per_gas(1);
    let raw = Bytes::from(tx.build(&wallet).await.unwrap().encoded_2718());
    let (_, message) = rejection(&provider, &raw).await;
    assert!(message.contains("requires at least 21000 gas"), "{message}");

    // After all that, a normal transaction still works.
    let receipt = send(
        &provider,
        TransactionRequest::default()
            .with_to(handle.chain.accounts()[1].address)
            .with_value(U256::from(1u64)),
    )
    .await;
    assert!(receipt.status());
}
