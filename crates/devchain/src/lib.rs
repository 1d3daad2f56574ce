#![doc = include_str!("../README.md")]

mod call;
mod config;
mod convert;
mod db;
mod devchain;
mod error;
mod evm;
mod filters;
mod mining;
mod node;
mod pool;
mod rpc;
mod server;
mod state;

pub use config::{
    DEFAULT_CHAIN_ID, DEFAULT_COINBASE, DEFAULT_MNEMONIC, DevAccount, DevchainConfig,
};
pub use devchain::Devchain;
pub use error::{Error, Result};
pub use server::{DevchainHandle, MAX_BODY_BYTES, app, serve, spawn};

/// Every JSON-RPC method the devchain answers; anything else gets `-32601`.
pub fn supported_methods() -> &'static [&'static str] {
    rpc::METHODS
}
