//! Calls and views of the `DisputeCourt`: the committee of an optimistic dispute is drawn,
//! commits and reveals its ballots, and is tallied there; an undecided case goes to the arbiter.
//! The market settles the task (`resolve_dispute`) once the court has a verdict.

use alloy::{
    primitives::{Address, B256, U256, keccak256},
    rpc::types::TransactionReceipt,
    sol_types::{SolEvent, SolValue},
};
use verity_contracts::{CasePhase, DisputeCourt, Verdict};

use crate::{
    Error, Result, Settlement,
    events::{DEFAULT_CHUNK_BLOCKS, RpcLogSource, history_to_head},
    record::{TaskRecord, stream_error},
};

/// A dispute's case in the court.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseInfo {
    /// Where the case is.
    pub phase: CasePhase,
    /// The verdict (`Pending` until decided).
    pub verdict: Verdict,
    /// Whether the arbiter gave the verdict.
    pub by_arbiter: bool,
    /// The operator whose result is disputed.
    pub operator: Address,
    /// Who challenged.
    pub challenger: Address,
    /// The task's client (never drawn).
    pub client: Address,
    /// The operator's digest.
    pub claimed: B256,
    /// Committee size wanted (snapshotted at the opening).
    pub size: u8,
    /// Eligible-set size at the opening (draws pick among its first `pool_size` slots).
    pub pool_size: u32,
    /// Draw-and-commit window, seconds (snapshotted at the opening).
    pub window: u32,
    /// Draw rounds done.
    pub rounds: u8,
    /// Members that committed a ballot.
    pub committed: u8,
    /// Members that revealed.
    pub revealed: u8,
    /// Revealed ballots for the operator's digest.
    pub agree: u8,
    /// Revealed ballots against it.
    pub disagree: u8,
    /// The block whose hash seeds the next draw round.
    pub seed_block: u64,
    /// Draws run until this second.
    pub draw_deadline: u64,
    /// Last second to commit a ballot (0 until the committee is drawn).
    pub commit_deadline: u64,
    /// Last second to reveal (0 until the committee is drawn).
    pub reveal_deadline: u64,
    /// Last second the arbiter may decide (0 unless escalated).
    pub arbiter_deadline: u64,
    /// Collateral each member locked.
    pub member_bond: U256,
    /// The committee (so far).
    pub committee: Vec<Address>,
}

impl CaseInfo {
    /// Whether `who` sits on the committee.
    pub fn seats(&self, who: Address) -> bool {
        self.committee.contains(&who)
    }

    /// Whether a reveal is allowed at `now` (every member committed, or the commit phase is
    /// over), assuming the case is voting.
    pub fn reveal_open(&self, now: u64) -> bool {
        usize::from(self.committed) >= self.committee.len() || now > self.commit_deadline
    }

    /// Whether `tally` would be accepted at `now`.
    pub fn tally_due(&self, now: u64) -> bool {
        match self.phase {
            CasePhase::Drawing => now > self.draw_deadline,
            CasePhase::Voting => {
                usize::from(self.revealed) >= self.committee.len() || now > self.reveal_deadline
            }
            _ => false,
        }
    }

    /// Whether the market's `resolveDispute` would be accepted at `now`.
    pub fn resolve_due(&self, now: u64) -> bool {
        match self.phase {
            CasePhase::Decided => true,
            CasePhase::Escalated => now > self.arbiter_deadline,
            _ => false,
        }
    }
}

/// A ballot a member revealed (the court's `BallotRevealed` event): the court keeps only
/// agree/disagree, so the digest a dissenting member computed is known from the event alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevealedBallot {
    /// The member.
    pub member: Address,
    /// The result digest it computed.
    pub digest: B256,
    /// Whether that is the operator's digest.
    pub agrees: bool,
    /// The block of the reveal.
    pub block: u64,
}

/// A member's ballot as the court holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ballot {
    /// Nothing posted.
    None,
    /// Committed, not revealed.
    Committed,
    /// Revealed the operator's digest.
    Agreed,
    /// Revealed another digest.
    Disagreed,
}

impl Settlement {
    pub(crate) fn court(
        &self,
    ) -> DisputeCourt::DisputeCourtInstance<&alloy::providers::DynProvider> {
        DisputeCourt::new(self.deployment.court, &self.provider)
    }

    /// Owner, at deployment: binds the court to the registry and the market to the court.
    pub async fn bind_court(&self, from: Address) -> Result<()> {
        let tx = verity_contracts::NodeRegistry::new(self.deployment.registry, &self.provider)
            .setCourt(self.deployment.court)
            .into_transaction_request();
        self.send("setCourt", from, tx).await?;
        let tx = self
            .court()
            .setMarket(self.deployment.market)
            .into_transaction_request();
        self.send("setMarket", from, tx).await?;
        Ok(())
    }

    /// A task's dispute case (phase `None` if it has none).
    pub async fn case(&self, task: U256) -> Result<CaseInfo> {
        let c = self
            .court()
            .caseOf(task)
            .call()
            .await
            .map_err(|e| Error::from_contract("caseOf", Address::ZERO, e))?;
        Ok(CaseInfo {
            phase: CasePhase::try_from(c.phase).map_err(|e| Error::variant("caseOf", e))?,
            verdict: Verdict::try_from(c.verdict).map_err(|e| Error::variant("caseOf", e))?,
            by_arbiter: c.byArbiter,
            operator: c.operator,
            challenger: c.challenger,
            client: c.client,
            claimed: c.claimed,
            size: c.snap.size,
            pool_size: c.snap.poolSize,
            window: c.snap.window,
            rounds: c.rounds,
            committed: c.votes.committed,
            revealed: c.votes.revealed,
            agree: c.votes.agree,
            disagree: c.votes.disagree,
            seed_block: c.seedBlock.to::<u64>(),
            draw_deadline: c.drawDeadline.into(),
            commit_deadline: c.commitDeadline.into(),
            reveal_deadline: c.revealDeadline.into(),
            arbiter_deadline: c.arbiterDeadline.into(),
            member_bond: U256::from(c.snap.memberBond),
            committee: c.committee,
        })
    }

    /// The ballots revealed on `task`'s case, in chain order, read from the court's
    /// `BallotRevealed` logs from `case.seed_block` to the head. Every reveal follows the last
    /// draw round, whose seed block the case keeps, so the search covers the case's voting and
    /// nothing older (bounded by the case's life, not the chain's).
    pub async fn revealed_ballots(
        &self,
        task: U256,
        case: &CaseInfo,
    ) -> Result<Vec<RevealedBallot>> {
        let source = RpcLogSource::new(self.provider.clone(), vec![self.deployment.court])
            .events(vec![DisputeCourt::BallotRevealed::SIGNATURE_HASH])
            .topic1(B256::from(task));
        let logs = history_to_head(&source, case.seed_block, DEFAULT_CHUNK_BLOCKS)
            .await
            .map_err(stream_error)?;
        logs.iter()
            .map(|l| {
                let e = DisputeCourt::BallotRevealed::decode_log(&l.inner)
                    .map_err(|e| Error::Decode {
                        call: "decoding BallotRevealed",
                        reason: e.to_string(),
                    })?
                    .data;
                Ok(RevealedBallot {
                    member: e.member,
                    digest: e.resultDigest,
                    agrees: e.agrees,
                    block: l.block_number.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// A member's ballot.
    pub async fn ballot(&self, task: U256, member: Address) -> Result<Ballot> {
        let w = self
            .court()
            .ballotWord(task, member)
            .call()
            .await
            .map_err(|e| Error::from_contract("ballotWord", Address::ZERO, e))?;
        Ok(if w.is_zero() {
            Ballot::None
        } else if w == U256::from(1) {
            Ballot::Agreed
        } else if w == U256::from(2) {
            Ballot::Disagreed
        } else {
            Ballot::Committed
        })
    }

    /// The commitment `member` posts for `digest` with `salt` (the court's `ballotOf`).
    pub fn ballot_commitment(&self, task: U256, member: Address, digest: B256, salt: B256) -> B256 {
        keccak256(
            (
                U256::from(self.deployment.chain_id),
                self.deployment.court,
                task,
                member,
                digest,
                salt,
            )
                .abi_encode(),
        )
    }

    /// Anyone: draws a round of the committee.
    pub async fn draw_committee(&self, from: Address, task: U256) -> Result<TransactionReceipt> {
        let tx = self.court().draw(task).into_transaction_request();
        self.send("draw", from, tx).await
    }

    /// A member commits to `digest` with a secret `salt` (kept until the reveal).
    pub async fn commit_ballot(
        &self,
        from: Address,
        task: U256,
        digest: B256,
        salt: B256,
    ) -> Result<TransactionReceipt> {
        let commitment = self.ballot_commitment(task, from, digest, salt);
        let tx = self
            .court()
            .commit(task, commitment)
            .into_transaction_request();
        self.send("commitBallot", from, tx).await
    }

    /// A member reveals its ballot.
    pub async fn reveal_ballot(
        &self,
        from: Address,
        task: U256,
        digest: B256,
        salt: B256,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .court()
            .reveal(task, digest, salt)
            .into_transaction_request();
        self.send("revealBallot", from, tx).await
    }

    /// Anyone: counts the ballots (decides, or escalates to the arbiter).
    pub async fn tally(&self, from: Address, task: U256) -> Result<TransactionReceipt> {
        let tx = self.court().tally(task).into_transaction_request();
        self.send("tally", from, tx).await
    }

    /// The arbiter decides an escalated case.
    pub async fn arbitrate(
        &self,
        from: Address,
        task: U256,
        overturn: bool,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .court()
            .arbitrate(task, overturn)
            .into_transaction_request();
        self.send("arbitrate", from, tx).await
    }

    /// The court's arbiter (zero: none).
    pub async fn arbiter(&self) -> Result<Address> {
        self.court()
            .arbiter()
            .call()
            .await
            .map_err(|e| Error::from_contract("arbiter", Address::ZERO, e))
    }

    /// What `who` can withdraw from the court (committee pay; the treasury's share).
    pub async fn court_balance(&self, who: Address) -> Result<U256> {
        self.court()
            .balanceOf(who)
            .call()
            .await
            .map_err(|e| Error::from_contract("court.balanceOf", Address::ZERO, e))
    }

    /// Pulls the caller's whole court balance. Returns the amount.
    pub async fn court_withdraw(&self, from: Address) -> Result<U256> {
        let amount = self.court_balance(from).await?;
        let tx = self.court().withdraw().into_transaction_request();
        self.send("court.withdraw", from, tx).await?;
        Ok(amount)
    }

    /// Owner: committee size, draw-and-commit window, reveal window.
    pub async fn set_dispute_params(
        &self,
        from: Address,
        size: u8,
        window: u32,
        reveal_window: u32,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .court()
            .setParams(size, window, reveal_window)
            .into_transaction_request();
        self.send("setParams", from, tx).await
    }

    /// The challenger of a challenged task (zero otherwise).
    pub async fn challenger_of(&self, task: U256) -> Result<Address> {
        self.market()
            .challengerOf(task)
            .call()
            .await
            .map_err(|e| Error::from_contract("challengerOf", Address::ZERO, e))
    }

    /// Anyone: settles a disputed task once its case has a verdict.
    pub async fn resolve_dispute(&self, from: Address, task: U256) -> Result<TransactionReceipt> {
        let rec = self.task_record(task).await?;
        self.resolve_dispute_with(from, &rec).await
    }

    /// [`Settlement::resolve_dispute`] with the task's record given.
    pub async fn resolve_dispute_with(
        &self,
        from: Address,
        rec: &TaskRecord,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .market()
            .resolveDispute(rec.id, rec.task.clone())
            .into_transaction_request();
        self.send("resolveDispute", from, tx).await
    }
}
