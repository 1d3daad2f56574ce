use alloy::{
    contract,
    primitives::{Address, B256},
    transports::{RpcError, TransportErrorKind},
};
use verity_contracts::{ContractError, UnknownVariant};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a settlement call can fail with. Contract reverts are always decoded into the
/// contract's named custom error ([`ContractError`]); raw hex appears only for data no Verity
/// contract can produce.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The call reverts (found at gas estimation or `eth_call`, so nothing was sent).
    #[error("[V-SET-001] {call} from {from} reverts: {error}")]
    Revert {
        /// The contract function.
        call: &'static str,
        /// The sender.
        from: Address,
        /// The decoded custom error.
        error: Box<ContractError>,
    },
    /// The transaction was mined but failed (status 0). `error` is the revert found by replaying
    /// the call on its block, when the replay reproduces it.
    #[error("[V-SET-002] {call} from {from} failed on chain in tx {tx}: {}", error.as_ref().map_or("revert reason unknown".to_string(), |e| e.to_string()))]
    FailedOnChain {
        /// The contract function.
        call: &'static str,
        /// The sender.
        from: Address,
        /// The transaction hash.
        tx: B256,
        /// The decoded revert, if the replay reproduced it.
        error: Option<Box<ContractError>>,
    },
    /// A transport or node error that retries did not overcome.
    #[error("[V-SET-003] {call}: node error after {attempts} attempt(s): {source}")]
    Rpc {
        /// The call or RPC method.
        call: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// The last error.
        #[source]
        source: RpcError<TransportErrorKind>,
    },
    /// The on-chain deadline the call is bound by has passed; nothing more was sent.
    #[error("[V-SET-004] {call}: deadline {deadline} passed (chain time {chain_time})")]
    DeadlinePassed {
        /// The contract function.
        call: &'static str,
        /// The deadline, unix seconds.
        deadline: u64,
        /// The latest block's timestamp.
        chain_time: u64,
    },
    /// The transaction was sent but its receipt did not arrive with the required confirmations.
    #[error("[V-SET-005] {call}: tx {tx} not confirmed: {reason}")]
    NotConfirmed {
        /// The contract function.
        call: &'static str,
        /// The transaction hash.
        tx: B256,
        /// Why waiting stopped.
        reason: String,
    },
    /// A call's return data or an event did not decode as the ABI says.
    #[error("[V-SET-006] {call}: cannot decode the answer: {reason}")]
    Decode {
        /// The contract function.
        call: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// An argument cannot be expressed in the contract's types; nothing was sent.
    #[error("[V-SET-008] invalid {what}: {reason}")]
    InvalidInput {
        /// Which argument.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A contract deployment produced no contract.
    #[error("[V-SET-007] deploying {contract} failed: {reason}")]
    Deploy {
        /// The contract.
        contract: &'static str,
        /// What happened.
        reason: String,
    },
}

impl Error {
    /// The decoded contract error, if this is a revert.
    pub fn contract_error(&self) -> Option<&ContractError> {
        match self {
            Error::Revert { error, .. } => Some(error),
            Error::FailedOnChain { error, .. } => error.as_deref(),
            _ => None,
        }
    }

    /// The custom error's name (`WrongStatus`, `InsufficientFreeStake`, ...), if a revert.
    pub fn revert_name(&self) -> Option<String> {
        self.contract_error().map(ContractError::name)
    }

    /// True for errors a later retry might overcome (transport trouble, unconfirmed tx).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Rpc { .. } | Error::NotConfirmed { .. })
    }

    pub(crate) fn from_rpc(
        call: &'static str,
        from: Address,
        attempts: u32,
        e: RpcError<TransportErrorKind>,
    ) -> Self {
        if let Some(data) = e.as_error_resp().and_then(|p| p.as_revert_data()) {
            return Error::Revert {
                call,
                from,
                error: Box::new(ContractError::decode(&data)),
            };
        }
        Error::Rpc {
            call,
            attempts,
            source: e,
        }
    }

    pub(crate) fn from_contract(call: &'static str, from: Address, e: contract::Error) -> Self {
        if let Some(data) = e.as_revert_data() {
            return Error::Revert {
                call,
                from,
                error: Box::new(ContractError::decode(&data)),
            };
        }
        match e {
            contract::Error::TransportError(t) => Error::from_rpc(call, from, 1, t),
            other => Error::Decode {
                call,
                reason: other.to_string(),
            },
        }
    }

    pub(crate) fn variant(call: &'static str, e: UnknownVariant) -> Self {
        Error::Decode {
            call,
            reason: e.to_string(),
        }
    }
}
