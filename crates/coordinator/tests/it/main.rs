//! The coordinator's integration tests (one binary).

mod api;
mod devnet;
mod follow;
mod heartbeat;
mod store;
mod support;
