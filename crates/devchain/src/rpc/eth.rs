//! `eth_*`, `net_*` and `web3_*` methods.

use alloy::{
    consensus::Transaction as _,
    eips::{BlockId, BlockNumberOrTag},
    primitives::{Address, B256, Bytes, U64, U256, keccak256},
    rpc::types::{FeeHistory, Filter, TransactionReceipt, TransactionRequest},
};
use serde_json::{Value, json};

use crate::{
    config::GWEI,
    convert,
    devchain::Devchain,
    error::{Error, Result},
    filters,
    pool::decode_raw,
    state::{ChainState, MinedBlock, Target, TxLocation},
};

use super::{Params, to_value};

/// Most blocks one `eth_feeHistory` covers (geth's limit).
const MAX_FEE_HISTORY_BLOCKS: u64 = 1_024;

/// Most reward percentiles one `eth_feeHistory` may ask for.
const MAX_REWARD_PERCENTILES: usize = 100;

pub(super) fn client_version() -> Value {
    json!(format!(
        "VerityDevchain/v{}/revm/rust",
        env!("CARGO_PKG_VERSION")
    ))
}

pub(super) fn sha3(p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let data: Bytes = p.get(0, "data")?;
    to_value(keccak256(&data))
}

pub(super) fn chain_id(chain: &Devchain) -> Result<Value> {
    to_value(U64::from(chain.chain_id()))
}

pub(super) fn block_number(chain: &Devchain) -> Result<Value> {
    to_value(U64::from(chain.block_number()))
}

pub(super) fn accounts(chain: &Devchain) -> Result<Value> {
    to_value(
        chain
            .accounts()
            .iter()
            .map(|a| a.address)
            .collect::<Vec<_>>(),
    )
}

pub(super) fn coinbase(chain: &Devchain) -> Result<Value> {
    to_value(chain.node().state.coinbase)
}

pub(super) fn gas_price(chain: &Devchain) -> Result<Value> {
    to_value(U256::from(chain.next_base_fee()) + U256::from(GWEI))
}

pub(super) fn max_priority_fee(_chain: &Devchain) -> Result<Value> {
    to_value(U256::from(GWEI))
}

/// `block` parameter at `index`, defaulting to `latest`.
fn target(
    state: &ChainState,
    p: &Params<'_>,
    index: usize,
    default: BlockNumberOrTag,
) -> Result<Target> {
    state.resolve(p.block_id(index)?.unwrap_or(BlockId::Number(default)))
}

pub(super) fn get_balance(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(2)?;
    let address: Address = p.get(0, "address")?;
    let node = chain.node();
    let target = target(&node.state, p, 1, BlockNumberOrTag::Latest)?;
    let view = node.state.state_at(target, node.chain_id)?;
    to_value(ChainState::account(&view, address).balance)
}

pub(super) fn get_transaction_count(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(2)?;
    let address: Address = p.get(0, "address")?;
    let node = chain.node();
    let nonce = match target(&node.state, p, 1, BlockNumberOrTag::Latest)? {
        Target::Pending => node.state.pending_nonce(address),
        target => ChainState::account(&*node.state.state_at(target, node.chain_id)?, address).nonce,
    };
    to_value(U64::from(nonce))
}

pub(super) fn get_code(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(2)?;
    let address: Address = p.get(0, "address")?;
    let node = chain.node();
    let target = target(&node.state, p, 1, BlockNumberOrTag::Latest)?;
    let view = node.state.state_at(target, node.chain_id)?;
    to_value(ChainState::code(&view, address))
}

pub(super) fn get_storage_at(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(3)?;
    let address: Address = p.get(0, "address")?;
    let slot = p.quantity(1, "slot")?;
    let node = chain.node();
    let target = target(&node.state, p, 2, BlockNumberOrTag::Latest)?;
    let view = node.state.state_at(target, node.chain_id)?;
    to_value(B256::from(ChainState::storage(&view, address, slot)))
}

pub(super) fn call(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(4)?;
    let req: TransactionRequest = p.get(0, "transaction")?;
    if p.opt::<Value>(2, "state overrides")?.is_some()
        || p.opt::<Value>(3, "block overrides")?.is_some()
    {
        return Err(Error::params(
            "invalid params for eth_call: state and block overrides are not supported by the devchain",
        ));
    }
    let node = chain.node();
    let target = target(&node.state, p, 1, BlockNumberOrTag::Latest)?;
    to_value(node.state.call(node.chain_id, &req, target)?)
}

pub(super) fn estimate_gas(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(3)?;
    let req: TransactionRequest = p.get(0, "transaction")?;
    if p.opt::<Value>(2, "state overrides")?.is_some() {
        return Err(Error::params(
            "invalid params for eth_estimateGas: state overrides are not supported by the devchain",
        ));
    }
    let node = chain.node();
    // Like Hardhat, estimate against the pending block by default.
    let target = target(&node.state, p, 1, BlockNumberOrTag::Pending)?;
    to_value(U64::from(node.state.estimate_gas(
        node.chain_id,
        &req,
        target,
    )?))
}

pub(super) fn send_raw_transaction(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let raw: Bytes = p.get(0, "transaction")?;
    let ptx = decode_raw(&raw)?;
    to_value(chain.node().submit(ptx)?)
}

pub(super) fn send_transaction(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let req: TransactionRequest = p.get(0, "transaction")?;
    let from = req
        .from
        .ok_or_else(|| Error::params("invalid params for eth_sendTransaction: missing `from`"))?;
    let account = chain
        .account(&from)
        .ok_or_else(|| Error::invalid_tx(format!("Unknown account {from}")))?;
    let mut node = chain.node();
    let ptx = node.state.sign_request(node.chain_id, account, req)?;
    to_value(node.submit(ptx)?)
}

pub(super) fn get_transaction_by_hash(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let hash: B256 = p.get(0, "hash")?;
    let node = chain.node();
    match node.state.find_tx(&hash) {
        Some(TxLocation::Mined(block, index)) => to_value(convert::mined_tx(block, index)),
        Some(TxLocation::Pending(pending)) => to_value(convert::pending_tx(pending)),
        None => Ok(Value::Null),
    }
}

pub(super) fn get_transaction_receipt(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let hash: B256 = p.get(0, "hash")?;
    let node = chain.node();
    match node.state.find_tx(&hash) {
        Some(TxLocation::Mined(block, index)) => to_value(convert::receipt(block, index)),
        _ => Ok(Value::Null),
    }
}

/// The mined block a tag names (`pending` = latest); `None` past the head.
fn block_for_tag(state: &ChainState, tag: BlockNumberOrTag) -> Option<&MinedBlock> {
    let number = match tag {
        BlockNumberOrTag::Number(n) => n,
        tag => state.resolve_number(tag).ok()?,
    };
    state.block(number).map(AsRef::as_ref)
}

pub(super) fn get_block_by_number(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(2)?;
    let tag = p.block_tag(0)?;
    let full: bool = p.opt(1, "full transactions")?.unwrap_or(false);
    let node = chain.node();
    match block_for_tag(&node.state, tag) {
        Some(block) => to_value(convert::block(block, full)),
        None => Ok(Value::Null),
    }
}

pub(super) fn get_block_by_hash(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(2)?;
    let hash: B256 = p.get(0, "hash")?;
    let full: bool = p.opt(1, "full transactions")?.unwrap_or(false);
    let node = chain.node();
    match node.state.block_by_hash(&hash) {
        Some(block) => to_value(convert::block(block, full)),
        None => Ok(Value::Null),
    }
}

fn count(block: Option<&MinedBlock>) -> Result<Value> {
    match block {
        Some(block) => to_value(U64::from(block.txs.len())),
        None => Ok(Value::Null),
    }
}

pub(super) fn block_tx_count_by_number(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let tag = p.block_tag(0)?;
    let node = chain.node();
    count(block_for_tag(&node.state, tag))
}

pub(super) fn block_tx_count_by_hash(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let hash: B256 = p.get(0, "hash")?;
    let node = chain.node();
    count(node.state.block_by_hash(&hash).map(AsRef::as_ref))
}

fn tx_at(block: Option<&MinedBlock>, index: u64) -> Result<Value> {
    match block {
        Some(block) if (index as usize) < block.txs.len() => {
            to_value(convert::mined_tx(block, index as usize))
        }
        _ => Ok(Value::Null),
    }
}

pub(super) fn tx_by_block_number_and_index(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(2)?;
    let tag = p.block_tag(0)?;
    let index = p.u64(1, "index")?;
    let node = chain.node();
    tx_at(block_for_tag(&node.state, tag), index)
}

pub(super) fn tx_by_block_hash_and_index(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(2)?;
    let hash: B256 = p.get(0, "hash")?;
    let index = p.u64(1, "index")?;
    let node = chain.node();
    tx_at(node.state.block_by_hash(&hash).map(AsRef::as_ref), index)
}

pub(super) fn get_block_receipts(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let node = chain.node();
    let block = match p.block_id(0)? {
        Some(BlockId::Hash(hash)) => node
            .state
            .block_by_hash(&hash.block_hash)
            .map(AsRef::as_ref),
        Some(BlockId::Number(tag)) => block_for_tag(&node.state, tag),
        None => {
            return Err(Error::params(
                "invalid params for eth_getBlockReceipts: missing block",
            ));
        }
    };
    match block {
        Some(block) => to_value(
            (0..block.txs.len())
                .map(|i| convert::receipt(block, i))
                .collect::<Vec<TransactionReceipt>>(),
        ),
        None => Ok(Value::Null),
    }
}

pub(super) fn fee_history(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(3)?;
    let requested = p.u64(0, "blockCount")?;
    let newest = p.block_tag(1)?;
    let percentiles: Vec<f64> = p.opt(2, "rewardPercentiles")?.unwrap_or_default();
    if percentiles.len() > MAX_REWARD_PERCENTILES {
        return Err(Error::params(format!(
            "invalid params for eth_feeHistory: at most {MAX_REWARD_PERCENTILES} reward percentiles"
        )));
    }
    let mut previous = 0.0;
    for &pct in &percentiles {
        if !(0.0..=100.0).contains(&pct) || pct < previous {
            return Err(Error::params(format!(
                "invalid params for eth_feeHistory: reward percentiles must be ascending and in \
                 [0, 100], got {percentiles:?}"
            )));
        }
        previous = pct;
    }
    let node = chain.node();
    let state = &node.state;
    let newest = match newest {
        BlockNumberOrTag::Number(n) if n > state.latest_number() => state.latest_number(),
        tag => state.resolve_number(tag)?,
    };
    let count = requested.min(MAX_FEE_HISTORY_BLOCKS).min(newest + 1);
    if count == 0 {
        return to_value(FeeHistory {
            oldest_block: newest,
            ..FeeHistory::default()
        });
    }
    let oldest = newest + 1 - count;
    let mut history = FeeHistory {
        oldest_block: oldest,
        reward: (!percentiles.is_empty()).then(Vec::new),
        ..FeeHistory::default()
    };
    for number in oldest..=newest {
        let block = state.block(number).expect("numbers up to the head exist");
        let base_fee = block.header.base_fee_per_gas.unwrap_or_default();
        history.base_fee_per_gas.push(u128::from(base_fee));
        history
            .gas_used_ratio
            .push(block.header.gas_used as f64 / block.header.gas_limit.max(1) as f64);
        history.base_fee_per_blob_gas.push(1);
        history.blob_gas_used_ratio.push(0.0);
        if let Some(rewards) = &mut history.reward {
            rewards.push(block_rewards(block, base_fee, &percentiles));
        }
    }
    let next_base_fee = match state.block(newest + 1) {
        Some(next) => next.header.base_fee_per_gas.unwrap_or_default(),
        None => state.next_block_base_fee(),
    };
    history.base_fee_per_gas.push(u128::from(next_base_fee));
    history.base_fee_per_blob_gas.push(1);
    to_value(history)
}

/// Effective priority fees at `percentiles` of a block's gas (geth's algorithm).
fn block_rewards(block: &MinedBlock, base_fee: u64, percentiles: &[f64]) -> Vec<u128> {
    if block.txs.is_empty() {
        return vec![0; percentiles.len()];
    }
    let mut tips: Vec<(u128, u64)> = block
        .txs
        .iter()
        .map(|t| {
            (
                t.tx.effective_tip_per_gas(base_fee).unwrap_or_default(),
                t.gas_used,
            )
        })
        .collect();
    tips.sort_unstable_by_key(|(tip, _)| *tip);
    let total: u64 = tips.iter().map(|(_, gas)| gas).sum();
    percentiles
        .iter()
        .map(|pct| {
            let threshold = (total as f64 * pct / 100.0) as u64;
            let mut sum = 0u64;
            for (tip, gas) in &tips {
                sum += gas;
                if sum >= threshold {
                    return *tip;
                }
            }
            tips.last().map(|(tip, _)| *tip).unwrap_or_default()
        })
        .collect()
}

pub(super) fn get_logs(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let filter: Filter = p.get(0, "filter")?;
    let node = chain.node();
    to_value(filters::get_logs(&node.state, &filter)?)
}

pub(super) fn new_filter(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let filter: Filter = p.get(0, "filter")?;
    let mut node = chain.node();
    let node = &mut *node;
    to_value(node.filters.new_log_filter(filter, &node.state)?)
}

pub(super) fn new_block_filter(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(0)?;
    let mut node = chain.node();
    let node = &mut *node;
    to_value(node.filters.new_block_filter(&node.state)?)
}

pub(super) fn new_pending_tx_filter(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let mut node = chain.node();
    let node = &mut *node;
    to_value(node.filters.new_pending_tx_filter(&node.state)?)
}

pub(super) fn get_filter_changes(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let id = p.quantity(0, "filter id")?;
    let mut node = chain.node();
    let node = &mut *node;
    to_value(node.filters.changes(id, &node.state)?)
}

pub(super) fn get_filter_logs(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let id = p.quantity(0, "filter id")?;
    let mut node = chain.node();
    let node = &mut *node;
    to_value(node.filters.logs(id, &node.state)?)
}

pub(super) fn uninstall_filter(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let id = p.quantity(0, "filter id")?;
    to_value(chain.node().filters.uninstall(id))
}
