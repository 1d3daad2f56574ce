//! Rebuilding what the market's calls carry in calldata from its events.
//!
//! `TaskMarket` keeps one slot per task: its status and a hash of the [`TaskMarket::Task`]
//! (request, fee and verifier snapshots, assignment, optimistic result). Every call must pass that
//! `Task`; this module finds it from `TaskCreated`, `TaskAssigned` and `ResultSubmitted`, caches
//! the parts that never change once set, and finds what replicated calls need besides (the block
//! of a commitment, the revealed digests).

use alloy::{
    primitives::{Address, B256, Log as PrimitiveLog},
    providers::Provider,
    rpc::types::{Filter, Log},
    sol_types::SolEvent,
};
use verity_contracts::{Mode, TaskMarket};

use crate::{Error, Result, Settlement, TaskId};

/// Most blocks one `eth_getLogs` asks for (the devchain and most providers cap the range).
const LOG_CHUNK: u64 = 5_000;
/// Tasks whose records the client keeps; the cache is emptied when it grows past this.
pub(crate) const CACHE_CAPACITY: usize = 4_096;

/// A task as every market call must carry it, with the block it was created in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// The task id.
    pub id: TaskId,
    /// The `Task` whose hash the market stores (as of the latest events found).
    pub task: TaskMarket::Task,
    /// Block of `TaskCreated` (where later searches start).
    pub created_block: u64,
}

impl TaskRecord {
    /// The record of a task id no `TaskCreated` event names: an all-zero `Task`, which the market
    /// rejects with `UnknownTask` (or `TaskMismatch`), so calls still return its named error.
    pub fn unknown(id: TaskId) -> Self {
        Self {
            id,
            task: empty_task(),
            created_block: 0,
        }
    }

    /// The verification mode of the request.
    pub fn mode(&self) -> Option<Mode> {
        Mode::try_from(self.task.request.mode).ok()
    }

    /// Whether `TaskAssigned` was seen.
    pub fn is_assigned(&self) -> bool {
        !self.task.operators.is_empty()
    }

    /// Whether `ResultSubmitted` was seen.
    pub fn is_submitted(&self) -> bool {
        self.task.submittedAt != 0
    }

    /// The record a `TaskCreated` event describes (block from the log).
    pub fn from_created(ev: &TaskMarket::TaskCreated, block: u64) -> Self {
        let mut task = empty_task();
        task.request = ev.request.clone();
        task.client = ev.client;
        task.protocolFeeBps = ev.protocolFeeBps;
        task.schedulerFeeBps = ev.schedulerFeeBps;
        task.verifier = ev.verifier;
        Self {
            id: ev.taskId,
            task,
            created_block: block,
        }
    }

    /// Applies `TaskAssigned`.
    pub fn apply_assigned(&mut self, ev: &TaskMarket::TaskAssigned) {
        self.task.assigner = ev.assigner;
        self.task.operators = ev.operators.clone();
    }

    /// Applies `ResultSubmitted`.
    pub fn apply_submitted(&mut self, ev: &TaskMarket::ResultSubmitted) {
        let window = u64::from(self.task.request.challengeWindow);
        let ends: u64 = ev.challengeEnds.saturating_to();
        self.task.submittedAt = u32::try_from(ends.saturating_sub(window)).unwrap_or(u32::MAX);
        self.task.result = ev.resultDigest;
    }
}

fn empty_task() -> TaskMarket::Task {
    TaskMarket::Task {
        request: TaskMarket::TaskRequest {
            mode: 0,
            replication: 0,
            quorum: 0,
            programDigest: B256::ZERO,
            inputDigest: B256::ZERO,
            bounty: Default::default(),
            collateral: Default::default(),
            assignDeadline: 0,
            commitDeadline: 0,
            revealDeadline: 0,
            challengeWindow: 0,
            verifierId: B256::ZERO,
        },
        client: Address::ZERO,
        protocolFeeBps: 0,
        schedulerFeeBps: 0,
        verifier: Address::ZERO,
        assigner: Address::ZERO,
        operators: Vec::new(),
        submittedAt: 0,
        result: B256::ZERO,
    }
}

/// One decoded event with the block it was emitted in.
#[derive(Debug, Clone)]
pub(crate) struct Found<E> {
    pub(crate) event: E,
    pub(crate) block: u64,
}

impl Settlement {
    /// The `Task` the market holds the hash of for `id`, rebuilt from its events (cached once a
    /// part can no longer change). An id no event names gives [`TaskRecord::unknown`].
    pub async fn task_record(&self, id: TaskId) -> Result<TaskRecord> {
        let cached = self.cached(id);
        let mut rec = match cached {
            Some(r) => r,
            None => match self
                .events::<TaskMarket::TaskCreated>(id, None, self.deployment.deployed_block)
                .await?
                .into_iter()
                .next()
            {
                Some(f) => TaskRecord::from_created(&f.event, f.block),
                None => return Ok(TaskRecord::unknown(id)),
            },
        };
        if !rec.is_assigned()
            && let Some(f) = self
                .events::<TaskMarket::TaskAssigned>(id, None, rec.created_block)
                .await?
                .into_iter()
                .next()
        {
            rec.apply_assigned(&f.event);
        }
        if rec.is_assigned()
            && !rec.is_submitted()
            && rec.mode() == Some(Mode::Optimistic)
            && let Some(f) = self
                .events::<TaskMarket::ResultSubmitted>(id, None, rec.created_block)
                .await?
                .into_iter()
                .next()
        {
            rec.apply_submitted(&f.event);
        }
        self.remember(&rec);
        Ok(rec)
    }

    /// Stores a record (creation and assignment receipts feed it, so the common path needs no
    /// log search at all).
    pub(crate) fn remember(&self, rec: &TaskRecord) {
        if rec.created_block == 0 && rec.task.client == Address::ZERO {
            return;
        }
        let mut cache = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_CAPACITY && !cache.contains_key(&rec.id) {
            cache.clear();
        }
        cache.insert(rec.id, rec.clone());
    }

    fn cached(&self, id: TaskId) -> Option<TaskRecord> {
        let cache = self.records.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(&id).cloned()
    }

    /// The block of `operator`'s `Committed` event on `id` (0 if none: the market then answers
    /// `NotCommitted`).
    pub async fn commit_block(&self, rec: &TaskRecord, operator: Address) -> Result<u64> {
        Ok(self
            .events::<TaskMarket::Committed>(rec.id, Some(operator), rec.created_block)
            .await?
            .first()
            .map_or(0, |f| f.block))
    }

    /// Each seat's revealed digest (zero where the seat did not reveal), as `finalize` takes them.
    pub async fn revealed_digests(&self, rec: &TaskRecord) -> Result<Vec<B256>> {
        let reveals = self
            .events::<TaskMarket::Revealed>(rec.id, None, rec.created_block)
            .await?;
        Ok(rec
            .task
            .operators
            .iter()
            .map(|op| {
                reveals
                    .iter()
                    .find(|f| f.event.operator == *op)
                    .map_or(B256::ZERO, |f| f.event.resultDigest)
            })
            .collect())
    }

    /// Every `E` event about `id` (and, if given, whose second indexed topic is `who`) from
    /// `from_block` to the head, in chain order, searched in bounded block ranges.
    pub(crate) async fn events<E: SolEvent>(
        &self,
        id: TaskId,
        who: Option<Address>,
        from_block: u64,
    ) -> Result<Vec<Found<E>>> {
        let head = self.block_number().await?;
        let mut out = Vec::new();
        let mut start = from_block;
        while start <= head {
            let end = head.min(start + LOG_CHUNK - 1);
            let mut filter = Filter::new()
                .address(self.deployment.market)
                .event_signature(E::SIGNATURE_HASH)
                .topic1(B256::from(id))
                .from_block(start)
                .to_block(end);
            if let Some(who) = who {
                filter = filter.topic2(who.into_word());
            }
            let logs = self
                .provider
                .get_logs(&filter)
                .await
                .map_err(|e| Error::from_rpc("eth_getLogs", Address::ZERO, 1, e))?;
            for log in logs {
                out.push(decode::<E>(&log)?);
            }
            start = end + 1;
        }
        Ok(out)
    }
}

fn decode<E: SolEvent>(log: &Log) -> Result<Found<E>> {
    let inner: &PrimitiveLog = &log.inner;
    let event = E::decode_log(inner)
        .map_err(|e| Error::Decode {
            call: "eth_getLogs",
            reason: format!("{}: {e}", E::SIGNATURE),
        })?
        .data;
    Ok(Found {
        event,
        block: log.block_number.unwrap_or_default(),
    })
}
