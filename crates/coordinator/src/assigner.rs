//! The assigner: picks operators for open tasks and puts the assignment on chain, and fails a
//! seat over to its backup when the holder goes quiet, declines, or does not act in time.
//!
//! Restart safety: only tasks the store (the chain, as indexed) says are `Open` are assigned,
//! and a task already assigned by the time the transaction lands reverts with `WrongStatus`,
//! which is treated as "someone got there first", not as a failure. The plan (primaries and
//! backups) is written to the store before the transaction, so the indexer can attach each
//! seat's backup when the assignment is confirmed. Reassignments are recorded by the indexer
//! from the `Reassigned` event (the source of truth); the assigner only records why it asked.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use verity_scheduler::{AllocError, AllocationId, TaskNeeds};
use verity_settlement::Settlement;

use crate::{
    capability,
    clock::Clock,
    liveness::Liveness,
    metrics::CoordinatorMetrics,
    registry_view::{RegistryView, ViewError, operator_address},
    store::{
        AssignmentRecord, AssignmentStatus, MAX_PAGE, Page, ReassignReason, SeatPlan, Store,
        StoreError, TaskMode, TaskRecord, TaskStatus,
    },
};

/// How the assigner works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssignerConfig {
    /// Whether to assign at all (a coordinator may only index and serve the API).
    pub enabled: bool,
    /// Milliseconds between passes over open tasks and seats.
    pub interval_ms: u64,
    /// Pick a backup for every seat (dropped for a task when the network is too small).
    pub backups: bool,
    /// Skip tasks whose assignment deadline is less than this many seconds away (the
    /// transaction would land too late).
    pub assign_margin_secs: u64,
    /// Most tasks assigned per pass.
    pub max_per_pass: u32,
    /// Failover rules.
    pub failover: FailoverPolicy,
}

impl Default for AssignerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_ms: 1_000,
            backups: true,
            assign_margin_secs: 5,
            max_per_pass: 64,
            failover: FailoverPolicy::default(),
        }
    }
}

/// When a seat is handed to its backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailoverPolicy {
    /// Whether to fail over at all.
    pub enabled: bool,
    /// A seat is only moved if at least this many seconds remain before its commit (or
    /// submit) deadline, so the backup has time to do the work.
    pub min_time_left_secs: u64,
    /// A holder that has not delivered this many seconds after getting the seat is replaced
    /// (0: never for this reason; only missed heartbeats and declines count).
    pub act_within_secs: u64,
}

impl Default for FailoverPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            min_time_left_secs: 30,
            act_within_secs: 0,
        }
    }
}

/// One seat and what failover looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatFacts {
    /// The seat.
    pub seat: AssignmentRecord,
    /// Last second the seat's work can land (commit or submit deadline), chain time.
    pub deadline: u64,
    /// The holder's liveness.
    pub holder: Liveness,
    /// The backup's liveness (if there is a backup).
    pub backup: Option<Liveness>,
}

/// A decision to move a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failover {
    /// The task.
    pub task_id: U256,
    /// The seat.
    pub slot: u32,
    /// The holder being replaced.
    pub from: Address,
    /// Its backup.
    pub to: Address,
    /// Why.
    pub reason: ReassignReason,
}

/// Label of a reason in `failovers_total{reason}`.
pub fn reason_label(r: ReassignReason) -> &'static str {
    match r {
        ReassignReason::MissedHeartbeats => "heartbeat_missed",
        ReassignReason::Declined => "declined",
        ReassignReason::MissedDeadline => "deadline",
        ReassignReason::Slashed => "slashed",
    }
}

/// Whether (and why) a seat goes to its backup at `now` (chain time), by `policy`. Pure.
///
/// A seat moves when its holder declined, is down (missed more heartbeats than allowed), or
/// has not delivered within `act_within_secs`; and only if it has a live backup other than the
/// holder and at least `min_time_left_secs` remain before the deadline. A delivered seat never
/// moves.
pub fn decide_failover(f: &SeatFacts, now: u64, policy: &FailoverPolicy) -> Option<Failover> {
    let reason = failover_reason(f, now, policy)?;
    let s = &f.seat;
    let to = s.backup.filter(|b| *b != s.operator)?;
    if !f.backup.is_some_and(Liveness::is_available) {
        return None;
    }
    if f.deadline < now.saturating_add(policy.min_time_left_secs) {
        return None;
    }
    Some(Failover {
        task_id: s.task_id,
        slot: s.slot,
        from: s.operator,
        to,
        reason,
    })
}

/// Why a seat's holder should be replaced at `now`, whether or not it can be (a live
/// backup, time left): the first half of [`decide_failover`]. A seat with a reason but no
/// decision is blocked (the `failovers_blocked` gauge). Pure.
pub fn failover_reason(f: &SeatFacts, now: u64, policy: &FailoverPolicy) -> Option<ReassignReason> {
    if !policy.enabled {
        return None;
    }
    let s = &f.seat;
    let reason = match s.status {
        AssignmentStatus::Declined => ReassignReason::Declined,
        AssignmentStatus::Active if matches!(f.holder, Liveness::Down { .. }) => {
            ReassignReason::MissedHeartbeats
        }
        AssignmentStatus::Active
            if policy.act_within_secs > 0
                && now > s.assigned_at.saturating_add(policy.act_within_secs) =>
        {
            ReassignReason::MissedDeadline
        }
        _ => return None,
    };
    Some(reason)
}

/// The scheduler's request for a task: the policy's defaults, the task's replication, at
/// least the task's collateral of free stake (so locking it cannot fail), and for a ZkProof
/// task the [`capability::ZK_PROVE`] flag (on primaries and backups alike).
pub fn needs_for(task: &TaskRecord, defaults: TaskNeeds, backups: bool) -> TaskNeeds {
    let collateral = task
        .request
        .get("collateral")
        .and_then(serde_json::Value::as_str)
        .and_then(|c| c.parse::<u128>().ok())
        .unwrap_or(0);
    let required_capabilities = match task.mode {
        TaskMode::ZkProof => defaults.required_capabilities | capability::ZK_PROVE,
        TaskMode::Replicated | TaskMode::Optimistic => defaults.required_capabilities,
    };
    TaskNeeds {
        replication: task.replication.max(1),
        min_stake: defaults.min_stake.max(collateral),
        required_capabilities,
        backups,
        ..defaults
    }
}

fn request_u64(task: &TaskRecord, key: &str) -> u64 {
    task.request
        .get(key)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0)
}

/// Most tasks in one `assignBatch` (the market's `MAX_ASSIGN_BATCH`).
pub const MAX_BATCH: usize = 32;

/// Task statuses asked of the chain at once in a pass.
const STATUS_LOOKUPS: usize = 16;

/// A task allocated and planned, about to be sent.
#[derive(Debug, Clone)]
struct Ready {
    id: U256,
    deadline: u64,
    alloc: AllocationId,
    seats: Vec<SeatPlan>,
    previous: Vec<SeatPlan>,
}

impl Ready {
    fn operators(&self) -> Vec<Address> {
        self.seats.iter().map(|s| s.operator).collect()
    }
}

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum AssignerError {
    /// The store failed.
    #[error("[V-CA-001] store: {0}")]
    Store(#[from] StoreError),
    /// The registry view failed.
    #[error("[V-CA-002] registry view: {0}")]
    View(#[from] ViewError),
    /// The chain failed.
    #[error("[V-CA-003] chain: {0}")]
    Chain(#[from] verity_settlement::Error),
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Tasks assigned on chain.
    pub assigned: Vec<U256>,
    /// Tasks found already assigned (by us before a restart, or by another coordinator).
    pub already_assigned: Vec<U256>,
    /// Tasks no set of nodes satisfies now.
    pub infeasible: Vec<U256>,
    /// Seats moved to their backup.
    pub failovers: Vec<Failover>,
    /// Failovers decided but not sent (a transport failure; retried next pass).
    pub failovers_pending: Vec<Failover>,
}

/// Assigns open tasks and fails seats over.
#[derive(Debug)]
pub struct Assigner {
    store: Arc<dyn Store>,
    settlement: Settlement,
    from: Address,
    view: RegistryView,
    clock: Arc<dyn Clock>,
    metrics: CoordinatorMetrics,
    cfg: AssignerConfig,
    /// Allocations for tasks we assigned that the store still shows open; released once the
    /// indexer has seen the assignment, from when the seats on chain count as the nodes' load.
    held: HashMap<U256, AllocationId>,
    /// Failovers already sent (never sent twice).
    sent: HashSet<(U256, u32, Address)>,
}

impl Assigner {
    /// An assigner sending from `from` (an allowed coordinator account in the market).
    pub fn new(
        store: Arc<dyn Store>,
        settlement: Settlement,
        from: Address,
        view: RegistryView,
        clock: Arc<dyn Clock>,
        cfg: AssignerConfig,
    ) -> Self {
        Self {
            store,
            settlement,
            from,
            view,
            clock,
            metrics: CoordinatorMetrics::default(),
            cfg,
            held: HashMap::new(),
            sent: HashSet::new(),
        }
    }

    /// The registry view the assigner schedules from (as of its last pass).
    pub fn view(&self) -> &RegistryView {
        &self.view
    }

    /// Reports to `metrics` (queue depth, allocation latency, assignments, failovers).
    pub fn with_metrics(mut self, metrics: CoordinatorMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// One pass: release allocations the chain now covers, refresh the view (seats on chain
    /// become the nodes' load), assign open tasks, fail over seats.
    ///
    /// Releasing before refreshing means a task the indexer marks assigned in between is
    /// counted twice for one pass (harmless) rather than not at all (which could overfill a
    /// node).
    pub async fn pass(&mut self) -> Result<PassReport, AssignerError> {
        let mut report = PassReport::default();
        let t0 = Instant::now();
        self.release_indexed().await?;
        let t1 = Instant::now();
        self.view
            .refresh(self.store.as_ref(), self.clock.now())
            .await?;
        let t2 = Instant::now();
        let chain_now = self.settlement.chain_time().await?;
        self.assign_open(chain_now, &mut report).await?;
        let t3 = Instant::now();
        self.fail_over(chain_now, &mut report).await?;
        let t4 = Instant::now();
        tracing::debug!(
            target: "coordinator::assigner",
            release = ?(t1 - t0), refresh = ?(t2 - t1), assign = ?(t3 - t2), failover = ?(t4 - t3),
            "pass timings"
        );
        Ok(report)
    }

    /// Releases the allocation of every task the store no longer shows open: its seats are
    /// on chain (and indexed), and [`RegistryView::refresh`] counts them from there, moving
    /// with failovers and ending when each holder delivers.
    async fn release_indexed(&mut self) -> Result<(), AssignerError> {
        let mut done = Vec::new();
        for (id, alloc) in &self.held {
            let status = self.store.task(*id).await?.map(|t| t.status);
            if status != Some(TaskStatus::Open) {
                done.push((*id, *alloc));
            }
        }
        for (id, alloc) in done {
            self.held.remove(&id);
            if let Err(e) = self.view.scheduler().release(alloc) {
                tracing::warn!(target: "coordinator::assigner", task = %id, error = %e, "release failed");
            }
        }
        Ok(())
    }

    async fn assign_open(
        &mut self,
        chain_now: u64,
        report: &mut PassReport,
    ) -> Result<(), AssignerError> {
        let open = self
            .store
            .tasks_with_status(
                TaskStatus::Open,
                Page {
                    after: None,
                    limit: MAX_PAGE,
                },
            )
            .await?;
        self.metrics
            .queue_depth
            .set(i64::try_from(open.len()).unwrap_or(i64::MAX));
        let defaults = self.view.scheduler().policy().task_defaults();
        // Candidates: not already sent by us, and far enough from their assignment deadline.
        let candidates: Vec<(TaskRecord, u64)> = open
            .into_iter()
            .filter(|task| !self.held.contains_key(&task.id))
            .map(|task| {
                let deadline = request_u64(&task, "assignDeadline");
                (task, deadline)
            })
            .filter(|(_, deadline)| {
                *deadline >= chain_now.saturating_add(self.cfg.assign_margin_secs)
            })
            .collect();
        let mut budget = self.cfg.max_per_pass;
        let mut ready = Vec::new();
        'chunks: for chunk in candidates.chunks(STATUS_LOOKUPS) {
            // The store may lag the chain (or a restart lost what we sent): ask the chain, for
            // a chunk of candidates at once rather than one round trip after another.
            let statuses = futures_util::future::join_all(
                chunk
                    .iter()
                    .map(|(task, _)| self.settlement.status(task.id)),
            )
            .await;
            for ((task, deadline), status) in chunk.iter().zip(statuses) {
                if budget == 0 {
                    break 'chunks;
                }
                let deadline = *deadline;
                if status? != verity_settlement::Status::Open {
                    report.already_assigned.push(task.id);
                    continue;
                }
                let Some((alloc, seats)) = self.allocate(task, defaults.clone()) else {
                    report.infeasible.push(task.id);
                    continue;
                };
                budget -= 1;
                ready.push(Ready {
                    id: task.id,
                    deadline,
                    alloc,
                    seats,
                    previous: Vec::new(),
                });
            }
        }
        // Every plan of the pass in one transaction, before anything is sent.
        let plans: Vec<(U256, Vec<SeatPlan>)> =
            ready.iter().map(|r| (r.id, r.seats.clone())).collect();
        if !plans.is_empty() {
            let previous = match self.store.record_plans(&plans).await {
                Ok(previous) => previous,
                Err(e) => {
                    for r in &ready {
                        let _ = self.view.scheduler().release(r.alloc);
                    }
                    return Err(e.into());
                }
            };
            for (r, previous) in ready.iter_mut().zip(previous) {
                r.previous = previous;
            }
        }
        // Several ready: one `assignBatch` per chunk, all sent at once so they share a block;
        // a chunk that fails goes one by one (so one bad task does not hold the others back).
        let mut single = Vec::new();
        if ready.len() > 1 {
            let (batches, lone): (Vec<&[Ready]>, Vec<&[Ready]>) =
                ready.chunks(MAX_BATCH).partition(|c| c.len() > 1);
            for chunk in lone {
                single.extend_from_slice(chunk);
            }
            let sends = batches.iter().map(|chunk| {
                let ids: Vec<U256> = chunk.iter().map(|r| r.id).collect();
                let ops: Vec<Vec<Address>> = chunk.iter().map(Ready::operators).collect();
                let deadline = chunk.iter().map(|r| r.deadline).min().unwrap_or(0);
                let sender = self.settlement.before(deadline);
                let from = self.from;
                async move {
                    let sent = sender.assign_batch(from, &ids, &ops).await;
                    (ids, sent)
                }
            });
            let results = futures_util::future::join_all(sends).await;
            for (chunk, (ids, sent)) in batches.iter().zip(results) {
                match sent {
                    Ok(receipt) => {
                        // The market skips an entry it cannot assign and assigns the rest;
                        // a skipped one goes one by one below, where its error is handled.
                        let skipped: Vec<U256> = verity_settlement::skipped_assignments(&receipt)
                            .into_iter()
                            .map(|(id, why)| {
                                tracing::info!(
                                    target: "coordinator::assigner",
                                    task = %id, error = %why, "skipped in its batch; retrying alone"
                                );
                                id
                            })
                            .collect();
                        tracing::info!(
                            target: "coordinator::assigner",
                            tasks = ?ids, skipped = skipped.len(), tx = %receipt.transaction_hash,
                            "assigned (batch)"
                        );
                        for r in *chunk {
                            if skipped.contains(&r.id) {
                                single.push(r.clone());
                            } else {
                                self.assigned(r.id, r.alloc, report);
                            }
                        }
                    }
                    Err(e) => {
                        tracing::info!(target: "coordinator::assigner", tasks = ?ids, error = %e, "batch failed; assigning one by one");
                        single.extend_from_slice(chunk);
                    }
                }
            }
        } else {
            single = ready;
        }
        for r in single {
            let ops = r.operators();
            match self
                .settlement
                .before(r.deadline)
                .assign(self.from, r.id, &ops)
                .await
            {
                Ok(receipt) => {
                    tracing::info!(
                        target: "coordinator::assigner",
                        task = %r.id, operators = ?ops, tx = %receipt.transaction_hash,
                        "assigned"
                    );
                    self.assigned(r.id, r.alloc, report);
                }
                Err(e) => {
                    let _ = self.view.scheduler().release(r.alloc);
                    match e.revert_name().as_deref() {
                        Some("WrongStatus") => {
                            // Assigned meanwhile, by an earlier plan: keep that plan.
                            self.store.record_plan(r.id, &r.previous).await?;
                            tracing::info!(target: "coordinator::assigner", task = %r.id, "already assigned");
                            report.already_assigned.push(r.id);
                        }
                        _ => {
                            tracing::warn!(target: "coordinator::assigner", task = %r.id, error = %e, "assign failed; will retry");
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn assigned(&mut self, id: U256, alloc: AllocationId, report: &mut PassReport) {
        self.metrics.assignments_total.inc();
        self.held.insert(id, alloc);
        report.assigned.push(id);
    }

    /// Allocates (with backups if configured and possible), timing the scheduler.
    fn allocate(
        &mut self,
        task: &TaskRecord,
        defaults: TaskNeeds,
    ) -> Option<(AllocationId, Vec<SeatPlan>)> {
        let mut needs = needs_for(task, defaults, self.cfg.backups);
        let started = Instant::now();
        let mut result = self.view.scheduler().allocate(&needs);
        // Too few nodes for a backup per seat (the diagnosis names whichever constraint left
        // fewer than 2k candidates): assign without backups rather than not at all.
        if needs.backups && matches!(result, Err(AllocError::NoFeasibleSet { .. })) {
            needs.backups = false;
            result = self.view.scheduler().allocate(&needs);
        }
        self.metrics
            .allocation_seconds
            .observe(started.elapsed().as_secs_f64());
        match result {
            Ok(a) => {
                let seats = a
                    .assignments
                    .iter()
                    .enumerate()
                    .map(|(i, s)| SeatPlan {
                        slot: i as u32,
                        operator: operator_address(s.primary),
                        backup: s.backup.map(operator_address),
                    })
                    .collect();
                Some((a.id, seats))
            }
            Err(e) => {
                tracing::debug!(target: "coordinator::assigner", task = %task.id, error = %e, "no feasible set");
                None
            }
        }
    }

    async fn liveness_cached(
        &self,
        lives: &mut HashMap<Address, Liveness>,
        op: Address,
        now: u64,
    ) -> Result<Liveness, AssignerError> {
        if let Some(l) = lives.get(&op) {
            return Ok(*l);
        }
        let l = self.view.liveness_of(self.store.as_ref(), op, now).await?;
        lives.insert(op, l);
        Ok(l)
    }

    async fn fail_over(
        &mut self,
        chain_now: u64,
        report: &mut PassReport,
    ) -> Result<(), AssignerError> {
        if !self.cfg.failover.enabled {
            self.metrics.failovers_blocked.set(0);
            return Ok(());
        }
        let seats = self.store.open_seats().await?;
        let now = self.clock.now();
        let mut blocked: i64 = 0;
        let mut tasks: HashMap<U256, Option<TaskRecord>> = HashMap::new();
        // One heartbeat read per operator per pass, however many seats it holds.
        let mut lives: HashMap<Address, Liveness> = HashMap::new();
        for seat in seats {
            let holder = self.liveness_cached(&mut lives, seat.operator, now).await?;
            // Whether the seat needs a failover depends on the seat and its holder only:
            // most seats need none, and their task and backup are not read.
            let mut facts = SeatFacts {
                seat,
                deadline: 0,
                holder,
                backup: None,
            };
            if failover_reason(&facts, chain_now, &self.cfg.failover).is_none() {
                continue;
            }
            let task_id = facts.seat.task_id;
            if let std::collections::hash_map::Entry::Vacant(e) = tasks.entry(task_id) {
                e.insert(self.store.task(task_id).await?);
            }
            let Some(Some(task)) = tasks.get(&task_id) else {
                continue;
            };
            facts.deadline = request_u64(task, "commitDeadline");
            facts.backup = match facts.seat.backup {
                Some(b) => Some(self.liveness_cached(&mut lives, b, now).await?),
                None => None,
            };
            let deadline = facts.deadline;
            let Some(f) = decide_failover(&facts, chain_now, &self.cfg.failover) else {
                if let Some(reason) = failover_reason(&facts, chain_now, &self.cfg.failover) {
                    blocked += 1;
                    tracing::debug!(
                        target: "coordinator::assigner",
                        task = %facts.seat.task_id, slot = facts.seat.slot, holder = %facts.seat.operator,
                        reason = reason.as_str(), backup = ?facts.seat.backup,
                        "seat needs a failover but has no live backup or no time left"
                    );
                }
                continue;
            };
            if !self.sent.insert((f.task_id, f.slot, f.to)) {
                continue;
            }
            self.store
                .record_failover_intent(f.task_id, f.slot, f.to, f.reason)
                .await?;
            match self
                .settlement
                .before(deadline)
                .reassign(self.from, f.task_id, u64::from(f.slot), f.to)
                .await
            {
                Ok(receipt) => {
                    tracing::info!(
                        target: "coordinator::assigner",
                        task = %f.task_id, slot = f.slot, from = %f.from, to = %f.to,
                        reason = f.reason.as_str(), tx = %receipt.transaction_hash,
                        "seat failed over"
                    );
                    self.metrics.failover(reason_label(f.reason));
                    report.failovers.push(f);
                }
                Err(e) if e.revert_name().is_some() => {
                    // The market refused (the holder acted meanwhile, the deadline passed):
                    // the seat stays, and this failover is not tried again.
                    tracing::info!(target: "coordinator::assigner", task = %f.task_id, slot = f.slot, error = %e, "failover refused by the market");
                    self.metrics.failovers_refused_total.inc();
                }
                Err(e) => {
                    tracing::warn!(target: "coordinator::assigner", task = %f.task_id, slot = f.slot, error = %e, "failover not sent; will retry");
                    self.sent.remove(&(f.task_id, f.slot, f.to));
                    report.failovers_pending.push(f);
                }
            }
        }
        self.metrics.failovers_blocked.set(blocked);
        Ok(())
    }

    /// Runs passes every `interval_ms` until cancelled. Errors are logged and the next pass
    /// tries again (each pass starts from the store and the chain).
    pub async fn run(mut self, cancel: CancellationToken) {
        let interval = Duration::from_millis(self.cfg.interval_ms.max(10));
        tracing::info!(target: "coordinator::assigner", from = %self.from, "assigner started");
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                r = self.pass() => match r {
                    Ok(r) if !r.assigned.is_empty() || !r.failovers.is_empty() => {
                        tracing::debug!(target: "coordinator::assigner", assigned = r.assigned.len(), failovers = r.failovers.len(), "pass");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(target: "coordinator::assigner", error = %e, "pass failed"),
                },
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                () = tokio::time::sleep(interval) => {}
            }
        }
        tracing::info!(target: "coordinator::assigner", "assigner stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(status: AssignmentStatus, backup: Option<u8>) -> AssignmentRecord {
        AssignmentRecord {
            task_id: U256::from(7),
            slot: 1,
            operator: Address::repeat_byte(1),
            backup: backup.map(Address::repeat_byte),
            status,
            assigned_at: 1_000,
        }
    }

    fn facts(status: AssignmentStatus, holder: Liveness, backup: Option<Liveness>) -> SeatFacts {
        SeatFacts {
            seat: seat(status, backup.map(|_| 2)),
            deadline: 2_000,
            holder,
            backup,
        }
    }

    const P: FailoverPolicy = FailoverPolicy {
        enabled: true,
        min_time_left_secs: 30,
        act_within_secs: 0,
    };
    const DOWN: Liveness = Liveness::Down { missed: 4 };

    #[test]
    fn a_down_holder_goes_to_its_live_backup_with_the_reason() {
        let f = decide_failover(
            &facts(AssignmentStatus::Active, DOWN, Some(Liveness::Live)),
            1_500,
            &P,
        )
        .unwrap();
        assert_eq!(
            f,
            Failover {
                task_id: U256::from(7),
                slot: 1,
                from: Address::repeat_byte(1),
                to: Address::repeat_byte(2),
                reason: ReassignReason::MissedHeartbeats,
            }
        );
        assert_eq!(reason_label(f.reason), "heartbeat_missed");
    }

    #[test]
    fn a_declined_seat_moves_even_with_a_live_holder() {
        let f = decide_failover(
            &facts(
                AssignmentStatus::Declined,
                Liveness::Live,
                Some(Liveness::Late { missed: 1 }),
            ),
            1_500,
            &P,
        )
        .unwrap();
        assert_eq!(f.reason, ReassignReason::Declined);
    }

    #[test]
    fn nothing_moves_without_a_reason_a_live_backup_or_time_left() {
        let live = facts(
            AssignmentStatus::Active,
            Liveness::Live,
            Some(Liveness::Live),
        );
        assert_eq!(decide_failover(&live, 1_500, &P), None, "healthy holder");
        let late = facts(
            AssignmentStatus::Active,
            Liveness::Late { missed: 3 },
            Some(Liveness::Live),
        );
        assert_eq!(decide_failover(&late, 1_500, &P), None, "late is not down");
        let no_backup = facts(AssignmentStatus::Active, DOWN, None);
        assert_eq!(decide_failover(&no_backup, 1_500, &P), None, "no backup");
        let backup_down = facts(AssignmentStatus::Active, DOWN, Some(DOWN));
        assert_eq!(
            decide_failover(&backup_down, 1_500, &P),
            None,
            "backup down"
        );
        let f = facts(AssignmentStatus::Active, DOWN, Some(Liveness::Live));
        assert!(
            decide_failover(&f, 1_970, &P).is_some(),
            "30 s left: enough"
        );
        assert_eq!(decide_failover(&f, 1_971, &P), None, "29 s left: too late");
        let delivered = facts(AssignmentStatus::Delivered, DOWN, Some(Liveness::Live));
        assert_eq!(decide_failover(&delivered, 1_500, &P), None, "delivered");
        let off = FailoverPolicy {
            enabled: false,
            ..P
        };
        assert_eq!(decide_failover(&f, 1_500, &off), None, "disabled");
    }

    #[test]
    fn a_blocked_seat_has_a_reason_but_no_decision() {
        let no_backup = facts(AssignmentStatus::Active, DOWN, None);
        assert_eq!(
            failover_reason(&no_backup, 1_500, &P),
            Some(ReassignReason::MissedHeartbeats)
        );
        assert_eq!(decide_failover(&no_backup, 1_500, &P), None);
        let too_late = facts(
            AssignmentStatus::Declined,
            Liveness::Live,
            Some(Liveness::Live),
        );
        assert_eq!(
            failover_reason(&too_late, 1_990, &P),
            Some(ReassignReason::Declined)
        );
        assert_eq!(decide_failover(&too_late, 1_990, &P), None);
        let healthy = facts(AssignmentStatus::Active, Liveness::Live, None);
        assert_eq!(failover_reason(&healthy, 1_500, &P), None);
        let off = FailoverPolicy {
            enabled: false,
            ..P
        };
        assert_eq!(failover_reason(&no_backup, 1_500, &off), None);
    }

    #[test]
    fn a_silent_holder_is_replaced_after_act_within() {
        let p = FailoverPolicy {
            act_within_secs: 100,
            ..P
        };
        let f = facts(
            AssignmentStatus::Active,
            Liveness::Live,
            Some(Liveness::Live),
        );
        assert_eq!(decide_failover(&f, 1_100, &p), None, "still within");
        assert_eq!(
            decide_failover(&f, 1_101, &p).map(|f| f.reason),
            Some(ReassignReason::MissedDeadline)
        );
    }

    #[test]
    fn needs_take_replication_and_at_least_the_collateral_as_stake() {
        let task = TaskRecord {
            id: U256::from(1),
            client: Address::ZERO,
            mode: crate::store::TaskMode::Replicated,
            status: TaskStatus::Open,
            program_digest: Default::default(),
            input_digest: Default::default(),
            replication: 3,
            bounty: U256::ZERO,
            request: serde_json::json!({"collateral": "5000"}),
            result_digest: None,
            created_at: 0,
            settled_at: None,
        };
        let defaults = TaskNeeds {
            min_cpu_cores: 2,
            min_memory_mib: 0,
            min_gpu_memory_mib: 0,
            allowed_regions: None,
            required_capabilities: 0,
            min_stake: 100,
            min_reputation_permille: 0,
            replication: 1,
            distinct_regions: false,
            backups: false,
        };
        let n = needs_for(&task, defaults.clone(), true);
        assert_eq!((n.replication, n.min_stake, n.backups), (3, 5_000, true));
        assert_eq!(n.min_cpu_cores, 2);
        let n = needs_for(
            &TaskRecord {
                request: serde_json::json!({"collateral": "10"}),
                ..task
            },
            defaults,
            false,
        );
        assert_eq!(n.min_stake, 100, "the policy minimum when larger");
    }

    #[test]
    fn zk_proof_tasks_need_the_prove_capability_and_others_do_not() {
        let task = |mode| TaskRecord {
            id: U256::from(1),
            client: Address::ZERO,
            mode,
            status: TaskStatus::Open,
            program_digest: Default::default(),
            input_digest: Default::default(),
            replication: 1,
            bounty: U256::ZERO,
            request: serde_json::json!({}),
            result_digest: None,
            created_at: 0,
            settled_at: None,
        };
        let defaults = TaskNeeds {
            required_capabilities: 0b100,
            ..verity_scheduler::Policy::default().task_defaults()
        };
        let zk = needs_for(&task(TaskMode::ZkProof), defaults.clone(), true);
        assert_eq!(zk.required_capabilities, 0b100 | capability::ZK_PROVE);
        for mode in [TaskMode::Optimistic, TaskMode::Replicated] {
            let n = needs_for(&task(mode), defaults.clone(), true);
            assert_eq!(n.required_capabilities, 0b100, "{mode:?}");
        }
    }
}
