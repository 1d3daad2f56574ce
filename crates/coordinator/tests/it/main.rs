//! The coordinator's integration tests (one binary).

mod api;
mod heartbeat;
mod store;
mod support;
