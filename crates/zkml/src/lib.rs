#![doc = include_str!("../README.md")]

pub mod circuit;
pub mod digest;
pub mod error;
pub mod model;
pub mod onnx;
pub mod prover;

pub use circuit::InferenceCircuit;
pub use error::{Error, Result};
pub use model::{Layer, Model, Requant};
pub use onnx::import;
pub use prover::{Keys, Proved};
