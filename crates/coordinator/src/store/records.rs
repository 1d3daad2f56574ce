//! The rows the coordinator keeps: what the chain says (nodes, tasks, seats, outcomes), what
//! nodes say (heartbeats), and what the indexer needs to follow the chain (journal, blocks).

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

/// A registered operator as the indexer last saw it on chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// The staking account.
    pub operator: Address,
    /// The key that signs heartbeats and results for it.
    pub signer: Address,
    /// Hash of the hardware description it registered.
    pub hardware_hash: B256,
    /// CID of its metadata document.
    pub metadata_cid: String,
    /// ISO 3166-1 numeric region.
    pub region: u32,
    /// Capability flags.
    pub capabilities: u64,
    /// Total stake, token wei.
    pub stake: U256,
    /// Stake locked as collateral for running tasks.
    pub locked: U256,
    /// Unix seconds until which it may not take tasks (0: not jailed).
    pub jailed_until: u64,
    /// On-chain counter of completed tasks.
    pub tasks_completed: u64,
    /// On-chain counter of failed tasks.
    pub tasks_failed: u64,
    /// On-chain counter of slashings.
    pub times_slashed: u64,
    /// Still registered (false after deregistration).
    pub registered: bool,
    /// Total the market credited it as payouts (its share of finalized bounties), token wei.
    #[serde(default)]
    pub earnings: U256,
}

/// How a task's result is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskMode {
    /// k-of-n replication with commit-reveal.
    Replicated,
    /// One result, a challenge window, spot checks.
    Optimistic,
    /// A Groth16 proof checked on chain.
    ZkProof,
}

/// Where a task is in its on-chain lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Funded, waiting for assignment.
    Open,
    /// Operators hold seats and collateral.
    Assigned,
    /// Optimistic: result posted, challenge window running.
    Submitted,
    /// Optimistic: a bonded challenge awaits its decision.
    Challenged,
    /// Paid out (terminal).
    Finalized,
    /// Bounty returned to the client (terminal).
    Refunded,
}

/// Names shared by the enums stored as TEXT: one spelling in Rust, SQL and JSON.
macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
            /// Parses the stored spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($name => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}
text_enum!(TaskMode { Replicated => "replicated", Optimistic => "optimistic", ZkProof => "zk_proof" });
text_enum!(TaskStatus {
    Open => "open", Assigned => "assigned", Submitted => "submitted",
    Challenged => "challenged", Finalized => "finalized", Refunded => "refunded",
});
text_enum!(AssignmentStatus {
    Active => "active", Delivered => "delivered", Replaced => "replaced",
    Declined => "declined", TimedOut => "timed_out",
});
text_enum!(OutcomeKind { Completed => "completed", Failed => "failed", Slashed => "slashed" });

/// A task as the chain describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// On-chain task id.
    pub id: U256,
    /// Who created and funded it.
    pub client: Address,
    /// Verification mode.
    pub mode: TaskMode,
    /// Lifecycle status.
    pub status: TaskStatus,
    /// Digest of the program.
    pub program_digest: B256,
    /// Digest of the input.
    pub input_digest: B256,
    /// Operators asked for.
    pub replication: u32,
    /// Escrowed bounty, token wei.
    pub bounty: U256,
    /// The rest of the on-chain request (deadlines, requirements), as the indexer decoded it.
    /// Kept as JSON so the schema does not change with every contract revision.
    pub request: serde_json::Value,
    /// The agreed result digest, once there is one.
    pub result_digest: Option<B256>,
    /// Unix seconds of creation (block time).
    pub created_at: u64,
    /// Unix seconds of settlement (finalized or refunded).
    pub settled_at: Option<u64>,
}

/// What a seat holder is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    /// Holding the seat, working.
    Active,
    /// Delivered its result.
    Delivered,
    /// Replaced by another operator (see the reassignment).
    Replaced,
    /// Gave the seat back.
    Declined,
    /// Missed its deadline.
    TimedOut,
}

/// Who holds seat `slot` of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentRecord {
    /// The task.
    pub task_id: U256,
    /// Seat number, 0-based.
    pub slot: u32,
    /// The current holder.
    pub operator: Address,
    /// Who takes over if the holder fails.
    pub backup: Option<Address>,
    /// What the holder is doing.
    pub status: AssignmentStatus,
    /// Unix seconds when the holder got the seat.
    pub assigned_at: u64,
}

/// Why a seat changed hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReassignReason {
    /// The holder stopped sending heartbeats.
    MissedHeartbeats,
    /// The holder missed an on-chain deadline.
    MissedDeadline,
    /// The holder declined.
    Declined,
    /// The holder was slashed or jailed.
    Slashed,
}
text_enum!(ReassignReason {
    MissedHeartbeats => "missed_heartbeats", MissedDeadline => "missed_deadline",
    Declined => "declined", Slashed => "slashed",
});

/// One change of a seat's holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReassignmentRecord {
    /// The task.
    pub task_id: U256,
    /// The seat.
    pub slot: u32,
    /// 1 for the seat's first change, 2 for the second, ...
    pub round: u32,
    /// The previous holder.
    pub from: Address,
    /// The new holder.
    pub to: Address,
    /// Why.
    pub reason: ReassignReason,
    /// Unix seconds.
    pub at: u64,
}

/// How an operator's part in a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Delivered the accepted result.
    Completed,
    /// Did not deliver (declined late, timed out, no majority), not slashed.
    Failed,
    /// Slashed (wrong result, silent after committing, lost a challenge).
    Slashed,
}

/// A reputation input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    /// The task.
    pub task_id: U256,
    /// The operator.
    pub operator: Address,
    /// How it ended.
    pub kind: OutcomeKind,
    /// Unix seconds.
    pub at: u64,
    /// Assignment to delivery, milliseconds (completed outcomes).
    pub latency_ms: Option<u64>,
}

/// The latest accepted heartbeat of an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatRecord {
    /// The operator.
    pub operator: Address,
    /// Its sequence number.
    pub seq: u64,
    /// Unix seconds it claims to be sent at.
    pub sent_at: u64,
    /// Unix seconds the coordinator accepted it at.
    pub received_at: u64,
    /// The signed message as received (telemetry and signature), JSON.
    pub telemetry: serde_json::Value,
}

/// A seat's execution log as its node reported it (see `verity_primitives::task_log`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLogRecord {
    /// The task.
    pub task_id: U256,
    /// The operator whose seat it is.
    pub operator: Address,
    /// sha2-256 of `log`: the id of the blob the node stored it under.
    pub log_digest: B256,
    /// The log's exact bytes (UTF-8 JSON of a `verity_primitives::task_log::ExecutionLog`).
    pub log: String,
    /// Unix seconds the coordinator accepted it at.
    pub received_at: u64,
}

/// A chain log as the indexer journals it. `(block_hash, log_index)` is its identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEvent {
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Index of the log in the block.
    pub log_index: u64,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Event name (`TaskCreated`, ...).
    pub kind: String,
    /// Decoded event fields.
    pub payload: serde_json::Value,
}

/// One change a journaled log makes to the projection. Every change is an upsert of a whole
/// row; the store records the row's before-image so the log can be undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "entity", content = "row", rename_all = "snake_case")]
pub enum Change {
    /// Insert or replace a node row.
    Node(NodeRecord),
    /// Insert or replace a task row.
    Task(TaskRecord),
    /// Insert or replace a seat.
    Assignment(AssignmentRecord),
    /// Insert or replace a reassignment.
    Reassignment(ReassignmentRecord),
    /// Insert or replace an outcome.
    Outcome(OutcomeRecord),
}

impl Change {
    /// The table the change writes.
    pub fn entity(&self) -> &'static str {
        match self {
            Change::Node(_) => "node",
            Change::Task(_) => "task",
            Change::Assignment(_) => "assignment",
            Change::Reassignment(_) => "reassignment",
            Change::Outcome(_) => "outcome",
        }
    }
}

/// A processed block: number and hash (the event stream's, so the follower's blocks are the
/// store's without conversion).
pub use verity_settlement::events::BlockRef;

/// A journaled log together with what it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChanges {
    /// The log.
    pub event: JournalEvent,
    /// Its projection changes, applied in order.
    pub changes: Vec<Change>,
}

/// What applying a block did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Logs journaled and applied now.
    pub new: usize,
    /// Logs already journaled (a replay), skipped.
    pub duplicate: usize,
}

/// A page request: rows after `after` (exclusive, in key order), at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<K> {
    /// Continue after this key.
    pub after: Option<K>,
    /// Maximum rows (the store caps it at [`crate::store::MAX_PAGE`]).
    pub limit: u32,
}

/// The assigner's plan for one seat: the primary it asked the chain to seat, and the backup
/// that takes over if the primary fails (off-chain, never journaled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatPlan {
    /// Seat number, 0-based.
    pub slot: u32,
    /// The primary.
    pub operator: Address,
    /// Its backup.
    pub backup: Option<Address>,
}
