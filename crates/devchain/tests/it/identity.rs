//! The chain looks like Hardhat's default network.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{U256, address},
    providers::Provider,
};

use crate::setup;

#[tokio::test]
async fn chain_id_and_accounts_are_hardhats() {
    let (handle, provider) = setup().await;
    assert_eq!(provider.get_chain_id().await.unwrap(), 31337);
    let net_version: String = provider
        .raw_request("net_version".into(), ())
        .await
        .unwrap();
    assert_eq!(net_version, "31337");

    let accounts = provider.get_accounts().await.unwrap();
    assert_eq!(accounts.len(), 10);
    assert_eq!(
        accounts[0],
        address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
    );
    assert_eq!(
        accounts[1],
        address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    );
    assert_eq!(
        accounts[9],
        address!("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720")
    );
    let expected: Vec<_> = handle.chain.accounts().iter().map(|a| a.address).collect();
    assert_eq!(accounts, expected);

    let ten_thousand_eth = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64));
    for account in &accounts {
        assert_eq!(
            provider.get_balance(*account).await.unwrap(),
            ten_thousand_eth
        );
    }
    assert_eq!(provider.get_block_number().await.unwrap(), 0);
}

#[tokio::test]
async fn genesis_block_is_well_formed() {
    let (_handle, provider) = setup().await;
    let genesis = provider
        .get_block_by_number(BlockNumberOrTag::Earliest)
        .await
        .unwrap()
        .expect("genesis exists");
    assert_eq!(genesis.header.number, 0);
    assert_eq!(genesis.header.base_fee_per_gas, Some(1_000_000_000));
    assert_eq!(genesis.header.gas_limit, 30_000_000);
    assert_eq!(genesis.header.hash, genesis.header.inner.hash_slow());
    let by_hash = provider
        .get_block_by_hash(genesis.header.hash)
        .await
        .unwrap()
        .expect("found by hash");
    assert_eq!(by_hash.header.hash, genesis.header.hash);
    // Past the head there is no block.
    assert!(
        provider
            .get_block_by_number(BlockNumberOrTag::Number(5))
            .await
            .unwrap()
            .is_none()
    );
    let client: String = provider.get_client_version().await.unwrap();
    assert!(client.starts_with("VerityDevchain/"), "{client}");
}
