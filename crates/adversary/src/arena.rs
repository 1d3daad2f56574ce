//! One devchain, one deployment and the named actors every strategy plays with; the task
//! lifecycles the strategies are made of; and the exact accounting of what a set of addresses
//! owns (token wallet + market balance + stake + unbonding).

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{Provider, ProviderBuilder},
};
use verity_devchain::{DevchainConfig, DevchainHandle};
use verity_settlement::{
    CasePhase, DeployConfig, Mode, OperatorProfile, Settlement, TaskId, TaskRequest, TxOptions,
    deploy,
};

use crate::{Error, Result};

/// 10^18: one token in wei.
pub const TOKEN: u128 = 1_000_000_000_000_000_000;

/// Honest operators: they do honest tasks and form the committee pool.
const HONEST: usize = 6;
/// Fresh identities the committee-capture attacker registers after a challenge.
pub(crate) const FRESH: usize = 6;
/// Unstaked registrations of the junk-registration attacker.
pub(crate) const JUNK: usize = 10;
/// Sybil identities of the replicated-seat attacker.
const SYBILS: usize = 3;
/// Dev accounts: owner, treasury, coordinator, client, watchtower, cheater, second, then the
/// groups above.
const ACCOUNTS: usize = 7 + HONEST + FRESH + JUNK + SYBILS;

/// Stake of each honest operator, fresh identity and Sybil, in tokens: the stake-weight cap
/// (10 × the devnet's minimum stake of 100), so each identity weighs the same in a draw.
pub(crate) const STAKE: u128 = 1_000;
/// Stake of the cheater, in tokens: room for every slash of the grid.
const CHEATER_STAKE: u128 = 1_000_000;

/// The digest an honest re-execution gives.
pub(crate) fn truth() -> B256 {
    keccak256("the result of doing the work")
}

/// The digest a cheater posts without working.
pub(crate) fn forged() -> B256 {
    keccak256("a digest posted without doing the work")
}

/// Tokens as wei.
pub fn tokens(n: u128) -> U256 {
    U256::from(n) * U256::from(TOKEN)
}

/// Wei as tokens.
pub fn as_tokens(wei: i128) -> f64 {
    wei as f64 / TOKEN as f64
}

/// The benchmark's network.
#[derive(Debug)]
pub struct Arena {
    pub(crate) s: Settlement,
    pub(crate) owner: Address,
    /// Receives protocol fees and slashes (not the owner: governance and the treasury are
    /// separate roles).
    pub(crate) treasury: Address,
    pub(crate) coordinator: Address,
    pub(crate) client: Address,
    pub(crate) watchtower: Address,
    pub(crate) cheater: Address,
    /// The cheater's second address (self-challenge) and the frivolous challenger.
    pub(crate) second: Address,
    pub(crate) honest: Vec<Address>,
    pub(crate) fresh: Vec<Address>,
    pub(crate) junk: Vec<Address>,
    pub(crate) sybils: Vec<Address>,
    /// Seconds a result can be challenged: the SDK's default.
    pub(crate) challenge_window: u32,
    /// The market's `minResponseWindow`.
    pub(crate) min_response_window: u64,
    /// Members a dispute's committee should have.
    pub(crate) committee_size: usize,
    _chain: DevchainHandle,
}

impl Arena {
    /// Starts an embedded devchain, deploys with `DeployConfig::devnet` (with a treasury and a
    /// coordinator of their own), funds every actor and stakes the operators.
    pub async fn new() -> Result<Arena> {
        let chain = verity_devchain::spawn(DevchainConfig {
            accounts: ACCOUNTS as u32,
            ..DevchainConfig::default()
        })
        .await?;
        let keys: Vec<_> = chain
            .chain
            .accounts()
            .iter()
            .map(|a| a.signer.clone())
            .collect();
        let mut wallet = EthereumWallet::from(keys[0].clone());
        for k in &keys[1..] {
            wallet.register_signer(k.clone());
        }
        let url = chain.url.parse().map_err(|e| Error::Rpc {
            method: "connect",
            reason: format!("{e}"),
        })?;
        let provider = ProviderBuilder::new().wallet(wallet).connect_http(url);
        let a: Vec<Address> = keys.iter().map(|k| k.address()).collect();
        let mut cfg = DeployConfig::devnet(a[0]);
        cfg.min_audit_bps = 0;
        cfg.treasury = a[1];
        cfg.coordinators = vec![a[2]];
        let deployment = deploy(provider.clone(), &cfg).await?;
        let s = Settlement::new(provider, deployment, TxOptions::default());
        let mut rest = a[7..].iter().copied();
        let mut take = |n: usize| rest.by_ref().take(n).collect::<Vec<_>>();
        let arena = Arena {
            s,
            owner: a[0],
            treasury: a[1],
            coordinator: a[2],
            client: a[3],
            watchtower: a[4],
            cheater: a[5],
            second: a[6],
            honest: take(HONEST),
            fresh: take(FRESH),
            junk: take(JUNK),
            sybils: take(SYBILS),
            challenge_window: verity_sdk::TaskSpec::optimistic(Bytes::new(), Bytes::new())
                .challenge_window,
            min_response_window: cfg.min_response_window.into(),
            committee_size: cfg.committee_size.into(),
            _chain: chain,
        };
        for who in a.iter().skip(2) {
            arena.s.mint(*who, *who, tokens(100_000_000)).await?;
            arena.s.approve_market(*who, U256::MAX).await?;
            arena.s.approve_registry(*who, U256::MAX).await?;
        }
        for (i, op) in arena.honest.iter().enumerate() {
            arena.s.register(*op, &profile(i)).await?;
            arena.s.stake(*op, tokens(STAKE)).await?;
        }
        arena.s.register(arena.cheater, &profile(100)).await?;
        arena.s.stake(arena.cheater, tokens(CHEATER_STAKE)).await?;
        Ok(arena)
    }

    /// Chain time of the latest block.
    pub(crate) async fn now(&self) -> Result<u64> {
        Ok(self.s.chain_time().await?)
    }

    /// The next transaction's block gets exactly this timestamp.
    pub(crate) async fn next_block_at(&self, ts: u64) -> Result<()> {
        let _: serde_json::Value = self
            .s
            .provider()
            .raw_request("evm_setNextBlockTimestamp".into(), (ts,))
            .await
            .map_err(|e| Error::Rpc {
                method: "evm_setNextBlockTimestamp",
                reason: e.to_string(),
            })?;
        Ok(())
    }

    /// Mines an empty block.
    pub(crate) async fn mine(&self) -> Result<()> {
        let _: serde_json::Value = self
            .s
            .provider()
            .raw_request("evm_mine".into(), serde_json::json!([]))
            .await
            .map_err(|e| Error::Rpc {
                method: "evm_mine",
                reason: e.to_string(),
            })?;
        Ok(())
    }

    /// Mines an empty block `secs` seconds after the latest one.
    pub(crate) async fn advance(&self, secs: u64) -> Result<()> {
        let target = self.now().await? + secs;
        self.next_block_at(target).await?;
        self.mine().await
    }

    /// What `who` together own, in wei: token wallets, market balances, stakes (locked
    /// collateral included) and unbonding stake.
    pub(crate) async fn worth(&self, who: &[Address]) -> Result<i128> {
        let mut sum = U256::ZERO;
        for w in who {
            let op = self.s.operator(*w).await?;
            sum += self.s.token_balance(*w).await?
                + self.s.market_balance(*w).await?
                + self.s.court_balance(*w).await?
                + op.stake
                + op.unbonding;
        }
        i128::try_from(sum).map_err(|_| Error::Overflow {
            what: format!("{who:?}"),
        })
    }

    /// Slashes `who` have suffered so far.
    pub(crate) async fn slashes(&self, who: &[Address]) -> Result<u64> {
        let mut n = 0;
        for w in who {
            n += u64::from(self.s.operator(*w).await?.times_slashed);
        }
        Ok(n)
    }

    /// Makes `op` assignable again after a slash, outside any measurement: waits out its jail,
    /// re-enters the eligible set and tops its stake back up to `at_least` tokens.
    pub(crate) async fn recover(&self, op: Address, at_least: u128) -> Result<()> {
        self.recover_wei(op, tokens(at_least)).await
    }

    /// [`Arena::recover`] with the stake floor in wei.
    pub(crate) async fn recover_wei(&self, op: Address, at_least: U256) -> Result<()> {
        let info = self.s.operator(op).await?;
        let now = self.now().await?;
        if info.jailed_until >= now {
            self.advance(info.jailed_until - now + 1).await?;
        }
        if info.stake < at_least {
            self.s.stake(op, at_least - info.stake).await?;
        }
        if !self.s.is_eligible(op).await? {
            return Ok(());
        }
        let listed = self.s.eligible_set().await?.iter().any(|(a, _)| *a == op);
        if !listed {
            self.s.sync_eligibility(self.owner, op).await?;
        }
        Ok(())
    }

    /// A task request of `mode` with deadlines from now: assignment within 100 s, result
    /// within 200 s, reveals within 300 s (replicated, 3 seats, quorum 2), the SDK's default
    /// challenge window (optimistic).
    pub(crate) async fn request(
        &self,
        mode: Mode,
        bounty: U256,
        collateral: U256,
    ) -> Result<TaskRequest> {
        let now = self.now().await?;
        let (replication, quorum, reveal, window) = match mode {
            Mode::Replicated => (3, 2, now + 300, 0),
            _ => (1, 1, 0, self.challenge_window),
        };
        Ok(TaskRequest {
            mode,
            replication,
            quorum,
            program_digest: keccak256("program"),
            input_digest: keccak256("input"),
            bounty,
            collateral,
            assign_deadline: now + 100,
            commit_deadline: now + 200,
            reveal_deadline: reveal,
            challenge_window: window,
            verifier_id: B256::ZERO,
            audit_bps: 0,
        })
    }

    /// The client opens an optimistic task and the coordinator assigns it to `op`.
    pub(crate) async fn open(&self, bounty: U256, collateral: U256, op: Address) -> Result<TaskId> {
        self.open_audited(bounty, collateral, op, 0).await
    }

    /// [`Arena::open`] for a task audited at `audit_bps` (the arena's market allows 0).
    pub(crate) async fn open_audited(
        &self,
        bounty: U256,
        collateral: U256,
        op: Address,
        audit_bps: u16,
    ) -> Result<TaskId> {
        let mut req = self.request(Mode::Optimistic, bounty, collateral).await?;
        req.audit_bps = audit_bps;
        let (id, _) = self.s.create_task(self.client, &req).await?;
        self.s.assign(self.coordinator, id, &[op]).await?;
        Ok(id)
    }

    /// Nobody challenges: the challenge window passes and the result is finalized.
    pub(crate) async fn finalize_unchallenged(&self, id: TaskId) -> Result<()> {
        self.advance(u64::from(self.challenge_window) + 1).await?;
        self.s.finalize(self.owner, id).await?;
        Ok(())
    }

    /// `challenger` challenges; the committee is drawn (a block mined before each round, as
    /// the seed of a round is the hash of the block after the call that armed it). Returns the
    /// committee.
    pub(crate) async fn challenge_and_draw(
        &self,
        id: TaskId,
        challenger: Address,
    ) -> Result<Vec<Address>> {
        self.s.challenge(challenger, id).await?;
        self.draw(id).await
    }

    /// Draws `id`'s committee until the draw says it is complete (at most 8 calls).
    pub(crate) async fn draw(&self, id: TaskId) -> Result<Vec<Address>> {
        const DRAWS: u32 = 8;
        for _ in 0..DRAWS {
            self.mine().await?;
            self.s.draw_committee(self.owner, id).await?;
            let c = self.s.case(id).await?;
            if c.phase != CasePhase::Drawing {
                return Ok(c.committee);
            }
        }
        Err(Error::CommitteeIncomplete {
            task: id,
            draws: DRAWS,
        })
    }

    /// Each member commits the digest `vote` gives it (`None`: it stays idle), then reveals
    /// (after the commit deadline if someone stayed idle); the ballots are counted (after the
    /// reveal deadline if someone stayed idle). An undecided case goes to the arbiter, which
    /// the arena never plays: its window passes and the verdict is Neutral. Then the dispute is
    /// resolved.
    pub(crate) async fn vote_and_resolve(
        &self,
        id: TaskId,
        committee: &[Address],
        vote: impl Fn(Address) -> Option<B256>,
    ) -> Result<()> {
        let ballots: Vec<(Address, B256, B256)> = committee
            .iter()
            .filter_map(|m| vote(*m).map(|d| (*m, d, B256::from(rand::random::<[u8; 32]>()))))
            .collect();
        for (m, d, salt) in &ballots {
            self.s.commit_ballot(*m, id, *d, *salt).await?;
        }
        let idle = ballots.len() < committee.len();
        if idle {
            let deadline = self.s.case(id).await?.commit_deadline;
            self.advance_past(deadline).await?;
        }
        for (m, d, salt) in &ballots {
            self.s.reveal_ballot(*m, id, *d, *salt).await?;
        }
        if idle {
            let deadline = self.s.case(id).await?.reveal_deadline;
            self.advance_past(deadline).await?;
        }
        self.s.tally(self.owner, id).await?;
        let c = self.s.case(id).await?;
        if c.phase == CasePhase::Escalated {
            self.advance_past(c.arbiter_deadline).await?;
        }
        self.s.resolve_dispute(self.owner, id).await?;
        Ok(())
    }

    /// Moves the chain's clock to one second past `deadline` (if it is not there yet).
    async fn advance_past(&self, deadline: u64) -> Result<()> {
        let now = self.now().await?;
        self.advance(deadline.saturating_sub(now) + 1).await
    }
}

fn profile(i: usize) -> OperatorProfile {
    OperatorProfile {
        signer: Address::from_slice(&keccak256(format!("signer-{i}"))[12..]),
        hardware_hash: keccak256(format!("hw-{i}")),
        metadata_cid: Bytes::from(vec![0x01, 0x55, 0x12, 0x20, i as u8]),
        region: 276,
        capabilities: 0b1,
    }
}

/// A registration profile for the attacker's `i`-th identity.
pub(crate) fn attacker_profile(i: usize) -> OperatorProfile {
    profile(200 + i)
}

/// Sends `call`, which the contracts must refuse with `expected`.
pub(crate) fn expect_revert<T: std::fmt::Debug>(
    r: verity_settlement::Result<T>,
    call: &'static str,
    task: Option<TaskId>,
    expected: &'static str,
) -> Result<()> {
    match r {
        Err(e) if e.revert_name().as_deref() == Some(expected) => Ok(()),
        Err(e) => Err(Error::UnexpectedOutcome {
            call,
            task,
            expected,
            got: e.to_string(),
        }),
        Ok(v) => Err(Error::UnexpectedOutcome {
            call,
            task,
            expected,
            got: format!("success: {v:?}"),
        }),
    }
}
