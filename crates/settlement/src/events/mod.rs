//! The one way to read the chain: a typed, chunked, reorg-aware stream of `TaskMarket` and
//! `NodeRegistry` events.
//!
//! - [`LogSource`] is the seam to the chain: [`RpcLogSource`] asks a JSON-RPC node (it holds
//!   the workspace's only `eth_getLogs` call), [`MemoryChain`] stands in for it in tests.
//! - [`step`] compares what a reader processed with the chain and says what to do next:
//!   roll back a reorg, read the next chunk of confirmed blocks, or wait. It is stateless, so
//!   the coordinator's indexer keeps its recent blocks in its database.
//! - [`EventStream`] keeps them in memory and yields [`StreamItem`]s: each [`ChainEvent`]
//!   (decoded with the contracts' `sol!` bindings into [`MarketEvent`] or [`RegistryEvent`])
//!   once, and a [`StreamItem::Reorged`] marker when the chain dropped blocks it had yielded,
//!   after which the new branch's events follow.
//! - [`history`] reads a fixed range once, in the same chunks (a task's past events).
//!
//! Every loop is bounded: a step reads at most one chunk, [`EventStream::catch_up`] takes a
//! step budget, and [`history`] ends at its last block.

mod error;
mod event;
mod follow;
mod history;
mod memory;
mod source;
mod stream;

pub use error::StreamError;
pub use event::{ChainEvent, Contracts, Event, MarketEvent, RegistryEvent};
pub use follow::{ChainBlock, DEFAULT_CHUNK_BLOCKS, Step, StreamConfig, step};
pub use history::{history, history_to_head};
pub use memory::MemoryChain;
pub use source::{BlockRef, BoxFuture, Header, LogSource, RpcLogSource};
pub use stream::{Batch, EventStream, StreamItem};

use crate::Settlement;

impl Settlement {
    /// The deployment's market and registry.
    pub fn contracts(&self) -> Contracts {
        Contracts {
            market: self.deployment.market,
            registry: self.deployment.registry,
        }
    }

    /// A [`LogSource`] of the market's logs over this client's provider (narrow it with
    /// [`RpcLogSource::events`] and the topic filters).
    pub fn market_logs(&self) -> RpcLogSource {
        RpcLogSource::new(self.provider.clone(), vec![self.deployment.market])
    }

    /// A [`LogSource`] of the market's and the registry's logs over this client's provider.
    pub fn contract_logs(&self) -> RpcLogSource {
        RpcLogSource::new(self.provider.clone(), self.contracts().addresses())
    }
}
