//! eth_getLogs and the polling filters.

use alloy::{
    primitives::{B256, U256},
    providers::Provider,
    rpc::types::{Filter, Log},
};

use crate::{contract::stored_topic, deploy, setup, store};

fn values(logs: &[Log]) -> Vec<U256> {
    logs.iter()
        .map(|l| U256::from_be_bytes(l.topics()[1].0))
        .collect()
}

fn word(v: u64) -> B256 {
    B256::from(U256::from(v))
}

#[tokio::test]
async fn get_logs_returns_exactly_the_matching_logs() {
    let (_handle, provider) = setup().await;
    let a = deploy(&provider).await;
    let b = deploy(&provider).await;
    let first = store(&provider, a, U256::from(1u64)).await;
    store(&provider, a, U256::from(2u64)).await;
    store(&provider, b, U256::from(3u64)).await;

    let all = provider
        .get_logs(
            &Filter::new()
                .from_block(0u64)
                .event_signature(stored_topic()),
        )
        .await
        .unwrap();
    assert_eq!(
        values(&all),
        vec![U256::from(1u64), U256::from(2u64), U256::from(3u64)]
    );

    let only_a = provider
        .get_logs(&Filter::new().from_block(0u64).address(a))
        .await
        .unwrap();
    assert_eq!(values(&only_a), vec![U256::from(1u64), U256::from(2u64)]);
    assert!(only_a.iter().all(|l| l.address() == a));

    let both = provider
        .get_logs(&Filter::new().from_block(0u64).address(vec![a, b]))
        .await
        .unwrap();
    assert_eq!(both.len(), 3);

    let topic = provider
        .get_logs(&Filter::new().from_block(0u64).topic1(word(2)))
        .await
        .unwrap();
    assert_eq!(values(&topic), vec![U256::from(2u64)]);

    let either = provider
        .get_logs(
            &Filter::new()
                .from_block(0u64)
                .topic1(vec![word(1), word(3)]),
        )
        .await
        .unwrap();
    assert_eq!(values(&either), vec![U256::from(1u64), U256::from(3u64)]);

    let none = provider
        .get_logs(&Filter::new().from_block(0u64).address(a).topic1(word(3)))
        .await
        .unwrap();
    assert!(none.is_empty());

    // A single block, by hash, with full metadata.
    let block_hash = first.block_hash.unwrap();
    let at_hash = provider
        .get_logs(&Filter::new().at_block_hash(block_hash))
        .await
        .unwrap();
    assert_eq!(at_hash.len(), 1);
    let log = &at_hash[0];
    assert_eq!(log.block_hash, Some(block_hash));
    assert_eq!(log.block_number, first.block_number);
    assert_eq!(log.transaction_hash, Some(first.transaction_hash));
    assert_eq!(log.transaction_index, Some(0));
    assert_eq!(log.log_index, Some(0));
    assert!(!log.removed);
    assert_eq!(log.topics()[0], stored_topic());

    // A range that excludes the first store.
    let later = provider
        .get_logs(
            &Filter::new()
                .from_block(first.block_number.unwrap() + 1)
                .to_block(100u64),
        )
        .await
        .unwrap();
    assert_eq!(values(&later), vec![U256::from(2u64), U256::from(3u64)]);

    // The receipt's bloom contains the log.
    let receipt_logs = first.inner.logs();
    assert_eq!(receipt_logs.len(), 1);
    assert!(
        first
            .inner
            .logs_bloom()
            .contains_input(alloy::primitives::BloomInput::Raw(a.as_slice()))
    );
}

#[tokio::test]
async fn get_logs_rejects_inverted_ranges() {
    let (_handle, provider) = setup().await;
    for _ in 0..3 {
        provider
            .raw_request::<_, String>("evm_mine".into(), ())
            .await
            .unwrap();
    }
    let err = provider
        .get_logs(&Filter::new().from_block(3u64).to_block(1u64))
        .await
        .unwrap_err();
    let payload = err.as_error_resp().unwrap();
    assert_eq!(payload.code, -32602);
    assert!(
        payload.message.contains("greater than"),
        "{}",
        payload.message
    );
}

#[tokio::test]
async fn polling_filters_report_new_blocks_and_logs_once() {
    let (_handle, provider) = setup().await;
    let a = deploy(&provider).await;
    let log_filter = provider
        .new_filter(&Filter::new().address(a).from_block(0u64))
        .await
        .unwrap();
    let block_filter = provider.new_block_filter().await.unwrap();

    let r1 = store(&provider, a, U256::from(10u64)).await;
    let r2 = store(&provider, a, U256::from(11u64)).await;

    let logs: Vec<Log> = provider.get_filter_changes(log_filter).await.unwrap();
    assert_eq!(values(&logs), vec![U256::from(10u64), U256::from(11u64)]);
    let hashes: Vec<B256> = provider.get_filter_changes(block_filter).await.unwrap();
    assert_eq!(hashes, vec![r1.block_hash.unwrap(), r2.block_hash.unwrap()]);

    // Nothing new since the last poll.
    let logs: Vec<Log> = provider.get_filter_changes(log_filter).await.unwrap();
    assert!(logs.is_empty());
    let hashes: Vec<B256> = provider.get_filter_changes(block_filter).await.unwrap();
    assert!(hashes.is_empty());

    // eth_getFilterLogs returns the whole range again.
    let again: Vec<Log> = provider
        .raw_request("eth_getFilterLogs".into(), (log_filter,))
        .await
        .unwrap();
    assert_eq!(again.len(), 2);

    assert!(provider.uninstall_filter(log_filter).await.unwrap());
    assert!(!provider.uninstall_filter(log_filter).await.unwrap());
    let err = provider
        .get_filter_changes::<Log>(log_filter)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("filter not found"), "{err}");
}
