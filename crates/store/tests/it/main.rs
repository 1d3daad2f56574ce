//! Integration tests of verity-store: one binary, one module per concern.

mod cid_vectors;
mod client;
mod disk;
mod fetching;
mod props;
mod server;
mod support;
