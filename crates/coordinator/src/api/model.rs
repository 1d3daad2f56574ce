//! The JSON the API answers with. Field names are camelCase; token amounts and task ids are
//! decimal strings (they exceed what JSON numbers carry exactly); capability bit sets are
//! `0x` hex strings; times are unix seconds.

use alloy::primitives::{Address, B256, U256};
use serde::{Serialize, Serializer};

use crate::{
    liveness::Liveness,
    store::{AssignmentStatus, OutcomeKind, ReassignReason, TaskMode, TaskStatus},
};

pub(crate) fn decimal<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn hex64<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:#x}"))
}

/// A page of items and the cursor for the next one (`null` on the last page).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageOf<T> {
    /// The items, in the requested order.
    pub items: Vec<T>,
    /// Pass as `after` to continue; `null` when this page was not full.
    pub next: Option<String>,
}

/// How far a task's result is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// No result yet (open or assigned).
    Pending,
    /// Optimistic: a result is posted and its challenge window runs.
    ChallengeWindow,
    /// Optimistic: a bonded challenge awaits its decision.
    Disputed,
    /// The result was accepted on chain (majority, unchallenged window, or a checked proof).
    Verified,
    /// No accepted result: the bounty went back to the client.
    Refunded,
}

impl Verification {
    /// The verification state a task status implies.
    pub fn of(status: TaskStatus) -> Self {
        match status {
            TaskStatus::Open | TaskStatus::Assigned => Verification::Pending,
            TaskStatus::Submitted => Verification::ChallengeWindow,
            TaskStatus::Challenged => Verification::Disputed,
            TaskStatus::Finalized => Verification::Verified,
            TaskStatus::Refunded => Verification::Refunded,
        }
    }
}

/// A task in a list.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSummary {
    /// On-chain id, decimal.
    #[serde(serialize_with = "decimal")]
    pub id: U256,
    /// Who created and funded it.
    pub client: Address,
    /// Verification mode.
    pub mode: TaskMode,
    /// Lifecycle status.
    pub status: TaskStatus,
    /// Verification state.
    pub verification: Verification,
    /// Escrowed bounty, token wei, decimal.
    #[serde(serialize_with = "decimal")]
    pub bounty: U256,
    /// Operators asked for.
    pub replication: u32,
    /// Current seat holders, by slot.
    pub operators: Vec<Address>,
    /// Seat changes so far.
    pub reassignments: u32,
    /// The agreed result's sha2-256 digest.
    pub result_digest: Option<B256>,
    /// The agreed result's IPFS CIDv1 (raw, sha2-256), fetchable from any gateway that has it.
    pub result_cid: Option<String>,
    /// Slowest delivery among completed seats, assignment to delivery, ms.
    pub latency_ms: Option<u64>,
    /// Unix seconds of creation.
    pub created_at: u64,
    /// Unix seconds of settlement.
    pub settled_at: Option<u64>,
}

/// A seat of a task.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatView {
    /// Seat number, 0-based.
    pub slot: u32,
    /// Current holder.
    pub operator: Address,
    /// Who takes over if the holder fails.
    pub backup: Option<Address>,
    /// What the holder is doing.
    pub status: AssignmentStatus,
    /// Unix seconds the holder got the seat.
    pub assigned_at: u64,
}

/// A change of a seat's holder.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReassignmentView {
    /// Seat.
    pub slot: u32,
    /// 1 for the seat's first change, ...
    pub round: u32,
    /// Previous holder.
    pub from: Address,
    /// New holder.
    pub to: Address,
    /// Why.
    pub reason: ReassignReason,
    /// Unix seconds.
    pub at: u64,
}

/// How one operator's part in a task ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeView {
    /// Operator.
    pub operator: Address,
    /// Completed, failed or slashed.
    pub kind: OutcomeKind,
    /// Unix seconds.
    pub at: u64,
    /// Assignment to delivery, ms.
    pub latency_ms: Option<u64>,
}

/// One task with everything the coordinator knows about it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDetail {
    /// The list fields.
    #[serde(flatten)]
    pub summary: TaskSummary,
    /// Digest of the program.
    pub program_digest: B256,
    /// The program's CID.
    pub program_cid: String,
    /// Digest of the input.
    pub input_digest: B256,
    /// The input's CID.
    pub input_cid: String,
    /// The rest of the on-chain request (deadlines, requirements), as indexed.
    pub request: serde_json::Value,
    /// Seats with their backups.
    pub assignments: Vec<SeatView>,
    /// Seat changes with their reasons.
    pub reassignment_history: Vec<ReassignmentView>,
    /// Per-operator outcomes.
    pub outcomes: Vec<OutcomeView>,
    /// Creation to settlement, seconds.
    pub settle_secs: Option<u64>,
}

/// The agreed result of a task.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    /// Task id, decimal.
    #[serde(serialize_with = "decimal")]
    pub task_id: U256,
    /// Status.
    pub status: TaskStatus,
    /// Verification state.
    pub verification: Verification,
    /// sha2-256 of the output.
    pub result_digest: B256,
    /// The output's CID.
    pub result_cid: String,
}

/// What people see of a node at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// Heartbeats arriving.
    Live,
    /// Some heartbeats missed, still assignable.
    Late,
    /// Too many heartbeats missed.
    Down,
    /// Never sent a heartbeat.
    Unknown,
    /// Jailed on chain (may not take tasks until `jailedUntil`).
    Jailed,
    /// Deregistered.
    Deregistered,
}

/// A node in a list.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSummary {
    /// Staking account.
    pub operator: Address,
    /// Registered signing key.
    pub signer: Address,
    /// At a glance: deregistered, jailed, else liveness.
    pub status: NodeStatus,
    /// Liveness from heartbeats.
    pub liveness: Liveness,
    /// Unix seconds until which it may not take tasks (0: never jailed).
    pub jailed_until: u64,
    /// ISO 3166-1 numeric region (registered).
    pub region: u32,
    /// Capability flags, `0x` hex.
    #[serde(serialize_with = "hex64")]
    pub capabilities: u64,
    /// Total stake, token wei, decimal.
    #[serde(serialize_with = "decimal")]
    pub stake: U256,
    /// Stake locked as collateral, token wei, decimal.
    #[serde(serialize_with = "decimal")]
    pub locked: U256,
    /// Payouts credited by the market, token wei, decimal.
    #[serde(serialize_with = "decimal")]
    pub earnings: U256,
    /// Reputation score in [0, 1] (decayed outcomes; see the coordinator README).
    pub reputation: f64,
    /// On-chain counter of completed tasks.
    pub tasks_completed: u64,
    /// On-chain counter of failed tasks.
    pub tasks_failed: u64,
    /// On-chain counter of slashings.
    pub times_slashed: u64,
    /// Unix seconds the latest heartbeat arrived.
    pub last_heartbeat: Option<u64>,
}

/// A node's hardware and offer, from its latest signed heartbeat.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    /// Logical CPU cores offered.
    pub cpu_cores: u32,
    /// Memory offered, MiB.
    pub memory_mb: u64,
    /// GPU memory offered, MiB.
    pub gpu_memory_mb: u64,
    /// Load, per mille of capacity.
    pub load_permille: u16,
    /// Tasks it can still take.
    pub free_slots: u32,
    /// Asking price, token wei per million units of fuel, decimal.
    #[serde(serialize_with = "decimal")]
    pub price_per_megafuel: U256,
    /// Region it reports.
    pub region: u32,
    /// Claimed renewable share, percent.
    pub green_energy_pct: u8,
    /// Capability flags it reports, `0x` hex.
    #[serde(serialize_with = "hex64")]
    pub capabilities: u64,
    /// The heartbeat's sequence number.
    pub seq: u64,
    /// Unix seconds it claims to be sent at.
    pub sent_at: u64,
}

/// One node with everything the coordinator knows about it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDetail {
    /// The list fields.
    #[serde(flatten)]
    pub summary: NodeSummary,
    /// Hash of the registered hardware description.
    pub hardware_hash: B256,
    /// CID of its metadata document.
    pub metadata_cid: String,
    /// Registered.
    pub registered: bool,
    /// From the latest heartbeat; `null` before the first.
    pub spec: Option<NodeSpec>,
    /// Seats it holds and is working on.
    pub active_seats: u64,
}

/// Network statistics.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Chain id of the deployment.
    pub chain_id: u64,
    /// TaskMarket contract.
    pub market: Address,
    /// NodeRegistry contract.
    pub registry: Address,
    /// Registered nodes whose heartbeats are arriving (live or late).
    pub nodes_live: u64,
    /// Registered nodes.
    pub nodes_total: u64,
    /// Open tasks waiting for assignment.
    pub queue_length: u64,
    /// Every indexed task.
    pub tasks_total: u64,
    /// Tasks assigned, submitted or challenged.
    pub tasks_running: u64,
    /// Finalized tasks.
    pub tasks_finalized: u64,
    /// Refunded tasks.
    pub tasks_refunded: u64,
    /// Sum of the nodes' on-chain slashing counters.
    pub slashes: u64,
    /// Median delivery latency of recent completions, ms.
    pub latency_p50_ms: Option<u64>,
    /// 99th percentile delivery latency of recent completions, ms.
    pub latency_p99_ms: Option<u64>,
    /// Completions the percentiles are computed over (the latest, at most 1,000).
    pub latency_samples: u64,
    /// Tasks finalized per minute over the last 10 minutes.
    pub throughput_per_min: f64,
    /// Newest indexed block (`null` before the first).
    pub indexed_block: Option<u64>,
    /// The coordinator's clock, unix seconds.
    pub now: u64,
}

/// Where a dispute's case is (the court's phase; closed cases are not listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputePhase {
    /// The committee is being drawn.
    Drawing,
    /// Members commit, then reveal, their digests.
    Voting,
    /// The committee did not decide: the arbiter may, until its deadline.
    Escalated,
    /// A verdict is in; the market has not settled the task yet.
    Decided,
}

/// A revealed ballot: the digest a committee member computed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BallotView {
    /// The member.
    pub member: Address,
    /// The result digest it computed.
    pub digest: B256,
    /// Whether that is the operator's claimed digest.
    pub agrees: bool,
}

/// The committee's votes so far.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VoteCount {
    /// Members that committed a ballot.
    pub committed: u8,
    /// Members that revealed.
    pub revealed: u8,
    /// Revealed ballots for the operator's digest.
    pub agree: u8,
    /// Revealed ballots against it.
    pub disagree: u8,
}

/// An open dispute (a challenge, or an audit) with its evidence.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeView {
    /// The disputed task.
    #[serde(serialize_with = "decimal")]
    pub task_id: U256,
    /// Where the case is.
    pub phase: DisputePhase,
    /// The operator whose result is disputed.
    pub operator: Address,
    /// The digest the operator posted.
    pub claimed_digest: B256,
    /// Who challenged (the zero address for an audit).
    pub challenger: Address,
    /// Whether the case is an audit (no challenger).
    pub audit: bool,
    /// The committee drawn so far.
    pub committee: Vec<Address>,
    /// Committee size wanted.
    pub committee_size: u8,
    /// The votes.
    pub votes: VoteCount,
    /// Every revealed ballot with its digest, in chain order.
    pub ballots: Vec<BallotView>,
    /// The distinct digests dissenting members revealed (against the claimed one).
    pub dissenting_digests: Vec<B256>,
    /// Digest of the task's program.
    pub program_digest: B256,
    /// Its blob CID.
    pub program_cid: String,
    /// Digest of the task's input.
    pub input_digest: B256,
    /// Its blob CID.
    pub input_cid: String,
    /// The court's arbiter (the zero address: none).
    pub arbiter: Address,
    /// Last second the arbiter may decide (`null` unless escalated).
    pub arbiter_deadline: Option<u64>,
    /// Last second to commit a ballot (`null` until the committee is drawn).
    pub commit_deadline: Option<u64>,
    /// Last second to reveal (`null` until the committee is drawn).
    pub reveal_deadline: Option<u64>,
}
