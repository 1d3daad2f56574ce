//! Decoding revert data into the named custom errors of our contracts.

use alloy::{primitives::Bytes, sol_types::SolInterface};

use crate::{
    DisputeCourt, EnclaveRegistry, NodeRegistry, TaskMarket, TeeResultVerifier, TestToken,
    VerifierRegistry, VerityTimelock,
};

/// A revert raised by one of Verity's contracts, decoded by its selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    /// A `TaskMarket` custom error.
    #[error("TaskMarket::{0:?}")]
    Market(TaskMarket::TaskMarketErrors),
    /// A `DisputeCourt` custom error (one whose signature the market does not share).
    #[error("DisputeCourt::{0:?}")]
    Court(DisputeCourt::DisputeCourtErrors),
    /// A `NodeRegistry` custom error (also raised through the market's calls into it).
    #[error("NodeRegistry::{0:?}")]
    Registry(NodeRegistry::NodeRegistryErrors),
    /// A `VerifierRegistry` custom error.
    #[error("VerifierRegistry::{0:?}")]
    Verifiers(VerifierRegistry::VerifierRegistryErrors),
    /// A `VerityTimelock` (OpenZeppelin `TimelockController`) error: an operation not ready,
    /// not scheduled, or a caller without the role.
    #[error("VerityTimelock::{0:?}")]
    Timelock(VerityTimelock::VerityTimelockErrors),
    /// An `EnclaveRegistry` custom error (also raised through `TeeResultVerifier`, and through
    /// the market's `submitProof` when the TEE verifier refuses a proof).
    #[error("EnclaveRegistry::{0:?}")]
    Enclaves(EnclaveRegistry::EnclaveRegistryErrors),
    /// A `TeeResultVerifier` custom error (raised through the market's `submitProof`).
    #[error("TeeResultVerifier::{0:?}")]
    TeeVerifier(TeeResultVerifier::TeeResultVerifierErrors),
    /// An ERC20 error from the token (OpenZeppelin's `IERC20Errors`).
    #[error("Token::{0:?}")]
    Token(TestToken::TestTokenErrors),
    /// `Error(string)`, as raised by `require(cond, "message")`.
    #[error("revert: {0}")]
    Message(String),
    /// `Panic(uint256)`: an assertion, overflow or similar.
    #[error("panic code {0:#x}")]
    Panic(u64),
    /// Revert data that matches none of the above (shown as hex as the last resort).
    #[error("unrecognized revert data {0}")]
    Unrecognized(Bytes),
}

impl ContractError {
    /// Decodes revert data. Never fails: unknown data becomes [`ContractError::Unrecognized`].
    pub fn decode(data: &[u8]) -> Self {
        use alloy::sol_types::{Panic, Revert, SolError};
        if let Ok(e) = TaskMarket::TaskMarketErrors::abi_decode(data) {
            return Self::Market(e);
        }
        if let Ok(e) = DisputeCourt::DisputeCourtErrors::abi_decode(data) {
            return Self::Court(e);
        }
        if let Ok(e) = NodeRegistry::NodeRegistryErrors::abi_decode(data) {
            return Self::Registry(e);
        }
        if let Ok(e) = VerifierRegistry::VerifierRegistryErrors::abi_decode(data) {
            return Self::Verifiers(e);
        }
        if let Ok(e) = TestToken::TestTokenErrors::abi_decode(data) {
            return Self::Token(e);
        }
        if let Ok(e) = VerityTimelock::VerityTimelockErrors::abi_decode(data) {
            return Self::Timelock(e);
        }
        if let Ok(e) = EnclaveRegistry::EnclaveRegistryErrors::abi_decode(data) {
            return Self::Enclaves(e);
        }
        if let Ok(e) = TeeResultVerifier::TeeResultVerifierErrors::abi_decode(data) {
            return Self::TeeVerifier(e);
        }
        if let Ok(r) = Revert::abi_decode(data) {
            return Self::Message(r.reason);
        }
        if let Ok(p) = Panic::abi_decode(data) {
            return Self::Panic(p.code.try_into().unwrap_or(u64::MAX));
        }
        Self::Unrecognized(Bytes::copy_from_slice(data))
    }

    /// The error's name, e.g. `WrongStatus`, for logs and matching in scripts.
    pub fn name(&self) -> String {
        let debug = match self {
            Self::Market(e) => format!("{e:?}"),
            Self::Court(e) => format!("{e:?}"),
            Self::Registry(e) => format!("{e:?}"),
            Self::Verifiers(e) => format!("{e:?}"),
            Self::Token(e) => format!("{e:?}"),
            Self::Timelock(e) => format!("{e:?}"),
            Self::Enclaves(e) => format!("{e:?}"),
            Self::TeeVerifier(e) => format!("{e:?}"),
            Self::Message(_) => return "Error".into(),
            Self::Panic(_) => return "Panic".into(),
            Self::Unrecognized(_) => return "Unrecognized".into(),
        };
        // `Variant(Struct { .. })` -> `Variant`
        debug
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or_default()
            .to_string()
    }
}
