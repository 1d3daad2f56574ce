//! [`LogSource`]: the seam between the event stream and the chain, and [`RpcLogSource`], the
//! one implementation that talks JSON-RPC. This file holds the workspace's only `eth_getLogs`
//! call (a test in `tests/it/log_reads.rs` keeps it that way).

use std::{future::Future, pin::Pin};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
};
use serde::{Deserialize, Serialize};

use super::StreamError;

/// A boxed future, so [`LogSource`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A block header as far as the stream cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Unix seconds.
    pub timestamp: u64,
}

impl Header {
    /// The block's number and hash.
    pub fn block_ref(&self) -> BlockRef {
        BlockRef {
            number: self.number,
            hash: self.hash,
        }
    }
}

/// A block by number and hash: what the stream remembers to detect reorgs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

/// Read access to a chain's logs: the seam between the stream and the RPC. The in-memory
/// [`MemoryChain`](super::MemoryChain) stands in for it in tests.
pub trait LogSource: std::fmt::Debug + Send + Sync {
    /// The latest block number.
    fn head(&self) -> BoxFuture<'_, Result<u64, StreamError>>;
    /// The header at `number`, if the chain has one.
    fn header(&self, number: u64) -> BoxFuture<'_, Result<Option<Header>, StreamError>>;
    /// The followed logs in `from..=to`, in chain order. Callers keep ranges at most one
    /// chunk long (see [`StreamConfig::chunk_blocks`](super::StreamConfig::chunk_blocks)).
    fn logs(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<Log>, StreamError>>;
}

/// [`LogSource`] over JSON-RPC: the logs an alloy [`Filter`] selects (its block range is
/// replaced by each call's).
#[derive(Debug, Clone)]
pub struct RpcLogSource {
    provider: DynProvider,
    filter: Filter,
}

impl RpcLogSource {
    /// Every log of `addresses` (the market and the registry).
    pub fn new(provider: DynProvider, addresses: Vec<Address>) -> Self {
        Self {
            provider,
            filter: Filter::new().address(addresses),
        }
    }

    /// Only logs whose first topic is one of `signatures` (events' `SIGNATURE_HASH`).
    pub fn events(mut self, signatures: Vec<B256>) -> Self {
        self.filter = self.filter.event_signature(signatures);
        self
    }

    /// Only logs whose first indexed argument (second topic) is `topic` (a task id).
    pub fn topic1(mut self, topic: B256) -> Self {
        self.filter = self.filter.topic1(topic);
        self
    }

    /// Only logs whose second indexed argument (third topic) is `topic` (an operator).
    pub fn topic2(mut self, topic: B256) -> Self {
        self.filter = self.filter.topic2(topic);
        self
    }
}

impl LogSource for RpcLogSource {
    fn head(&self) -> BoxFuture<'_, Result<u64, StreamError>> {
        Box::pin(async move {
            self.provider
                .get_block_number()
                .await
                .map_err(|source| StreamError::Rpc {
                    call: "eth_blockNumber",
                    source,
                })
        })
    }

    fn header(&self, number: u64) -> BoxFuture<'_, Result<Option<Header>, StreamError>> {
        Box::pin(async move {
            let block = self
                .provider
                .get_block_by_number(BlockNumberOrTag::Number(number))
                .await
                .map_err(|source| StreamError::Rpc {
                    call: "eth_getBlockByNumber",
                    source,
                })?;
            Ok(block.map(|b| Header {
                number: b.header.number,
                hash: b.header.hash,
                timestamp: b.header.timestamp,
            }))
        })
    }

    fn logs(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<Log>, StreamError>> {
        Box::pin(async move {
            let filter = self.filter.clone().from_block(from).to_block(to);
            self.provider
                .get_logs(&filter)
                .await
                .map_err(|source| StreamError::Rpc {
                    call: "eth_getLogs",
                    source,
                })
        })
    }
}
