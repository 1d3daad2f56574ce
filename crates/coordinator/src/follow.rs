//! Following the chain: one stateless step at a time over the store's cursor.
//!
//! Each [`step`] reads where the store stands ([`Store::cursor`], [`Store::recent_blocks`]),
//! compares it with the chain, and says what to do next: undo blocks the chain no longer has
//! (a reorganization), process the next range of confirmed blocks, or nothing. It keeps no
//! state of its own, so a coordinator that stops at any point resumes from the store, and a
//! range replayed after a crash is deduplicated by the store's `(block hash, log index)` key.
//!
//! Detecting reorgs: the store records the hash of every processed block that had logs plus
//! the last block of every range. Block hashes chain, so if the newest recorded hash is still on
//! the chain everything below it is too; otherwise the follower walks back through the recorded
//! blocks to the newest one the chain still has (the fork point) and returns the ones above it,
//! newest first. Blocks that were never recorded had no logs in the old branch; the range after
//! the fork point is fetched again, so whatever they hold on the new branch is found.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256},
    providers::{DynProvider, Provider},
    rpc::types::{Filter, Log},
    transports::TransportError,
};

use crate::store::{BlockRef, BoxFuture, Store, StoreError};

/// How the follower walks the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowConfig {
    /// Blocks kept between the head and the newest processed block (0: follow the tip).
    pub confirmations: u64,
    /// Most blocks one `eth_getLogs` spans.
    pub max_range: u64,
    /// First block to look at when the store is empty (the contracts' deployment block).
    pub start_block: u64,
    /// Recent block hashes the store keeps for reorg detection (deeper reorgs are an error).
    pub keep_blocks: u64,
}

impl Default for FollowConfig {
    fn default() -> Self {
        Self {
            confirmations: 2,
            max_range: 1_000,
            start_block: 0,
            keep_blocks: 256,
        }
    }
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The chain's RPC failed.
    #[error("[V-CF-001] {call} failed: {source}")]
    Rpc {
        /// The method.
        call: &'static str,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// The store failed.
    #[error("[V-CF-002] store: {0}")]
    Store(#[from] StoreError),
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
}

impl FollowError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            FollowError::Rpc { .. } | FollowError::Moved { .. } => true,
            FollowError::Store(e) => e.is_transient(),
            FollowError::ReorgTooDeep { .. } => false,
        }
    }
}

/// Result with [`FollowError`].
pub type Result<T, E = FollowError> = std::result::Result<T, E>;

/// A block header as far as the follower cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Unix seconds.
    pub timestamp: u64,
}

/// Read access to a chain: the seam between the follower and the RPC (tests may stand in).
pub trait Chain: std::fmt::Debug + Send + Sync {
    /// The latest block number.
    fn head(&self) -> BoxFuture<'_, Result<u64>>;
    /// The header at `number`, if the chain has one.
    fn header(&self, number: u64) -> BoxFuture<'_, Result<Option<Header>>>;
    /// The followed contracts' logs in `from..=to`, in chain order.
    fn logs(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<Log>>>;
}

/// [`Chain`] over JSON-RPC, for the logs of `addresses`.
#[derive(Debug, Clone)]
pub struct RpcChain {
    provider: DynProvider,
    addresses: Vec<Address>,
}

impl RpcChain {
    /// Follows the logs of `addresses` (the market and the registry).
    pub fn new(provider: DynProvider, addresses: Vec<Address>) -> Self {
        Self {
            provider,
            addresses,
        }
    }
}

impl Chain for RpcChain {
    fn head(&self) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            self.provider
                .get_block_number()
                .await
                .map_err(|source| FollowError::Rpc {
                    call: "eth_blockNumber",
                    source,
                })
        })
    }

    fn header(&self, number: u64) -> BoxFuture<'_, Result<Option<Header>>> {
        Box::pin(async move {
            let block = self
                .provider
                .get_block_by_number(BlockNumberOrTag::Number(number))
                .await
                .map_err(|source| FollowError::Rpc {
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

    fn logs(&self, from: u64, to: u64) -> BoxFuture<'_, Result<Vec<Log>>> {
        Box::pin(async move {
            let filter = Filter::new()
                .address(self.addresses.clone())
                .from_block(from)
                .to_block(to);
            self.provider
                .get_logs(&filter)
                .await
                .map_err(|source| FollowError::Rpc {
                    call: "eth_getLogs",
                    source,
                })
        })
    }
}

/// One confirmed block to process: its header and the followed logs in it (possibly none).
#[derive(Debug, Clone, PartialEq)]
pub struct ChainBlock {
    /// The block.
    pub header: Header,
    /// Its logs, by log index.
    pub logs: Vec<Log>,
}

impl ChainBlock {
    /// The block as the store records it.
    pub fn block_ref(&self) -> BlockRef {
        BlockRef {
            number: self.header.number,
            hash: self.header.hash,
        }
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The chain dropped these recorded blocks: revert them, newest first.
    Reorg {
        /// Blocks to undo, newest first.
        undo: Vec<BlockRef>,
        /// The newest recorded block the chain still has (`None`: none recorded survives but
        /// the store keeps no older ones either, so processing restarts at `start_block`).
        fork_point: Option<BlockRef>,
    },
    /// Process these blocks, in order: every block of the range with logs, and the range's
    /// last block (so the cursor moves even over empty ranges).
    Blocks {
        /// The blocks.
        blocks: Vec<ChainBlock>,
        /// The chain head when the range was read.
        head: u64,
    },
    /// Nothing confirmed beyond the cursor yet.
    Idle {
        /// The chain head.
        head: u64,
    },
}

/// Compares the store with the chain and returns the next [`Step`].
pub async fn step(store: &dyn Store, chain: &dyn Chain, cfg: &FollowConfig) -> Result<Step> {
    let head = chain.head().await?;
    let recent = store.recent_blocks().await?;
    if let Some(cursor) = recent.first().copied() {
        let on_chain = chain.header(cursor.number).await?;
        if on_chain.map(|h| h.hash) != Some(cursor.hash) {
            let mut undo = vec![cursor];
            let mut fork_point = None;
            for b in &recent[1..] {
                let h = chain.header(b.number).await?;
                if h.map(|h| h.hash) == Some(b.hash) {
                    fork_point = Some(*b);
                    break;
                }
                undo.push(*b);
            }
            // With no survivor, undoing everything is right only if nothing was ever pruned
            // (the store then holds every block since `start_block`).
            let pruned = cursor.number >= cfg.start_block.saturating_add(cfg.keep_blocks);
            if fork_point.is_none() && pruned {
                return Err(FollowError::ReorgTooDeep {
                    kept: recent.len(),
                    oldest: recent.last().map_or(0, |b| b.number),
                });
            }
            tracing::warn!(
                target: "coordinator::follow",
                depth = undo.len(),
                fork = ?fork_point.map(|b| b.number),
                "reorg detected"
            );
            return Ok(Step::Reorg { undo, fork_point });
        }
    }
    let from = recent
        .first()
        .map_or(cfg.start_block, |c| c.number + 1)
        .max(cfg.start_block);
    let target = head.saturating_sub(cfg.confirmations);
    if from > target {
        return Ok(Step::Idle { head });
    }
    let to = target.min(from.saturating_add(cfg.max_range.max(1) - 1));
    let logs = chain.logs(from, to).await?;
    let mut blocks: Vec<ChainBlock> = Vec::new();
    for log in logs {
        let (Some(number), Some(hash)) = (log.block_number, log.block_hash) else {
            return Err(FollowError::Moved {
                number: from,
                reason: "a log without a block (pending)".into(),
            });
        };
        if log.removed {
            return Err(FollowError::Moved {
                number,
                reason: "a removed log in a confirmed range".into(),
            });
        }
        match blocks.last_mut() {
            Some(b) if b.header.number == number => {
                if b.header.hash != hash {
                    return Err(FollowError::Moved {
                        number,
                        reason: format!("logs from blocks {} and {hash}", b.header.hash),
                    });
                }
                b.logs.push(log);
            }
            _ => {
                let header = fetch(chain, number).await?;
                if header.hash != hash {
                    return Err(FollowError::Moved {
                        number,
                        reason: format!("log in {hash}, header {}", header.hash),
                    });
                }
                blocks.push(ChainBlock {
                    header,
                    logs: vec![log],
                });
            }
        }
    }
    if blocks.last().map(|b| b.header.number) != Some(to) {
        let header = fetch(chain, to).await?;
        blocks.push(ChainBlock {
            header,
            logs: Vec::new(),
        });
    }
    Ok(Step::Blocks { blocks, head })
}

async fn fetch(chain: &dyn Chain, number: u64) -> Result<Header> {
    chain
        .header(number)
        .await?
        .ok_or_else(|| FollowError::Moved {
            number,
            reason: "the chain has no block at this height any more".into(),
        })
}
