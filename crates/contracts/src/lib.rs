#![doc = include_str!("../README.md")]

mod bindings;
mod enums;
mod errors;

pub use bindings::{
    MockResultVerifier, NodeRegistry, TaskMarket, TestToken, VerifierRegistry, VerityTimelock,
};
pub use enums::{Mode, Seat, Status, UnknownVariant};
pub use errors::ContractError;
