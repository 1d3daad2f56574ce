//! Deploying the test contract, calling it, reverts and BLOCKHASH.

use alloy::{
    eips::{BlockId, BlockNumberOrTag},
    network::TransactionBuilder,
    primitives::{B256, Bytes, U256, hex},
    providers::Provider,
    rpc::types::TransactionRequest,
    sol_types::{Revert, SolError},
};

use crate::{contract, deploy, send, setup, store};

#[tokio::test]
async fn deploy_store_and_read_back() {
    let (handle, provider) = setup().await;
    let deployer = handle.chain.accounts()[0].address;
    let address = deploy(&provider).await;
    assert_eq!(address, deployer.create(0));
    let code = provider.get_code_at(address).await.unwrap();
    assert_eq!(code, Bytes::from(contract::runtime()));

    let read = || async {
        let out = provider
            .call(TransactionRequest::default().with_to(address))
            .await
            .unwrap();
        U256::from_be_slice(&out)
    };
    assert_eq!(read().await, U256::ZERO);
    let before_store = provider.get_block_number().await.unwrap();

    let value = U256::from(0xC0FFEEu64);
    let receipt = store(&provider, address, value).await;
    assert_eq!(receipt.inner.logs().len(), 1);
    assert_eq!(read().await, value);
    let slot = provider.get_storage_at(address, U256::ZERO).await.unwrap();
    assert_eq!(slot, value);

    // State of an older block is still queryable.
    let old = provider
        .call(TransactionRequest::default().with_to(address))
        .block(BlockId::number(before_store))
        .await
        .unwrap();
    assert_eq!(U256::from_be_slice(&old), U256::ZERO);
    let old_slot = provider
        .get_storage_at(address, U256::ZERO)
        .block_id(BlockId::number(before_store))
        .await
        .unwrap();
    assert_eq!(old_slot, U256::ZERO);
}

#[tokio::test]
async fn reverting_call_and_estimate_return_code_3_with_data() {
    let (_handle, provider) = setup().await;
    let address = deploy(&provider).await;

    // A custom error: selector 0xdeadbeef and one word.
    let revert_data =
        hex!("deadbeef000000000000000000000000000000000000000000000000000000000000002a");
    let mut calldata = vec![0xff];
    calldata.extend_from_slice(&revert_data);
    let request = TransactionRequest::default()
        .with_to(address)
        .with_input(Bytes::from(calldata.clone()));

    let err = provider.call(request.clone()).await.unwrap_err();
    let payload = err.as_error_resp().expect("a JSON-RPC error");
    assert_eq!(payload.code, 3);
    assert!(
        payload.message.starts_with("execution reverted"),
        "{}",
        payload.message
    );
    assert_eq!(
        payload.as_revert_data().expect("revert data"),
        Bytes::from(revert_data.to_vec())
    );

    let err = provider.estimate_gas(request).await.unwrap_err();
    let payload = err.as_error_resp().expect("a JSON-RPC error");
    assert_eq!(payload.code, 3);
    assert_eq!(
        payload.as_revert_data().unwrap(),
        Bytes::from(revert_data.to_vec())
    );

    // Error(string) reverts are decoded into the message, like geth/Hardhat.
    let mut calldata = vec![0xff];
    calldata.extend_from_slice(&Revert::from("boom").abi_encode());
    let err = provider
        .call(
            TransactionRequest::default()
                .with_to(address)
                .with_input(Bytes::from(calldata)),
        )
        .await
        .unwrap_err();
    let payload = err.as_error_resp().unwrap();
    assert_eq!(payload.code, 3);
    assert_eq!(payload.message, "execution reverted: boom");
    let decoded = Revert::abi_decode(&payload.as_revert_data().unwrap()).unwrap();
    assert_eq!(decoded.reason(), "boom");
}

#[tokio::test]
async fn reverting_transaction_is_mined_with_status_0() {
    let (handle, provider) = setup().await;
    let address = deploy(&provider).await;
    let sender = handle.chain.accounts()[0].address;
    let nonce = provider.get_transaction_count(sender).await.unwrap();
    let balance = provider.get_balance(sender).await.unwrap();
    // An explicit gas limit skips the estimation (which would report the revert).
    let receipt = send(
        &provider,
        TransactionRequest::default()
            .with_to(address)
            .with_input(Bytes::from(vec![0xff, 0x01, 0x02]))
            .with_gas_limit(100_000),
    )
    .await;
    assert!(!receipt.status());
    assert!(receipt.gas_used > 21_000 && receipt.gas_used < 100_000);
    assert_eq!(
        provider.get_transaction_count(sender).await.unwrap(),
        nonce + 1
    );
    let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    assert_eq!(provider.get_balance(sender).await.unwrap(), balance - fee);
    assert!(receipt.inner.logs().is_empty());
}

#[tokio::test]
async fn estimate_gas_is_enough_and_tight() {
    let (_handle, provider) = setup().await;
    let address = deploy(&provider).await;
    let request = TransactionRequest::default()
        .with_to(address)
        .with_input(Bytes::from(B256::from(U256::from(5u64)).to_vec()));
    let estimate = provider.estimate_gas(request.clone()).await.unwrap();
    let receipt = send(&provider, request.with_gas_limit(estimate)).await;
    assert!(receipt.status());
    // A fresh SSTORE refunds nothing: the estimate is exactly what was used.
    assert_eq!(receipt.gas_used, estimate);
}

#[tokio::test]
async fn blockhash_of_past_blocks_is_available() {
    let (_handle, provider) = setup().await;
    let address = deploy(&provider).await;
    provider
        .raw_request::<_, String>("evm_mine".into(), ())
        .await
        .unwrap();
    let latest = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap();
    let out = provider
        .call(
            TransactionRequest::default()
                .with_to(address)
                .with_input(Bytes::from(vec![0xbb])),
        )
        .await
        .unwrap();
    assert_eq!(out.len(), 96);
    // Calls run in the pending block: number = latest + 1, so blockhash(number - 1) = latest.
    assert_eq!(B256::from_slice(&out[..32]), latest.header.hash);
    assert_eq!(
        U256::from_be_slice(&out[32..64]),
        U256::from(latest.header.number + 1)
    );
    assert!(U256::from_be_slice(&out[64..96]) > U256::from(latest.header.timestamp));
    assert_ne!(latest.header.hash, B256::ZERO);
}
