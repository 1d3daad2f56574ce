//! Dispute duty. Every node follows every challenged task (the market's `Challenged` event)
//! and drives its case in the `DisputeCourt` as anyone may: draws a round once its seed block
//! is mined, tallies once the ballots are in or the deadline passed, and settles the task once
//! the court has a verdict (a revert because someone else did it first is fine). A node drawn
//! into the committee fetches the task's program and input, re-executes it, commits to the
//! digest it got with a secret salt, and reveals once the commit phase is over: a member that
//! does not vote, or votes against the verdict, loses half its bond, so voting honestly is what
//! pays. Duties are stored like tasks (`db::DutyPhase`); the digest and salt are stored before
//! the commitment is sent, and every step reads the ballot on chain before acting, so a restart
//! neither loses a ballot nor sends it twice. `[committee] serve = false` in the node's config
//! opts out of voting (the node still follows and settles disputes).

use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use tracing::{debug, info, warn};
use verity_contracts::TaskMarket;
use verity_executor::{Executor, TaskLimits};
use verity_primitives::envelope::TaskInput;
use verity_settlement::{Ballot, CasePhase, Error as SettlementError, Settlement, Status};

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

/// Treats the named reverts as "someone else got there first, or the chain is a second behind
/// our reading": not an error.
fn tolerate<T>(
    r: Result<T, SettlementError>,
    task: U256,
    call: &str,
    benign: &[&str],
) -> Result<bool, NodeError> {
    match r {
        Ok(_) => Ok(true),
        Err(e)
            if e.revert_name()
                .is_some_and(|n| benign.contains(&n.as_str())) =>
        {
            debug!(target: "node::committee", %task, call, error = %e, "not needed");
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Advances a dispute's case by one step as anyone may: a draw round once its seed block is
/// mined, the tally once it is due, the market's settlement once the court has a verdict (or
/// the arbiter's window passed). Returns whether the task has left the dispute.
pub async fn drive_case(s: &Settlement, from: Address, task: U256) -> Result<bool, NodeError> {
    if s.status(task).await? != Status::Challenged {
        return Ok(true);
    }
    let c = s.case(task).await?;
    let now = s.chain_time().await?;
    if c.phase == CasePhase::Drawing && now <= c.draw_deadline {
        if s.block_number().await? > c.seed_block
            && tolerate(
                s.draw_committee(from, task).await,
                task,
                "draw",
                &["SeedNotReady", "WrongPhase", "DrawClosed"],
            )?
        {
            info!(target: "node::committee", %task, round = c.rounds + 1, "committee draw round");
        }
    } else if c.tally_due(now) {
        if tolerate(
            s.tally(from, task).await,
            task,
            "tally",
            &["WrongPhase", "TooEarly"],
        )? {
            info!(target: "node::committee", %task, "ballots counted");
        }
    } else if c.resolve_due(now)
        && tolerate(
            s.resolve_dispute(from, task).await,
            task,
            "resolveDispute",
            &["WrongStatus", "WrongPhase", "TooEarly"],
        )?
    {
        info!(target: "node::committee", %task, verdict = %c.verdict, "dispute settled");
    }
    Ok(s.status(task).await? != Status::Challenged)
}

impl<B: Blobs> Worker<B> {
    /// Starts following a task from its `Challenged` event.
    pub(crate) async fn on_challenged(&self, ev: &TaskMarket::Challenged) -> Result<(), NodeError> {
        if self.db.insert_duty(ev.taskId).await? {
            debug!(target: "node::committee", task = %ev.taskId, "following a dispute");
        }
        Ok(())
    }

    /// Steps every open dispute duty once.
    pub(crate) async fn committee_duties(&self) -> Result<(), NodeError> {
        for row in self.db.open_duties().await? {
            let id = row.task_id;
            if let Err(e) = self.duty_step(row).await {
                if e.is_fatal() {
                    return Err(e);
                }
                warn!(target: "node::committee", task = %id, error = %e, "dispute step failed");
            }
        }
        Ok(())
    }

    async fn duty_step(&self, row: DutyRow) -> Result<(), NodeError> {
        let id = row.task_id;
        if self.s.status(id).await? != Status::Challenged {
            debug!(target: "node::committee", task = %id, "dispute settled");
            return self.finish_duty(id).await;
        }
        let c = self.s.case(id).await?;
        if self.serve_committee && c.phase == CasePhase::Voting && c.seats(self.me) {
            if self.fault == crate::fault::Behaviour::IdleMember {
                debug!(target: "node::fault", task = %id, "idle_member: drawn, not voting");
            } else {
                self.ballot_step(&row, &c).await?;
            }
        }
        if drive_case(&self.s, self.me, id).await? {
            self.finish_duty(id).await?;
        }
        Ok(())
    }

    /// The task left the dispute: the duty is done, and committee pay (released with our bond
    /// by the settlement) is withdrawn.
    async fn finish_duty(&self, id: U256) -> Result<(), NodeError> {
        self.db.set_duty(id, DutyPhase::Done, None).await?;
        if !self.s.court_balance(self.me).await?.is_zero() {
            let amount = self.s.court_withdraw(self.me).await?;
            info!(target: "node::committee", %amount, "withdrew committee pay");
        }
        Ok(())
    }

    /// Our ballot: commit (re-executing first) while the commit phase lasts, reveal once it is
    /// over, each only if the chain does not already have it.
    async fn ballot_step(
        &self,
        row: &DutyRow,
        c: &verity_settlement::CaseInfo,
    ) -> Result<(), NodeError> {
        let id = row.task_id;
        let now = self.s.chain_time().await?;
        match self.s.ballot(id, self.me).await? {
            Ballot::None if now <= c.commit_deadline => {
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
                        // Nothing honest to vote; try again next round while the phase lasts.
                        warn!(target: "node::committee", task = %id, error = %e, "cannot re-execute");
                        return Ok(());
                    }
                };
                self.metrics.fuel.inc_by(r.fuel);
                let salt = B256::from(rand::random::<[u8; 32]>());
                self.db
                    .set_duty(id, DutyPhase::Committed, Some((r.digest, salt)))
                    .await?;
                let sent = tolerate(
                    self.s
                        .before(c.commit_deadline + 1)
                        .commit_ballot(self.me, id, r.digest, salt)
                        .await,
                    id,
                    "commit",
                    &["AlreadyCommitted", "CommitDeadlinePassed"],
                )?;
                if sent {
                    info!(target: "node::committee", task = %id, digest = %r.digest,
                        agrees = r.digest == c.claimed, "ballot committed");
                }
            }
            Ballot::None => {
                warn!(target: "node::committee", task = %id, "commit phase over before we committed");
            }
            Ballot::Committed if c.reveal_open(now) && now <= c.reveal_deadline => {
                let (Some(digest), Some(salt)) = (row.digest, row.salt) else {
                    warn!(target: "node::committee", task = %id, "committed, but the salt is lost");
                    return Ok(());
                };
                if tolerate(
                    self.s
                        .before(c.reveal_deadline + 1)
                        .reveal_ballot(self.me, id, digest, salt)
                        .await,
                    id,
                    "reveal",
                    &["NotCommitted", "RevealTooEarly", "RevealDeadlinePassed"],
                )? {
                    info!(target: "node::committee", task = %id, %digest, "ballot revealed");
                }
            }
            Ballot::Committed => {}
            Ballot::Agreed | Ballot::Disagreed => {
                if row.phase != DutyPhase::Revealed {
                    self.db.set_duty(id, DutyPhase::Revealed, None).await?;
                }
            }
        }
        Ok(())
    }
}
