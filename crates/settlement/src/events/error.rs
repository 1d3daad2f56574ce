//! Why reading the chain's events failed.
//!
//! The codes are the ones the coordinator's follower gave these errors before the stream moved
//! here (`V-CF-*`), so operators' searches keep finding them; `V-CF-002` (the follower's store)
//! stays with the coordinator, which owns that store.

use alloy::transports::TransportError;

/// Why a stream step (or a history read) failed.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The chain's RPC failed.
    #[error("[V-CF-001] {call} failed: {source}")]
    Rpc {
        /// The method.
        call: &'static str,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// None of the recorded blocks is on the chain any more.
    #[error(
        "[V-CF-003] reorg deeper than the {kept} recorded blocks (oldest recorded: {oldest}); raise indexer.keep_blocks or re-index"
    )]
    ReorgTooDeep {
        /// Blocks recorded.
        kept: usize,
        /// Oldest recorded block number.
        oldest: u64,
    },
    /// The chain changed while a range was read (a log's block is not the block fetched at
    /// its height); the next step sees the new chain.
    #[error("[V-CF-004] chain moved while reading block {number}: {reason}")]
    Moved {
        /// Height.
        number: u64,
        /// What disagreed.
        reason: String,
    },
    /// A log lacks what a confirmed log has (its index or transaction hash).
    #[error("[V-CF-006] log in block {block} lacks its {what}")]
    Incomplete {
        /// Block number.
        block: u64,
        /// What is missing.
        what: &'static str,
    },
    /// A range asked for backwards.
    #[error("[V-CF-005] block range {from}..={to} is empty (from > to)")]
    EmptyRange {
        /// First block.
        from: u64,
        /// Last block.
        to: u64,
    },
}

impl StreamError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            StreamError::Rpc { .. }
            | StreamError::Moved { .. }
            | StreamError::Incomplete { .. } => true,
            StreamError::ReorgTooDeep { .. } | StreamError::EmptyRange { .. } => false,
        }
    }
}
