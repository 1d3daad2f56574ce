//! From chain logs to projection rows: every `TaskMarket` and `NodeRegistry` event becomes the
//! whole-row upserts ([`Change`]s) it implies for nodes, tasks, seats, reassignments and
//! outcomes.
//!
//! A block is projected against the store as it stands before the block, with an overlay of
//! the rows earlier logs of the same block changed, so two logs touching one row compose. The
//! result goes to [`Store::apply_block`] in one transaction; undo is the store's (before-images).

use std::collections::HashMap;

use alloy::{
    primitives::{Address, B256, U256},
    rpc::types::Log,
};
use serde_json::{Value, json};
use verity_contracts::{NodeRegistry, TaskMarket};
pub use verity_settlement::events::Contracts;
use verity_settlement::events::{ChainBlock, Event, MarketEvent};

use crate::store::{
    AssignmentRecord, AssignmentStatus, Change, JournalEvent, LogChanges, NodeRecord, OutcomeKind,
    OutcomeRecord, ReassignReason, ReassignmentRecord, Store, StoreError, TaskMode, TaskRecord,
    TaskStatus,
};

/// Why a block could not be projected.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// Reading the current rows failed.
    #[error("[V-CI-001] store: {0}")]
    Store(#[from] StoreError),
    /// A log lacks what a confirmed log has (index, transaction hash).
    #[error("[V-CI-002] log in block {block} lacks its {what}")]
    Incomplete {
        /// Block number.
        block: u64,
        /// What is missing.
        what: &'static str,
    },
}

/// Rows as the block so far leaves them: store reads, overlaid with this block's changes.
struct Overlay<'s> {
    store: &'s dyn Store,
    nodes: HashMap<Address, Option<NodeRecord>>,
    tasks: HashMap<U256, Option<TaskRecord>>,
    seats: HashMap<U256, Vec<AssignmentRecord>>,
    rounds: HashMap<(U256, u32), u32>,
}

impl<'s> Overlay<'s> {
    fn new(store: &'s dyn Store) -> Self {
        Self {
            store,
            nodes: HashMap::new(),
            tasks: HashMap::new(),
            seats: HashMap::new(),
            rounds: HashMap::new(),
        }
    }

    async fn node(&mut self, op: Address) -> Result<Option<NodeRecord>, StoreError> {
        if let Some(n) = self.nodes.get(&op) {
            return Ok(n.clone());
        }
        let n = self.store.node(op).await?;
        self.nodes.insert(op, n.clone());
        Ok(n)
    }

    async fn task(&mut self, id: U256) -> Result<Option<TaskRecord>, StoreError> {
        if let Some(t) = self.tasks.get(&id) {
            return Ok(t.clone());
        }
        let t = self.store.task(id).await?;
        self.tasks.insert(id, t.clone());
        Ok(t)
    }

    async fn seats(&mut self, id: U256) -> Result<Vec<AssignmentRecord>, StoreError> {
        if let Some(s) = self.seats.get(&id) {
            return Ok(s.clone());
        }
        let s = self.store.assignments(id).await?;
        self.seats.insert(id, s.clone());
        Ok(s)
    }

    async fn next_round(&mut self, id: U256, slot: u32) -> Result<u32, StoreError> {
        if let Some(r) = self.rounds.get(&(id, slot)) {
            return Ok(r + 1);
        }
        let last = self
            .store
            .reassignments(id)
            .await?
            .iter()
            .filter(|r| r.slot == slot)
            .map(|r| r.round)
            .max()
            .unwrap_or(0);
        Ok(last + 1)
    }

    /// Records a change in the overlay and returns it.
    fn put(&mut self, c: Change) -> Change {
        match &c {
            Change::Node(n) => {
                self.nodes.insert(n.operator, Some(n.clone()));
            }
            Change::Task(t) => {
                self.tasks.insert(t.id, Some(t.clone()));
            }
            Change::Assignment(a) => {
                let seats = self.seats.entry(a.task_id).or_default();
                match seats.iter_mut().find(|s| s.slot == a.slot) {
                    Some(s) => *s = a.clone(),
                    None => {
                        seats.push(a.clone());
                        seats.sort_by_key(|s| s.slot);
                    }
                }
            }
            Change::Reassignment(r) => {
                self.rounds.insert((r.task_id, r.slot), r.round);
            }
            Change::Outcome(_) => {}
        }
        c
    }
}

/// Projects one block's logs into the changes the store journals and applies.
pub async fn project_block(
    store: &dyn Store,
    contracts: Contracts,
    block: &ChainBlock,
) -> Result<Vec<LogChanges>, ProjectionError> {
    let mut overlay = Overlay::new(store);
    let mut out = Vec::with_capacity(block.logs.len());
    for log in &block.logs {
        let Some((kind, changes)) = project_log(&mut overlay, contracts, block, log).await? else {
            continue;
        };
        let log_index = log.log_index.ok_or(ProjectionError::Incomplete {
            block: block.header.number,
            what: "log index",
        })?;
        let tx_hash = log.transaction_hash.ok_or(ProjectionError::Incomplete {
            block: block.header.number,
            what: "transaction hash",
        })?;
        out.push(LogChanges {
            event: JournalEvent {
                block_number: block.header.number,
                block_hash: block.header.hash,
                log_index,
                tx_hash,
                kind: kind.to_owned(),
                payload: json!({
                    "address": log.address(),
                    "topics": log.topics(),
                    "data": log.data().data,
                }),
            },
            changes,
        });
    }
    Ok(out)
}

/// The event's name and changes, or `None` for a log of neither contract.
async fn project_log(
    o: &mut Overlay<'_>,
    contracts: Contracts,
    block: &ChainBlock,
    log: &Log,
) -> Result<Option<(&'static str, Vec<Change>)>, StoreError> {
    let at = block.header.timestamp;
    // Decoded by the event stream's one decoder (the contracts' bindings); a log of neither
    // contract, or one the bindings do not know, is skipped (and logged there).
    match Event::decode(&contracts, log) {
        None => Ok(None),
        Some(Event::Registry(ev)) => registry_event(o, ev).await.map(Some),
        Some(Event::Market(MarketEvent::Reassigned(ev))) => reassigned(o, &ev, at)
            .await
            .map(|c| Some(("Reassigned", c))),
        Some(Event::Market(ev)) => market_event(o, ev, at).await.map(Some),
    }
}

fn new_node(op: Address) -> NodeRecord {
    NodeRecord {
        operator: op,
        signer: Address::ZERO,
        hardware_hash: B256::ZERO,
        metadata_cid: String::new(),
        region: 0,
        capabilities: 0,
        stake: U256::ZERO,
        locked: U256::ZERO,
        jailed_until: 0,
        tasks_completed: 0,
        tasks_failed: 0,
        times_slashed: 0,
        registered: false,
        earnings: U256::ZERO,
    }
}

/// Metadata CIDs are raw CID bytes on chain; kept as 0x-hex (the API may render them).
fn cid_text(bytes: &[u8]) -> String {
    format!("0x{}", alloy::hex::encode(bytes))
}

async fn registry_event(
    o: &mut Overlay<'_>,
    ev: NodeRegistry::NodeRegistryEvents,
) -> Result<(&'static str, Vec<Change>), StoreError> {
    use NodeRegistry::NodeRegistryEvents as E;
    let (kind, op) = match &ev {
        E::OperatorRegistered(e) => ("OperatorRegistered", e.operator),
        E::OperatorUpdated(e) => ("OperatorUpdated", e.operator),
        E::Staked(e) => ("Staked", e.operator),
        E::UnstakeRequested(e) => ("UnstakeRequested", e.operator),
        E::UnbondedWithdrawn(_) => return Ok(("UnbondedWithdrawn", Vec::new())),
        E::CollateralLocked(e) => ("CollateralLocked", e.operator),
        E::CollateralReleased(e) => ("CollateralReleased", e.operator),
        E::Slashed(e) => ("Slashed", e.operator),
        _ => return Ok(("RegistryAdmin", Vec::new())),
    };
    let mut n = o.node(op).await?.unwrap_or_else(|| new_node(op));
    match ev {
        E::OperatorRegistered(e) => {
            n.signer = e.signer;
            n.hardware_hash = e.hardwareHash;
            n.metadata_cid = cid_text(&e.metadataCid);
            n.region = e.region;
            n.capabilities = e.capabilities;
            n.registered = true;
        }
        E::OperatorUpdated(e) => {
            n.signer = e.signer;
            n.hardware_hash = e.hardwareHash;
            n.metadata_cid = cid_text(&e.metadataCid);
            n.region = e.region;
            n.capabilities = e.capabilities;
        }
        E::Staked(e) => n.stake = e.stake,
        E::UnstakeRequested(e) => n.stake = n.stake.saturating_sub(e.amount),
        E::CollateralLocked(e) => n.locked = e.locked,
        E::CollateralReleased(e) => {
            n.locked = n.locked.saturating_sub(e.amount);
            if e.completed {
                n.tasks_completed += 1;
            } else {
                n.tasks_failed += 1;
            }
        }
        E::Slashed(e) => {
            n.locked = n.locked.saturating_sub(e.amount);
            n.stake = n.stake.saturating_sub(e.amount);
            n.tasks_failed += 1;
            n.times_slashed += 1;
            n.jailed_until = e.jailedUntil.saturating_to();
        }
        _ => {}
    }
    Ok((kind, vec![o.put(Change::Node(n))]))
}

fn mode_of(m: u8) -> TaskMode {
    match verity_contracts::Mode::try_from(m) {
        Ok(verity_contracts::Mode::Optimistic) => TaskMode::Optimistic,
        Ok(verity_contracts::Mode::ZkProof) => TaskMode::ZkProof,
        _ => TaskMode::Replicated,
    }
}

/// The request as JSON (everything the `tasks` columns do not hold).
fn request_json(e: &TaskMarket::TaskCreated) -> Value {
    let r = &e.request;
    json!({
        "mode": r.mode,
        "replication": r.replication,
        "quorum": r.quorum,
        "programDigest": r.programDigest,
        "inputDigest": r.inputDigest,
        "bounty": r.bounty.to_string(),
        "collateral": r.collateral.to_string(),
        "assignDeadline": r.assignDeadline,
        "commitDeadline": r.commitDeadline,
        "revealDeadline": r.revealDeadline,
        "challengeWindow": r.challengeWindow,
        "verifierId": r.verifierId,
        "protocolFeeBps": e.protocolFeeBps,
        "schedulerFeeBps": e.schedulerFeeBps,
        "verifier": e.verifier,
        "fromBalance": e.fromBalance,
    })
}

fn set(t: &mut TaskRecord, key: &str, v: Value) {
    if let Value::Object(m) = &mut t.request {
        m.insert(key.to_owned(), v);
    }
}

async fn market_event(
    o: &mut Overlay<'_>,
    ev: TaskMarket::TaskMarketEvents,
    at: u64,
) -> Result<(&'static str, Vec<Change>), StoreError> {
    use TaskMarket::TaskMarketEvents as E;
    let mut out = Vec::new();
    let kind = match ev {
        E::TaskCreated(e) => {
            let t = TaskRecord {
                id: e.taskId,
                client: e.client,
                mode: mode_of(e.request.mode),
                status: TaskStatus::Open,
                program_digest: e.request.programDigest,
                input_digest: e.request.inputDigest,
                replication: u32::from(e.request.replication),
                bounty: U256::from(e.request.bounty),
                request: request_json(&e),
                result_digest: None,
                created_at: at,
                settled_at: None,
            };
            out.push(o.put(Change::Task(t)));
            "TaskCreated"
        }
        E::TaskAssigned(e) => {
            if let Some(mut t) = o.task(e.taskId).await? {
                t.status = TaskStatus::Assigned;
                set(&mut t, "assigner", json!(e.assigner));
                out.push(o.put(Change::Task(t)));
            }
            let plan = o.store.plan(e.taskId).await?;
            for (slot, op) in e.operators.iter().enumerate() {
                let slot = slot as u32;
                let backup = plan
                    .iter()
                    .find(|p| p.slot == slot && p.operator == *op)
                    .and_then(|p| p.backup);
                out.push(o.put(Change::Assignment(AssignmentRecord {
                    task_id: e.taskId,
                    slot,
                    operator: *op,
                    backup,
                    status: AssignmentStatus::Active,
                    assigned_at: at,
                })));
            }
            "TaskAssigned"
        }
        E::Committed(_) => "Committed",
        E::Revealed(e) => {
            if let Some(mut t) = o.task(e.taskId).await? {
                let mut reveals = t.request.get("reveals").cloned().unwrap_or(json!({}));
                if let Value::Object(m) = &mut reveals {
                    m.insert(format!("{:#x}", e.operator), json!(e.resultDigest));
                }
                set(&mut t, "reveals", reveals);
                out.push(o.put(Change::Task(t)));
            }
            seat_status(
                o,
                e.taskId,
                e.operator,
                AssignmentStatus::Delivered,
                &mut out,
            )
            .await?;
            "Revealed"
        }
        E::Declined(e) => {
            seat_status(
                o,
                e.taskId,
                e.operator,
                AssignmentStatus::Declined,
                &mut out,
            )
            .await?;
            out.push(o.put(Change::Outcome(OutcomeRecord {
                task_id: e.taskId,
                operator: e.operator,
                kind: OutcomeKind::Failed,
                at,
                latency_ms: None,
            })));
            "Declined"
        }
        E::ResultSubmitted(e) => {
            if let Some(mut t) = o.task(e.taskId).await? {
                t.status = TaskStatus::Submitted;
                t.result_digest = Some(e.resultDigest);
                set(&mut t, "submittedAt", json!(at));
                set(&mut t, "challengeEnds", json!(e.challengeEnds.to_string()));
                out.push(o.put(Change::Task(t)));
            }
            seat_status(
                o,
                e.taskId,
                e.operator,
                AssignmentStatus::Delivered,
                &mut out,
            )
            .await?;
            "ResultSubmitted"
        }
        E::Challenged(e) => {
            if let Some(mut t) = o.task(e.taskId).await? {
                t.status = TaskStatus::Challenged;
                set(&mut t, "challenger", json!(e.challenger));
                out.push(o.put(Change::Task(t)));
            }
            "Challenged"
        }
        E::DisputeResolved(e) => {
            if let Some(mut t) = o.task(e.taskId).await? {
                let verdict = verity_contracts::Verdict::try_from(e.verdict)
                    .map_or_else(|_| e.verdict.to_string(), |v| v.to_string());
                set(&mut t, "verdict", json!(verdict));
                out.push(o.put(Change::Task(t)));
            }
            "DisputeResolved"
        }
        E::OperatorSlashed(e) => {
            // SlashReason::Silent = 0: the holder never delivered.
            if e.reason == 0 {
                seat_status(
                    o,
                    e.taskId,
                    e.operator,
                    AssignmentStatus::TimedOut,
                    &mut out,
                )
                .await?;
            }
            out.push(o.put(Change::Outcome(OutcomeRecord {
                task_id: e.taskId,
                operator: e.operator,
                kind: OutcomeKind::Slashed,
                at,
                latency_ms: None,
            })));
            "OperatorSlashed"
        }
        E::TaskFinalized(e) => {
            finalized(o, &e, at, &mut out).await?;
            "TaskFinalized"
        }
        E::TaskRefunded(e) => {
            if let Some(mut t) = o.task(e.taskId).await? {
                t.status = TaskStatus::Refunded;
                t.settled_at = Some(at);
                set(&mut t, "refundReason", json!(e.reason));
                out.push(o.put(Change::Task(t)));
            }
            "TaskRefunded"
        }
        E::Deposited(_) => "Deposited",
        E::Credited(_) => "Credited",
        E::Withdrawn(_) => "Withdrawn",
        _ => "MarketAdmin",
    };
    Ok((kind, out))
}

async fn seat_status(
    o: &mut Overlay<'_>,
    task: U256,
    op: Address,
    status: AssignmentStatus,
    out: &mut Vec<Change>,
) -> Result<(), StoreError> {
    let seats = o.seats(task).await?;
    if let Some(mut s) = seats.into_iter().find(|s| s.operator == op) {
        s.status = status;
        out.push(o.put(Change::Assignment(s)));
    }
    Ok(())
}

/// Status, result, winners' outcomes (with latency from seat to settlement) and earnings.
async fn finalized(
    o: &mut Overlay<'_>,
    e: &TaskMarket::TaskFinalized,
    at: u64,
    out: &mut Vec<Change>,
) -> Result<(), StoreError> {
    let Some(mut t) = o.task(e.taskId).await? else {
        return Ok(());
    };
    t.status = TaskStatus::Finalized;
    t.result_digest = Some(e.resultDigest);
    t.settled_at = Some(at);
    let seats = o.seats(e.taskId).await?;
    let winners: Vec<AssignmentRecord> = match t.mode {
        TaskMode::Replicated => {
            let reveals = t.request.get("reveals").cloned().unwrap_or(json!({}));
            seats
                .into_iter()
                .filter(|s| {
                    reveals
                        .get(format!("{:#x}", s.operator))
                        .and_then(Value::as_str)
                        .and_then(|d| d.parse::<B256>().ok())
                        == Some(e.resultDigest)
                })
                .collect()
        }
        TaskMode::Optimistic | TaskMode::ZkProof => seats.into_iter().take(1).collect(),
    };
    // The market releases a paid winner's collateral in its own storage (no registry event):
    // `TaskFinalized` is the release, of the collateral the task was created with.
    let collateral = t
        .request
        .get("collateral")
        .and_then(Value::as_str)
        .and_then(|c| c.parse::<U256>().ok())
        .unwrap_or_default();
    let expected: usize = e.winners.saturating_to();
    if winners.len() != expected {
        tracing::warn!(
            target: "coordinator::indexer",
            task = %e.taskId, found = winners.len(), expected,
            "winners found differ from the event's count"
        );
    }
    out.push(o.put(Change::Task(t)));
    for w in winners.into_iter().take(expected) {
        out.push(o.put(Change::Outcome(OutcomeRecord {
            task_id: e.taskId,
            operator: w.operator,
            kind: OutcomeKind::Completed,
            at,
            latency_ms: Some(at.saturating_sub(w.assigned_at).saturating_mul(1000)),
        })));
        if let Some(mut n) = o.node(w.operator).await? {
            n.earnings += e.rewardEach;
            n.locked = n.locked.saturating_sub(collateral);
            n.tasks_completed += 1;
            out.push(o.put(Change::Node(n)));
        }
    }
    Ok(())
}

async fn reassigned(
    o: &mut Overlay<'_>,
    e: &TaskMarket::Reassigned,
    at: u64,
) -> Result<Vec<Change>, StoreError> {
    let mut out = Vec::new();
    let slot = u32::try_from(e.seat).unwrap_or(u32::MAX);
    // The chain says whether the holder had declined; anything else is only known from the
    // intent this coordinator recorded before asking.
    let declined =
        o.seats(e.taskId).await?.iter().any(|s| {
            s.slot == slot && s.operator == e.from && s.status == AssignmentStatus::Declined
        });
    let reason = match o.store.failover_intent(e.taskId, slot, e.to).await? {
        Some(r) => r,
        None if declined => ReassignReason::Declined,
        None => {
            tracing::info!(
                target: "coordinator::indexer",
                task = %e.taskId, slot, "reassignment by another coordinator: reason unknown, recorded as missed_deadline"
            );
            ReassignReason::MissedDeadline
        }
    };
    // The replaced holder failed the seat, unless it declined it (its `Declined` event already
    // recorded the failure; the contract does not count a declined seat twice either).
    if !declined {
        out.push(o.put(Change::Outcome(OutcomeRecord {
            task_id: e.taskId,
            operator: e.from,
            kind: OutcomeKind::Failed,
            at,
            latency_ms: None,
        })));
    }
    let round = o.next_round(e.taskId, slot).await?;
    out.push(o.put(Change::Reassignment(ReassignmentRecord {
        task_id: e.taskId,
        slot,
        round,
        from: e.from,
        to: e.to,
        reason,
        at,
    })));
    out.push(o.put(Change::Assignment(AssignmentRecord {
        task_id: e.taskId,
        slot,
        operator: e.to,
        backup: None,
        status: AssignmentStatus::Active,
        assigned_at: at,
    })));
    Ok(out)
}
