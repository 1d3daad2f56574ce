#![doc = include_str!("../README.md")]

pub mod babyjubjub;
pub mod ceremony;
pub mod circuit;
pub mod device;
pub mod eddsa;
pub mod encoding;
pub mod error;
pub mod input;
pub mod poseidon;
pub mod registry;
pub mod statement;

pub use ark_bn254::Fr;
pub use circuit::{SensorCircuit, Shape};
pub use error::{Error, Result};
pub mod keys;
pub mod market;
pub mod msm;
pub mod origin;
pub mod prover;
pub mod solidity;
