//! The IPFS trustless-gateway HTTP shape: our server and a client for any such gateway.

pub(crate) mod client;
mod error;
mod format;
pub(crate) mod server;

/// Media type of a single raw block.
pub const RAW_MEDIA_TYPE: &str = "application/vnd.ipld.raw";
