#![doc = include_str!("../README.md")]

pub mod blobs;
pub mod committee;
pub mod config;
pub mod daemon;
pub mod db;
pub mod error;
pub mod fault;
/// Key files: the workspace's one loader (mode 0600, checked on load).
pub use verity_config_files::keys;
pub use verity_primitives::heartbeat;
pub mod metrics;
pub mod prover;
pub mod store_blobs;
pub mod task_logs;
pub mod watchtower;
pub mod worker;

pub use error::NodeError;
