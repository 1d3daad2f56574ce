//! Value transfers and fee accounting.

use alloy::{
    consensus::TxType,
    eips::BlockNumberOrTag,
    network::TransactionBuilder,
    primitives::{B256, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use verity_devchain::DEFAULT_COINBASE;

use crate::{send, setup};

const ONE_ETH: u64 = 1_000_000_000_000_000_000;

#[tokio::test]
async fn transfer_moves_value_plus_gas_used_times_effective_price() {
    let (handle, provider) = setup().await;
    let from = handle.chain.accounts()[0].address;
    let to = handle.chain.accounts()[5].address;
    let value = U256::from(ONE_ETH);
    let from_before = provider.get_balance(from).await.unwrap();
    let to_before = provider.get_balance(to).await.unwrap();
    let coinbase_before = provider.get_balance(DEFAULT_COINBASE).await.unwrap();

    let receipt = send(
        &provider,
        TransactionRequest::default().with_to(to).with_value(value),
    )
    .await;
    assert!(receipt.status());
    assert_eq!(receipt.gas_used, 21_000);
    assert_eq!(receipt.inner.tx_type(), TxType::Eip1559);
    assert_eq!(receipt.from, from);
    assert_eq!(receipt.to, Some(to));
    assert_eq!(receipt.block_number, Some(1));
    assert_eq!(receipt.transaction_index, Some(0));

    let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    let from_after = provider.get_balance(from).await.unwrap();
    assert_eq!(from_before - from_after, value + fee);
    assert_eq!(provider.get_balance(to).await.unwrap() - to_before, value);

    // Base fee burned, tip to the coinbase.
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .full()
        .await
        .unwrap()
        .unwrap();
    let base_fee = block.header.base_fee_per_gas.unwrap();
    assert_eq!(
        base_fee, 875_000_000,
        "EIP-1559 update after an empty genesis"
    );
    let tip = receipt.effective_gas_price - u128::from(base_fee);
    assert_eq!(
        provider.get_balance(DEFAULT_COINBASE).await.unwrap() - coinbase_before,
        U256::from(tip) * U256::from(receipt.gas_used)
    );
    assert_eq!(block.header.gas_used, 21_000);
    assert_eq!(block.transactions.len(), 1);
    let txs = block
        .transactions
        .as_transactions()
        .expect("full transactions");
    assert_eq!(txs[0].inner.tx_hash(), &receipt.transaction_hash);
    assert_eq!(block.header.hash, block.header.inner.hash_slow());

    // The transaction as eth_getTransactionByHash returns it.
    let tx = provider
        .get_transaction_by_hash(receipt.transaction_hash)
        .await
        .unwrap()
        .expect("mined transaction");
    assert_eq!(tx.block_number, Some(1));
    assert_eq!(tx.block_hash, Some(block.header.hash));
    assert_eq!(tx.inner.signer(), from);
    assert_eq!(provider.get_transaction_count(from).await.unwrap(), 1);
}

#[tokio::test]
async fn unlocked_accounts_send_with_eth_send_transaction() {
    let (handle, provider) = setup().await;
    let from = handle.chain.accounts()[3].address;
    let to = handle.chain.accounts()[4].address;
    let tx = TransactionRequest::default()
        .with_from(from)
        .with_to(to)
        .with_value(U256::from(7u64));
    let hash: B256 = provider
        .raw_request("eth_sendTransaction".into(), (tx,))
        .await
        .unwrap();
    let receipt = provider
        .get_transaction_receipt(hash)
        .await
        .unwrap()
        .expect("automine mined it");
    assert!(receipt.status());
    assert_eq!(receipt.from, from);
    assert_eq!(provider.get_transaction_count(from).await.unwrap(), 1);

    // Unknown accounts are refused.
    let stranger = TransactionRequest::default()
        .with_from(alloy::primitives::Address::repeat_byte(0x42))
        .with_to(to);
    let err = provider
        .raw_request::<_, B256>("eth_sendTransaction".into(), (stranger,))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Unknown account"), "{err}");
}

#[tokio::test]
async fn legacy_and_access_list_transactions_are_accepted() {
    let (handle, provider) = setup().await;
    let to = handle.chain.accounts()[2].address;
    let gas_price = provider.get_gas_price().await.unwrap();
    let legacy = send(
        &provider,
        TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(1u64))
            .with_gas_price(gas_price),
    )
    .await;
    assert_eq!(legacy.inner.tx_type(), TxType::Legacy);
    assert_eq!(legacy.effective_gas_price, gas_price);

    let eip2930 = send(
        &provider,
        TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(1u64))
            .with_gas_price(gas_price)
            .with_access_list(Default::default()),
    )
    .await;
    assert_eq!(eip2930.inner.tx_type(), TxType::Eip2930);
    assert!(eip2930.status());
}

#[tokio::test]
async fn fee_history_and_gas_price_follow_the_base_fee() {
    let (handle, provider) = setup().await;
    let to = handle.chain.accounts()[1].address;
    for _ in 0..3 {
        send(
            &provider,
            TransactionRequest::default()
                .with_to(to)
                .with_value(U256::from(1u64)),
        )
        .await;
    }
    let history = provider
        .get_fee_history(4, BlockNumberOrTag::Latest, &[25.0, 75.0])
        .await
        .unwrap();
    assert_eq!(history.oldest_block, 0);
    assert_eq!(history.base_fee_per_gas.len(), 5);
    assert_eq!(history.gas_used_ratio.len(), 4);
    assert_eq!(history.base_fee_per_gas[0], 1_000_000_000);
    let next = handle.chain.next_base_fee();
    assert_eq!(*history.base_fee_per_gas.last().unwrap(), u128::from(next));
    let rewards = history.reward.expect("rewards were asked for");
    assert_eq!(rewards.len(), 4);
    assert_eq!(rewards[0], vec![0, 0], "genesis is empty");
    assert!(rewards[1].iter().all(|r| *r > 0));

    let gas_price = provider.get_gas_price().await.unwrap();
    assert_eq!(gas_price, u128::from(next) + 1_000_000_000);
    let tip = provider.get_max_priority_fee_per_gas().await.unwrap();
    assert_eq!(tip, 1_000_000_000);
}

#[tokio::test]
async fn priced_estimate_is_capped_by_what_the_sender_can_pay() {
    let (handle, provider) = setup().await;
    let poor = alloy::primitives::Address::repeat_byte(0x77);
    let price = 10_000_000_000u128;
    let balance = U256::from(21_000u64) * U256::from(price) + U256::from(1u64);
    handle.chain.set_balance(poor, balance);
    let request = TransactionRequest::default()
        .with_from(poor)
        .with_to(handle.chain.accounts()[1].address)
        .with_value(U256::from(1u64))
        .with_max_fee_per_gas(price)
        .with_max_priority_fee_per_gas(1);
    assert_eq!(
        provider.estimate_gas(request.clone()).await.unwrap(),
        21_000
    );
    // One wei less and the transfer cannot be paid for.
    handle.chain.set_balance(poor, balance - U256::from(1u64));
    let err = provider.estimate_gas(request).await.unwrap_err();
    assert!(err.to_string().contains("allowance"), "{err}");
}
