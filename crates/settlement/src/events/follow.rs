//! Following the chain: one stateless step at a time over a reader's recent blocks.
//!
//! Each [`step`] takes the blocks a reader has processed (newest first: its cursor, then older
//! ones), compares them with the chain, and says what to do next: undo blocks the chain no
//! longer has (a reorganization), process the next range of confirmed blocks, or nothing. It
//! keeps no state of its own, so a reader whose recent blocks live in a database (the
//! coordinator's indexer) resumes from there after a crash, and one that keeps them in memory
//! ([`EventStream`](super::EventStream)) holds them itself.
//!
//! Detecting reorgs: the reader records the hash of every processed block that had logs plus
//! the last block of every range. Block hashes chain, so if the newest recorded hash is still on
//! the chain everything below it is too; otherwise the step walks back through the recorded
//! blocks to the newest one the chain still has (the fork point) and returns the ones above it,
//! newest first. Blocks that were never recorded had no logs in the old branch; the range after
//! the fork point is fetched again, so whatever they hold on the new branch is found.

use alloy::rpc::types::Log;

use super::{BlockRef, Header, LogSource, StreamError};

/// Most blocks one log query spans unless configured otherwise: one size for every reader
/// (the devchain allows 10 000, most hosted providers a few thousand).
pub const DEFAULT_CHUNK_BLOCKS: u64 = 1_000;

/// How a reader walks the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamConfig {
    /// Blocks kept between the head and the newest processed block (0: follow the tip).
    pub confirmations: u64,
    /// Most blocks one log query spans (at least 1).
    pub chunk_blocks: u64,
    /// First block to look at when nothing was processed yet (the contracts' deployment
    /// block, or a reader's saved cursor).
    pub start_block: u64,
    /// Recent block hashes kept for reorg detection (deeper reorgs are an error).
    pub keep_blocks: u64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            confirmations: 2,
            chunk_blocks: DEFAULT_CHUNK_BLOCKS,
            start_block: 0,
            keep_blocks: 256,
        }
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
    /// The block's number and hash.
    pub fn block_ref(&self) -> BlockRef {
        self.header.block_ref()
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
        /// the reader keeps no older ones either, so processing restarts at `start_block`).
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

/// Compares `recent` (the processed blocks a reader recorded, newest first) with the chain and
/// returns the next [`Step`].
pub async fn step(
    recent: &[BlockRef],
    chain: &dyn LogSource,
    cfg: &StreamConfig,
) -> Result<Step, StreamError> {
    let head = chain.head().await?;
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
            // (the reader then holds every block since `start_block`).
            let pruned = cursor.number >= cfg.start_block.saturating_add(cfg.keep_blocks);
            if fork_point.is_none() && pruned {
                return Err(StreamError::ReorgTooDeep {
                    kept: recent.len(),
                    oldest: recent.last().map_or(0, |b| b.number),
                });
            }
            tracing::warn!(
                target: "settlement::events",
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
    // A chain shorter than the confirmation depth has nothing confirmed, not even block 0.
    let Some(target) = head.checked_sub(cfg.confirmations) else {
        return Ok(Step::Idle { head });
    };
    if from > target {
        return Ok(Step::Idle { head });
    }
    let to = target.min(from.saturating_add(cfg.chunk_blocks.max(1) - 1));
    let logs = chain.logs(from, to).await?;
    let mut blocks: Vec<ChainBlock> = Vec::new();
    for log in logs {
        let (Some(number), Some(hash)) = (log.block_number, log.block_hash) else {
            return Err(StreamError::Moved {
                number: from,
                reason: "a log without a block (pending)".into(),
            });
        };
        if log.removed {
            return Err(StreamError::Moved {
                number,
                reason: "a removed log in a confirmed range".into(),
            });
        }
        match blocks.last_mut() {
            Some(b) if b.header.number == number => {
                if b.header.hash != hash {
                    return Err(StreamError::Moved {
                        number,
                        reason: format!("logs from blocks {} and {hash}", b.header.hash),
                    });
                }
                b.logs.push(log);
            }
            _ => {
                let header = fetch(chain, number).await?;
                if header.hash != hash {
                    return Err(StreamError::Moved {
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

async fn fetch(chain: &dyn LogSource, number: u64) -> Result<Header, StreamError> {
    chain
        .header(number)
        .await?
        .ok_or_else(|| StreamError::Moved {
            number,
            reason: "the chain has no block at this height any more".into(),
        })
}
