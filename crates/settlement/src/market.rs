//! `TaskMarket` operations.

use alloy::{
    primitives::{Address, B256, Bytes, U256, aliases::U96},
    rpc::types::TransactionReceipt,
    sol_types::SolEvent,
};
use verity_contracts::{Mode, Seat, Status, TaskMarket};

use crate::{Error, Result, Settlement, TaskId, TaskRecord, record::decode_all};

/// What a client asks for (see `TaskMarket.TaskRequest`). Deadlines are unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRequest {
    /// How the result is verified.
    pub mode: Mode,
    /// Operators to assign (1 unless replicated).
    pub replication: u8,
    /// Matching reveals needed (a strict majority of `replication`; 1 unless replicated).
    pub quorum: u8,
    /// sha2-256 of the program.
    pub program_digest: B256,
    /// sha2-256 of the input.
    pub input_digest: B256,
    /// Escrowed reward, fees included (at most 2^96-1).
    pub bounty: U256,
    /// Locked from each assigned operator; also the challenge bond (at most 2^96-1).
    pub collateral: U256,
    /// Last second the coordinator may assign.
    pub assign_deadline: u64,
    /// Last second to commit (replicated) or submit.
    pub commit_deadline: u64,
    /// Last second to reveal (replicated only, else 0).
    pub reveal_deadline: u64,
    /// Seconds a result can be challenged (optimistic only, else 0).
    pub challenge_window: u32,
    /// Result verifier id (zk only, else zero).
    pub verifier_id: B256,
    /// Optimistic: the chance, in basis points, that the result is audited (at least the
    /// market's `minAuditBps`, and the collateral at least [`collateral_floor`]); 0 otherwise.
    pub audit_bps: u16,
}

/// `TaskMarket.MIN_REPLICATION`: the fewest seats of a replicated task.
pub const MIN_REPLICATION: u8 = 3;
/// `TaskMarket.AUDIT_FEE_BPS`: the share of an audited task's bounty that pays its auditors
/// when the result stands.
pub const AUDIT_FEE_BPS: u16 = 1_000;

/// `TaskMarket.collateralFloor`: the least collateral of an optimistic task with `bounty` and
/// audit rate `audit_bps`, `bounty * (1 - p) / p` rounded up plus `AUDIT_FEE_BPS` of the bounty,
/// so that skipping the work never pays in expectation (docs/protocol.md, "Audits"). `None` for
/// a rate outside `1..=10_000`. Checked against the contract's own in the settlement tests.
pub fn collateral_floor(bounty: U256, audit_bps: u16) -> Option<U256> {
    if audit_bps == 0 || audit_bps > 10_000 {
        return None;
    }
    let p = U256::from(audit_bps);
    let full = U256::from(10_000u32);
    Some(
        (bounty * (full - p) + p - U256::from(1u8)) / p + bounty * U256::from(AUDIT_FEE_BPS) / full,
    )
}

impl TaskRequest {
    fn to_sol(&self) -> Result<TaskMarket::TaskRequest> {
        Ok(TaskMarket::TaskRequest {
            mode: self.mode.into(),
            replication: self.replication,
            quorum: self.quorum,
            programDigest: self.program_digest,
            inputDigest: self.input_digest,
            bounty: to_u96("bounty", self.bounty)?,
            collateral: to_u96("collateral", self.collateral)?,
            assignDeadline: to_u32("assign_deadline", self.assign_deadline)?,
            commitDeadline: to_u32("commit_deadline", self.commit_deadline)?,
            revealDeadline: to_u32("reveal_deadline", self.reveal_deadline)?,
            challengeWindow: self.challenge_window,
            verifierId: self.verifier_id,
            auditBps: self.audit_bps,
        })
    }
}

fn to_u96(what: &'static str, v: U256) -> Result<U96> {
    U96::checked_from_limbs_slice(v.as_limbs()).ok_or_else(|| Error::InvalidInput {
        what,
        reason: format!("{v} exceeds 2^96-1"),
    })
}

fn to_u32(what: &'static str, v: u64) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::InvalidInput {
        what,
        reason: format!("{v} exceeds 2^32-1"),
    })
}

/// A task as the market stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// Who funded it.
    pub client: Address,
    /// Verification mode.
    pub mode: Mode,
    /// Lifecycle status.
    pub status: Status,
    /// Operators assigned.
    pub replication: u8,
    /// Matching reveals needed.
    pub quorum: u8,
    /// Protocol fee snapshotted at creation.
    pub protocol_fee_bps: u16,
    /// Scheduler fee snapshotted at creation.
    pub scheduler_fee_bps: u16,
    /// Escrowed bounty.
    pub bounty: U256,
    /// Collateral per operator (and challenge bond).
    pub collateral: U256,
    /// Deadlines (unix seconds).
    pub assign_deadline: u64,
    /// Commit (replicated) or submit deadline.
    pub commit_deadline: u64,
    /// Reveal deadline (replicated).
    pub reveal_deadline: u64,
    /// Challenge window in seconds (optimistic).
    pub challenge_window: u64,
    /// When the optimistic result was posted (0 if not yet).
    pub submitted_at: u64,
    /// The coordinator that assigned it.
    pub assigner: Address,
    /// Commitments received.
    pub commits: u8,
    /// Reveals received.
    pub reveals: u8,
    /// Seats given back.
    pub declined: u8,
    /// Program digest.
    pub program_digest: B256,
    /// Input digest.
    pub input_digest: B256,
    /// Accepted (or, optimistic, submitted) result digest.
    pub result: B256,
    /// Verifier snapshot (zk).
    pub verifier: Address,
    /// Optimistic: the audit rate in basis points.
    pub audit_bps: u16,
}

impl TaskInfo {
    /// When an optimistic result's challenge window closes (last second a challenge is valid).
    pub fn challenge_ends(&self) -> u64 {
        self.submitted_at + self.challenge_window
    }
}

/// One operator's seat on one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatInfo {
    /// Progress.
    pub seat: Seat,
    /// Block of the commitment.
    pub commit_block: u64,
    /// The commitment.
    pub commitment: B256,
    /// The revealed digest.
    pub digest: B256,
}

impl SeatInfo {
    /// No seat (the operator is not assigned).
    pub fn none() -> Self {
        Self {
            seat: Seat::None,
            commit_block: 0,
            commitment: B256::ZERO,
            digest: B256::ZERO,
        }
    }
}

fn count(seats: &[SeatInfo], f: impl Fn(&SeatInfo) -> bool) -> u8 {
    u8::try_from(seats.iter().filter(|s| f(s)).count()).unwrap_or(u8::MAX)
}

/// What a client accepts when it opens a task: `createTask` reverts `TermsChanged` if the
/// market's fees are above these or the task's verifier is not this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateTerms {
    /// Highest protocol fee, basis points.
    pub max_protocol_fee_bps: u16,
    /// Highest scheduler fee, basis points.
    pub max_scheduler_fee_bps: u16,
    /// The verifier a ZkProof task must get (zero for other modes).
    pub verifier: Address,
}

/// The market's own books. With every account's balance they sum to its token balance:
/// `escrowed + bonded + Σ balanceOf(account)` (the treasury's `balanceOf` includes
/// `treasury_accrued`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskTotals {
    /// Bounties of unsettled tasks.
    pub escrowed: U256,
    /// Bonds of unsettled challenges.
    pub bonded: U256,
    /// Fees and slashes accrued to the treasury, not yet in its balance slot.
    pub treasury_accrued: U256,
}

impl Settlement {
    pub(crate) fn market(&self) -> TaskMarket::TaskMarketInstance<&alloy::providers::DynProvider> {
        TaskMarket::new(self.deployment.market, &self.provider)
    }

    /// Adds `amount` to `from`'s market balance (the market must be approved for it); later
    /// tasks are paid from the balance instead of a token transfer.
    pub async fn deposit(&self, from: Address, amount: U256) -> Result<TransactionReceipt> {
        let tx = self.market().deposit(amount).into_transaction_request();
        self.send("deposit", from, tx).await
    }

    /// Opens a task. The bounty comes from `from`'s market balance if it covers it, else it is
    /// pulled from the wallet (the market must be approved for it). The client accepts the
    /// terms in force when this call reads them ([`Settlement::current_terms`]); if governance
    /// changes them before the transaction lands, the market refuses it (`TermsChanged`).
    pub async fn create_task(
        &self,
        from: Address,
        req: &TaskRequest,
    ) -> Result<(TaskId, TransactionReceipt)> {
        self.create_task_with_suffix(from, req, &[]).await
    }

    /// The fees and the verifier a task created now would get: what a client accepts by
    /// default. For a ZkProof task whose verifier id is not registered the verifier is zero (the
    /// market then refuses the task with `UnknownVerifier`).
    pub async fn current_terms(&self, req: &TaskRequest) -> Result<CreateTerms> {
        let m = self.market();
        let f = |e| Error::from_contract("fees", Address::ZERO, e);
        let max_protocol_fee_bps = m.protocolFeeBps().call().await.map_err(f)?;
        let max_scheduler_fee_bps = m.schedulerFeeBps().call().await.map_err(f)?;
        let verifier = if req.mode == Mode::ZkProof {
            verity_contracts::VerifierRegistry::new(self.deployment().verifiers, self.provider())
                .verifierOf(req.verifier_id)
                .call()
                .await
                .unwrap_or(Address::ZERO)
        } else {
            Address::ZERO
        };
        Ok(CreateTerms {
            max_protocol_fee_bps,
            max_scheduler_fee_bps,
            verifier,
        })
    }

    /// [`Settlement::create_task`] with `suffix` appended to the calldata: the market's ABI
    /// decoder ignores trailing bytes, and off-chain readers find them in the transaction
    /// (ZkProof tasks name their input blob this way; see verity-zk's `input` module).
    pub async fn create_task_with_suffix(
        &self,
        from: Address,
        req: &TaskRequest,
        suffix: &[u8],
    ) -> Result<(TaskId, TransactionReceipt)> {
        let terms = self.current_terms(req).await?;
        self.create_task_on_terms(from, req, &terms, suffix).await
    }

    /// [`Settlement::create_task_with_suffix`] on explicit terms: the highest fees and the
    /// verifier the client accepts.
    pub async fn create_task_on_terms(
        &self,
        from: Address,
        req: &TaskRequest,
        terms: &CreateTerms,
        suffix: &[u8],
    ) -> Result<(TaskId, TransactionReceipt)> {
        let market = self.market();
        let call = market.createTask(
            req.to_sol()?,
            terms.max_protocol_fee_bps,
            terms.max_scheduler_fee_bps,
            terms.verifier,
        );
        let mut data = call.calldata().to_vec();
        data.extend_from_slice(suffix);
        let tx = call
            .into_transaction_request()
            .input(alloy::rpc::types::TransactionInput::new(data.into()));
        let receipt = self.send("createTask", from, tx).await?;
        let ev = receipt
            .decoded_log::<TaskMarket::TaskCreated>()
            .ok_or(Error::Decode {
                call: "createTask",
                reason: "no TaskCreated event in receipt".into(),
            })?;
        let block = receipt.block_number.unwrap_or_default();
        let rec = TaskRecord::from_created(&ev.data, block);
        self.remember(&rec, block);
        Ok((rec.id, receipt))
    }

    /// The client cancels an unassigned task and is refunded.
    pub async fn cancel(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.cancel_with(from, &rec).await
    }

    /// [`Settlement::cancel`] with the task's record given.
    pub async fn cancel_with(&self, from: Address, rec: &TaskRecord) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .cancel(rec.id, rec.task.clone())
            .into_transaction_request();
        self.send("cancel", from, tx).await
    }

    /// A coordinator assigns operators (locks their collateral).
    pub async fn assign(
        &self,
        from: Address,
        task: TaskId,
        operators: &[Address],
    ) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.assign_with(from, &rec, operators).await
    }

    /// [`Settlement::assign`] with the task's record given.
    pub async fn assign_with(
        &self,
        from: Address,
        rec: &TaskRecord,
        operators: &[Address],
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .assign(rec.id, rec.task.clone(), operators.to_vec())
            .into_transaction_request();
        let receipt = self.send("assign", from, tx).await?;
        if let Some(ev) = receipt.decoded_log::<TaskMarket::TaskAssigned>() {
            let mut rec = rec.clone();
            rec.apply_assigned(&ev.data);
            self.remember(&rec, receipt.block_number.unwrap_or_default());
        }
        Ok(receipt)
    }

    /// A coordinator assigns several tasks in one transaction (`assignBatch`): task `tasks[i]`
    /// gets `operators[i]`. An entry that cannot be assigned is skipped and the others are
    /// assigned; [`skipped_assignments`] reads the skipped ones, with their errors, from the
    /// receipt. The market refuses an empty batch, one longer than `MAX_ASSIGN_BATCH`, and
    /// lists of different lengths.
    pub async fn assign_batch(
        &self,
        from: Address,
        tasks: &[TaskId],
        operators: &[Vec<Address>],
    ) -> Result<TransactionReceipt> {
        // The records are independent look-ups: made together, not one after another.
        let recs = futures_util::future::try_join_all(tasks.iter().map(|id| self.task_record(*id)))
            .await?;
        self.assign_batch_with(from, &recs, operators).await
    }

    /// [`Settlement::assign_batch`] with the tasks' records given.
    pub async fn assign_batch_with(
        &self,
        from: Address,
        recs: &[TaskRecord],
        operators: &[Vec<Address>],
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .assignBatch(
                recs.iter().map(|r| r.id).collect(),
                recs.iter().map(|r| r.task.clone()).collect(),
                operators.to_vec(),
            )
            .into_transaction_request();
        let receipt = self.send("assignBatch", from, tx).await?;
        let block = receipt.block_number.unwrap_or_default();
        for log in receipt.inner.logs() {
            let Ok(ev) = log.log_decode::<TaskMarket::TaskAssigned>() else {
                continue;
            };
            let ev = &ev.inner.data;
            if let Some(rec) = recs.iter().find(|r| r.id == ev.taskId) {
                let mut rec = rec.clone();
                rec.apply_assigned(ev);
                self.remember(&rec, block);
            }
        }
        Ok(receipt)
    }

    /// A coordinator gives seat `seat` of an assigned task to `replacement` (failover): before
    /// the seat posted anything (replicated: not committed, or declined; optimistic and zk: no
    /// result) and up to the commit deadline. The replacement's collateral is locked, the
    /// replaced operator's released without a slash.
    pub async fn reassign(
        &self,
        from: Address,
        task: TaskId,
        seat: u64,
        replacement: Address,
    ) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.reassign_with(from, &rec, seat, replacement).await
    }

    /// [`Settlement::reassign`] with the task's record given.
    pub async fn reassign_with(
        &self,
        from: Address,
        rec: &TaskRecord,
        seat: u64,
        replacement: Address,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .reassign(rec.id, rec.task.clone(), U256::from(seat), replacement)
            .into_transaction_request();
        let receipt = self.send("reassign", from, tx).await?;
        if let Some(ev) = receipt.decoded_log::<TaskMarket::Reassigned>() {
            let mut rec = rec.clone();
            rec.apply_reassigned(&ev.data);
            self.remember(&rec, receipt.block_number.unwrap_or_default());
        }
        Ok(receipt)
    }

    /// Replicated: commit.
    pub async fn commit(
        &self,
        from: Address,
        task: TaskId,
        commitment: B256,
    ) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.commit_with(from, &rec, commitment).await
    }

    /// [`Settlement::commit`] with the task's record given.
    pub async fn commit_with(
        &self,
        from: Address,
        rec: &TaskRecord,
        commitment: B256,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .commit(rec.id, rec.task.clone(), commitment)
            .into_transaction_request();
        self.send("commit", from, tx).await
    }

    /// Replicated: reveal (the commit block is found from `from`'s `Committed` event).
    pub async fn reveal(
        &self,
        from: Address,
        task: TaskId,
        digest: B256,
        salt: B256,
    ) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        let commit_block = self.commit_block(&rec, from).await?;
        self.reveal_with(from, &rec, digest, salt, commit_block)
            .await
    }

    /// [`Settlement::reveal`] with the task's record and the commitment's block given.
    pub async fn reveal_with(
        &self,
        from: Address,
        rec: &TaskRecord,
        digest: B256,
        salt: B256,
        commit_block: u64,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .reveal(
                rec.id,
                rec.task.clone(),
                digest,
                salt,
                U256::from(commit_block),
            )
            .into_transaction_request();
        self.send("reveal", from, tx).await
    }

    /// An assigned operator gives its seat back before committing or submitting.
    pub async fn decline(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.decline_with(from, &rec).await
    }

    /// [`Settlement::decline`] with the task's record given.
    pub async fn decline_with(
        &self,
        from: Address,
        rec: &TaskRecord,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .decline(rec.id, rec.task.clone())
            .into_transaction_request();
        self.send("decline", from, tx).await
    }

    /// Optimistic: post the result.
    pub async fn submit_result(
        &self,
        from: Address,
        task: TaskId,
        digest: B256,
    ) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.submit_result_with(from, &rec, digest).await
    }

    /// [`Settlement::submit_result`] with the task's record given.
    pub async fn submit_result_with(
        &self,
        from: Address,
        rec: &TaskRecord,
        digest: B256,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .submitResult(rec.id, rec.task.clone(), digest)
            .into_transaction_request();
        let receipt = self.send("submitResult", from, tx).await?;
        if let Some(ev) = receipt.decoded_log::<TaskMarket::ResultSubmitted>() {
            let mut rec = rec.clone();
            rec.apply_submitted(&ev.data);
            self.remember(&rec, receipt.block_number.unwrap_or_default());
        }
        Ok(receipt)
    }

    /// ZkProof: post the result with its proof.
    pub async fn submit_proof(
        &self,
        from: Address,
        task: TaskId,
        digest: B256,
        proof: Bytes,
    ) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.submit_proof_with(from, &rec, digest, proof).await
    }

    /// [`Settlement::submit_proof`] with the task's record given.
    pub async fn submit_proof_with(
        &self,
        from: Address,
        rec: &TaskRecord,
        digest: B256,
        proof: Bytes,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .submitProof(rec.id, rec.task.clone(), digest, proof)
            .into_transaction_request();
        self.send("submitProof", from, tx).await
    }

    /// Anyone: settle after the result phase (replicated: the revealed digests are found from
    /// the `Revealed` events).
    pub async fn finalize(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        let revealed = if rec.mode() == Some(Mode::Replicated) {
            self.revealed_digests(&rec).await?
        } else {
            Vec::new()
        };
        self.finalize_with(from, &rec, &revealed).await
    }

    /// [`Settlement::finalize`] with the task's record and (replicated) each seat's revealed
    /// digest given (zero for a seat that did not reveal; empty otherwise).
    pub async fn finalize_with(
        &self,
        from: Address,
        rec: &TaskRecord,
        revealed: &[B256],
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .finalize(rec.id, rec.task.clone(), revealed.to_vec())
            .into_transaction_request();
        self.send("finalize", from, tx).await
    }

    /// Whether a `finalize` or `rollAudit` receipt opened an audit (`AuditDrawn(_, true)`):
    /// the task then waits in the court instead of being paid.
    pub fn opened_audit(receipt: &TransactionReceipt) -> bool {
        receipt
            .decoded_log::<TaskMarket::AuditDrawn>()
            .is_some_and(|ev| ev.data.audited)
    }

    /// Anyone: reads the audit coin of a submitted optimistic result (`rollAudit`): either the
    /// audit opens in the court, or the task is cleared to settle when its window closes.
    pub async fn roll_audit(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        let tx = self
            .market()
            .rollAudit(rec.id, rec.task.clone())
            .into_transaction_request();
        self.send("rollAudit", from, tx).await
    }

    /// Anyone: the deadline exits (unassigned, or no optimistic/zk result).
    pub async fn claim_timeout(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.claim_timeout_with(from, &rec).await
    }

    /// [`Settlement::claim_timeout`] with the task's record given.
    pub async fn claim_timeout_with(
        &self,
        from: Address,
        rec: &TaskRecord,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .claimTimeout(rec.id, rec.task.clone())
            .into_transaction_request();
        self.send("claimTimeout", from, tx).await
    }

    /// Challenge an optimistic result (the market must be approved for the bond).
    pub async fn challenge(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.challenge_with(from, &rec).await
    }

    /// [`Settlement::challenge`] with the task's record given.
    pub async fn challenge_with(
        &self,
        from: Address,
        rec: &TaskRecord,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .challenge(rec.id, rec.task.clone())
            .into_transaction_request();
        self.send("challenge", from, tx).await
    }

    /// Pull the caller's whole market balance. Returns the amount withdrawn.
    pub async fn withdraw(&self, from: Address) -> Result<U256> {
        let receipt = self
            .send(
                "withdraw",
                from,
                self.market().withdraw().into_transaction_request(),
            )
            .await?;
        receipt
            .decoded_log::<TaskMarket::Withdrawn>()
            .map(|l| l.amount)
            .ok_or(Error::Decode {
                call: "withdraw",
                reason: "no Withdrawn event in receipt".into(),
            })
    }

    // ------------------------------------------------------------ governance

    /// Owner: allow or disallow a coordinator.
    pub async fn set_coordinator(
        &self,
        from: Address,
        who: Address,
        allowed: bool,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .setCoordinator(who, allowed)
            .into_transaction_request();
        self.send("setCoordinator", from, tx).await
    }

    /// Owner: fees for tasks created from now on.
    pub async fn set_fees(
        &self,
        from: Address,
        protocol_bps: u16,
        scheduler_bps: u16,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .setFees(protocol_bps, scheduler_bps)
            .into_transaction_request();
        self.send("setFees", from, tx).await
    }

    /// Owner: the treasury.
    pub async fn set_treasury(
        &self,
        from: Address,
        treasury: Address,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .setTreasury(treasury)
            .into_transaction_request();
        self.send("setTreasury", from, tx).await
    }

    // ------------------------------------------------------------ views

    /// A task: its status from the chain, everything else from its events. An unknown id has
    /// status `None` (no `UnknownTask` here).
    pub async fn task(&self, task: TaskId) -> Result<TaskInfo> {
        let status = self.status(task).await?;
        let rec = self.task_record(task).await?;
        let t = &rec.task;
        let r = &t.request;
        let mode = Mode::try_from(r.mode).map_err(|e| Error::variant("task", e))?;
        // Outside replication a seat only commits or reveals never, and a decline refunds the
        // task at once: a live optimistic or zk task has no seat events to count.
        let seats = if mode != Mode::Replicated && !status.is_terminal() {
            Vec::new()
        } else {
            self.seat_events(&rec).await?
        };
        let result = if status == Status::Finalized {
            self.events::<TaskMarket::TaskFinalized>(task, None, rec.created_block)
                .await?
                .first()
                .map_or(B256::ZERO, |f| f.event.resultDigest)
        } else {
            t.result
        };
        Ok(TaskInfo {
            client: t.client,
            mode,
            status,
            replication: r.replication,
            quorum: r.quorum,
            protocol_fee_bps: t.protocolFeeBps,
            scheduler_fee_bps: t.schedulerFeeBps,
            bounty: U256::from(r.bounty),
            collateral: U256::from(r.collateral),
            assign_deadline: r.assignDeadline.into(),
            commit_deadline: r.commitDeadline.into(),
            reveal_deadline: r.revealDeadline.into(),
            challenge_window: r.challengeWindow.into(),
            submitted_at: t.submittedAt.into(),
            assigner: t.assigner,
            commits: count(&seats, |s| s.commit_block != 0),
            reveals: count(&seats, |s| s.seat == Seat::Revealed),
            declined: count(&seats, |s| s.seat == Seat::Declined),
            program_digest: r.programDigest,
            input_digest: r.inputDigest,
            result,
            verifier: t.verifier,
            audit_bps: r.auditBps,
        })
    }

    /// A task's status (`None` for an unknown id).
    pub async fn status(&self, task: TaskId) -> Result<Status> {
        let s = self
            .market()
            .statusOf(task)
            .call()
            .await
            .map_err(|e| Error::from_contract("statusOf", Address::ZERO, e))?;
        Status::try_from(s).map_err(|e| Error::variant("statusOf", e))
    }

    /// The operators assigned to a task.
    pub async fn operators_of(&self, task: TaskId) -> Result<Vec<Address>> {
        Ok(self.task_record(task).await?.task.operators)
    }

    /// One operator's seat, from the task's events (kept after settlement, when the market has
    /// cleared its seat slots).
    pub async fn seat(&self, task: TaskId, operator: Address) -> Result<SeatInfo> {
        let rec = self.task_record(task).await?;
        let seats = self.seat_events(&rec).await?;
        Ok(rec
            .task
            .operators
            .iter()
            .position(|o| *o == operator)
            .map_or(SeatInfo::none(), |i| seats[i].clone()))
    }

    /// Every seat of `rec`, by seat index, from `Committed`, `Revealed` and `Declined`. A seat's
    /// holder's events count from the `Reassigned` event that gave it the seat on (an operator
    /// replaced on one seat may later hold another, or the same one again).
    async fn seat_events(&self, rec: &TaskRecord) -> Result<Vec<SeatInfo>> {
        let mut seats: Vec<SeatInfo> = rec
            .task
            .operators
            .iter()
            .map(|_| SeatInfo {
                seat: Seat::Assigned,
                ..SeatInfo::none()
            })
            .collect();
        if seats.is_empty() {
            return Ok(seats);
        }
        let head = self.block_number().await?;
        // Every seat event of the task in one query.
        let logs = self
            .logs_to(
                rec.id,
                vec![
                    TaskMarket::Reassigned::SIGNATURE_HASH,
                    TaskMarket::Committed::SIGNATURE_HASH,
                    TaskMarket::Revealed::SIGNATURE_HASH,
                    TaskMarket::Declined::SIGNATURE_HASH,
                ],
                None,
                rec.created_block,
                head,
            )
            .await?;
        // Where each seat's current holder got it (None: since the assignment).
        let mut since: Vec<Option<(u64, u64)>> = vec![None; seats.len()];
        for f in decode_all::<TaskMarket::Reassigned>(&logs)? {
            if let Some(slot) = usize::try_from(f.event.seat)
                .ok()
                .and_then(|i| since.get_mut(i))
            {
                *slot = Some(f.pos());
            }
        }
        let index = |op: Address, pos: (u64, u64)| {
            rec.task
                .operators
                .iter()
                .position(|o| *o == op)
                .filter(|i| since[*i].is_none_or(|p| pos > p))
        };
        for f in decode_all::<TaskMarket::Committed>(&logs)? {
            if let Some(i) = index(f.event.operator, f.pos()) {
                seats[i].seat = Seat::Committed;
                seats[i].commitment = f.event.commitment;
                seats[i].commit_block = f.block;
            }
        }
        for f in decode_all::<TaskMarket::Revealed>(&logs)? {
            if let Some(i) = index(f.event.operator, f.pos()) {
                seats[i].seat = Seat::Revealed;
                seats[i].digest = f.event.resultDigest;
            }
        }
        for f in decode_all::<TaskMarket::Declined>(&logs)? {
            if let Some(i) = index(f.event.operator, f.pos()) {
                seats[i].seat = Seat::Declined;
            }
        }
        Ok(seats)
    }

    /// An account's withdrawable market balance.
    pub async fn market_balance(&self, who: Address) -> Result<U256> {
        self.market()
            .balanceOf(who)
            .call()
            .await
            .map_err(|e| Error::from_contract("balanceOf", Address::ZERO, e))
    }

    /// The market's books.
    pub async fn market_totals(&self) -> Result<TaskTotals> {
        let m = self.market();
        let f = |e| Error::from_contract("totals", Address::ZERO, e);
        Ok(TaskTotals {
            escrowed: m.escrowed().call().await.map_err(f)?,
            bonded: m.bonded().call().await.map_err(f)?,
            treasury_accrued: m.treasuryAccrued().call().await.map_err(f)?,
        })
    }

    /// Number of tasks ever created.
    pub async fn task_count(&self) -> Result<U256> {
        self.market()
            .taskCount()
            .call()
            .await
            .map_err(|e| Error::from_contract("taskCount", Address::ZERO, e))
    }
}

/// The entries of an `assignBatch` that the market skipped (`AssignSkipped`), each with the
/// decoded reason it could not be assigned, in batch order.
pub fn skipped_assignments(
    receipt: &TransactionReceipt,
) -> Vec<(TaskId, verity_contracts::ContractError)> {
    receipt
        .inner
        .logs()
        .iter()
        .filter_map(|log| log.log_decode::<TaskMarket::AssignSkipped>().ok())
        .map(|ev| {
            let ev = ev.inner.data;
            (
                ev.taskId,
                verity_contracts::ContractError::decode(&ev.reason),
            )
        })
        .collect()
}
