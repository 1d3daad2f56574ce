//! The coordinator's integration tests (one binary).

mod api;
mod api_endpoints;
mod api_openapi;
mod api_world;
mod dashboard;
mod devnet;
mod follow;
mod heartbeat;
mod store;
mod support;
