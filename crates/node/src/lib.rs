#![doc = include_str!("../README.md")]

pub mod blobs;
pub mod config;
pub mod daemon;
pub mod db;
pub mod error;
pub use verity_primitives::heartbeat;
pub mod keys;
pub mod metrics;
pub mod store_blobs;
pub mod worker;

pub use error::NodeError;
