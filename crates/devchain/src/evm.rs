//! revm glue: environments, transaction conversion, execution outcomes and error texts.

use std::sync::Arc;

use alloy::{
    consensus::{Transaction as _, TxEnvelope, Typed2718 as _},
    primitives::{Address, B256, Bytes, Log, U256, keccak256},
    rpc::types::TransactionRequest,
    sol_types::{Panic, Revert, SolError},
};
use revm::{
    Context, ExecuteEvm, MainBuilder, MainContext,
    context::{
        BlockEnv, CfgEnv, TxEnv,
        result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction, Output},
    },
    context_interface::{block::BlobExcessGasAndPrice, cfg::gas::calculate_initial_tx_gas_for_tx},
    database::{CacheDB, EmptyDB},
    primitives::{eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN, hardfork::SpecId},
};

use crate::{
    db::ChainDb,
    error::{Error, Result},
    state::MinedBlock,
};

/// The in-memory world state.
pub(crate) type StateDb = CacheDB<EmptyDB>;

/// The hardfork the devchain runs (our Solidity targets `evmVersion = "cancun"`).
pub(crate) const SPEC: SpecId = SpecId::CANCUN;

/// revm configuration for the chain.
pub(crate) fn cfg_env(chain_id: u64) -> CfgEnv {
    CfgEnv::new_with_spec(SPEC).with_chain_id(chain_id)
}

/// The deterministic `prevrandao` (`mixHash`) of a block: `keccak256(number)`.
pub(crate) fn prevrandao(number: u64) -> B256 {
    keccak256(number.to_be_bytes())
}

/// What revm needs to know about the block a transaction runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockParams {
    pub(crate) number: u64,
    pub(crate) timestamp: u64,
    pub(crate) base_fee: u64,
    pub(crate) gas_limit: u64,
    pub(crate) coinbase: Address,
}

impl BlockParams {
    pub(crate) fn env(&self) -> BlockEnv {
        BlockEnv {
            number: U256::from(self.number),
            beneficiary: self.coinbase,
            timestamp: U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(prevrandao(self.number)),
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(
                0,
                BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
            )),
            slot_num: 0,
        }
    }
}

/// The revm transaction for a signed transaction from `sender`.
pub(crate) fn tx_env_from_envelope(tx: &TxEnvelope, sender: Address) -> TxEnv {
    TxEnv {
        tx_type: tx.ty(),
        caller: sender,
        gas_limit: tx.gas_limit(),
        gas_price: tx.max_fee_per_gas(),
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: tx.max_priority_fee_per_gas(),
        blob_hashes: Vec::new(),
        max_fee_per_blob_gas: 0,
        authorization_list: Vec::new(),
    }
}

/// The revm transaction for an `eth_call` / `eth_estimateGas` request.
///
/// Nonce checks are disabled by the caller's config; an unpriced request runs with gas
/// price 0 (and the caller runs it in a block env with base fee 0, like geth's `NoBaseFee`).
pub(crate) fn tx_env_from_request(
    req: &TransactionRequest,
    chain_id: u64,
    gas_limit: u64,
) -> Result<TxEnv> {
    let input = req
        .input
        .unique_input()
        .map_err(|_| Error::params("both `input` and `data` are set and differ"))?
        .cloned()
        .unwrap_or_default();
    let (tx_type, gas_price, priority) = if let Some(max_fee) = req.max_fee_per_gas {
        (
            2u8,
            max_fee,
            Some(req.max_priority_fee_per_gas.unwrap_or(0)),
        )
    } else if let Some(priority) = req.max_priority_fee_per_gas {
        // A tip without a fee cap: the cap is the tip (enough for a base fee of 0 only).
        (2u8, priority, Some(priority))
    } else if let Some(price) = req.gas_price {
        (if req.access_list.is_some() { 1 } else { 0 }, price, None)
    } else if req.access_list.is_some() {
        (1u8, 0, None)
    } else {
        (0u8, 0, None)
    };
    if let Some(id) = req.chain_id
        && id != chain_id
    {
        return Err(Error::invalid_tx(format!(
            "invalid chainId {id}: the devchain's chainId is {chain_id}"
        )));
    }
    Ok(TxEnv {
        tx_type,
        caller: req.from.unwrap_or_default(),
        gas_limit: req.gas.unwrap_or(gas_limit),
        gas_price,
        kind: req.to.unwrap_or_default(),
        value: req.value.unwrap_or_default(),
        data: input,
        nonce: req.nonce.unwrap_or_default(),
        chain_id: Some(chain_id),
        access_list: req.access_list.clone().unwrap_or_default(),
        gas_priority_fee: priority,
        blob_hashes: Vec::new(),
        max_fee_per_blob_gas: 0,
        authorization_list: Vec::new(),
    })
}

/// Whether a call request carries a gas price (and so must pay, and see the real base fee).
pub(crate) fn request_is_priced(req: &TransactionRequest) -> bool {
    req.gas_price.is_some_and(|p| p > 0) || req.max_fee_per_gas.is_some_and(|p| p > 0)
}

/// The intrinsic gas of a transaction (base cost, calldata, create cost, access list).
pub(crate) fn intrinsic_gas(tx: &TxEnv) -> u64 {
    calculate_initial_tx_gas_for_tx(tx, SPEC, None).initial_total_gas()
}

/// Runs `tx` against `db` without committing anything.
pub(crate) fn simulate(
    db: &StateDb,
    blocks: &[Arc<MinedBlock>],
    chain_id: u64,
    block: &BlockParams,
    tx: TxEnv,
) -> Result<ExecutionResult> {
    let mut cfg = cfg_env(chain_id);
    cfg.disable_nonce_check = true;
    let mut evm = Context::mainnet()
        .with_ref_db(ChainDb { state: db, blocks })
        .with_cfg(cfg)
        .with_block(block.env())
        .build_mainnet();
    evm.transact(tx).map(|r| r.result).map_err(evm_error)
}

/// The parts of an execution result a receipt or an RPC answer needs.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub(crate) success: bool,
    pub(crate) gas_used: u64,
    /// Gas spent before the refund: what the gas limit must at least cover.
    pub(crate) spent: u64,
    pub(crate) logs: Vec<Log>,
    pub(crate) output: Bytes,
    pub(crate) halt: Option<HaltReason>,
}

impl From<ExecutionResult> for Outcome {
    fn from(result: ExecutionResult) -> Self {
        let gas_used = result.tx_gas_used();
        let spent = result.gas().total_gas_spent();
        match result {
            ExecutionResult::Success { logs, output, .. } => {
                let output = match output {
                    Output::Call(bytes) | Output::Create(bytes, _) => bytes,
                };
                Self {
                    success: true,
                    gas_used,
                    spent,
                    logs,
                    output,
                    halt: None,
                }
            }
            ExecutionResult::Revert { logs, output, .. } => Self {
                success: false,
                gas_used,
                spent,
                logs,
                output,
                halt: None,
            },
            ExecutionResult::Halt { reason, logs, .. } => Self {
                success: false,
                gas_used,
                spent,
                logs,
                output: Bytes::new(),
                halt: Some(reason),
            },
        }
    }
}

impl Outcome {
    /// `Ok(output)` on success, the geth/Hardhat-shaped error otherwise.
    pub(crate) fn into_call_result(self) -> Result<Bytes> {
        if self.success {
            return Ok(self.output);
        }
        match self.halt {
            Some(reason) => Err(Error::Halted(halt_message(&reason))),
            None => Err(Error::Reverted {
                message: revert_message(&self.output),
                data: self.output,
            }),
        }
    }
}

/// `execution reverted` plus the decoded reason, as geth and Hardhat word it.
pub(crate) fn revert_message(data: &[u8]) -> String {
    if data.is_empty() {
        return "execution reverted".to_owned();
    }
    if let Ok(revert) = Revert::abi_decode(data) {
        return format!("execution reverted: {}", revert.reason());
    }
    if let Ok(panic) = Panic::abi_decode(data) {
        return format!("execution reverted: {panic}");
    }
    if data.len() >= 4 {
        return format!(
            "execution reverted: custom error 0x{}",
            alloy::hex::encode(&data[..4])
        );
    }
    "execution reverted".to_owned()
}

/// Text for an exceptional halt.
pub(crate) fn halt_message(reason: &HaltReason) -> String {
    match reason {
        HaltReason::OutOfGas(_) => "out of gas".to_owned(),
        HaltReason::OpcodeNotFound | HaltReason::InvalidFEOpcode => "invalid opcode".to_owned(),
        HaltReason::InvalidJump => "invalid jump destination".to_owned(),
        HaltReason::StackUnderflow => "stack underflow".to_owned(),
        HaltReason::StackOverflow => "stack overflow".to_owned(),
        HaltReason::CreateContractSizeLimit => "max code size exceeded".to_owned(),
        HaltReason::CreateInitCodeSizeLimit => "max initcode size exceeded".to_owned(),
        HaltReason::CreateCollision => "contract address collision".to_owned(),
        HaltReason::StateChangeDuringStaticCall => "write protection".to_owned(),
        other => format!("execution halted: {other:?}"),
    }
}

/// Maps a revm error to ours, with Hardhat-like texts for invalid transactions.
pub(crate) fn evm_error<DB: std::fmt::Display>(err: EVMError<DB>) -> Error {
    match err {
        EVMError::Transaction(invalid) => Error::InvalidTransaction(invalid_tx_message(&invalid)),
        other => Error::Internal(other.to_string()),
    }
}

/// Texts for transactions revm refuses to run.
pub(crate) fn invalid_tx_message(invalid: &InvalidTransaction) -> String {
    match invalid {
        InvalidTransaction::NonceTooLow { tx, state } => {
            format!("Nonce too low. Expected nonce to be {state} but got {tx}.")
        }
        InvalidTransaction::NonceTooHigh { tx, state } => {
            format!("Nonce too high. Expected nonce to be {state} but got {tx}.")
        }
        InvalidTransaction::LackOfFundForMaxFee { fee, balance } => format!(
            "Sender doesn't have enough funds to send tx. The max upfront cost is: {fee} and the sender's balance is: {balance}."
        ),
        InvalidTransaction::CallGasCostMoreThanGasLimit {
            initial_gas,
            gas_limit,
        } => format!("Transaction requires at least {initial_gas} gas but got {gas_limit}"),
        InvalidTransaction::CallerGasLimitMoreThanBlock => {
            "Transaction gas limit exceeds the block gas limit".to_owned()
        }
        InvalidTransaction::InvalidChainId => "Transaction has an invalid chainId".to_owned(),
        InvalidTransaction::RejectCallerWithCode => {
            "Sender has deployed code (EIP-3607): it cannot send transactions".to_owned()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use alloy::{
        primitives::U256,
        sol_types::{Panic, Revert, SolError},
    };

    use super::revert_message;

    #[test]
    fn revert_messages_read_like_geth() {
        assert_eq!(revert_message(&[]), "execution reverted");
        assert_eq!(
            revert_message(&Revert::from("nope").abi_encode()),
            "execution reverted: nope"
        );
        let panic = Panic {
            code: U256::from(0x11),
        };
        assert_eq!(
            revert_message(&panic.abi_encode()),
            "execution reverted: panic: arithmetic underflow or overflow (0x11)"
        );
        assert_eq!(
            revert_message(&[0xde, 0xad, 0xbe, 0xef, 0x00]),
            "execution reverted: custom error 0xdeadbeef"
        );
        assert_eq!(revert_message(&[0x01]), "execution reverted");
    }
}
