//! The typed events the stream yields: every `TaskMarket` and `NodeRegistry` log decoded with
//! the contracts' `sol!` bindings (`verity-contracts`), with where it sits on the chain.

use alloy::{
    primitives::{Address, B256},
    rpc::types::Log,
    sol_types::SolEventInterface,
};
use verity_contracts::{NodeRegistry, TaskMarket};

use super::{BlockRef, Header, StreamError};

/// An event of the `TaskMarket` (the bindings' enum of all its events).
pub type MarketEvent = TaskMarket::TaskMarketEvents;
/// An event of the `NodeRegistry` (the bindings' enum of all its events).
pub type RegistryEvent = NodeRegistry::NodeRegistryEvents;

/// The contracts whose events are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contracts {
    /// The TaskMarket.
    pub market: Address,
    /// The NodeRegistry.
    pub registry: Address,
}

impl Contracts {
    /// Both addresses, for a log filter.
    pub fn addresses(&self) -> Vec<Address> {
        vec![self.market, self.registry]
    }
}

/// One decoded event of either contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A `TaskMarket` event.
    Market(MarketEvent),
    /// A `NodeRegistry` event.
    Registry(RegistryEvent),
}

impl Event {
    /// The event of `log` if it is one of `contracts`' events the bindings know; `None` for a
    /// log of another address or one the bindings cannot decode (a newer contract's event),
    /// which is logged and skipped.
    pub fn decode(contracts: &Contracts, log: &Log) -> Option<Event> {
        let inner = &log.inner;
        let decoded = if inner.address == contracts.market {
            MarketEvent::decode_log(inner).map(|e| Event::Market(e.data))
        } else if inner.address == contracts.registry {
            RegistryEvent::decode_log(inner).map(|e| Event::Registry(e.data))
        } else {
            return None;
        };
        match decoded {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::warn!(
                    target: "settlement::events",
                    block = ?log.block_number,
                    address = %inner.address,
                    topic = ?log.topic0(),
                    error = %e,
                    "undecodable log skipped"
                );
                None
            }
        }
    }
}

/// A decoded event with where it sits on the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainEvent {
    /// The block it is in.
    pub block: BlockRef,
    /// That block's timestamp (unix seconds).
    pub timestamp: u64,
    /// Its index in the block.
    pub log_index: u64,
    /// The transaction that emitted it.
    pub tx_hash: B256,
    /// The event.
    pub event: Event,
    /// The raw log (for journals that keep topics and data).
    pub log: Log,
}

impl ChainEvent {
    /// `log` of block `header` decoded, or `None` for a log that is not one of `contracts`'
    /// known events.
    pub fn decode(
        contracts: &Contracts,
        header: &Header,
        log: &Log,
    ) -> Result<Option<ChainEvent>, StreamError> {
        let Some(event) = Event::decode(contracts, log) else {
            return Ok(None);
        };
        let log_index = log.log_index.ok_or(StreamError::Incomplete {
            block: header.number,
            what: "log index",
        })?;
        let tx_hash = log.transaction_hash.ok_or(StreamError::Incomplete {
            block: header.number,
            what: "transaction hash",
        })?;
        Ok(Some(ChainEvent {
            block: header.block_ref(),
            timestamp: header.timestamp,
            log_index,
            tx_hash,
            event,
            log: log.clone(),
        }))
    }

    /// The market event, if this is one.
    pub fn market(&self) -> Option<&MarketEvent> {
        match &self.event {
            Event::Market(e) => Some(e),
            Event::Registry(_) => None,
        }
    }

    /// The registry event, if this is one.
    pub fn registry(&self) -> Option<&RegistryEvent> {
        match &self.event {
            Event::Registry(e) => Some(e),
            Event::Market(_) => None,
        }
    }
}
