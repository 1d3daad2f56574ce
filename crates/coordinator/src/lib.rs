#![doc = include_str!("../README.md")]

pub mod api;
pub mod clock;
pub mod config;
pub mod heartbeat;
pub mod liveness;
pub mod reputation;
pub mod store;

pub use config::CoordinatorConfig;
