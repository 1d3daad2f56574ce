//! JSON-RPC 2.0: envelopes (single and batch) and method dispatch.

mod dev;
mod eth;
mod params;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::{
    devchain::Devchain,
    error::{Error, Result, code},
};

use dev::Flavor;
pub(crate) use params::Params;

/// Most requests in one batch.
pub(crate) const MAX_BATCH: usize = 100;

/// Every method the devchain answers, for the docs and the `-32601` check.
pub(crate) const METHODS: &[&str] = &[
    "web3_clientVersion",
    "web3_sha3",
    "net_version",
    "net_listening",
    "net_peerCount",
    "eth_chainId",
    "eth_blockNumber",
    "eth_accounts",
    "eth_coinbase",
    "eth_mining",
    "eth_hashrate",
    "eth_syncing",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_blobBaseFee",
    "eth_feeHistory",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_call",
    "eth_estimateGas",
    "eth_sendRawTransaction",
    "eth_sendTransaction",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_getTransactionByBlockHashAndIndex",
    "eth_getTransactionByBlockNumberAndIndex",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBlockTransactionCountByNumber",
    "eth_getBlockTransactionCountByHash",
    "eth_getBlockReceipts",
    "eth_getLogs",
    "eth_newFilter",
    "eth_newBlockFilter",
    "eth_newPendingTransactionFilter",
    "eth_getFilterChanges",
    "eth_getFilterLogs",
    "eth_uninstallFilter",
    "evm_mine",
    "evm_increaseTime",
    "evm_setNextBlockTimestamp",
    "evm_setTime",
    "evm_snapshot",
    "evm_revert",
    "evm_setAutomine",
    "evm_setBlockGasLimit",
    "hardhat_mine",
    "hardhat_getAutomine",
    "hardhat_setBalance",
    "hardhat_setNonce",
    "hardhat_setCode",
    "hardhat_setStorageAt",
    "hardhat_setNextBlockBaseFeePerGas",
    "hardhat_setCoinbase",
    "anvil_mine",
    "anvil_getAutomine",
    "anvil_setAutomine",
    "anvil_setBalance",
    "anvil_setNonce",
    "anvil_setCode",
    "anvil_setStorageAt",
    "anvil_setNextBlockBaseFeePerGas",
    "anvil_setCoinbase",
];

/// Serializes a result.
pub(crate) fn to_value<T: Serialize>(value: T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(format!("cannot serialize: {e}")))
}

/// Calls one method.
pub(crate) fn dispatch(chain: &Devchain, method: &str, params: Value) -> Result<Value> {
    let p = Params::new(method, params)?;
    let p = &p;
    match method {
        "web3_clientVersion" => Ok(eth::client_version()),
        "web3_sha3" => eth::sha3(p),
        "net_version" => Ok(json!(chain.chain_id().to_string())),
        "net_listening" => Ok(json!(true)),
        "net_peerCount" => Ok(json!("0x0")),
        "eth_chainId" => eth::chain_id(chain),
        "eth_blockNumber" => eth::block_number(chain),
        "eth_accounts" => eth::accounts(chain),
        "eth_coinbase" => eth::coinbase(chain),
        "eth_mining" | "eth_syncing" => Ok(json!(false)),
        "eth_hashrate" => Ok(json!("0x0")),
        "eth_gasPrice" => eth::gas_price(chain),
        "eth_maxPriorityFeePerGas" => eth::max_priority_fee(chain),
        "eth_blobBaseFee" => Ok(json!("0x1")),
        "eth_feeHistory" => eth::fee_history(chain, p),
        "eth_getBalance" => eth::get_balance(chain, p),
        "eth_getTransactionCount" => eth::get_transaction_count(chain, p),
        "eth_getCode" => eth::get_code(chain, p),
        "eth_getStorageAt" => eth::get_storage_at(chain, p),
        "eth_call" => eth::call(chain, p),
        "eth_estimateGas" => eth::estimate_gas(chain, p),
        "eth_sendRawTransaction" => eth::send_raw_transaction(chain, p),
        "eth_sendTransaction" => eth::send_transaction(chain, p),
        "eth_getTransactionByHash" => eth::get_transaction_by_hash(chain, p),
        "eth_getTransactionReceipt" => eth::get_transaction_receipt(chain, p),
        "eth_getTransactionByBlockHashAndIndex" => eth::tx_by_block_hash_and_index(chain, p),
        "eth_getTransactionByBlockNumberAndIndex" => eth::tx_by_block_number_and_index(chain, p),
        "eth_getBlockByNumber" => eth::get_block_by_number(chain, p),
        "eth_getBlockByHash" => eth::get_block_by_hash(chain, p),
        "eth_getBlockTransactionCountByNumber" => eth::block_tx_count_by_number(chain, p),
        "eth_getBlockTransactionCountByHash" => eth::block_tx_count_by_hash(chain, p),
        "eth_getBlockReceipts" => eth::get_block_receipts(chain, p),
        "eth_getLogs" => eth::get_logs(chain, p),
        "eth_newFilter" => eth::new_filter(chain, p),
        "eth_newBlockFilter" => eth::new_block_filter(chain, p),
        "eth_newPendingTransactionFilter" => eth::new_pending_tx_filter(chain, p),
        "eth_getFilterChanges" => eth::get_filter_changes(chain, p),
        "eth_getFilterLogs" => eth::get_filter_logs(chain, p),
        "eth_uninstallFilter" => eth::uninstall_filter(chain, p),
        "evm_mine" => dev::evm_mine(chain, p),
        "evm_increaseTime" => dev::increase_time(chain, p),
        "evm_setNextBlockTimestamp" => dev::set_next_block_timestamp(chain, p),
        "evm_setTime" => dev::set_time(chain, p),
        "evm_snapshot" => dev::snapshot(chain, p),
        "evm_revert" => dev::revert(chain, p),
        "evm_setAutomine" => dev::set_automine(chain, p, Flavor::Hardhat),
        "evm_setBlockGasLimit" => dev::set_block_gas_limit(chain, p),
        "hardhat_mine" => dev::mine(chain, p, Flavor::Hardhat),
        "anvil_mine" => dev::mine(chain, p, Flavor::Anvil),
        "hardhat_getAutomine" | "anvil_getAutomine" => dev::get_automine(chain, p),
        "anvil_setAutomine" => dev::set_automine(chain, p, Flavor::Anvil),
        "hardhat_setBalance" => dev::set_balance(chain, p, Flavor::Hardhat),
        "anvil_setBalance" => dev::set_balance(chain, p, Flavor::Anvil),
        "hardhat_setNonce" => dev::set_nonce(chain, p, Flavor::Hardhat),
        "anvil_setNonce" => dev::set_nonce(chain, p, Flavor::Anvil),
        "hardhat_setCode" => dev::set_code(chain, p, Flavor::Hardhat),
        "anvil_setCode" => dev::set_code(chain, p, Flavor::Anvil),
        "hardhat_setStorageAt" | "anvil_setStorageAt" => dev::set_storage_at(chain, p),
        "hardhat_setNextBlockBaseFeePerGas" => {
            dev::set_next_block_base_fee(chain, p, Flavor::Hardhat)
        }
        "anvil_setNextBlockBaseFeePerGas" => dev::set_next_block_base_fee(chain, p, Flavor::Anvil),
        "hardhat_setCoinbase" => dev::set_coinbase(chain, p, Flavor::Hardhat),
        "anvil_setCoinbase" => dev::set_coinbase(chain, p, Flavor::Anvil),
        other => Err(Error::MethodNotFound(other.to_owned())),
    }
}

fn error_object(err: &Error) -> Value {
    let mut obj = Map::new();
    obj.insert("code".into(), json!(err.rpc_code()));
    obj.insert("message".into(), json!(err.to_string()));
    if let Error::Reverted { data, .. } = err {
        obj.insert("data".into(), json!(data));
    }
    Value::Object(obj)
}

fn error_response(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message.into() },
    })
}

/// Handles one request object; `None` for a notification (no `id`).
fn handle_one(chain: &Devchain, request: Value) -> Option<Value> {
    let Value::Object(mut obj) = request else {
        return Some(error_response(
            Value::Null,
            code::INVALID_REQUEST,
            "Invalid request: a request must be a JSON object",
        ));
    };
    let id = obj.remove("id");
    let notification = id.is_none();
    let id = id.unwrap_or(Value::Null);
    if !matches!(id, Value::Null | Value::Number(_) | Value::String(_)) {
        return Some(error_response(
            Value::Null,
            code::INVALID_REQUEST,
            "Invalid request: id must be a string, a number or null",
        ));
    }
    if obj.get("jsonrpc").is_some_and(|v| v != "2.0") {
        return Some(error_response(
            id,
            code::INVALID_REQUEST,
            "Invalid request: jsonrpc must be \"2.0\"",
        ));
    }
    let Some(Value::String(method)) = obj.remove("method") else {
        return Some(error_response(
            id,
            code::INVALID_REQUEST,
            "Invalid request: missing method name",
        ));
    };
    let params = obj.remove("params").unwrap_or(Value::Null);
    let result = dispatch(chain, &method, params);
    match &result {
        Ok(_) => tracing::trace!(%method, "rpc ok"),
        Err(e) => tracing::debug!(%method, error = %e, "rpc error"),
    }
    if notification {
        return None;
    }
    Some(match result {
        Ok(value) => json!({ "jsonrpc": "2.0", "id": id, "result": value }),
        Err(err) => json!({ "jsonrpc": "2.0", "id": id, "error": error_object(&err) }),
    })
}

/// Handles a request body (single request or batch); `None` when nothing is to be
/// answered (only notifications).
pub(crate) fn handle_body(chain: &Devchain, body: &[u8]) -> Option<Value> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            return Some(error_response(
                Value::Null,
                code::PARSE_ERROR,
                format!("Parse error: {e}"),
            ));
        }
    };
    match value {
        Value::Array(items) if items.is_empty() => Some(error_response(
            Value::Null,
            code::INVALID_REQUEST,
            "Invalid request: empty batch",
        )),
        Value::Array(items) if items.len() > MAX_BATCH => Some(error_response(
            Value::Null,
            code::LIMIT_EXCEEDED,
            format!(
                "batch of {} requests is larger than the {MAX_BATCH} allowed",
                items.len()
            ),
        )),
        Value::Array(items) => {
            let responses: Vec<Value> = items
                .into_iter()
                .filter_map(|item| handle_one(chain, item))
                .collect();
            (!responses.is_empty()).then_some(Value::Array(responses))
        }
        single => handle_one(chain, single),
    }
}
