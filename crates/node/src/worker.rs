//! The task loop: find assignments on chain, fetch, execute, deliver (commit then reveal, or
//! submit), settle, withdraw. Every step first reads the chain and the database, so a node that
//! restarts at any point picks up where it stopped, without sending anything twice: the salt of
//! a commitment is stored (fsynced) before the commitment is sent, and a step that finds its
//! effect already on chain just records it.

use std::{collections::HashMap, sync::Arc, time::Duration};

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::SolEvent,
};
use futures_util::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use verity_contracts::TaskMarket;
use verity_executor::{ExecError, Executor};
use verity_primitives::envelope::InputEnvelope;
use verity_settlement::{
    Mode, Seat, Settlement, Status, TaskInfo,
    events::{EventStream, MarketEvent, StreamConfig, StreamItem},
};

use crate::{
    blobs::Blobs,
    db::{Phase, TaskDb, TaskRow},
    error::NodeError,
    fault::{self, Behaviour},
    metrics::Metrics,
    prover::{self, ProveError, Prover},
    task_logs::{self, LogSink, NoLogs},
};

/// Re-exported where the committee (and older callers) import it from; defined once in
/// `verity_primitives::digest`.
pub use verity_primitives::digest::error_digest;

/// Seconds kept back from the commit deadline when compiling: enough to commit or submit on a
/// chain with slow blocks after the program ran (the market guarantees every seat at least its
/// `minResponseWindow`, 120 s by default in production, 10 s on the devnet).
const DELIVERY_MARGIN_SECS: u64 = 5;

/// A challenge window at least this long gets its audit coin read early (`rollAudit`): a
/// block hash lives 256 blocks, 512 s on an L2 with 2-second blocks, and a coin left to expire
/// counts as audited (docs/protocol.md, "Audits drawn after the result").
pub const EARLY_AUDIT_ROLL_WINDOW_SECS: u64 = 300;

/// Most chunks one scan reads (the rest waits for the next round).
const MAX_SCAN_STEPS: usize = 256;

/// Runs assigned tasks for one operator.
#[derive(Debug)]
pub struct Worker<B> {
    pub(crate) s: Settlement,
    pub(crate) me: Address,
    pub(crate) db: TaskDb,
    pub(crate) blobs: B,
    pub(crate) executor: Arc<Executor>,
    pub(crate) metrics: Arc<Metrics>,
    poll: Duration,
    confirmations: u64,
    pub(crate) fault: Behaviour,
    concurrency: usize,
    prover: Option<Arc<Prover>>,
    /// Vote when drawn into a dispute committee (`[committee] serve`).
    pub(crate) serve_committee: bool,
    /// Optimistic tasks whose result is posted, by the chain second their challenge window
    /// closes: until then nothing is ours to do (a challenge is the committee's business), so
    /// they are not stepped, which saves a full task read per task per tick.
    window_closes: std::sync::Mutex<HashMap<U256, u64>>,
    /// Our optimistic results with a long challenge window, by the block they were submitted
    /// in: their audit coin is read as soon as its block is mined, before its hash expires.
    to_roll: std::sync::Mutex<HashMap<U256, u64>>,
    /// The market's assignment events from the saved cursor on (created on the first scan).
    stream: tokio::sync::Mutex<Option<EventStream>>,
    /// A task settled since the last withdrawal: the round ends with one `withdraw` for all
    /// of them instead of one per task.
    owed: std::sync::atomic::AtomicBool,
    /// Where each execution log goes once its blob is stored.
    logs: Arc<dyn LogSink>,
}

impl<B: Blobs> Worker<B> {
    /// A worker for operator `me` (whose key the settlement's provider holds).
    pub fn new(
        s: Settlement,
        me: Address,
        db: TaskDb,
        blobs: B,
        executor: Arc<Executor>,
        metrics: Arc<Metrics>,
        poll: Duration,
    ) -> Self {
        Self {
            s,
            me,
            db,
            blobs,
            executor,
            metrics,
            poll,
            confirmations: 1,
            fault: Behaviour::None,
            concurrency: 1,
            prover: None,
            serve_committee: true,
            window_closes: std::sync::Mutex::default(),
            to_roll: std::sync::Mutex::default(),
            stream: tokio::sync::Mutex::new(None),
            // A balance an earlier run left (stopped between a settlement and its
            // withdrawal) goes out in the first round.
            owed: std::sync::atomic::AtomicBool::new(true),
            logs: Arc::new(NoLogs),
        }
    }

    /// Hands every execution log (success or failure) to `sink` after storing it as a blob.
    pub fn with_logs(mut self, sink: Arc<dyn LogSink>) -> Self {
        self.logs = sink;
        self
    }

    /// Steps up to `n` tasks at once, so their transactions share blocks instead of each
    /// waiting for the previous task's receipt (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Devnets only: misbehave as `fault` says (see [`crate::fault`]).
    pub fn with_fault(mut self, fault: Behaviour) -> Self {
        if fault != Behaviour::None {
            warn!(target: "node::fault", behaviour = fault.as_str(), "FAULT INJECTION ENABLED (devnet only)");
        }
        self.fault = fault;
        self
    }

    /// Whether to vote when drawn into a dispute committee (default: yes).
    pub fn with_committee(mut self, serve: bool) -> Self {
        self.serve_committee = serve;
        self
    }

    /// Proves ZkProof tasks with `prover` (a node without one declines them).
    pub fn with_prover(mut self, prover: Arc<Prover>) -> Self {
        self.prover = Some(prover);
        self
    }

    /// Only blocks at least this deep are scanned for assignments (1 = the latest).
    pub fn with_confirmations(mut self, confirmations: u64) -> Self {
        self.confirmations = confirmations.max(1);
        self
    }

    /// Loops until `cancel`: scan, then advance every in-flight task. Cancellation is only
    /// observed between steps, so a step in progress (a transaction being sent) completes.
    pub async fn run(&self, cancel: CancellationToken) -> Result<(), NodeError> {
        info!(target: "node::worker", operator = %self.me, "started");
        loop {
            if let Err(e) = self.tick().await {
                if e.is_fatal() {
                    return Err(e);
                }
                warn!(target: "node::worker", error = %e, "step failed; retrying next round");
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
        info!(target: "node::worker", "stopped; in-flight tasks resume on restart");
        Ok(())
    }

    /// One round: scan for new assignments, step each in-flight task once, then withdraw
    /// what the settled ones paid.
    pub async fn tick(&self) -> Result<(), NodeError> {
        self.scan().await?;
        let mut rows = self.db.in_flight().await?;
        let mut now = None;
        if self.any_waiting() {
            let t = self.s.chain_time().await?;
            rows.retain(|r| !self.waiting(r.task_id, t));
            now = Some(t);
        }
        let mut steps = futures_util::stream::iter(rows)
            .map(|row| async move {
                let id = row.task_id;
                let outcome = match now {
                    Some(now) if self.window_closed(id, now) => self.finalize_closed(id).await,
                    _ => self.step(row).await,
                };
                (id, outcome)
            })
            .buffer_unordered(self.concurrency);
        while let Some((id, outcome)) = steps.next().await {
            if let Err(e) = outcome {
                if e.is_fatal() {
                    return Err(e);
                }
                warn!(target: "node::worker", task = %id, error = %e, "task step failed");
            }
        }
        drop(steps);
        self.roll_audits().await;
        let duties = self.committee_duties().await;
        if self.owed.swap(false, std::sync::atomic::Ordering::AcqRel)
            && let Err(e) = self.withdraw().await
        {
            // Retried next round.
            self.owed.store(true, std::sync::atomic::Ordering::Release);
            return Err(e);
        }
        duties
    }

    /// Follows the market's `TaskAssigned`, `Reassigned` and `Challenged` events from the
    /// saved cursor, `confirmations` deep, saving the cursor after every chunk. Handling is
    /// idempotent, so events re-read after a restart or re-emitted after a reorg change
    /// nothing twice; an assignment a reorg removed fails its task's next chain read.
    async fn scan(&self) -> Result<(), NodeError> {
        let mut stream = self.stream.lock().await;
        if stream.is_none() {
            let start = match self.db.next_block().await? {
                Some(b) => b,
                None => self.s.deployment().deployed_block,
            };
            *stream = Some(EventStream::new(
                Arc::new(self.s.market_logs().events(vec![
                    TaskMarket::TaskAssigned::SIGNATURE_HASH,
                    TaskMarket::Reassigned::SIGNATURE_HASH,
                    TaskMarket::Challenged::SIGNATURE_HASH,
                ])),
                self.s.contracts(),
                StreamConfig {
                    confirmations: self.confirmations - 1,
                    start_block: start,
                    ..StreamConfig::default()
                },
            ));
        }
        let Some(stream) = stream.as_mut() else {
            return Ok(());
        };
        for _ in 0..MAX_SCAN_STEPS {
            let batch = stream
                .next_batch()
                .await
                .map_err(|e| NodeError::Chain(format!("following assignments: {e}")))?;
            for item in batch.items {
                let e = match item {
                    StreamItem::Event(e) => e,
                    StreamItem::Reorged { from_block } => {
                        info!(target: "node::worker", from_block, "chain reorganized; re-reading");
                        continue;
                    }
                };
                match e.market() {
                    Some(MarketEvent::Challenged(ev)) => self.on_challenged(ev).await?,
                    Some(MarketEvent::Reassigned(ev)) => self.on_reassigned(ev).await?,
                    Some(MarketEvent::TaskAssigned(ev))
                        if ev.operators.contains(&self.me)
                            && self.db.insert_assigned(ev.taskId).await? =>
                    {
                        info!(target: "node::worker", task = %ev.taskId, "assigned");
                    }
                    _ => {}
                }
            }
            self.db.set_next_block(stream.next_block()).await?;
            if batch.caught_up {
                break;
            }
        }
        Ok(())
    }

    /// Advances one task by at most one phase.
    /// A coordinator's failover: a seat handed to us is work like any assignment (missing it
    /// would get us slashed as silent); a seat taken from us (we had posted nothing) is
    /// dropped, since the market no longer accepts anything from us for it.
    async fn on_reassigned(&self, ev: &TaskMarket::Reassigned) -> Result<(), NodeError> {
        if ev.to == self.me && self.db.insert_assigned(ev.taskId).await? {
            info!(target: "node::worker", task = %ev.taskId, from = %ev.from, "assigned (failover)");
        }
        if ev.from == self.me
            && let Some(row) = self.db.get(ev.taskId).await?
            && !row.phase.is_final()
        {
            self.db
                .set_phase(ev.taskId, Phase::Done, None, None)
                .await?;
            warn!(target: "node::worker", task = %ev.taskId, to = %ev.to, "our seat was handed to another operator");
        }
        Ok(())
    }

    pub async fn step(&self, row: TaskRow) -> Result<(), NodeError> {
        let id = row.task_id;
        if row.phase == Phase::Executed
            && self.fault != Behaviour::Silent
            && let Some(result) = row.result
            && self.submit_known(id, result).await?
        {
            return Ok(());
        }
        let task = self.s.task(id).await?;
        if task.status.is_terminal() {
            return self.settled(id, &task).await;
        }
        if self.fault == Behaviour::Silent {
            debug!(target: "node::fault", task = %id, "silent: not acting");
            return Ok(());
        }
        match row.phase {
            Phase::Assigned => self.execute(id, &task).await,
            Phase::Executed | Phase::Committing => {
                let result = row.result.ok_or(NodeError::Missing {
                    task: id,
                    what: "result",
                })?;
                self.deliver(id, &task, result, row.salt).await
            }
            Phase::Committed => {
                let result = row.result.ok_or(NodeError::Missing {
                    task: id,
                    what: "result",
                })?;
                let salt = row.salt.ok_or(NodeError::Missing {
                    task: id,
                    what: "salt",
                })?;
                self.reveal(id, &task, result, salt).await
            }
            Phase::Delivered => self.try_finalize(id, &task).await,
            Phase::Declined | Phase::Done => Ok(()),
        }
    }

    async fn execute(&self, id: U256, task: &TaskInfo) -> Result<(), NodeError> {
        if task.mode == Mode::ZkProof {
            return match self.prover.clone() {
                Some(p) => self.prove(id, task, p).await,
                // Hand the seat back rather than be slashed for silence.
                None => {
                    self.decline(
                        id,
                        task,
                        "this node does not prove ZkProof tasks (no zk-prove capability)",
                    )
                    .await
                }
            };
        }
        let fetched = async {
            let program = self.blobs.fetch(task.program_digest).await?;
            let input = self.blobs.fetch(task.input_digest).await?;
            Ok::<_, crate::blobs::BlobError>((program, input))
        };
        let (program, input) = match fetched.await {
            Ok(v) => v,
            Err(e) => return self.decline(id, task, &e.to_string()).await,
        };
        let envelope = match InputEnvelope::decode(&input) {
            Ok(e) => e,
            Err(e) => return self.decline(id, task, &e.to_string()).await,
        };
        // The envelope's payload is a copy: free the fetched bytes before the guest's memory
        // and output are allocated, or the node holds the input twice at its peak.
        drop(input);
        let limits = envelope.limits;
        // Compile first, within the time left before the deadline (less a margin to deliver):
        // a program this node cannot compile in time is declined with the reason, never left
        // to go silent and be slashed. A deterministic refusal (over the module budget, not
        // valid WebAssembly) is the program's verdict and is committed like any other below.
        let unix_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let left = task
            .commit_deadline
            .saturating_sub(unix_now)
            .saturating_sub(DELIVERY_MARGIN_SECS);
        let executor = self.executor.clone();
        let compiling = std::time::Instant::now();
        let (program, prepared) = tokio::task::spawn_blocking(move || {
            let r = executor.prepare_within_cached(&program, Duration::from_secs(left));
            (program, r)
        })
        .await
        .map_err(|e| NodeError::Internal(format!("executor thread: {e}")))?;
        // The run below finds the module cached: the compile time is this step's.
        let compiled = match &prepared {
            Ok((_, true)) => Some((Duration::ZERO, true)),
            Ok((_, false)) => Some((compiling.elapsed(), false)),
            Err(_) => None,
        };
        if let Err(e) = prepared
            && !e.is_deterministic()
        {
            self.publish_log(task_logs::compile_failure_log(
                id,
                self.me,
                &e,
                compiling.elapsed(),
            ))
            .await;
            return self
                .decline(
                    id,
                    task,
                    &format!("cannot compile the program before the deadline: {e}"),
                )
                .await;
        }
        let executor = self.executor.clone();
        let started = std::time::Instant::now();
        let (outcome, log) = tokio::task::spawn_blocking(move || {
            executor.execute_logged(&program, &envelope.payload, &limits)
        })
        .await
        .map_err(|e| NodeError::Internal(format!("executor thread: {e}")))?;
        // The client's receipt, whatever the outcome (a host-side failure declines below).
        self.publish_log(task_logs::execution_log(id, self.me, &log, compiled))
            .await;
        self.metrics
            .execution_seconds
            .observe(started.elapsed().as_secs_f64());
        let lie = self.fault.lies_in(task.mode);
        let result = match outcome {
            Ok(exec) => {
                self.metrics.fuel.inc_by(exec.receipt.fuel_used);
                let digest = B256::from(exec.receipt.result_digest.0);
                let corrupted = fault::corrupt_digest(&exec.output);
                let published = self.blobs.publish(exec.output).await?;
                debug_assert_eq!(published, digest);
                if lie {
                    warn!(target: "node::fault", task = %id, honest = %digest, posted = %corrupted, behaviour = self.fault.as_str(), "posting a corrupted digest");
                    corrupted
                } else {
                    digest
                }
            }
            Err(e) if e.is_deterministic() => {
                info!(target: "node::worker", task = %id, error = %e, "program failed deterministically");
                if lie {
                    fault::corrupt_result(error_digest(e.code()))
                } else {
                    error_digest(e.code())
                }
            }
            Err(e) => return self.decline_host_failure(id, task, &e).await,
        };
        info!(target: "node::worker", task = %id, %result, "executed");
        self.db
            .set_phase(id, Phase::Executed, Some(result), None)
            .await?;
        Ok(())
    }

    /// ZkProof: fetch the input named in the creating transaction, prove, submit. Anything
    /// wrong with the task or its input declines the seat with the reason.
    async fn prove(&self, id: U256, task: &TaskInfo, p: Arc<Prover>) -> Result<(), NodeError> {
        let Some(cid) = prover::input_blob_digest(&self.s, id).await? else {
            return self
                .decline(id, task, "the createTask transaction names no input blob")
                .await;
        };
        let bytes = match self.blobs.fetch(cid).await {
            Ok(b) => b,
            Err(e) => return self.decline(id, task, &e.to_string()).await,
        };
        let input = match verity_zk::input::ProvingInput::from_bytes(&bytes) {
            Ok(i) => i,
            Err(e) => return self.decline(id, task, &e.to_string()).await,
        };
        let d = self.s.deployment();
        let binding = verity_primitives::binding(d.chain_id, d.market, id, self.me);
        let (program, input_digest) = (task.program_digest, task.input_digest);
        let started = std::time::Instant::now();
        let proved =
            tokio::task::spawn_blocking(move || p.prove(&input, program, input_digest, binding))
                .await
                .map_err(|e| NodeError::Internal(format!("prover thread: {e}")))?;
        let proved = match proved {
            Ok(v) => v,
            Err(ProveError::Unprovable(why)) => return self.decline(id, task, &why).await,
            Err(e @ ProveError::Internal(_)) => {
                return self
                    .decline(id, task, &format!("host-side proving failure: {e}"))
                    .await;
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        self.metrics.execution_seconds.observe(seconds);
        info!(target: "node::worker", task = %id, result = %proved.result, accepted = proved.accepted, seconds, "proved");
        self.s
            .before(task.commit_deadline + 1)
            .submit_proof(self.me, id, proved.result, proved.proof)
            .await?;
        self.db
            .set_phase(id, Phase::Delivered, Some(proved.result), None)
            .await?;
        info!(target: "node::worker", task = %id, "proof accepted");
        Ok(())
    }

    /// Stores `log` as a blob (its digest is the log's id) and hands it to the log sink. A
    /// log that cannot be stored is still reported: the coordinator keeps its bytes.
    async fn publish_log(&self, log: verity_primitives::task_log::ExecutionLog) {
        if let Err(e) = self.blobs.publish(log.to_bytes()).await {
            warn!(target: "node::task_logs", task = %log.task_id, error = %e, "storing the task log failed");
        }
        self.logs.report(log);
    }

    async fn decline_host_failure(
        &self,
        id: U256,
        task: &TaskInfo,
        e: &ExecError,
    ) -> Result<(), NodeError> {
        self.decline(id, task, &format!("host-side execution failure: {e}"))
            .await
    }

    async fn deliver(
        &self,
        id: U256,
        task: &TaskInfo,
        result: B256,
        salt: Option<B256>,
    ) -> Result<(), NodeError> {
        match task.mode {
            Mode::Replicated => {
                let seat = self.s.seat(id, self.me).await?;
                if seat.seat != Seat::Assigned {
                    // Our commitment is already on chain (sent before a restart).
                    self.db.set_phase(id, Phase::Committed, None, None).await?;
                    return Ok(());
                }
                let salt = match salt {
                    Some(s) => s,
                    None => {
                        let s = B256::from(rand::random::<[u8; 32]>());
                        // Durable before the commitment leaves the node.
                        self.db
                            .set_phase(id, Phase::Committing, None, Some(s))
                            .await?;
                        s
                    }
                };
                let d = self.s.deployment();
                let c = if self.fault == Behaviour::CopyCommitments {
                    match self.copyable_commitment(id).await? {
                        Some(c) => c,
                        None => {
                            debug!(target: "node::fault", task = %id, "copy_commitments: waiting for another seat to commit");
                            return Ok(());
                        }
                    }
                } else {
                    verity_primitives::commitment(d.chain_id, d.market, id, self.me, result, salt)
                };
                self.s
                    .before(task.commit_deadline + 1)
                    .commit(self.me, id, c)
                    .await?;
                self.db.set_phase(id, Phase::Committed, None, None).await?;
                info!(target: "node::worker", task = %id, "committed");
            }
            Mode::Optimistic => {
                if task.status == Status::Assigned {
                    let receipt = self
                        .s
                        .before(task.commit_deadline + 1)
                        .submit_result(self.me, id, result)
                        .await?;
                    self.submitted(id, &receipt);
                }
                self.db.set_phase(id, Phase::Delivered, None, None).await?;
            }
            // Proofs are submitted as soon as they are made (they are not stored): a row left
            // here by an older node is proved again.
            Mode::ZkProof => self.db.set_phase(id, Phase::Assigned, None, None).await?,
        }
        Ok(())
    }

    /// Optimistic: submits `result` with the task's record as this client last saw it,
    /// without reading the task first. `false` when no usable record is known or the submit
    /// failed (a stale record after a reassignment, the status moved on, the deadline
    /// passed): the caller then reads the task and steps it as usual.
    async fn submit_known(&self, id: U256, result: B256) -> Result<bool, NodeError> {
        let Some(rec) = self.s.known_record(id) else {
            return Ok(false);
        };
        if rec.mode() != Some(Mode::Optimistic)
            || rec.is_submitted()
            || rec.task.operators.first() != Some(&self.me)
        {
            return Ok(false);
        }
        let deadline = u64::from(rec.task.request.commitDeadline);
        match self
            .s
            .before(deadline + 1)
            .submit_result_with(self.me, &rec, result)
            .await
        {
            Ok(receipt) => {
                self.submitted(id, &receipt);
                self.db.set_phase(id, Phase::Delivered, None, None).await?;
                Ok(true)
            }
            // Refused (a revert, the deadline passed) or not known to have landed: the
            // task's state decides what comes next, so read it.
            Err(e) => {
                debug!(target: "node::worker", task = %id, error = %e, "submit with the known record failed; reading the task");
                Ok(false)
            }
        }
    }

    /// Our optimistic result is on chain: its challenge window's end comes with the receipt,
    /// so the task is left alone until then (no read per round).
    fn submitted(&self, id: U256, receipt: &alloy::rpc::types::TransactionReceipt) {
        if let Some(ev) = receipt.decoded_log::<TaskMarket::ResultSubmitted>() {
            let ends: u64 = ev.data.challengeEnds.saturating_to();
            self.window_closes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, ends);
            let window = self
                .s
                .known_record(id)
                .map(|r| u64::from(r.task.request.challengeWindow));
            if let (Some(w), Some(block)) = (window, receipt.block_number)
                && w >= EARLY_AUDIT_ROLL_WINDOW_SECS
            {
                self.to_roll
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, block);
            }
        }
        info!(target: "node::worker", task = %id, "submitted");
    }

    /// Reads the audit coin of our long-window results whose coin block is mined. An audit
    /// drawn hands the task back to the usual steps (it now waits for the court); a coin not
    /// ready yet is tried next round; anything else settled the question.
    async fn roll_audits(&self) {
        let due: Vec<(U256, u64)> = {
            let m = self.to_roll.lock().unwrap_or_else(|e| e.into_inner());
            m.iter().map(|(id, b)| (*id, *b)).collect()
        };
        if due.is_empty() {
            return;
        }
        let Ok(head) = self.s.block_number().await else {
            return;
        };
        for (id, submitted) in due {
            // The roll lands in a block after `head`, which must come after the coin block.
            if head <= submitted {
                continue;
            }
            let done = match self.s.roll_audit(self.me, id).await {
                Ok(r) => {
                    let audited = Settlement::opened_audit(&r);
                    info!(target: "node::worker", task = %id, audited, "audit coin read");
                    if audited {
                        self.window_closes
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&id);
                    }
                    true
                }
                Err(e) if e.revert_name().as_deref() == Some("CoinNotReady") => false,
                Err(e) if e.revert_name().is_some() => true,
                Err(e) => {
                    warn!(target: "node::worker", task = %id, error = %e, "reading the audit coin failed; retried next round");
                    false
                }
            };
            if done {
                self.to_roll
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
            }
        }
    }

    async fn reveal(
        &self,
        id: U256,
        task: &TaskInfo,
        result: B256,
        salt: B256,
    ) -> Result<(), NodeError> {
        let seat = self.s.seat(id, self.me).await?;
        if seat.seat == Seat::Revealed {
            self.db.set_phase(id, Phase::Delivered, None, None).await?;
            return Ok(());
        }
        let block = self.s.block_number().await?;
        let now = self.s.chain_time().await?;
        let phase_closed = u32::from(task.commits) + u32::from(task.declined)
            >= u32::from(task.replication)
            || now >= task.commit_deadline;
        // The reveal must land in a later block than the commit, and after the commit phase.
        if block <= seat.commit_block || !phase_closed {
            debug!(target: "node::worker", task = %id, "waiting for the reveal phase");
            return Ok(());
        }
        match self
            .s
            .before(task.reveal_deadline + 1)
            .reveal(self.me, id, result, salt)
            .await
        {
            Ok(_) => {}
            Err(e)
                if self.fault == Behaviour::CopyCommitments
                    && e.revert_name().as_deref() == Some("CommitmentMismatch") =>
            {
                warn!(target: "node::fault", task = %id, "copy_commitments: the copied commitment does not open for us");
                self.db.set_phase(id, Phase::Delivered, None, None).await?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        self.db.set_phase(id, Phase::Delivered, None, None).await?;
        info!(target: "node::worker", task = %id, "revealed");
        Ok(())
    }

    /// Whether any optimistic task's challenge window was last seen open.
    fn any_waiting(&self) -> bool {
        !self
            .window_closes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    /// Whether `id` is an optimistic task whose challenge window is still open at chain
    /// second `now`.
    fn waiting(&self, id: U256, now: u64) -> bool {
        let closes = self.window_closes.lock().unwrap_or_else(|e| e.into_inner());
        closes.get(&id).is_some_and(|c| now <= *c)
    }

    /// Whether `id` is an optimistic task whose result we posted and whose challenge window
    /// was open when last read and has closed by chain second `now`.
    fn window_closed(&self, id: U256, now: u64) -> bool {
        let closes = self.window_closes.lock().unwrap_or_else(|e| e.into_inner());
        closes.get(&id).is_some_and(|c| now > *c)
    }

    /// Finalizes an optimistic task whose window has closed without reading it first: if it
    /// is still `Submitted` the finalize either pays us or, when the audit coin says so, opens
    /// its audit in the court; anything else (challenged, or settled by someone else) reverts.
    /// Every outcome but payment is read and stepped as usual.
    async fn finalize_closed(&self, id: U256) -> Result<(), NodeError> {
        match self.s.finalize(self.me, id).await {
            Ok(r) if Settlement::opened_audit(&r) => {
                self.window_closes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
                info!(target: "node::worker", task = %id, "audit drawn: the result waits for the court");
                let row = self.db.get(id).await?.ok_or(NodeError::Missing {
                    task: id,
                    what: "task row",
                })?;
                self.step(row).await
            }
            Ok(_) => {
                self.window_closes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
                self.metrics.outcome("paid");
                self.db.set_phase(id, Phase::Done, None, None).await?;
                info!(target: "node::worker", task = %id, status = %Status::Finalized, paid = true, "settled");
                self.owed.store(true, std::sync::atomic::Ordering::Release);
                Ok(())
            }
            // Challenged, settled by someone else, or a second early: read and step.
            Err(e) if e.revert_name().is_some() => {
                let row = self.db.get(id).await?.ok_or(NodeError::Missing {
                    task: id,
                    what: "task row",
                })?;
                self.step(row).await
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn try_finalize(&self, id: U256, task: &TaskInfo) -> Result<(), NodeError> {
        let now = self.s.chain_time().await?;
        {
            let mut closes = self.window_closes.lock().unwrap_or_else(|e| e.into_inner());
            if task.mode == Mode::Optimistic && task.status == Status::Submitted {
                closes.insert(id, task.challenge_ends());
            } else {
                closes.remove(&id);
            }
        }
        let due = match (task.mode, task.status) {
            (Mode::Replicated, Status::Assigned) => {
                u32::from(task.reveals) + u32::from(task.declined) >= u32::from(task.replication)
                    || now > task.reveal_deadline
            }
            (Mode::Optimistic, Status::Submitted) => now > task.challenge_ends(),
            _ => false,
        };
        if !due {
            return Ok(());
        }
        let finalized = match self.s.finalize(self.me, id).await {
            // An audit drawn by the coin: the task is now in the court, read back below.
            Ok(r) if Settlement::opened_audit(&r) => false,
            Ok(_) => true,
            // Someone settled first, or the chain is a second behind our reading: both fine.
            Err(e) if matches!(e.revert_name().as_deref(), Some("WrongStatus" | "TooEarly")) => {
                false
            }
            Err(e) => return Err(e.into()),
        };
        // An optimistic finalize that paid has one outcome (`Finalized`); anything else is read
        // back (a replicated task's majority, an audit drawn, a refused call).
        let task = if finalized && task.mode == Mode::Optimistic {
            TaskInfo {
                status: Status::Finalized,
                ..task.clone()
            }
        } else {
            self.s.task(id).await?
        };
        if task.status.is_terminal() {
            self.settled(id, &task).await?;
        }
        Ok(())
    }

    async fn settled(&self, id: U256, task: &TaskInfo) -> Result<(), NodeError> {
        self.window_closes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        let row = self.db.get(id).await?;
        if row.as_ref().is_some_and(|r| r.phase.is_final()) {
            return Ok(());
        }
        let paid = task.status == Status::Finalized
            && match task.mode {
                Mode::Replicated => {
                    let seat = self.s.seat(id, self.me).await?;
                    seat.seat == Seat::Revealed && seat.digest == task.result
                }
                _ => true,
            };
        self.metrics.outcome(if paid { "paid" } else { "unpaid" });
        self.db.set_phase(id, Phase::Done, None, None).await?;
        info!(target: "node::worker", task = %id, status = %task.status, paid, "settled");
        self.owed.store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    async fn withdraw(&self) -> Result<(), NodeError> {
        if self.s.market_balance(self.me).await?.is_zero() {
            return Ok(());
        }
        let amount = self.s.withdraw(self.me).await?;
        let tokens = f64::from(amount) / 1e18;
        self.metrics.earnings_tokens.inc_by(tokens);
        info!(target: "node::worker", %amount, "withdrew earnings");
        Ok(())
    }

    /// `copy_commitments`: another seat's commitment on `id`, if one is on chain yet.
    async fn copyable_commitment(&self, id: U256) -> Result<Option<B256>, NodeError> {
        for op in self.s.operators_of(id).await? {
            if op == self.me {
                continue;
            }
            let seat = self.s.seat(id, op).await?;
            if seat.commit_block != 0 {
                return Ok(Some(seat.commitment));
            }
        }
        Ok(None)
    }

    async fn decline(&self, id: U256, task: &TaskInfo, why: &str) -> Result<(), NodeError> {
        warn!(target: "node::worker", task = %id, reason = why, "declining");
        match self
            .s
            .before(task.commit_deadline + 1)
            .decline(self.me, id)
            .await
        {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.revert_name().as_deref(),
                    Some("NotAssigned" | "WrongStatus")
                ) => {}
            Err(e) => return Err(e.into()),
        }
        self.metrics.outcome("declined");
        self.db.set_phase(id, Phase::Declined, None, None).await?;
        Ok(())
    }
}
