//! The chain indexer: the follower ([`crate::follow`], the settlement crate's event stream
//! stepped over the store's cursor) and the projection ([`projection`]) in a loop. Each step either undoes blocks a reorg removed ([`Store::revert_block`], newest
//! first) or projects and applies the next confirmed blocks ([`Store::apply_block`], one
//! transaction per block). Every step starts from the store, so stopping at any point (crash,
//! cancellation, dropped future) and starting again converges to the chain's state with nothing
//! duplicated.

pub mod projection;

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

pub use projection::{Contracts, ProjectionError, project_block};

use crate::{
    follow::{self, FollowError, LogSource, Step, StreamConfig},
    metrics::CoordinatorMetrics,
    store::{Store, StoreError},
};

/// Why the indexer stopped or a step failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// Following the chain failed.
    #[error(transparent)]
    Follow(#[from] FollowError),
    /// Projecting a block failed.
    #[error("[V-CI-010] projecting block {block}: {source}")]
    Projection {
        /// Block number.
        block: u64,
        /// Cause.
        #[source]
        source: ProjectionError,
    },
    /// Writing to the store failed.
    #[error("[V-CI-011] store: {0}")]
    Store(#[from] StoreError),
}

impl IndexerError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            IndexerError::Follow(e) => e.is_transient(),
            IndexerError::Projection { source, .. } => match source {
                ProjectionError::Store(e) => e.is_transient(),
                ProjectionError::Incomplete { .. } => true,
            },
            IndexerError::Store(e) => e.is_transient(),
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Blocks reverted (a reorg).
    pub reverted: usize,
    /// Blocks applied.
    pub blocks: usize,
    /// Logs newly applied.
    pub logs: usize,
    /// Logs skipped as already applied (a replay).
    pub duplicate: usize,
    /// Whether the indexer is caught up (nothing confirmed beyond the cursor).
    pub idle: bool,
}

/// Follows the chain into the store.
#[derive(Debug, Clone)]
pub struct Indexer {
    store: Arc<dyn Store>,
    chain: Arc<dyn LogSource>,
    contracts: Contracts,
    follow: StreamConfig,
    metrics: CoordinatorMetrics,
    poll: Duration,
}

impl Indexer {
    /// An indexer of `contracts`' logs from `chain` into `store`.
    pub fn new(
        store: Arc<dyn Store>,
        chain: Arc<dyn LogSource>,
        contracts: Contracts,
        follow: StreamConfig,
    ) -> Self {
        Self {
            store,
            chain,
            contracts,
            follow,
            metrics: CoordinatorMetrics::default(),
            poll: Duration::from_millis(500),
        }
    }

    /// Reports to `metrics` (indexer lag and last block).
    pub fn with_metrics(mut self, metrics: CoordinatorMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// How long to wait between steps once caught up (and after transient errors).
    pub fn with_poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// One follower step, applied.
    pub async fn step(&self) -> Result<Progress, IndexerError> {
        let mut p = Progress::default();
        match follow::step(self.store.as_ref(), self.chain.as_ref(), &self.follow).await? {
            Step::Reorg { undo, fork_point } => {
                for b in &undo {
                    let logs = self.store.revert_block(b.hash).await?;
                    tracing::info!(target: "coordinator::indexer", block = b.number, hash = %b.hash, logs, "reverted");
                    p.reverted += 1;
                }
                tracing::warn!(
                    target: "coordinator::indexer",
                    reverted = undo.len(),
                    fork = ?fork_point.map(|b| b.number),
                    "reorg undone"
                );
            }
            Step::Blocks { blocks, head } => {
                for block in &blocks {
                    let logs = project_block(self.store.as_ref(), self.contracts, block)
                        .await
                        .map_err(|source| IndexerError::Projection {
                            block: block.header.number,
                            source,
                        })?;
                    let applied = self
                        .store
                        .apply_block(block.block_ref(), &logs, self.follow.keep_blocks)
                        .await?;
                    p.blocks += 1;
                    p.logs += applied.new;
                    p.duplicate += applied.duplicate;
                    self.report(block.header.number, head);
                }
                tracing::debug!(
                    target: "coordinator::indexer",
                    to = blocks.last().map(|b| b.header.number),
                    logs = p.logs,
                    "applied range"
                );
            }
            Step::Idle { head } => {
                p.idle = true;
                if let Some(c) = self.store.cursor().await? {
                    self.report(c.number, head);
                }
            }
        }
        Ok(p)
    }

    fn report(&self, indexed: u64, head: u64) {
        self.metrics
            .indexed_block
            .set(i64::try_from(indexed).unwrap_or(i64::MAX));
        self.metrics
            .indexer_lag_blocks
            .set(i64::try_from(head.saturating_sub(indexed)).unwrap_or(i64::MAX));
    }

    /// Steps until caught up, at most `max_steps` steps; returns the summed progress.
    pub async fn sync(&self, max_steps: usize) -> Result<Progress, IndexerError> {
        let mut total = Progress::default();
        for _ in 0..max_steps {
            let p = self.step().await?;
            total.reverted += p.reverted;
            total.blocks += p.blocks;
            total.logs += p.logs;
            total.duplicate += p.duplicate;
            if p.idle {
                total.idle = true;
                break;
            }
        }
        Ok(total)
    }

    /// Runs until `cancel` fires. Transient errors are logged and retried after the poll
    /// interval; a fatal one (a reorg deeper than the kept blocks, a corrupt store) stops it.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), IndexerError> {
        tracing::info!(target: "coordinator::indexer", market = %self.contracts.market, registry = %self.contracts.registry, "indexer started");
        loop {
            let wait = tokio::select! {
                () = cancel.cancelled() => break,
                r = self.step() => match r {
                    Ok(p) if p.idle => true,
                    Ok(_) => false,
                    Err(e) if e.is_transient() => {
                        tracing::warn!(target: "coordinator::indexer", error = %e, "step failed, retrying");
                        true
                    }
                    Err(e) => {
                        tracing::error!(target: "coordinator::indexer", error = %e, "indexer stopped");
                        return Err(e);
                    }
                },
            };
            if wait {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    () = tokio::time::sleep(self.poll) => {}
                }
            }
        }
        tracing::info!(target: "coordinator::indexer", "indexer stopped");
        Ok(())
    }
}
