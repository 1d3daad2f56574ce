//! Committee duty: a node drawn into an optimistic dispute's committee (`CommitteeDrawn`)
//! fetches the task's program and input, re-executes it, and votes the digest it got before the
//! vote deadline; once every member voted or the deadline passed it settles the dispute
//! (`resolveDispute`, which anyone may call: a revert because someone else settled first is
//! fine). Duties are stored like tasks (`db::DutyPhase`), and every step reads the chain before
//! acting (a `Voted` event by us means the vote is in), so a restart neither loses a vote nor
//! sends it twice.

use std::sync::Arc;

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::SolEvent,
};
use tracing::{debug, info, warn};
use verity_contracts::TaskMarket;
use verity_executor::{Executor, TaskLimits};
use verity_primitives::envelope::TaskInput;
use verity_settlement::{
    Settlement, Status,
    events::{DEFAULT_CHUNK_BLOCKS, history_to_head},
};

use crate::{
    blobs::{BlobError, Blobs},
    db::{DutyPhase, DutyRow},
    error::NodeError,
    worker::{Worker, error_digest},
};

/// Why a task could not be re-executed (no digest to vote or compare).
#[derive(Debug, thiserror::Error)]
pub enum ReexecError {
    /// Program or input could not be fetched.
    #[error("[V-NODE-010] fetching program or input: {0}")]
    Fetch(#[from] BlobError),
    /// The input is not a valid envelope.
    #[error("[V-NODE-011] input envelope: {0}")]
    Envelope(String),
    /// The host failed (watchdog, engine): not a result.
    #[error("[V-NODE-012] host-side execution failure: {0}")]
    Host(String),
}

/// What a re-execution produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reexecuted {
    /// The result digest honest replicas agree on (sha2-256 of the output, or the error digest
    /// of a deterministic failure).
    pub digest: B256,
    /// The output (empty for a deterministic failure).
    pub output: Vec<u8>,
    /// Fuel used (0 for a deterministic failure).
    pub fuel: u64,
}

/// Fetches `program` and `input` and runs them as the worker does, giving the digest an honest
/// operator posts.
pub async fn reexecute<B: Blobs>(
    blobs: &B,
    executor: &Arc<Executor>,
    program: B256,
    input: B256,
) -> Result<Reexecuted, ReexecError> {
    let program = blobs.fetch(program).await?;
    let input = blobs.fetch(input).await?;
    let envelope = TaskInput::decode(&input).map_err(|e| ReexecError::Envelope(e.to_string()))?;
    let limits = TaskLimits {
        fuel: envelope.limits.fuel,
        max_memory_bytes: envelope.limits.max_memory_bytes,
        max_table_elements: envelope.limits.max_table_elements,
        max_output_bytes: envelope.limits.max_output_bytes,
    };
    let executor = executor.clone();
    let outcome =
        tokio::task::spawn_blocking(move || executor.execute(&program, &envelope.payload, &limits))
            .await
            .map_err(|e| ReexecError::Host(format!("executor thread: {e}")))?;
    match outcome {
        Ok(exec) => Ok(Reexecuted {
            digest: B256::from(exec.receipt.result_digest.0),
            fuel: exec.receipt.fuel_used,
            output: exec.output,
        }),
        Err(e) if e.is_deterministic() => Ok(Reexecuted {
            digest: error_digest(e.code()),
            output: Vec::new(),
            fuel: 0,
        }),
        Err(e) => Err(ReexecError::Host(e.to_string())),
    }
}

/// Whether `member` has a `Voted` event on `task` (read from the task's creation block on,
/// through the settlement crate's event stream).
pub async fn has_voted(s: &Settlement, task: U256, member: Address) -> Result<bool, NodeError> {
    let from = s.task_record(task).await?.created_block;
    let source = s
        .market_logs()
        .events(vec![TaskMarket::Voted::SIGNATURE_HASH])
        .topic1(B256::from(task))
        .topic2(member.into_word());
    let logs = history_to_head(&source, from, DEFAULT_CHUNK_BLOCKS)
        .await
        .map_err(|e| NodeError::Chain(format!("Voted {task}: {e}")))?;
    Ok(!logs.is_empty())
}

/// Settles a dispute if it is due (every member voted, or the vote deadline passed). Returns
/// whether the task is settled now. A revert because another caller settled it first, or
/// because the chain is a second behind our reading, is not an error.
pub async fn resolve_if_due(s: &Settlement, from: Address, task: U256) -> Result<bool, NodeError> {
    if s.status(task).await? != Status::Challenged {
        return Ok(true);
    }
    let d = s.dispute(task).await?;
    let all_voted = d.drawn && usize::from(d.agree) + usize::from(d.disagree) == d.committee.len();
    let now = s.chain_time().await?;
    if !all_voted && now <= d.vote_deadline {
        return Ok(false);
    }
    match s.resolve_dispute(from, task).await {
        Ok(_) => info!(target: "node::committee", %task, "dispute resolved"),
        Err(e) if matches!(e.revert_name().as_deref(), Some("WrongStatus" | "TooEarly")) => {
            debug!(target: "node::committee", %task, error = %e, "resolveDispute not needed yet");
        }
        Err(e) => return Err(e.into()),
    }
    Ok(s.status(task).await? != Status::Challenged)
}

impl<B: Blobs> Worker<B> {
    /// Records a committee seat found in a `CommitteeDrawn` event.
    pub(crate) async fn on_committee_drawn(
        &self,
        ev: &TaskMarket::CommitteeDrawn,
    ) -> Result<(), NodeError> {
        if ev.committee.contains(&self.me) && self.db.insert_duty(ev.taskId).await? {
            info!(target: "node::committee", task = %ev.taskId, "drawn into a dispute committee");
        }
        Ok(())
    }

    /// Steps every open committee duty once.
    pub(crate) async fn committee_duties(&self) -> Result<(), NodeError> {
        for row in self.db.open_duties().await? {
            let id = row.task_id;
            if let Err(e) = self.duty_step(row).await {
                if e.is_fatal() {
                    return Err(e);
                }
                warn!(target: "node::committee", task = %id, error = %e, "committee step failed");
            }
        }
        Ok(())
    }

    async fn duty_step(&self, row: DutyRow) -> Result<(), NodeError> {
        let id = row.task_id;
        if self.s.status(id).await? != Status::Challenged {
            self.db.set_duty(id, DutyPhase::Done, None).await?;
            debug!(target: "node::committee", task = %id, "dispute settled");
            return Ok(());
        }
        if row.phase == DutyPhase::Drawn {
            let d = self.s.dispute(id).await?;
            let now = self.s.chain_time().await?;
            if has_voted(&self.s, id, self.me).await? {
                // Sent before a restart.
                self.db.set_duty(id, DutyPhase::Voted, None).await?;
            } else if now <= d.vote_deadline {
                let task = self.s.task(id).await?;
                let r = match reexecute(
                    &self.blobs,
                    &self.executor,
                    task.program_digest,
                    task.input_digest,
                )
                .await
                {
                    Ok(r) => r,
                    Err(e) => {
                        // Nothing honest to vote; try again next round while the window lasts.
                        warn!(target: "node::committee", task = %id, error = %e, "cannot re-execute");
                        return Ok(());
                    }
                };
                self.metrics.fuel.inc_by(r.fuel);
                match self
                    .s
                    .before(d.vote_deadline + 1)
                    .vote(self.me, id, r.digest)
                    .await
                {
                    Ok(_) => {
                        info!(target: "node::committee", task = %id, digest = %r.digest,
                            agrees = r.digest == task.result, "voted");
                    }
                    Err(e) if e.revert_name().as_deref() == Some("AlreadyVoted") => {}
                    Err(e) if e.revert_name().as_deref() == Some("VotingClosed") => {
                        warn!(target: "node::committee", task = %id, "vote deadline passed");
                    }
                    Err(e) => return Err(e.into()),
                }
                self.db
                    .set_duty(id, DutyPhase::Voted, Some(r.digest))
                    .await?;
            } else {
                warn!(target: "node::committee", task = %id, "vote deadline passed before we voted");
                self.db.set_duty(id, DutyPhase::Voted, None).await?;
            }
        }
        if resolve_if_due(&self.s, self.me, id).await? {
            self.db.set_duty(id, DutyPhase::Done, None).await?;
        }
        Ok(())
    }
}
