//! The crate's error type and its JSON-RPC mapping.

use alloy::primitives::Bytes;

/// Everything that can go wrong in the devchain, from setup to a rejected transaction.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The [`crate::DevchainConfig`] is unusable.
    #[error("invalid devchain config: {0}")]
    InvalidConfig(String),
    /// Deriving the dev accounts from the mnemonic failed.
    #[error("cannot derive dev accounts: {0}")]
    Signer(#[from] alloy::signers::local::LocalSignerError),
    /// Signing a transaction for a dev account failed.
    #[error("cannot sign: {0}")]
    Sign(#[from] alloy::signers::Error),
    /// Binding or serving the HTTP endpoint failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A transaction was rejected before execution (bad nonce, chain id, fees, funds, ...).
    #[error("{0}")]
    InvalidTransaction(String),
    /// Execution reverted (`eth_call`, `eth_estimateGas`). `data` is the raw revert data.
    #[error("{message}")]
    Reverted {
        /// `execution reverted` plus the decoded reason when there is one.
        message: String,
        /// The revert data returned by the EVM.
        data: Bytes,
    },
    /// Execution halted without reverting (out of gas, invalid opcode, ...).
    #[error("{0}")]
    Halted(String),
    /// The JSON-RPC method does not exist (or is not supported by the devchain).
    #[error("the method {0} does not exist/is not available")]
    MethodNotFound(String),
    /// A request's parameters are malformed.
    #[error("{0}")]
    InvalidParams(String),
    /// The requested block or state is not (or no longer) available.
    #[error("{0}")]
    NotFound(String),
    /// A request exceeds one of the devchain's limits.
    #[error("{0}")]
    LimitExceeded(String),
    /// A bug or an unexpected EVM failure.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// JSON-RPC error codes used on the wire.
pub(crate) mod code {
    /// Invalid JSON was received.
    pub(crate) const PARSE_ERROR: i64 = -32700;
    /// The JSON sent is not a valid request object.
    pub(crate) const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist.
    pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters.
    pub(crate) const INVALID_PARAMS: i64 = -32602;
    /// Internal JSON-RPC error.
    pub(crate) const INTERNAL: i64 = -32603;
    /// Invalid input / server error (Hardhat and geth use it for rejected transactions).
    pub(crate) const INVALID_INPUT: i64 = -32000;
    /// Request exceeds a limit (EIP-1474).
    pub(crate) const LIMIT_EXCEEDED: i64 = -32005;
    /// Execution reverted (geth, Hardhat): `data` carries the revert bytes.
    pub(crate) const EXECUTION_REVERTED: i64 = 3;
}

impl Error {
    /// The JSON-RPC error code this error is reported with.
    pub(crate) fn rpc_code(&self) -> i64 {
        match self {
            Self::Reverted { .. } => code::EXECUTION_REVERTED,
            Self::InvalidParams(_) => code::INVALID_PARAMS,
            Self::MethodNotFound(_) => code::METHOD_NOT_FOUND,
            Self::LimitExceeded(_) => code::LIMIT_EXCEEDED,
            Self::InvalidTransaction(_) | Self::Halted(_) | Self::NotFound(_) => {
                code::INVALID_INPUT
            }
            Self::InvalidConfig(_)
            | Self::Signer(_)
            | Self::Sign(_)
            | Self::Io(_)
            | Self::Internal(_) => code::INTERNAL,
        }
    }

    pub(crate) fn invalid_tx(msg: impl Into<String>) -> Self {
        Self::InvalidTransaction(msg.into())
    }

    pub(crate) fn params(msg: impl Into<String>) -> Self {
        Self::InvalidParams(msg.into())
    }
}
