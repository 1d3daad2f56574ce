//! [`EventStream`]: the typed, chunked, reorg-aware reader every program follows the contracts
//! with. It keeps the recent blocks it read in memory and asks [`step`](super::step) what to do
//! next; a consumer that must survive restarts saves [`EventStream::next_block`] and starts
//! the next stream there (reorgs of blocks read before a restart are not seen by it, so such
//! consumers read with a confirmation depth).

use std::{collections::VecDeque, sync::Arc};

use super::{BlockRef, ChainEvent, Contracts, LogSource, Step, StreamConfig, StreamError, step};

/// What the stream yields.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    /// The next event on the canonical chain (boxed: it is large beside the marker).
    Event(Box<ChainEvent>),
    /// The chain reorganized: every event the stream yielded from `from_block` on is no longer
    /// on the chain; roll it back. The stream continues at `from_block` with the new branch.
    Reorged {
        /// The first block whose events are void.
        from_block: u64,
    },
}

/// What one call read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// Events and reorgs, in the order they happened.
    pub items: Vec<StreamItem>,
    /// Whether the stream has read every block the confirmation depth allows.
    pub caught_up: bool,
    /// The chain head at the last step.
    pub head: u64,
}

impl Batch {
    /// The events of the batch, ignoring reorg markers (for consumers whose handling is
    /// idempotent and who re-read the chain before acting).
    pub fn events(&self) -> impl Iterator<Item = &ChainEvent> {
        self.items.iter().filter_map(|i| match i {
            StreamItem::Event(e) => Some(e.as_ref()),
            StreamItem::Reorged { .. } => None,
        })
    }
}

/// A typed, chunked, reorg-aware stream of `TaskMarket` and `NodeRegistry` events.
#[derive(Debug, Clone)]
pub struct EventStream {
    source: Arc<dyn LogSource>,
    contracts: Contracts,
    cfg: StreamConfig,
    /// Blocks read (those with logs, and the last of each range), newest first.
    recent: VecDeque<BlockRef>,
}

impl EventStream {
    /// A stream of `contracts`' events from `source`, starting at `cfg.start_block`.
    pub fn new(source: Arc<dyn LogSource>, contracts: Contracts, cfg: StreamConfig) -> Self {
        Self {
            source,
            contracts,
            cfg,
            recent: VecDeque::new(),
        }
    }

    /// The first block not read yet (where a restarted consumer starts its next stream).
    pub fn next_block(&self) -> u64 {
        self.recent
            .front()
            .map_or(self.cfg.start_block, |b| b.number + 1)
            .max(self.cfg.start_block)
    }

    /// One step: a reorg marker, or the events of the next chunk of confirmed blocks, or
    /// nothing (caught up). Makes a bounded number of requests.
    pub async fn next_batch(&mut self) -> Result<Batch, StreamError> {
        let recent: Vec<BlockRef> = self.recent.iter().copied().collect();
        match step(&recent, self.source.as_ref(), &self.cfg).await? {
            Step::Reorg { undo, fork_point } => {
                match fork_point {
                    Some(f) => {
                        while self.recent.front().is_some_and(|b| b.number > f.number) {
                            self.recent.pop_front();
                        }
                    }
                    None => self.recent.clear(),
                }
                let from_block = fork_point.map_or(self.cfg.start_block, |b| b.number + 1);
                tracing::info!(
                    target: "settlement::events",
                    undone = undo.len(),
                    from_block,
                    "rolling back"
                );
                Ok(Batch {
                    items: vec![StreamItem::Reorged { from_block }],
                    caught_up: false,
                    head: 0,
                })
            }
            Step::Blocks { blocks, head } => {
                let mut items = Vec::new();
                for block in &blocks {
                    for log in &block.logs {
                        if let Some(e) = ChainEvent::decode(&self.contracts, &block.header, log)? {
                            items.push(StreamItem::Event(Box::new(e)));
                        }
                    }
                }
                // Only once the whole range decoded: a failed step leaves the stream where it
                // was, and the retry reads the range again.
                for block in &blocks {
                    self.recent.push_front(block.block_ref());
                }
                self.recent
                    .truncate(usize::try_from(self.cfg.keep_blocks.max(1)).unwrap_or(usize::MAX));
                Ok(Batch {
                    items,
                    caught_up: false,
                    head,
                })
            }
            Step::Idle { head } => Ok(Batch {
                items: Vec::new(),
                caught_up: true,
                head,
            }),
        }
    }

    /// Steps until caught up, at most `max_steps` steps; returns everything read. A reorg
    /// marker is yielded in place, so the items replay the chain's history as seen. A step that
    /// fails after others succeeded ends the call with what they read (nothing read is lost;
    /// the failure recurs, or not, on the next call).
    pub async fn catch_up(&mut self, max_steps: usize) -> Result<Batch, StreamError> {
        let mut out = Batch::default();
        for _ in 0..max_steps {
            let b = match self.next_batch().await {
                Ok(b) => b,
                Err(e) if out.items.is_empty() => return Err(e),
                Err(e) => {
                    tracing::warn!(target: "settlement::events", error = %e, "step failed; returning what was read");
                    break;
                }
            };
            out.items.extend(b.items);
            out.head = out.head.max(b.head);
            if b.caught_up {
                out.caught_up = true;
                break;
            }
        }
        Ok(out)
    }
}
