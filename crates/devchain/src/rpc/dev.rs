//! Test and time controls: `evm_*`, `hardhat_*` and their `anvil_*` aliases.
//!
//! `hardhat_*` / `evm_*` answer like Hardhat (mostly `true`); `anvil_*` answer like anvil
//! (mostly `null`), which is what alloy's `AnvilApi` extension trait deserializes.

use alloy::primitives::{Address, B256, Bytes, U64, U256};
use serde_json::{Value, json};

use crate::{devchain::Devchain, error::Result};

use super::{Params, to_value};

/// How a method of a family answers when it has nothing to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    /// Hardhat (`hardhat_*`, `evm_*`): `true`.
    Hardhat,
    /// anvil (`anvil_*`): `null`.
    Anvil,
}

impl Flavor {
    fn done(self) -> Value {
        match self {
            Self::Hardhat => Value::Bool(true),
            Self::Anvil => Value::Null,
        }
    }
}

/// `evm_mine`: optional timestamp, or anvil's `{ timestamp, blocks }` options.
pub(super) fn evm_mine(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let mut node = chain.node();
    match p.opt::<Value>(0, "options")? {
        Some(Value::Object(_)) => {
            #[derive(serde::Deserialize)]
            struct Options {
                timestamp: Option<Value>,
                blocks: Option<Value>,
            }
            let options: Options = p.get(0, "options")?;
            let sub = Params::new("evm_mine", json!([options.timestamp, options.blocks]))?;
            let timestamp = sub.opt_u64(0, "timestamp")?;
            let blocks = sub.opt_u64(1, "blocks")?.unwrap_or(1);
            if let Some(ts) = timestamp {
                node.mine_one(Some(ts))?;
                if blocks > 1 {
                    node.mine_many(blocks - 1, None)?;
                }
            } else {
                node.mine_many(blocks, None)?;
            }
        }
        _ => {
            let timestamp = p.opt_u64(0, "timestamp")?;
            node.mine_one(timestamp)?;
        }
    }
    Ok(json!("0x0"))
}

/// `hardhat_mine` / `anvil_mine`: `(blocks = 1, interval = 1)`.
pub(super) fn mine(chain: &Devchain, p: &Params<'_>, flavor: Flavor) -> Result<Value> {
    p.at_most(2)?;
    let blocks = p.opt_u64(0, "blocks")?.unwrap_or(1);
    let interval = p.opt_u64(1, "interval")?;
    chain.node().mine_many(blocks, interval)?;
    Ok(flavor.done())
}

/// `evm_increaseTime`: returns the total offset in seconds (a JSON number, like anvil;
/// Hardhat returns it as a decimal string).
pub(super) fn increase_time(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let seconds = p.u64(0, "seconds")?;
    Ok(json!(chain.node().increase_time(seconds)))
}

/// `evm_setNextBlockTimestamp`: answers `null` (what alloy's `AnvilApi` expects).
pub(super) fn set_next_block_timestamp(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let timestamp = p.u64(0, "timestamp")?;
    chain.node().set_next_block_timestamp(timestamp)?;
    Ok(Value::Null)
}

/// `evm_setTime`: returns the resulting offset in seconds (0 if the time is in the past).
pub(super) fn set_time(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let timestamp = p.u64(0, "timestamp")?;
    Ok(json!(chain.node().set_time(timestamp).max(0)))
}

pub(super) fn snapshot(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(0)?;
    to_value(U64::from(chain.node().snapshot()))
}

pub(super) fn revert(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let id = p.quantity(0, "snapshot id")?;
    let reverted = u64::try_from(id).is_ok_and(|id| chain.node().revert(id));
    Ok(Value::Bool(reverted))
}

pub(super) fn set_automine(chain: &Devchain, p: &Params<'_>, flavor: Flavor) -> Result<Value> {
    p.at_most(1)?;
    let enabled: bool = p.get(0, "enabled")?;
    chain.set_automine(enabled);
    Ok(flavor.done())
}

pub(super) fn get_automine(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(0)?;
    Ok(Value::Bool(chain.automine()))
}

pub(super) fn set_block_gas_limit(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(1)?;
    let limit = p.u64(0, "gas limit")?;
    if limit < 21_000 {
        return Err(crate::error::Error::params(format!(
            "invalid params for evm_setBlockGasLimit: {limit} is below 21000"
        )));
    }
    chain.node().state.gas_limit = limit;
    Ok(Value::Bool(true))
}

pub(super) fn set_balance(chain: &Devchain, p: &Params<'_>, flavor: Flavor) -> Result<Value> {
    p.at_most(2)?;
    let address: Address = p.get(0, "address")?;
    let balance = p.quantity(1, "balance")?;
    chain.node().set_balance(address, balance);
    Ok(flavor.done())
}

pub(super) fn set_nonce(chain: &Devchain, p: &Params<'_>, flavor: Flavor) -> Result<Value> {
    p.at_most(2)?;
    let address: Address = p.get(0, "address")?;
    let nonce = p.u64(1, "nonce")?;
    chain.node().set_nonce(address, nonce);
    Ok(flavor.done())
}

pub(super) fn set_code(chain: &Devchain, p: &Params<'_>, flavor: Flavor) -> Result<Value> {
    p.at_most(2)?;
    let address: Address = p.get(0, "address")?;
    let code: Bytes = p.get(1, "code")?;
    chain.node().set_code(address, code);
    Ok(flavor.done())
}

/// `hardhat_setStorageAt` / `anvil_setStorageAt`: both answer `true`.
pub(super) fn set_storage_at(chain: &Devchain, p: &Params<'_>) -> Result<Value> {
    p.at_most(3)?;
    let address: Address = p.get(0, "address")?;
    let slot = p.quantity(1, "slot")?;
    let value: B256 = p.get(2, "value")?;
    chain
        .node()
        .set_storage(address, slot, U256::from_be_bytes(value.0));
    Ok(Value::Bool(true))
}

pub(super) fn set_next_block_base_fee(
    chain: &Devchain,
    p: &Params<'_>,
    flavor: Flavor,
) -> Result<Value> {
    p.at_most(1)?;
    let fee = p.u64(0, "base fee")?;
    chain.node().state.next_base_fee = Some(fee);
    Ok(flavor.done())
}

pub(super) fn set_coinbase(chain: &Devchain, p: &Params<'_>, flavor: Flavor) -> Result<Value> {
    p.at_most(1)?;
    let address: Address = p.get(0, "address")?;
    chain.node().state.coinbase = address;
    Ok(flavor.done())
}
