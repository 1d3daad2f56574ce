//! Rebuilding what the market's calls carry in calldata from its events.
//!
//! `TaskMarket` keeps one slot per task: its status and a hash of the [`TaskMarket::Task`]
//! (request, fee and verifier snapshots, assignment, optimistic result). Every call must pass that
//! `Task`; this module finds it from `TaskCreated`, `TaskAssigned`, `Reassigned` and
//! `ResultSubmitted`, caches it, and finds what replicated calls need besides (the block of a
//! commitment, the revealed digests).
//!
//! The operators can change after assignment: the coordinator may `reassign` a seat up to the
//! commit deadline. A cached record of an assigned task is therefore brought up to date with the
//! `Reassigned` events since the block it was last checked at (one read of the new blocks through
//! the event stream's [`history`](crate::events::history)) until the head is past the commit deadline or the optimistic result is posted; after
//! that the operators can no longer change and the cached record is used as is.

use alloy::{
    eips::BlockId,
    primitives::{Address, B256, Log as PrimitiveLog},
    providers::Provider,
    rpc::types::Log,
    sol_types::SolEvent,
};
use verity_contracts::{Mode, TaskMarket};

use crate::{
    Error, Result, Settlement, TaskId,
    events::{DEFAULT_CHUNK_BLOCKS, StreamError, history},
};

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

    /// Applies `Reassigned`: seat `seat` is now held by `to`. Applying the events of a task in
    /// chain order gives its operators (the last reassignment of a seat wins), so applying an
    /// event twice within an in-order replay is harmless. A seat out of range is ignored (the
    /// market never emits one).
    pub fn apply_reassigned(&mut self, ev: &TaskMarket::Reassigned) {
        if let Some(slot) = usize::try_from(ev.seat)
            .ok()
            .and_then(|i| self.task.operators.get_mut(i))
        {
            *slot = ev.to;
        }
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
            auditBps: 0,
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

/// One decoded event with the block it was emitted in and its index in that block.
#[derive(Debug, Clone)]
pub(crate) struct Found<E> {
    pub(crate) event: E,
    pub(crate) block: u64,
    pub(crate) index: u64,
}

impl<E> Found<E> {
    /// Chain order.
    pub(crate) fn pos(&self) -> (u64, u64) {
        (self.block, self.index)
    }
}

/// A cached record and how far its events have been applied.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    rec: TaskRecord,
    /// The first block whose events may not be applied yet.
    scan_from: u64,
    /// The operators can no longer change (past the commit deadline, or result posted).
    settled_ops: bool,
}

/// The latest block: (number, timestamp).
async fn head(s: &Settlement) -> Result<(u64, u64)> {
    let b = s
        .provider
        .get_block(BlockId::latest())
        .await
        .map_err(|e| Error::from_rpc("eth_getBlockByNumber", Address::ZERO, 1, e))?
        .ok_or_else(|| Error::Decode {
            call: "eth_getBlockByNumber",
            reason: "no latest block".into(),
        })?;
    Ok((b.header.number, b.header.timestamp))
}

impl Settlement {
    /// The `Task` the market holds the hash of for `id`, rebuilt from its events with one
    /// history read (cached, and brought up to date with the events of the blocks since while
    /// the operators can still change). An id no event names gives [`TaskRecord::unknown`].
    pub async fn task_record(&self, id: TaskId) -> Result<TaskRecord> {
        let cached = self.cached(id);
        if let Some(c) = &cached
            && c.settled_ops
        {
            return Ok(c.rec.clone());
        }
        let (head_block, head_time) = head(self).await?;
        let (known, scan_from) = match cached {
            Some(c) => (Some(c.rec), c.scan_from),
            None => (None, self.deployment.deployed_block),
        };
        // Every event that shapes the record, in one query over the blocks not yet applied.
        let logs = self
            .logs_to(
                id,
                vec![
                    TaskMarket::TaskCreated::SIGNATURE_HASH,
                    TaskMarket::TaskAssigned::SIGNATURE_HASH,
                    TaskMarket::Reassigned::SIGNATURE_HASH,
                    TaskMarket::ResultSubmitted::SIGNATURE_HASH,
                ],
                None,
                scan_from,
                head_block,
            )
            .await?;
        let mut rec = match known {
            Some(rec) => rec,
            None => match decode_all::<TaskMarket::TaskCreated>(&logs)?
                .into_iter()
                .next()
            {
                Some(f) => TaskRecord::from_created(&f.event, f.block),
                None => return Ok(TaskRecord::unknown(id)),
            },
        };
        // In chain order; a receipt's record may already hold some of these (see `remember`),
        // and each application is idempotent in order.
        for log in &logs {
            let topic = log.topic0();
            if topic == Some(&TaskMarket::TaskAssigned::SIGNATURE_HASH) && !rec.is_assigned() {
                rec.apply_assigned(&decode::<TaskMarket::TaskAssigned>(log)?.event);
            } else if topic == Some(&TaskMarket::Reassigned::SIGNATURE_HASH) && rec.is_assigned() {
                rec.apply_reassigned(&decode::<TaskMarket::Reassigned>(log)?.event);
            } else if topic == Some(&TaskMarket::ResultSubmitted::SIGNATURE_HASH) {
                rec.apply_submitted(&decode::<TaskMarket::ResultSubmitted>(log)?.event);
            }
        }
        let settled_ops = rec.is_assigned()
            && (rec.is_submitted() || head_time > u64::from(rec.task.request.commitDeadline));
        self.store(Cached {
            rec: rec.clone(),
            scan_from: head_block + 1,
            settled_ops,
        });
        Ok(rec)
    }

    /// Stores a record a receipt produced (creation, assignment, reassignment, submission), so
    /// the common path needs no search for it; `Reassigned` events are searched from the
    /// receipt's block `block` on.
    pub(crate) fn remember(&self, rec: &TaskRecord, block: u64) {
        if rec.created_block == 0 && rec.task.client == Address::ZERO {
            return;
        }
        self.store(Cached {
            rec: rec.clone(),
            scan_from: block,
            settled_ops: rec.is_submitted(),
        });
    }

    fn store(&self, c: Cached) {
        let mut cache = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_CAPACITY && !cache.contains_key(&c.rec.id) {
            cache.clear();
        }
        cache.insert(c.rec.id, c);
    }

    /// The record of `id` as last read or produced by a receipt, without asking the chain. It
    /// may be behind (a seat reassigned since): a call made with a stale record reverts with
    /// `TaskMismatch`, and [`Settlement::task_record`] then gives the current one.
    pub fn known_record(&self, id: TaskId) -> Option<TaskRecord> {
        self.cached(id).map(|c| c.rec)
    }

    fn cached(&self, id: TaskId) -> Option<Cached> {
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
        self.events_to(id, who, from_block, head).await
    }

    /// [`Settlement::events`] up to block `head`.
    pub(crate) async fn events_to<E: SolEvent>(
        &self,
        id: TaskId,
        who: Option<Address>,
        from_block: u64,
        head: u64,
    ) -> Result<Vec<Found<E>>> {
        let logs = self
            .logs_to(id, vec![E::SIGNATURE_HASH], who, from_block, head)
            .await?;
        logs.iter().map(decode::<E>).collect()
    }

    /// Task `id`'s logs of any of the events `signatures` (and, if given, whose second indexed
    /// topic is `who`), in chain order, from `from_block` up to `head`: one [`history`] read
    /// (one query per chunk for all the event types).
    pub(crate) async fn logs_to(
        &self,
        id: TaskId,
        signatures: Vec<B256>,
        who: Option<Address>,
        from_block: u64,
        head: u64,
    ) -> Result<Vec<Log>> {
        if from_block > head {
            return Ok(Vec::new());
        }
        let mut source = self.market_logs().events(signatures).topic1(B256::from(id));
        if let Some(who) = who {
            source = source.topic2(who.into_word());
        }
        history(&source, from_block, head, DEFAULT_CHUNK_BLOCKS)
            .await
            .map_err(stream_error)
    }
}

/// A failed log read as the client's error.
pub(crate) fn stream_error(e: StreamError) -> Error {
    match e {
        StreamError::Rpc { call, source } => Error::from_rpc(call, Address::ZERO, 1, source),
        other => Error::Decode {
            call: "log query",
            reason: other.to_string(),
        },
    }
}

/// The logs of event `E` among `logs`, decoded, in their order.
pub(crate) fn decode_all<E: SolEvent>(logs: &[Log]) -> Result<Vec<Found<E>>> {
    logs.iter()
        .filter(|l| l.topic0() == Some(&E::SIGNATURE_HASH))
        .map(decode::<E>)
        .collect()
}

fn decode<E: SolEvent>(log: &Log) -> Result<Found<E>> {
    let inner: &PrimitiveLog = &log.inner;
    let event = E::decode_log(inner)
        .map_err(|e| Error::Decode {
            call: "decoding a market event",
            reason: format!("{}: {e}", E::SIGNATURE),
        })?
        .data;
    Ok(Found {
        event,
        block: log.block_number.unwrap_or_default(),
        index: log.log_index.unwrap_or_default(),
    })
}
