#![doc = include_str!("../README.md")]

pub mod blobs;
pub mod config;
pub mod db;
pub mod error;
pub mod heartbeat;
pub mod keys;
pub mod metrics;
pub mod worker;

pub use error::NodeError;
