//! Time, mining and snapshot controls (Hardhat names and alloy's AnvilApi).

use alloy::{
    eips::BlockNumberOrTag,
    network::TransactionBuilder,
    primitives::{U64, U256},
    providers::{Provider, ext::AnvilApi},
    rpc::types::TransactionRequest,
};

use crate::{send, setup};

async fn latest_timestamp(provider: &impl Provider) -> u64 {
    provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp
}

#[tokio::test]
async fn increase_time_moves_the_next_block_timestamp() {
    let (_handle, provider) = setup().await;
    let before = latest_timestamp(&provider).await;
    let offset: i64 = provider
        .raw_request("evm_increaseTime".into(), (3600,))
        .await
        .unwrap();
    assert_eq!(offset, 3600);
    // alloy's AnvilApi sends a hex quantity and parses the answer as a number.
    assert_eq!(provider.anvil_increase_time(60).await.unwrap(), 3660);
    provider.evm_mine(None).await.unwrap();
    let after = latest_timestamp(&provider).await;
    assert!(after >= before + 3660, "{after} < {before} + 3660");
    assert!(after < before + 3660 + 60, "clock ran away: {after}");
}

#[tokio::test]
async fn next_block_timestamp_is_exact_and_timestamps_strictly_increase() {
    let (_handle, provider) = setup().await;
    let target = latest_timestamp(&provider).await + 10_000;
    provider
        .anvil_set_next_block_timestamp(target)
        .await
        .unwrap();
    provider.evm_mine(None).await.unwrap();
    assert_eq!(latest_timestamp(&provider).await, target);

    // A timestamp in the past is refused.
    let err = provider
        .anvil_set_next_block_timestamp(target - 5)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("lower than or equal"), "{err}");

    // evm_mine with a timestamp (Hardhat's form).
    provider
        .raw_request::<_, String>("evm_mine".into(), (target + 50,))
        .await
        .unwrap();
    assert_eq!(latest_timestamp(&provider).await, target + 50);

    // Quick blocks still get strictly increasing timestamps.
    let mut previous = latest_timestamp(&provider).await;
    for _ in 0..5 {
        provider.evm_mine(None).await.unwrap();
        let ts = latest_timestamp(&provider).await;
        assert!(ts > previous, "{ts} <= {previous}");
        previous = ts;
    }

    // hardhat_mine / anvil_mine mine several blocks `interval` seconds apart.
    let number = provider.get_block_number().await.unwrap();
    let start = latest_timestamp(&provider).await;
    let done: bool = provider
        .raw_request("hardhat_mine".into(), (U64::from(3), U64::from(100)))
        .await
        .unwrap();
    assert!(done);
    assert_eq!(provider.get_block_number().await.unwrap(), number + 3);
    assert!(latest_timestamp(&provider).await >= start + 201);
    provider.anvil_mine(Some(2), None).await.unwrap();
    assert_eq!(provider.get_block_number().await.unwrap(), number + 5);
}

/// With `allow_same_timestamp`, quick blocks keep the parent's timestamp while the wall clock
/// has not caught up (here: genesis a minute in the future), instead of each adding a second;
/// a forced timestamp still has to move forward.
#[tokio::test]
async fn same_timestamp_blocks_do_not_run_the_clock_ahead() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let genesis = now + 60;
    let (handle, provider) = crate::setup_with(verity_devchain::DevchainConfig {
        genesis_timestamp: Some(genesis),
        allow_same_timestamp: true,
        ..Default::default()
    })
    .await;
    let to = handle.chain.accounts()[1].address;
    for _ in 0..3 {
        let r = send(
            &provider,
            TransactionRequest::default()
                .with_to(to)
                .with_value(U256::from(1u64)),
        )
        .await;
        assert!(r.status());
        assert_eq!(latest_timestamp(&provider).await, genesis);
    }
    provider.evm_mine(None).await.unwrap();
    assert_eq!(provider.get_block_number().await.unwrap(), 4);
    assert_eq!(latest_timestamp(&provider).await, genesis);
    let err = provider
        .anvil_set_next_block_timestamp(genesis)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("lower than or equal"), "{err}");

    // The same chain without the option: each quick block is a second after its parent.
    let (_handle, strict) = crate::setup_with(verity_devchain::DevchainConfig {
        genesis_timestamp: Some(genesis),
        ..Default::default()
    })
    .await;
    for i in 1..=3 {
        strict.evm_mine(None).await.unwrap();
        assert_eq!(latest_timestamp(&strict).await, genesis + i);
    }
}

#[tokio::test]
async fn automine_off_puts_two_transactions_in_one_block() {
    let (handle, provider) = setup().await;
    let to = handle.chain.accounts()[1].address;
    let ok: bool = provider
        .raw_request("evm_setAutomine".into(), (false,))
        .await
        .unwrap();
    assert!(ok);
    assert!(!provider.anvil_get_auto_mine().await.unwrap());
    let start = provider.get_block_number().await.unwrap();

    let tx = || {
        TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(1u64))
    };
    let first = provider.send_transaction(tx()).await.unwrap();
    let second = provider.send_transaction(tx()).await.unwrap();
    let (h1, h2) = (*first.tx_hash(), *second.tx_hash());
    assert_ne!(h1, h2);
    assert!(
        provider
            .get_transaction_receipt(h1)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(provider.get_block_number().await.unwrap(), start);
    // Pending transactions are visible, without a block.
    let pending = provider.get_transaction_by_hash(h2).await.unwrap().unwrap();
    assert_eq!(pending.block_number, None);
    assert_eq!(handle.chain.pending_count(), 2);

    let mined: String = provider.raw_request("evm_mine".into(), ()).await.unwrap();
    assert_eq!(mined, "0x0");
    let r1 = first.get_receipt().await.unwrap();
    let r2 = second.get_receipt().await.unwrap();
    assert_eq!(r1.block_number, Some(start + 1));
    assert_eq!(r2.block_number, r1.block_number);
    assert_eq!(r1.transaction_index, Some(0));
    assert_eq!(r2.transaction_index, Some(1));
    assert_eq!(r2.inner.cumulative_gas_used(), 42_000);
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        block.transactions.hashes().collect::<Vec<_>>(),
        vec![h1, h2]
    );

    provider.anvil_set_auto_mine(true).await.unwrap();
    let receipt = send(&provider, tx()).await;
    assert_eq!(receipt.block_number, Some(start + 2));
}

#[tokio::test]
async fn snapshot_and_revert_restore_balances_and_block_number() {
    let (handle, provider) = setup().await;
    let from = handle.chain.accounts()[0].address;
    let to = handle.chain.accounts()[1].address;
    let balance = provider.get_balance(from).await.unwrap();
    let number = provider.get_block_number().await.unwrap();

    let id: U256 = provider
        .raw_request("evm_snapshot".into(), ())
        .await
        .unwrap();
    send(
        &provider,
        TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(5u64)),
    )
    .await;
    provider.evm_mine(None).await.unwrap();
    assert_ne!(provider.get_balance(from).await.unwrap(), balance);
    assert_eq!(provider.get_block_number().await.unwrap(), number + 2);

    let reverted: bool = provider
        .raw_request("evm_revert".into(), (id,))
        .await
        .unwrap();
    assert!(reverted);
    assert_eq!(provider.get_balance(from).await.unwrap(), balance);
    assert_eq!(provider.get_block_number().await.unwrap(), number);
    assert_eq!(provider.get_transaction_count(from).await.unwrap(), 0);
    // A snapshot can be used once.
    assert!(!provider.anvil_revert(id).await.unwrap());

    // The chain goes on from the restored state, through alloy's AnvilApi too. (alloy's
    // default nonce filler caches nonces: after a revert, use a fresh provider.)
    let provider = crate::provider(&handle);
    let id = provider.anvil_snapshot().await.unwrap();
    let receipt = send(
        &provider,
        TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(1u64)),
    )
    .await;
    assert_eq!(receipt.block_number, Some(number + 1));
    assert!(provider.anvil_revert(id).await.unwrap());
    assert!(
        provider
            .get_transaction_receipt(receipt.transaction_hash)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn set_balance_code_nonce_and_storage() {
    let (_handle, provider) = setup().await;
    let who = alloy::primitives::Address::repeat_byte(0x11);
    let ok: bool = provider
        .raw_request("hardhat_setBalance".into(), (who, "0x1000"))
        .await
        .unwrap();
    assert!(ok);
    assert_eq!(provider.get_balance(who).await.unwrap(), U256::from(0x1000));
    provider
        .anvil_set_balance(who, U256::from(7u64))
        .await
        .unwrap();
    assert_eq!(provider.get_balance(who).await.unwrap(), U256::from(7u64));

    provider.anvil_set_nonce(who, 9).await.unwrap();
    assert_eq!(provider.get_transaction_count(who).await.unwrap(), 9);

    let code = alloy::primitives::Bytes::from(crate::contract::runtime());
    provider.anvil_set_code(who, code.clone()).await.unwrap();
    assert_eq!(provider.get_code_at(who).await.unwrap(), code);

    let set = provider
        .anvil_set_storage_at(who, U256::ZERO, alloy::primitives::B256::with_last_byte(42))
        .await
        .unwrap();
    assert!(set);
    // The installed code reads slot 0.
    let out = provider
        .call(TransactionRequest::default().with_to(who))
        .await
        .unwrap();
    assert_eq!(U256::from_be_slice(&out), U256::from(42u64));
}

#[tokio::test]
async fn interval_mining_mines_pending_transactions() {
    let cfg = verity_devchain::DevchainConfig {
        block_time: Some(std::time::Duration::from_millis(200)),
        ..Default::default()
    };
    let (handle, provider) = crate::setup_with(cfg).await;
    assert!(!handle.chain.automine());
    let to = handle.chain.accounts()[1].address;
    let pending = provider
        .send_transaction(
            TransactionRequest::default()
                .with_to(to)
                .with_value(U256::from(1u64)),
        )
        .await
        .unwrap();
    let hash = *pending.tx_hash();
    let from = handle.chain.accounts()[0].address;
    let nonce = provider
        .get_transaction_count(from)
        .pending()
        .await
        .unwrap();
    let receipt = tokio::time::timeout(std::time::Duration::from_secs(10), pending.get_receipt())
        .await
        .expect("mined within the timeout")
        .unwrap();
    // Queued or already mined, the next nonce is 1 either way.
    assert_eq!(nonce, 1);
    assert_eq!(receipt.transaction_hash, hash);
    assert!(receipt.status());
    // Empty blocks keep coming.
    let number = provider.get_block_number().await.unwrap();
    crate::poll_until(
        "an empty block after the transaction's",
        std::time::Duration::from_secs(10),
        std::time::Duration::from_millis(50),
        || async { provider.get_block_number().await.unwrap() > number },
    )
    .await;
}

#[tokio::test]
async fn mining_many_blocks_keeps_blockhash_and_history_working() {
    let (_handle, provider) = setup().await;
    let contract = crate::deploy(&provider).await;
    // How fast this is belongs in a bench; the test checks what mining leaves behind.
    provider.anvil_mine(Some(2_000), None).await.unwrap();
    let latest = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.header.number, 2_001);
    let parent = provider
        .get_block_by_hash(latest.header.parent_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parent.header.number, 2_000);
    assert_eq!(parent.header.state_root, latest.header.state_root);
    let out = provider
        .call(
            TransactionRequest::default()
                .with_to(contract)
                .with_input(alloy::primitives::Bytes::from(vec![0xbb])),
        )
        .await
        .unwrap();
    assert_eq!(&out[..32], latest.header.hash.as_slice());
    // A call at a recent past block sees that block's environment.
    let at_parent = provider
        .call(
            TransactionRequest::default()
                .with_to(contract)
                .with_input(alloy::primitives::Bytes::from(vec![0xbb])),
        )
        .block(alloy::eips::BlockId::number(2_000))
        .await
        .unwrap();
    assert_eq!(
        U256::from_be_slice(&at_parent[32..64]),
        U256::from(2_000u64)
    );
    assert_eq!(
        &at_parent[..32],
        provider
            .get_block_by_number(BlockNumberOrTag::Number(1_999))
            .await
            .unwrap()
            .unwrap()
            .header
            .hash
            .as_slice()
    );
    // Too old a state is refused with an explanation.
    let err = provider
        .get_balance(contract)
        .block_id(alloy::eips::BlockId::number(5))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no longer available"), "{err}");
}

/// The pending block's state is cached between calls and extended as the pool grows: each
/// read sees exactly the pool so far, a direct write under a non-empty pool is not hidden by
/// the cache, and mining hands over to the mined state.
#[tokio::test]
async fn pending_state_follows_the_pool_and_direct_writes() {
    let (handle, provider) = setup().await;
    let to = handle.chain.accounts()[1].address;
    let pending_balance = || async {
        provider
            .get_balance(to)
            .block_id(BlockNumberOrTag::Pending.into())
            .await
            .unwrap()
    };
    provider.anvil_set_auto_mine(false).await.unwrap();
    let start = provider.get_balance(to).await.unwrap();
    let pay = |wei: u64| {
        TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(wei))
    };

    let first = provider.send_transaction(pay(1)).await.unwrap();
    assert_eq!(pending_balance().await, start + U256::from(1u64));
    // Read twice: the cached state is not applied twice.
    assert_eq!(pending_balance().await, start + U256::from(1u64));
    let _second = provider.send_transaction(pay(10)).await.unwrap();
    assert_eq!(pending_balance().await, start + U256::from(11u64));
    assert_eq!(provider.get_balance(to).await.unwrap(), start);

    // A direct write to the latest state shows through the pool.
    let set = U256::from(1_000_000u64);
    provider.anvil_set_balance(to, set).await.unwrap();
    assert_eq!(pending_balance().await, set + U256::from(11u64));

    provider.evm_mine(None).await.unwrap();
    first.get_receipt().await.unwrap();
    assert_eq!(handle.chain.pending_count(), 0);
    assert_eq!(
        provider.get_balance(to).await.unwrap(),
        set + U256::from(11u64)
    );
    let _third = provider.send_transaction(pay(100)).await.unwrap();
    assert_eq!(pending_balance().await, set + U256::from(111u64));
}
