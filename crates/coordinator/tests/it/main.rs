//! The coordinator's integration tests (one binary).

mod api;
mod api_endpoints;
mod api_openapi;
mod api_paging;
mod api_world;
mod assigner;
mod checked;
mod dashboard;
mod devnet;
mod disputes;
mod follow;
mod heartbeat;
mod indexer;
mod outcomes;
mod scheduling;
mod service;
mod store;
mod support;
mod task_logs;
