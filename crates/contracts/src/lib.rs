#![doc = include_str!("../README.md")]

mod bindings;
mod enums;
mod errors;

#[cfg(feature = "test-utils")]
pub use bindings::MockResultVerifier;
pub use bindings::{NodeRegistry, TaskMarket, TestToken, VerifierRegistry, VerityTimelock};
pub use enums::{Mode, Seat, Status, UnknownVariant};
pub use errors::ContractError;
