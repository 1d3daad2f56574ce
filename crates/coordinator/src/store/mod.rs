//! The coordinator's database behind one trait, [`Store`], with one implementation over SQLite
//! (embedded default) and PostgreSQL: [`SqlStore`].
//!
//! # Following the chain
//! The indexer hands the store one block at a time ([`Store::apply_block`]): each log with the
//! projection changes it implies, plus the block's number and hash, in one transaction. Logs
//! are keyed by `(block_hash, log_index)`, so replaying a range after a restart skips what is
//! already there and duplicates nothing.
//!
//! # Undo
//! Each change is an upsert of a whole row. Before applying it, the store writes the row's
//! before-image (or "absent") to `journal_undo`. Removing a log ([`Store::revert_log`],
//! [`Store::revert_block`]) restores those images in reverse order and deletes the journal
//! rows, so the projection is exactly what it was before the log. Reverts must go newest
//! first (as a reorg removes blocks from the tip down); the store refuses any other order with
//! [`StoreError::OutOfOrderRevert`], since restoring an older before-image over a newer change
//! would be wrong. Before-images were chosen over rebuilding from the remaining journal
//! because they need no knowledge of event semantics: the indexer's event mapping can change
//! without the undo path changing.

mod migrate;
mod records;
mod rows;
mod sql;
mod views;

use std::{future::Future, pin::Pin};

use alloy::primitives::{Address, B256, U256};

pub use migrate::{MIGRATIONS, Migration};
pub use records::{
    Applied, AssignmentRecord, AssignmentStatus, BlockRef, Change, HeartbeatRecord, JournalEvent,
    LogChanges, NodeRecord, OutcomeKind, OutcomeRecord, Page, ReassignReason, ReassignmentRecord,
    SeatPlan, TaskLogRecord, TaskMode, TaskRecord, TaskStatus,
};
pub use sql::{Backend, SqlStore};
pub use views::{MAX_KEYS, NetworkCounts, NodeQuery, Order, TaskQuery, Views, percentile};

/// A boxed future, so the trait stays object-safe (`Arc<dyn Store>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The most rows one page returns, whatever the caller asks.
pub const MAX_PAGE: u32 = 500;

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no supported backend.
    #[error("[V-CS-001] unsupported database URL {url:?}: expected sqlite:// or postgres://")]
    UnsupportedUrl {
        /// The URL, with any password removed.
        url: String,
    },
    /// The database failed.
    #[error("[V-CS-002] database error during {op}: {source}")]
    Database {
        /// What the store was doing.
        op: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration already applied differs from the one compiled in.
    #[error(
        "[V-CS-003] migration {version} ({name}) was applied with checksum {applied}, but this build has {expected}: the schema was edited after release"
    )]
    MigrationChanged {
        /// Version.
        version: i64,
        /// Name.
        name: String,
        /// Checksum recorded in the database.
        applied: String,
        /// Checksum of the compiled-in file.
        expected: String,
    },
    /// The database has migrations this build does not know (a newer coordinator wrote it).
    #[error("[V-CS-004] database schema version {found} is newer than this build's {known}")]
    SchemaTooNew {
        /// Highest version in the database.
        found: i64,
        /// Highest version this build knows.
        known: i64,
    },
    /// A stored value is not what the schema allows.
    #[error("[V-CS-005] corrupt {table} row {key}: {reason}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Row key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A value does not fit the database's 64-bit integers.
    #[error("[V-CS-006] {field} = {value} does not fit a signed 64-bit column")]
    OutOfRange {
        /// Field.
        field: &'static str,
        /// Value.
        value: u64,
    },
    /// A revert that is not of the newest journaled log(s).
    #[error(
        "[V-CS-007] cannot revert log {log_index} of block {block_hash}: newer logs (up to block {newer_block}) are still applied; revert newest first"
    )]
    OutOfOrderRevert {
        /// The block asked for.
        block_hash: B256,
        /// The log asked for.
        log_index: u64,
        /// Number of the newest block still applied after it.
        newer_block: u64,
    },
    /// A heartbeat whose seq is not above the stored one (lost a race with a newer one).
    #[error("[V-CS-008] heartbeat seq {seq} for {operator} is not above the stored seq")]
    StaleHeartbeat {
        /// Operator.
        operator: Address,
        /// Its seq.
        seq: u64,
    },
    /// A different block is already recorded at this height: the indexer must revert the
    /// stored one first (a reorg it has not handled).
    #[error(
        "[V-CS-010] block {number} is recorded as {stored}, not {given}: revert the stored block first"
    )]
    BlockConflict {
        /// Height.
        number: u64,
        /// Hash recorded.
        stored: B256,
        /// Hash given.
        given: B256,
    },
    /// A block whose logs carry another block's hash or number.
    #[error("[V-CS-009] log {log_index} claims block {claimed}, but is applied with block {block}")]
    WrongBlock {
        /// The log.
        log_index: u64,
        /// The block hash it claims.
        claimed: B256,
        /// The block it was passed with.
        block: B256,
    },
}

impl StoreError {
    /// Whether retrying the same call later may succeed (connection trouble, lock contention).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Database {
                source: sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed,
                ..
            }
        )
    }
}

/// Everything the coordinator persists. Implementations are transactional: each method either
/// happens entirely or not at all. One indexer writes the chain projection; a second
/// concurrent writer of blocks would be refused (the journal's application order is unique),
/// never silently interleaved.
pub trait Store: std::fmt::Debug + Send + Sync + 'static {
    /// Journals and applies a block's logs and records the block as processed, in one
    /// transaction. Logs already journaled are skipped (counted in [`Applied::duplicate`]).
    /// `keep_blocks` is how many recent block hashes to keep for reorg detection.
    fn apply_block<'a>(
        &'a self,
        block: BlockRef,
        logs: &'a [LogChanges],
        keep_blocks: u64,
    ) -> BoxFuture<'a, Result<Applied>>;

    /// Undoes one journaled log (the newest one). Returns false if it was not journaled.
    /// The block stays recorded in the cursor; [`Store::revert_block`] forgets it.
    fn revert_log(&self, block_hash: B256, log_index: u64) -> BoxFuture<'_, Result<bool>>;

    /// Undoes every log of a block (newest first) and forgets the block. Returns how many logs
    /// were undone. The block must be the newest one with journaled logs.
    fn revert_block(&self, block_hash: B256) -> BoxFuture<'_, Result<usize>>;

    /// Journaled logs from `from_block` on, in order of application.
    fn journal(&self, from_block: u64) -> BoxFuture<'_, Result<Vec<JournalEvent>>>;

    /// The newest processed block, if any.
    fn cursor(&self) -> BoxFuture<'_, Result<Option<BlockRef>>>;

    /// Recent processed blocks, newest first (for comparing with the chain after a restart).
    fn recent_blocks(&self) -> BoxFuture<'_, Result<Vec<BlockRef>>>;

    /// One node.
    fn node(&self, operator: Address) -> BoxFuture<'_, Result<Option<NodeRecord>>>;
    /// Nodes ordered by operator address.
    fn nodes(&self, page: Page<Address>) -> BoxFuture<'_, Result<Vec<NodeRecord>>>;

    /// One task.
    fn task(&self, id: U256) -> BoxFuture<'_, Result<Option<TaskRecord>>>;
    /// Tasks ordered by id.
    fn tasks(&self, page: Page<U256>) -> BoxFuture<'_, Result<Vec<TaskRecord>>>;
    /// A task's seats, by slot.
    fn assignments(&self, task: U256) -> BoxFuture<'_, Result<Vec<AssignmentRecord>>>;
    /// A task's reassignments, by slot and round.
    fn reassignments(&self, task: U256) -> BoxFuture<'_, Result<Vec<ReassignmentRecord>>>;
    /// An operator's outcomes since `since` (unix seconds), oldest first.
    fn outcomes(&self, operator: Address, since: u64) -> BoxFuture<'_, Result<Vec<OutcomeRecord>>>;

    /// Stores an accepted heartbeat if its seq is above the stored one, atomically; otherwise
    /// [`StoreError::StaleHeartbeat`] (two concurrent deliveries cannot both win).
    fn record_heartbeat<'a>(&'a self, hb: &'a HeartbeatRecord) -> BoxFuture<'a, Result<()>>;
    /// The latest accepted heartbeat of an operator.
    fn heartbeat(&self, operator: Address) -> BoxFuture<'_, Result<Option<HeartbeatRecord>>>;
    /// Every operator's latest heartbeat (for the liveness view).
    fn heartbeats(&self) -> BoxFuture<'_, Result<Vec<HeartbeatRecord>>>;

    /// Stores a seat's execution log, replacing an earlier one for the same seat.
    fn record_task_log<'a>(&'a self, log: &'a TaskLogRecord) -> BoxFuture<'a, Result<()>>;
    /// A task's execution logs, by operator.
    fn task_logs(&self, task: U256) -> BoxFuture<'_, Result<Vec<TaskLogRecord>>>;

    /// Tasks in `status`, ordered by id.
    fn tasks_with_status(
        &self,
        status: TaskStatus,
        page: Page<U256>,
    ) -> BoxFuture<'_, Result<Vec<TaskRecord>>>;

    /// Every seat not yet delivered (status `active` or `declined`) of a task in `assigned`
    /// status, by task and slot (what failover watches).
    fn open_seats(&self) -> BoxFuture<'_, Result<Vec<AssignmentRecord>>>;

    /// Records the assigner's plan for a task (replacing any earlier plan for it).
    fn record_plan<'a>(&'a self, task: U256, seats: &'a [SeatPlan]) -> BoxFuture<'a, Result<()>>;

    /// [`Store::record_plan`] for many tasks in one transaction; returns each task's earlier
    /// plan (empty if none), in the order given.
    fn record_plans<'a>(
        &'a self,
        plans: &'a [(U256, Vec<SeatPlan>)],
    ) -> BoxFuture<'a, Result<Vec<Vec<SeatPlan>>>>;

    /// The assigner's plan for a task, by slot (empty if none).
    fn plan(&self, task: U256) -> BoxFuture<'_, Result<Vec<SeatPlan>>>;

    /// Records why the assigner asks the chain to give seat `slot` of `task` to `to`.
    fn record_failover_intent(
        &self,
        task: U256,
        slot: u32,
        to: Address,
        reason: ReassignReason,
    ) -> BoxFuture<'_, Result<()>>;

    /// The reason recorded by [`Store::record_failover_intent`], if any.
    fn failover_intent(
        &self,
        task: U256,
        slot: u32,
        to: Address,
    ) -> BoxFuture<'_, Result<Option<ReassignReason>>>;
}
