#![doc = include_str!("../README.md")]

mod bindings;
mod enums;
mod errors;

#[cfg(feature = "test-utils")]
pub use bindings::MockResultVerifier;
pub use bindings::{
    DisputeCourt, EnclaveRegistry, NodeRegistry, TaskMarket, TeeResultVerifier, TestToken,
    VerifierRegistry, VerityTimelock,
};
pub use enums::{CasePhase, Mode, Seat, Status, UnknownVariant, Verdict};
pub use errors::ContractError;
