//! Stored chain data → alloy RPC types (so the wire format is exactly what alloy parses).

use alloy::{
    consensus::{Sealed, Transaction as _},
    primitives::U256,
    rpc::types::{Block, BlockTransactions, Header, Log, Transaction, TransactionReceipt},
};

use crate::state::{MinedBlock, PendingTx};

/// A mined block as `eth_getBlockBy*` returns it.
pub(crate) fn block(block: &MinedBlock, full: bool) -> Block {
    let header = Header::from_consensus(
        Sealed::new_unchecked(block.header.clone(), block.hash),
        None,
        Some(U256::from(block.size)),
    );
    let transactions = if full {
        BlockTransactions::Full((0..block.txs.len()).map(|i| mined_tx(block, i)).collect())
    } else {
        BlockTransactions::Hashes(block.txs.iter().map(|t| t.hash).collect())
    };
    Block::new(header, transactions).with_withdrawals(Some(Default::default()))
}

/// Transaction `index` of a mined block.
pub(crate) fn mined_tx(block: &MinedBlock, index: usize) -> Transaction {
    let mined = &block.txs[index];
    Transaction {
        inner: mined.tx.clone(),
        block_hash: Some(block.hash),
        block_number: Some(block.header.number),
        transaction_index: Some(index as u64),
        effective_gas_price: Some(mined.effective_gas_price),
        block_timestamp: Some(block.header.timestamp),
    }
}

/// A transaction still in the pending pool.
pub(crate) fn pending_tx(pending: &PendingTx) -> Transaction {
    Transaction {
        inner: pending.tx.clone(),
        block_hash: None,
        block_number: None,
        transaction_index: None,
        effective_gas_price: None,
        block_timestamp: None,
    }
}

/// Logs of transaction `index` of a mined block, with their metadata.
pub(crate) fn tx_logs(block: &MinedBlock, index: usize) -> Vec<Log> {
    let mined = &block.txs[index];
    mined
        .receipt
        .logs()
        .iter()
        .enumerate()
        .map(|(i, log)| Log {
            inner: log.clone(),
            block_hash: Some(block.hash),
            block_number: Some(block.header.number),
            block_timestamp: Some(block.header.timestamp),
            transaction_hash: Some(mined.hash),
            transaction_index: Some(index as u64),
            log_index: Some(mined.first_log_index + i as u64),
            removed: false,
        })
        .collect()
}

/// Receipt of transaction `index` of a mined block.
pub(crate) fn receipt(block: &MinedBlock, index: usize) -> TransactionReceipt {
    let mined = &block.txs[index];
    let logs = tx_logs(block, index);
    let mut logs = logs.into_iter();
    let inner = mined
        .receipt
        .clone()
        .map_logs(|_| logs.next().expect("one rpc log per receipt log"));
    TransactionReceipt {
        inner,
        transaction_hash: mined.hash,
        transaction_index: Some(index as u64),
        block_hash: Some(block.hash),
        block_number: Some(block.header.number),
        gas_used: mined.gas_used,
        effective_gas_price: mined.effective_gas_price,
        blob_gas_used: None,
        blob_gas_price: None,
        from: mined.tx.signer(),
        to: mined.tx.to(),
        contract_address: mined.contract_address,
    }
}
