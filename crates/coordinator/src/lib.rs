#![doc = include_str!("../README.md")]

pub mod api;
pub mod assigner;
/// Capability flags, defined once in `verity-primitives`.
pub use verity_primitives::capability;
pub mod clock;
pub mod config;
pub mod disputes;
pub mod follow;
pub mod hardware;
pub mod heartbeat;
pub mod indexer;
pub mod latency;
pub mod liveness;
pub mod metrics;
pub mod registry_view;
pub mod reputation;
pub mod service;
pub mod store;
pub mod task_logs;

pub use config::CoordinatorConfig;
