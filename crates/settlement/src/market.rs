//! `TaskMarket` operations.

use alloy::{
    primitives::{Address, B256, Bytes, U256, aliases::U96},
    rpc::types::TransactionReceipt,
};
use verity_contracts::{Mode, Seat, Status, TaskMarket};

use crate::{Error, Result, Settlement, TaskId};

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

/// An optimistic dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeInfo {
    /// Who challenged.
    pub challenger: Address,
    /// Block of the challenge.
    pub challenge_block: u64,
    /// Last second to vote.
    pub vote_deadline: u64,
    /// Votes for the operator's result.
    pub agree: u8,
    /// Votes against it.
    pub disagree: u8,
    /// Whether the committee was drawn.
    pub drawn: bool,
    /// The committee.
    pub committee: Vec<Address>,
}

/// The market's money buckets; their sum equals its token balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskTotals {
    /// Bounties of unsettled tasks.
    pub escrowed: U256,
    /// Bonds of unsettled challenges.
    pub bonded: U256,
    /// Withdrawable balances.
    pub credited: U256,
}

impl Settlement {
    fn market(&self) -> TaskMarket::TaskMarketInstance<&alloy::providers::DynProvider> {
        TaskMarket::new(self.deployment.market, &self.provider)
    }

    /// Escrows the bounty (the market must be approved for it) and opens a task.
    pub async fn create_task(
        &self,
        from: Address,
        req: &TaskRequest,
    ) -> Result<(TaskId, TransactionReceipt)> {
        let tx = self
            .market()
            .createTask(req.to_sol()?)
            .into_transaction_request();
        let receipt = self.send("createTask", from, tx).await?;
        let id = receipt
            .decoded_log::<TaskMarket::TaskCreated>()
            .map(|l| l.taskId)
            .ok_or(Error::Decode {
                call: "createTask",
                reason: "no TaskCreated event in receipt".into(),
            })?;
        Ok((id, receipt))
    }

    /// The client cancels an unassigned task and is refunded.
    pub async fn cancel(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        self.send(
            "cancel",
            from,
            self.market().cancel(task).into_transaction_request(),
        )
        .await
    }

    /// A coordinator assigns operators (locks their collateral).
    pub async fn assign(
        &self,
        from: Address,
        task: TaskId,
        operators: &[Address],
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .assign(task, operators.to_vec())
            .into_transaction_request();
        self.send("assign", from, tx).await
    }

    /// Replicated: commit.
    pub async fn commit(
        &self,
        from: Address,
        task: TaskId,
        commitment: B256,
    ) -> Result<TransactionReceipt> {
        self.send(
            "commit",
            from,
            self.market()
                .commit(task, commitment)
                .into_transaction_request(),
        )
        .await
    }

    /// Replicated: reveal.
    pub async fn reveal(
        &self,
        from: Address,
        task: TaskId,
        digest: B256,
        salt: B256,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .reveal(task, digest, salt)
            .into_transaction_request();
        self.send("reveal", from, tx).await
    }

    /// An assigned operator gives its seat back before committing or submitting.
    pub async fn decline(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        self.send(
            "decline",
            from,
            self.market().decline(task).into_transaction_request(),
        )
        .await
    }

    /// Optimistic: post the result.
    pub async fn submit_result(
        &self,
        from: Address,
        task: TaskId,
        digest: B256,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .submitResult(task, digest)
            .into_transaction_request();
        self.send("submitResult", from, tx).await
    }

    /// ZkProof: post the result with its proof.
    pub async fn submit_proof(
        &self,
        from: Address,
        task: TaskId,
        digest: B256,
        proof: Bytes,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .submitProof(task, digest, proof)
            .into_transaction_request();
        self.send("submitProof", from, tx).await
    }

    /// Anyone: settle after the result phase.
    pub async fn finalize(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        self.send(
            "finalize",
            from,
            self.market().finalize(task).into_transaction_request(),
        )
        .await
    }

    /// Anyone: the deadline exits (unassigned, or no optimistic/zk result).
    pub async fn claim_timeout(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        self.send(
            "claimTimeout",
            from,
            self.market().claimTimeout(task).into_transaction_request(),
        )
        .await
    }

    /// Challenge an optimistic result (the market must be approved for the bond).
    pub async fn challenge(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        self.send(
            "challenge",
            from,
            self.market().challenge(task).into_transaction_request(),
        )
        .await
    }

    /// Anyone: draw the dispute committee.
    pub async fn draw_committee(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        let tx = self.market().drawCommittee(task).into_transaction_request();
        self.send("drawCommittee", from, tx).await
    }

    /// A committee member votes with the digest it computed.
    pub async fn vote(
        &self,
        from: Address,
        task: TaskId,
        digest: B256,
    ) -> Result<TransactionReceipt> {
        self.send(
            "vote",
            from,
            self.market().vote(task, digest).into_transaction_request(),
        )
        .await
    }

    /// Anyone: settle a dispute.
    pub async fn resolve_dispute(&self, from: Address, task: TaskId) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .resolveDispute(task)
            .into_transaction_request();
        self.send("resolveDispute", from, tx).await
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

    /// Owner: committee size and vote window.
    pub async fn set_dispute_params(
        &self,
        from: Address,
        size: u8,
        window: u32,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .setDisputeParams(size, window)
            .into_transaction_request();
        self.send("setDisputeParams", from, tx).await
    }

    // ------------------------------------------------------------ views

    /// A task; `UnknownTask` is not raised here: an unknown id has status `None`.
    pub async fn task(&self, task: TaskId) -> Result<TaskInfo> {
        let t = self
            .market()
            .getTask(task)
            .call()
            .await
            .map_err(|e| Error::from_contract("getTask", Address::ZERO, e))?;
        Ok(TaskInfo {
            client: t.client,
            mode: Mode::try_from(t.mode).map_err(|e| Error::variant("getTask", e))?,
            status: Status::try_from(t.status).map_err(|e| Error::variant("getTask", e))?,
            replication: t.replication,
            quorum: t.quorum,
            protocol_fee_bps: t.protocolFeeBps,
            scheduler_fee_bps: t.schedulerFeeBps,
            bounty: U256::from(t.bounty),
            collateral: U256::from(t.collateral),
            assign_deadline: t.assignDeadline.into(),
            commit_deadline: t.commitDeadline.into(),
            reveal_deadline: t.revealDeadline.into(),
            challenge_window: t.challengeWindow.into(),
            submitted_at: t.submittedAt.into(),
            assigner: t.assigner,
            commits: t.commits,
            reveals: t.reveals,
            declined: t.declined,
            program_digest: t.programDigest,
            input_digest: t.inputDigest,
            result: t.result,
            verifier: t.verifier,
        })
    }

    /// The operators assigned to a task.
    pub async fn operators_of(&self, task: TaskId) -> Result<Vec<Address>> {
        self.market()
            .operatorsOf(task)
            .call()
            .await
            .map_err(|e| Error::from_contract("operatorsOf", Address::ZERO, e))
    }

    /// One operator's seat.
    pub async fn seat(&self, task: TaskId, operator: Address) -> Result<SeatInfo> {
        let s = self
            .market()
            .seatOf(task, operator)
            .call()
            .await
            .map_err(|e| Error::from_contract("seatOf", Address::ZERO, e))?;
        Ok(SeatInfo {
            seat: Seat::try_from(s.seat).map_err(|e| Error::variant("seatOf", e))?,
            commit_block: s.commitBlock,
            commitment: s.commitment,
            digest: s.digest,
        })
    }

    /// A task's dispute (zeroes if none).
    pub async fn dispute(&self, task: TaskId) -> Result<DisputeInfo> {
        let d = self
            .market()
            .disputeOf(task)
            .call()
            .await
            .map_err(|e| Error::from_contract("disputeOf", Address::ZERO, e))?;
        Ok(DisputeInfo {
            challenger: d.challenger,
            challenge_block: d.challengeBlock,
            vote_deadline: d.voteDeadline.into(),
            agree: d.agree,
            disagree: d.disagree,
            drawn: d.drawn,
            committee: d.committee,
        })
    }

    /// An account's withdrawable market balance.
    pub async fn market_balance(&self, who: Address) -> Result<U256> {
        self.market()
            .balanceOf(who)
            .call()
            .await
            .map_err(|e| Error::from_contract("balanceOf", Address::ZERO, e))
    }

    /// The market's money buckets.
    pub async fn market_totals(&self) -> Result<TaskTotals> {
        let m = self.market();
        let f = |e| Error::from_contract("totals", Address::ZERO, e);
        Ok(TaskTotals {
            escrowed: m.escrowed().call().await.map_err(f)?,
            bonded: m.bonded().call().await.map_err(f)?,
            credited: m.totalCredited().call().await.map_err(f)?,
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
