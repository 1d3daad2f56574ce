//! The reference model: `TaskMarket`, `DisputeCourt` and `NodeRegistry` rewritten in plain Rust,
//! check for check in the contracts' order (the court's committee draw re-implements
//! `NodeRegistry.drawEligible`), so that every call's outcome (success and its effects, or the name
//! of the custom error it reverts with) can be predicted before it is sent.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
    rc::Rc,
};

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    sol_types::SolValue,
};
use verity_settlement::{CasePhase, Mode, Seat, Status, TaskRequest, Verdict};

/// A revert, by custom-error name.
pub type Revert = &'static str;

/// One contract call, as the model and the driver see it. Task ids are plain numbers.
#[derive(Debug, Clone)]
pub enum Call {
    CreateTask(Box<TaskRequest>),
    Cancel(u64),
    Assign(u64, Vec<Address>),
    /// `assignBatch`: each (task, operators) in order, all or nothing.
    AssignBatch(Vec<(u64, Vec<Address>)>),
    /// `reassign(task, seat, replacement)`.
    Reassign(u64, u64, Address),
    Commit(u64, B256),
    Reveal(u64, B256, B256),
    Decline(u64),
    SubmitResult(u64, B256),
    SubmitProof(u64, B256, Bytes),
    Finalize(u64),
    ClaimTimeout(u64),
    Challenge(u64),
    /// `rollAudit`: reads the audit coin of a submitted optimistic result early.
    RollAudit(u64),
    /// `court.draw`: one draw round of the committee.
    Draw(u64),
    /// `court.commit` of the ballot for (digest, salt).
    CommitBallot(u64, B256, B256),
    /// `court.reveal(digest, salt)`.
    RevealBallot(u64, B256, B256),
    Tally(u64),
    /// `court.arbitrate(overturn)`.
    Arbitrate(u64, bool),
    ResolveDispute(u64),
    Withdraw,
    /// `court.withdraw`: the caller's whole court balance.
    CourtWithdraw,
    Deposit(U256),
    Stake(U256),
    RequestUnstake(U256),
    WithdrawUnbonded,
    /// An empty block (`evm_mine`).
    Mine,
    // ---- governance (owner only)
    SetFees(u16, u16),
    /// The court's (committee size, draw-and-commit window, reveal window).
    SetDisputeParams(u8, u32, u32),
    SetTreasury(Address),
    SetCoordinator(Address, bool),
    SetMinStake(U256),
    SetJailDuration(u64),
    SetUnbondingDelay(u64),
}

impl Call {
    /// The task the call is about, if any.
    pub fn task(&self) -> Option<u64> {
        match self {
            Call::Cancel(id)
            | Call::Assign(id, _)
            | Call::Reassign(id, _, _)
            | Call::Commit(id, _)
            | Call::Reveal(id, _, _)
            | Call::Decline(id)
            | Call::SubmitResult(id, _)
            | Call::SubmitProof(id, _, _)
            | Call::Finalize(id)
            | Call::ClaimTimeout(id)
            | Call::Challenge(id)
            | Call::RollAudit(id)
            | Call::Draw(id)
            | Call::CommitBallot(id, _, _)
            | Call::RevealBallot(id, _, _)
            | Call::Tally(id)
            | Call::Arbitrate(id, _)
            | Call::ResolveDispute(id) => Some(*id),
            _ => None,
        }
    }
}

/// What a successful call returns that the chain also reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    Created(u64),
    Withdrawn(U256),
    /// An optimistic result landed in this block (its receipt's): its audit coin is the next
    /// block's hash.
    Submitted(u64),
}

/// The block a call lands in.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    pub ts: u64,
    pub block: u64,
    /// `blockhash` of the block `Draw` seeds from (see [`Model::draw_hash_block`]).
    pub seed_hash: Option<B256>,
    /// `blockhash` of the block an audit coin is read from (see [`Model::coin_block`]).
    pub coin_hash: Option<B256>,
}

impl Env {
    /// A block whose call reads no block hash.
    pub fn at(ts: u64, block: u64) -> Env {
        Env {
            ts,
            block,
            seed_hash: None,
            coin_hash: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpState {
    pub registered: bool,
    pub stake: U256,
    pub locked: U256,
    pub unbonding: U256,
    pub unbonding_ready_at: u64,
    pub jailed_until: u64,
    pub tasks_completed: u32,
    pub tasks_failed: u32,
    pub times_slashed: u32,
}

/// Everything one address holds: token wallet, market balance, court balance, registry record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub wallet: U256,
    pub market: U256,
    /// Withdrawable from the dispute court.
    pub court: U256,
    pub op: OpState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatM {
    pub seat: Seat,
    pub commit_block: u64,
    pub commitment: B256,
    pub digest: B256,
}

/// A committee member's ballot, as the court holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BallotM {
    Committed(B256),
    Agreed,
    Disagreed,
}

/// A task's case in the `DisputeCourt` (phase `None` until it is challenged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseM {
    pub phase: CasePhase,
    pub verdict: Verdict,
    pub by_arbiter: bool,
    /// The committee reached the voting phase.
    pub voting: bool,
    pub operator: Address,
    pub challenger: Address,
    pub client: Address,
    pub claimed: B256,
    // Snapshots at the opening.
    pub size: u8,
    pub pool_size: u32,
    pub open_block: u64,
    pub window: u64,
    pub reveal_window: u64,
    pub arbiter_window: u64,
    pub min_stake: U256,
    pub member_bond: U256,
    pub rounds: u8,
    pub seed_block: u64,
    pub draw_deadline: u64,
    pub commit_deadline: u64,
    pub reveal_deadline: u64,
    pub arbiter_deadline: u64,
    pub committed: u8,
    pub revealed: u8,
    pub agree: u8,
    pub disagree: u8,
    pub committee: Vec<Address>,
    pub ballots: BTreeMap<Address, BallotM>,
}

impl Default for CaseM {
    fn default() -> Self {
        CaseM {
            phase: CasePhase::None,
            verdict: Verdict::Pending,
            by_arbiter: false,
            voting: false,
            operator: Address::ZERO,
            challenger: Address::ZERO,
            client: Address::ZERO,
            claimed: B256::ZERO,
            size: 0,
            pool_size: 0,
            open_block: 0,
            window: 0,
            reveal_window: 0,
            arbiter_window: 0,
            min_stake: U256::ZERO,
            member_bond: U256::ZERO,
            rounds: 0,
            seed_block: 0,
            draw_deadline: 0,
            commit_deadline: 0,
            reveal_deadline: 0,
            arbiter_deadline: 0,
            committed: 0,
            revealed: 0,
            agree: 0,
            disagree: 0,
            committee: Vec::new(),
            ballots: BTreeMap::new(),
        }
    }
}

impl CaseM {
    /// Whether `tally` is accepted at `ts`.
    pub fn tally_due(&self, ts: u64) -> bool {
        match self.phase {
            CasePhase::Drawing => ts > self.draw_deadline,
            CasePhase::Voting => {
                usize::from(self.revealed) >= self.committee.len() || ts > self.reveal_deadline
            }
            _ => false,
        }
    }

    /// The deadlines that matter in the case's phase.
    pub fn deadlines(&self) -> Vec<u64> {
        match self.phase {
            CasePhase::Drawing => vec![self.draw_deadline],
            CasePhase::Voting => vec![self.commit_deadline, self.reveal_deadline],
            CasePhase::Escalated => vec![self.arbiter_deadline],
            _ => vec![],
        }
    }
}

#[derive(Debug, Clone)]
pub struct TaskM {
    pub id: u64,
    pub client: Address,
    pub mode: Mode,
    pub status: Status,
    pub replication: u8,
    pub quorum: u8,
    pub protocol_bps: u16,
    pub scheduler_bps: u16,
    pub bounty: U256,
    pub collateral: U256,
    pub assign_deadline: u64,
    pub commit_deadline: u64,
    pub reveal_deadline: u64,
    pub challenge_window: u64,
    pub submitted_at: u64,
    pub assigner: Address,
    pub commits: u8,
    pub reveals: u8,
    pub declined: u8,
    pub program_digest: B256,
    pub input_digest: B256,
    pub result: B256,
    pub verifier: Address,
    /// Optimistic: the chance in basis points that the result is audited.
    pub audit_bps: u16,
    /// Optimistic: the block the result was submitted in (its audit coin is the next block's
    /// hash).
    pub submit_block: u64,
    /// Optimistic: `rollAudit` read the coin and it came out "not audited".
    pub cleared: bool,
    pub operators: Vec<Address>,
    pub seats: BTreeMap<Address, SeatM>,
    pub case: CaseM,
    // ---- bookkeeping of the test, not contract state
    /// What each committed operator would open its commitment with: (digest, salt).
    pub secrets: BTreeMap<Address, (B256, B256)>,
    /// What each committee member would open its ballot with: (digest, salt).
    pub ballot_secrets: BTreeMap<Address, (B256, B256)>,
    /// The copier posted a commitment it did not make.
    pub copied: bool,
    /// Everything credited to market balances by this task.
    pub credited: BTreeMap<Address, U256>,
    /// How many times the task reached a terminal status (must end at exactly one).
    pub settlements: u32,
}

impl TaskM {
    pub fn seat(&self, who: Address) -> Seat {
        self.seats.get(&who).map_or(Seat::None, |s| s.seat)
    }

    /// The last second a challenge is accepted.
    pub fn challenge_closes(&self) -> u64 {
        self.submitted_at + self.challenge_window
    }

    /// Every deadline of the task that is still ahead of `ts` and matters in its status.
    pub fn deadlines(&self) -> Vec<u64> {
        match self.status {
            Status::Open => vec![self.assign_deadline],
            Status::Assigned if self.mode == Mode::Replicated => {
                vec![self.commit_deadline, self.reveal_deadline]
            }
            Status::Assigned => vec![self.commit_deadline],
            Status::Submitted => vec![self.challenge_closes()],
            Status::Challenged => self.case.deadlines(),
            _ => vec![],
        }
    }

    /// The latest time anything about the task can still change by itself.
    pub fn last_deadline(&self) -> u64 {
        let mut d = self
            .assign_deadline
            .max(self.commit_deadline)
            .max(self.reveal_deadline);
        if self.status == Status::Submitted {
            d = d.max(self.challenge_closes());
        }
        if self.status == Status::Challenged {
            let c = &self.case;
            d = d
                .max(c.draw_deadline)
                .max(c.reveal_deadline)
                .max(c.arbiter_deadline);
        }
        d
    }
}

/// The true result of a task: a function of its input.
pub fn truth(input: B256) -> B256 {
    keccak256((B256::from(keccak256("verity-result")), input).abi_encode())
}

/// `TaskMarket.collateralFloor(bounty, p)` for `p` in `1..=10 000`: `bounty * (1 - p) / p`
/// rounded up, plus `AUDIT_FEE_BPS` of the bounty.
pub fn collateral_floor(bounty: U256, p: u16) -> U256 {
    let (p, full) = (U256::from(p), U256::from(10_000));
    (bounty * (full - p) + p - U256::from(1)) / p + bounty * U256::from(AUDIT_FEE_BPS) / full
}

/// The mock verifier's proof for a statement.
pub fn mock_proof(program: B256, input: B256, digest: B256, binding: B256) -> Bytes {
    Bytes::from(keccak256((program, input, digest, binding).abi_encode()).to_vec())
}

pub const MAX_REPLICATION: u8 = 16;
pub const MAX_FEE_BPS: u16 = 1_000;
pub const MAX_COMMITTEE: u8 = 15;
pub const MIN_COMMITTEE: u8 = 3;
/// The court's window bounds (draw-and-commit, reveal, arbiter).
pub const MIN_WINDOW: u64 = 10;
pub const MAX_WINDOW: u64 = 7 * 86_400;
pub const MEMBER_PENALTY_BPS: u64 = 5_000;
pub const COMMITTEE_SHARE_BPS: u64 = 1_000;
pub const MAX_REGISTRY_DURATION: u64 = 30 * 86_400;
pub const MAX_TASK_DURATION: u64 = 30 * 86_400;
pub const MAX_CHALLENGE_WINDOW: u64 = 7 * 86_400;
pub const DRAW_TRIES_PER_SEAT: usize = 8;
pub const MAX_DRAW_ROUNDS: u8 = 4;
pub const CHALLENGE_REWARD_BPS: u64 = 2_000;
pub const DECLINE_FEE_BPS: u64 = 200;
pub const STAKE_WEIGHT_CAP_MULTIPLE: u64 = 10;
pub const MAX_ASSIGN_BATCH: usize = 32;
/// `TaskMarket.AUDIT_FEE_BPS`: an audited result that stands pays this share of the bounty to
/// the committee.
pub const AUDIT_FEE_BPS: u64 = 1_000;
/// Past this many blocks `BLOCKHASH` answers zero.
pub const BLOCKHASH_WINDOW: u64 = 256;

#[derive(Debug, Clone)]
pub struct Model {
    pub chain_id: u64,
    /// Owner of the market and the registry.
    pub owner: Address,
    pub market: Address,
    pub treasury: Address,
    pub coordinators: BTreeSet<Address>,
    pub protocol_bps: u16,
    pub scheduler_bps: u16,
    /// The court and its parameters.
    pub court: Address,
    pub committee_size: u8,
    pub dispute_window: u64,
    pub reveal_window: u64,
    pub arbiter: Address,
    pub arbiter_window: u64,
    pub min_stake: U256,
    pub unbonding_delay: u64,
    pub jail_duration: u64,
    pub verifiers: BTreeMap<B256, Address>,
    /// The registry's `operatorList`, in registration order.
    pub operator_list: Vec<Address>,
    /// The registry's eligible set in slot order (swap-and-pop), and when each member joined.
    pub eligible_list: Vec<Address>,
    pub eligible_since: BTreeMap<Address, u64>,
    /// The market's window minimums (immutable).
    pub min_response_window: u64,
    pub min_reveal_window: u64,
    /// The market's least audit rate of an optimistic task (immutable).
    pub min_audit_bps: u16,
    pub accounts: BTreeMap<Address, Account>,
    pub tasks: Vec<TaskM>,
    pub escrowed: U256,
    pub bonded: U256,
    pub total_credited: U256,
    /// Token balances of the three contracts.
    pub market_tokens: U256,
    pub registry_tokens: U256,
    pub court_tokens: U256,
    /// Latest block.
    pub ts: u64,
    pub block: u64,
    /// Accounts changed by the last applied call.
    pub touched: BTreeSet<Address>,
    /// How often each deadline check ran one second before, at, and one second after its
    /// deadline (shared by clones, so reverted calls count too).
    pub edges: Edges,
}

/// (check, block time - deadline) -> times evaluated.
pub type Edges = Rc<RefCell<BTreeMap<(&'static str, i8), usize>>>;

impl Model {
    pub fn task(&self, id: u64) -> Result<&TaskM, Revert> {
        usize::try_from(id)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.tasks.get(i))
            .ok_or("UnknownTask")
    }

    fn task_mut(&mut self, id: u64) -> &mut TaskM {
        &mut self.tasks[id as usize - 1]
    }

    pub fn account(&self, who: Address) -> &Account {
        self.accounts.get(&who).expect("known account")
    }

    fn acct(&mut self, who: Address) -> &mut Account {
        self.touched.insert(who);
        self.accounts.entry(who).or_default()
    }

    pub fn live_tasks(&self) -> impl Iterator<Item = &TaskM> {
        self.tasks.iter().filter(|t| !t.status.is_terminal())
    }

    /// Counts an outcome worth seeing in the coverage report (kept under offset 0).
    fn event(&self, what: &'static str) {
        *self.edges.borrow_mut().entry((what, i8::MIN)).or_default() += 1;
    }

    fn edge(&self, check: &'static str, ts: u64, deadline: u64) {
        let off = i128::from(ts) - i128::from(deadline);
        if (-1..=1).contains(&off) {
            *self
                .edges
                .borrow_mut()
                .entry((check, off as i8))
                .or_default() += 1;
        }
    }

    pub fn eligible(&self, who: Address, ts: u64) -> bool {
        let o = &self.account(who).op;
        o.registered && o.jailed_until <= ts && o.stake >= self.min_stake
    }

    /// `NodeRegistry._sync`: membership of the eligible set follows `eligible` now.
    fn sync(&mut self, who: Address, ts: u64, block: u64) {
        let should = self.eligible(who, ts);
        let slot = self.eligible_list.iter().position(|a| *a == who);
        match (should, slot) {
            (true, None) => {
                self.eligible_list.push(who);
                self.eligible_since.insert(who, block);
            }
            (false, Some(i)) => {
                self.eligible_list.swap_remove(i);
            }
            _ => {}
        }
    }

    pub fn free_stake(&self, who: Address) -> U256 {
        let o = &self.account(who).op;
        o.stake - o.locked
    }

    pub fn commitment(&self, id: u64, op: Address, digest: B256, salt: B256) -> B256 {
        verity_settlement::commitment(self.chain_id, self.market, U256::from(id), op, digest, salt)
    }

    pub fn binding(&self, id: u64, op: Address) -> B256 {
        verity_settlement::binding(self.chain_id, self.market, U256::from(id), op)
    }

    /// A task's case (`UnknownCase` for a task without one, as the court answers).
    pub fn case(&self, id: u64) -> Result<&CaseM, Revert> {
        self.task(id)
            .ok()
            .map(|t| &t.case)
            .filter(|c| c.phase != CasePhase::None)
            .ok_or("UnknownCase")
    }

    /// The court's `ballotOf`.
    pub fn ballot_commitment(&self, id: u64, member: Address, digest: B256, salt: B256) -> B256 {
        keccak256(
            (
                U256::from(self.chain_id),
                self.court,
                U256::from(id),
                member,
                digest,
                salt,
            )
                .abi_encode(),
        )
    }

    /// `NodeRegistry.drawEligible` for one round of `c`: up to the missing members, stake-weighted
    /// (capped at `STAKE_WEIGHT_CAP_MULTIPLE` x the snapshotted minimum stake), from the first
    /// `pool_size` slots of the eligible set, skipping later joiners, the parties and members.
    fn draw_round(&self, c: &CaseM, seed: B256, ts: u64) -> Vec<Address> {
        let exclude = [c.operator, c.challenger, c.client];
        let want = usize::from(c.size).saturating_sub(c.committee.len());
        let pool = c.pool_size as usize;
        let cap = (c.min_stake * U256::from(STAKE_WEIGHT_CAP_MULTIPLE)).max(U256::from(1));
        let mut picked = Vec::new();
        for i in 0..want * DRAW_TRIES_PER_SEAT {
            if picked.len() >= want || pool == 0 {
                break;
            }
            let r = U256::from_be_bytes(keccak256((seed, U256::from(i)).abi_encode()).0);
            let slot = (r % U256::from(pool)).to::<usize>();
            let Some(&m) = self.eligible_list.get(slot) else {
                continue;
            };
            let o = &self.account(m).op;
            if !o.registered || o.jailed_until > ts || o.stake < c.min_stake {
                continue;
            }
            if self.eligible_since[&m] >= c.open_block {
                continue;
            }
            let weight = o.stake.min(cap);
            if (r >> 128) % cap >= weight {
                continue;
            }
            if exclude.contains(&m) || c.committee.contains(&m) || picked.contains(&m) {
                continue;
            }
            picked.push(m);
        }
        picked
    }

    /// `DisputeCourt._settleMembers`: every member's bond released, less the penalty for the
    /// idle and those against the verdict (on Neutral: the idle; none if the committee never
    /// voted); the pot split among those that revealed the verdict's side, the rest to the
    /// market's treasury.
    fn settle_members(
        &mut self,
        id: u64,
        verdict: Verdict,
        mut pot: U256,
        ts: u64,
    ) -> Result<(), Revert> {
        let c = self.case(id)?.clone();
        let bond = c.member_bond;
        let penalty = bond * U256::from(MEMBER_PENALTY_BPS) / U256::from(10_000);
        let winning = match verdict {
            Verdict::Upheld => Some(BallotM::Agreed),
            Verdict::Overturned => Some(BallotM::Disagreed),
            _ => None,
        };
        let mut paid = Vec::new();
        for m in &c.committee {
            let b = c.ballots.get(m).copied();
            let revealed = matches!(b, Some(BallotM::Agreed | BallotM::Disagreed));
            let punish = c.voting
                && match winning {
                    None => !revealed,
                    Some(w) => b != Some(w),
                };
            if !bond.is_zero() {
                if punish && !penalty.is_zero() {
                    self.event(if revealed {
                        "court: member penalised (voted against the verdict)"
                    } else {
                        "court: member penalised (idle)"
                    });
                    let o = &mut self.acct(*m).op;
                    if bond > o.locked {
                        return Err("CollateralUnderflow");
                    }
                    o.locked -= bond;
                    o.stake -= penalty;
                    o.tasks_failed += 1;
                    self.registry_tokens -= penalty;
                    self.court_tokens += penalty;
                    pot += penalty;
                    let block = self.block;
                    self.sync(*m, ts, block);
                } else {
                    self.release(*m, bond, !punish)?;
                }
            }
            if winning.is_some() && b == winning {
                paid.push(*m);
            }
        }
        let each = if paid.is_empty() {
            U256::ZERO
        } else {
            pot / U256::from(paid.len())
        };
        if !each.is_zero() {
            self.event("court: members paid");
        }
        for m in &paid {
            self.acct(*m).court += each;
        }
        let rest = pot - each * U256::from(paid.len());
        if !rest.is_zero() {
            let treasury = self.treasury;
            self.acct(treasury).court += rest;
        }
        Ok(())
    }

    /// The block whose hash seeds the next draw round if `Draw(id)` lands in block `block`
    /// (`None` if the draw would revert or re-arm before reading it).
    pub fn draw_hash_block(&self, id: u64, block: u64) -> Option<u64> {
        let c = self.case(id).ok()?;
        if c.phase != CasePhase::Drawing || block <= c.seed_block {
            return None;
        }
        // BLOCKHASH answers for the 256 most recent blocks only; past that the court re-arms
        // instead of reading a hash.
        (block - c.seed_block <= 256).then_some(c.seed_block)
    }

    /// The block whose hash is the audit coin of task `id` if `Finalize` or `RollAudit` reads
    /// it in block `block` (`None` if the call would not read a hash: no coin, too early, or
    /// expired).
    pub fn coin_block(&self, id: u64, block: u64) -> Option<u64> {
        let t = self.task(id).ok()?;
        if t.status != Status::Submitted || t.audit_bps == 0 || t.cleared {
            return None;
        }
        let coin = t.submit_block + 1;
        (block > coin && block - coin <= BLOCKHASH_WINDOW).then_some(coin)
    }

    /// `TaskMarket._audited`: whether the coin of task `id`, read in `env`'s block, says
    /// "audited": `keccak256(abi.encode(blockhash(submitBlock + 1), id)) % 10 000 < auditBps`,
    /// an expired (zero) hash counting as audited, rate 0 never.
    fn audited(&self, id: u64, env: &Env) -> Result<bool, Revert> {
        let t = self.task(id)?;
        if t.audit_bps == 0 {
            return Ok(false);
        }
        let coin = t.submit_block + 1;
        if env.block <= coin {
            return Err("CoinNotReady");
        }
        if env.block - coin > BLOCKHASH_WINDOW {
            self.event("audit: coin expired (counts as audited)");
            return Ok(true);
        }
        let hash = env
            .coin_hash
            .expect("the driver fetches the coin block's hash");
        let draw = U256::from_be_bytes(keccak256((hash, U256::from(id)).abi_encode()).0);
        Ok(draw % U256::from(10_000) < U256::from(t.audit_bps))
    }

    /// Opens the case of task `id` in the court: a challenge (`challenger` posted a bond equal
    /// to the collateral) or an audit (no challenger, no bond).
    fn open_case(&mut self, id: u64, challenger: Address, env: &Env) {
        let t = self.task(id).expect("task");
        let size = self.committee_size;
        let case = CaseM {
            phase: CasePhase::Drawing,
            operator: t.operators[0],
            challenger,
            client: t.client,
            claimed: t.result,
            size,
            pool_size: self.eligible_list.len() as u32,
            open_block: env.block,
            window: self.dispute_window,
            reveal_window: self.reveal_window,
            arbiter_window: self.arbiter_window,
            min_stake: self.min_stake,
            member_bond: t.collateral / U256::from(size),
            seed_block: env.block + 1,
            draw_deadline: env.ts + self.dispute_window,
            ..CaseM::default()
        };
        let t = self.task_mut(id);
        t.status = Status::Challenged;
        t.case = case;
    }

    /// Applies `call` from `from` in the block `env`: the effect, or the revert (and then the
    /// model is unchanged, as the chain would be).
    pub fn apply(&mut self, from: Address, call: &Call, env: &Env) -> Result<Effect, Revert> {
        let mut next = self.clone();
        next.touched.clear();
        next.touched.insert(from);
        // The block the call lands in (the registry's `eligibleSince` reads it).
        next.ts = env.ts;
        next.block = env.block;
        let effect = next.exec(from, call, env)?;
        *self = next;
        Ok(effect)
    }

    fn exec(&mut self, from: Address, call: &Call, env: &Env) -> Result<Effect, Revert> {
        let ts = env.ts;
        match call {
            Call::CreateTask(req) => self.create_task(from, req, ts).map(Effect::Created),
            Call::Cancel(id) => {
                let t = self.task(*id)?;
                if from != t.client {
                    return Err("NotClient");
                }
                expect_status(t, Status::Open)?;
                self.refund(*id);
                Ok(Effect::None)
            }
            Call::Assign(id, ops) => self.assign(from, *id, ops, ts).map(|()| Effect::None),
            Call::AssignBatch(batch) => {
                if !self.coordinators.contains(&from) {
                    return Err("NotCoordinator");
                }
                if batch.is_empty() {
                    return Err("EmptyBatch");
                }
                if batch.len() > MAX_ASSIGN_BATCH {
                    return Err("BatchTooLarge");
                }
                // Each entry carries the Task as it was before the batch: a task already
                // assigned earlier in the same batch no longer matches its stored hash. An entry
                // that fails is skipped (`AssignSkipped`); the others stand.
                let mut seen = BTreeSet::new();
                for (id, ops) in batch {
                    if !seen.insert(*id) && self.task(*id).is_ok() {
                        self.event("assignBatch: entry skipped");
                        continue;
                    }
                    let mut next = self.clone();
                    match next.assign(from, *id, ops, ts) {
                        Ok(()) => *self = next,
                        Err(_) => self.event("assignBatch: entry skipped"),
                    }
                }
                Ok(Effect::None)
            }
            Call::Reassign(id, seat, to) => self
                .reassign(from, *id, *seat, *to, ts)
                .map(|()| Effect::None),
            Call::Commit(id, c) => {
                let t = self.task(*id)?;
                expect_mode(t, Mode::Replicated)?;
                expect_status(t, Status::Assigned)?;
                match t.seat(from) {
                    Seat::None | Seat::Declined => return Err("NotAssigned"),
                    Seat::Assigned => {}
                    _ => return Err("AlreadyCommitted"),
                }
                if c.is_zero() {
                    return Err("ZeroCommitment");
                }
                self.edge("commit: commit deadline", ts, t.commit_deadline);
                if ts > t.commit_deadline {
                    return Err("CommitDeadlinePassed");
                }
                let t = self.task_mut(*id);
                let s = t.seats.get_mut(&from).expect("seated");
                s.seat = Seat::Committed;
                s.commitment = *c;
                s.commit_block = env.block;
                t.commits += 1;
                Ok(Effect::None)
            }
            Call::Reveal(id, digest, salt) => {
                let t = self.task(*id)?;
                expect_mode(t, Mode::Replicated)?;
                expect_status(t, Status::Assigned)?;
                let seat = t.seats.get(&from);
                match seat.map(|s| s.seat) {
                    Some(Seat::Revealed) => return Err("AlreadyRevealed"),
                    Some(Seat::Committed) => {}
                    _ => return Err("NotCommitted"),
                }
                let seat = seat.expect("committed");
                if env.block <= seat.commit_block {
                    return Err("RevealTooEarly");
                }
                if t.commits + t.declined < t.replication {
                    self.edge(
                        "reveal: commit phase open until commit deadline",
                        ts,
                        t.commit_deadline,
                    );
                    if ts <= t.commit_deadline {
                        return Err("CommitPhaseOpen");
                    }
                }
                self.edge("reveal: reveal deadline", ts, t.reveal_deadline);
                if ts > t.reveal_deadline {
                    return Err("RevealDeadlinePassed");
                }
                if self.commitment(*id, from, *digest, *salt) != seat.commitment {
                    return Err("CommitmentMismatch");
                }
                let t = self.task_mut(*id);
                let s = t.seats.get_mut(&from).expect("seated");
                s.seat = Seat::Revealed;
                s.digest = *digest;
                t.reveals += 1;
                Ok(Effect::None)
            }
            Call::Decline(id) => {
                let t = self.task(*id)?;
                expect_status(t, Status::Assigned)?;
                if t.seat(from) != Seat::Assigned {
                    return Err("NotAssigned");
                }
                self.edge("decline: commit deadline", ts, t.commit_deadline);
                if ts > t.commit_deadline {
                    return Err("CommitDeadlinePassed");
                }
                let collateral = t.collateral;
                let fee = collateral * U256::from(DECLINE_FEE_BPS) / U256::from(10_000);
                let t = self.task_mut(*id);
                t.seats.get_mut(&from).expect("seated").seat = Seat::Declined;
                t.declined += 1;
                let all = t.declined == t.replication;
                self.release(from, collateral, false)?;
                if !fee.is_zero() {
                    self.acct(from).op.stake -= fee;
                    self.registry_tokens -= fee;
                    self.market_tokens += fee;
                    let treasury = self.treasury;
                    self.credit(*id, treasury, fee);
                    self.sync(from, ts, env.block);
                }
                if all {
                    self.refund(*id);
                }
                Ok(Effect::None)
            }
            Call::SubmitResult(id, digest) => {
                let t = self.task(*id)?;
                expect_mode(t, Mode::Optimistic)?;
                expect_status(t, Status::Assigned)?;
                if t.seat(from) != Seat::Assigned {
                    return Err("NotAssigned");
                }
                self.edge("submitResult: submit deadline", ts, t.commit_deadline);
                if ts > t.commit_deadline {
                    return Err("CommitDeadlinePassed");
                }
                if digest.is_zero() {
                    return Err("ZeroDigest");
                }
                let t = self.task_mut(*id);
                t.status = Status::Submitted;
                t.result = *digest;
                t.submitted_at = ts;
                t.submit_block = env.block;
                Ok(Effect::Submitted(env.block))
            }
            Call::SubmitProof(id, digest, proof) => {
                let t = self.task(*id)?;
                expect_mode(t, Mode::ZkProof)?;
                expect_status(t, Status::Assigned)?;
                if t.seat(from) != Seat::Assigned {
                    return Err("NotAssigned");
                }
                self.edge("submitProof: submit deadline", ts, t.commit_deadline);
                if ts > t.commit_deadline {
                    return Err("CommitDeadlinePassed");
                }
                if digest.is_zero() {
                    return Err("ZeroDigest");
                }
                // Every verifier the tests register is the MockResultVerifier.
                let want = mock_proof(
                    t.program_digest,
                    t.input_digest,
                    *digest,
                    self.binding(*id, from),
                );
                if *proof != want {
                    return Err("InvalidProof");
                }
                self.task_mut(*id).result = *digest;
                self.pay_winners(*id, &[from], 1, ts, U256::ZERO)?;
                Ok(Effect::None)
            }
            Call::Finalize(id) => {
                let t = self.task(*id)?;
                match t.mode {
                    Mode::Replicated => {
                        expect_status(t, Status::Assigned)?;
                        if t.reveals + t.declined < t.replication {
                            self.edge(
                                "finalize (replicated): reveal deadline",
                                ts,
                                t.reveal_deadline,
                            );
                            if ts <= t.reveal_deadline {
                                return Err("TooEarly");
                            }
                        }
                        self.finalize_replicated(*id, ts)?;
                    }
                    Mode::Optimistic => {
                        expect_status(t, Status::Submitted)?;
                        self.edge(
                            "finalize (optimistic): challenge window",
                            ts,
                            t.challenge_closes(),
                        );
                        if ts <= t.challenge_closes() {
                            return Err("TooEarly");
                        }
                        let ops = t.operators.clone();
                        if !t.cleared && self.audited(*id, env)? {
                            self.event("audit: drawn by finalize");
                            self.open_case(*id, Address::ZERO, env);
                            return Ok(Effect::None);
                        }
                        self.pay_winners(*id, &ops, 1, ts, U256::ZERO)?;
                    }
                    Mode::ZkProof => return Err("WrongMode"),
                }
                Ok(Effect::None)
            }
            Call::ClaimTimeout(id) => {
                let t = self.task(*id)?;
                if t.status == Status::Open {
                    self.edge("claimTimeout: assign deadline", ts, t.assign_deadline);
                    if ts <= t.assign_deadline {
                        return Err("TooEarly");
                    }
                    self.refund(*id);
                    return Ok(Effect::None);
                }
                expect_mode_not(t, Mode::Replicated)?;
                expect_status(t, Status::Assigned)?;
                self.edge("claimTimeout: submit deadline", ts, t.commit_deadline);
                if ts <= t.commit_deadline {
                    return Err("TooEarly");
                }
                let op = t.operators[0];
                let to = self.treasury;
                self.event("timeout: silent operator slashed");
                self.slash_to(*id, op, to, ts)?;
                self.refund(*id);
                Ok(Effect::None)
            }
            Call::Challenge(id) => {
                let t = self.task(*id)?;
                expect_status(t, Status::Submitted)?;
                self.edge("challenge: challenge window", ts, t.challenge_closes());
                if ts > t.challenge_closes() {
                    return Err("ChallengeWindowClosed");
                }
                if from == t.operators[0] {
                    return Err("SelfChallenge");
                }
                let bond = t.collateral;
                if self.account(from).wallet < bond {
                    return Err("ERC20InsufficientBalance");
                }
                self.open_case(*id, from, env);
                self.bonded += bond;
                self.acct(from).wallet -= bond;
                self.market_tokens += bond;
                Ok(Effect::None)
            }
            Call::RollAudit(id) => {
                let t = self.task(*id)?;
                expect_status(t, Status::Submitted)?;
                if t.cleared {
                    return Err("AuditRolled");
                }
                if self.audited(*id, env)? {
                    self.event("audit: drawn by rollAudit");
                    self.open_case(*id, Address::ZERO, env);
                } else {
                    self.event("audit: cleared by rollAudit");
                    self.task_mut(*id).cleared = true;
                }
                Ok(Effect::None)
            }
            Call::Draw(id) => {
                let c = self.case(*id)?;
                if c.phase != CasePhase::Drawing {
                    return Err("WrongPhase");
                }
                self.edge("draw: draw deadline", ts, c.draw_deadline);
                if ts > c.draw_deadline {
                    return Err("DrawClosed");
                }
                if env.block <= c.seed_block {
                    return Err("SeedNotReady");
                }
                if env.block - c.seed_block > 256 {
                    self.event("draw: seed expired, re-armed");
                    self.task_mut(*id).case.seed_block = env.block + 1;
                    return Ok(Effect::None);
                }
                let block_seed = env
                    .seed_hash
                    .expect("the driver fetches the seed block's hash");
                let seed =
                    keccak256((block_seed, U256::from(*id), U256::from(c.rounds)).abi_encode());
                let picked = self.draw_round(c, seed, ts);
                let bond = c.member_bond;
                let mut committee = c.committee.clone();
                for m in picked {
                    if !bond.is_zero() {
                        if self
                            .can_lock(m, bond, ts, "draw: member jailed until")
                            .is_err()
                        {
                            self.event("draw: member skipped (cannot lock its bond)");
                            continue;
                        }
                        self.acct(m).op.locked += bond;
                    }
                    committee.push(m);
                }
                let c = &mut self.task_mut(*id).case;
                c.committee = committee;
                c.rounds += 1;
                if c.committee.len() < usize::from(c.size) && c.rounds < MAX_DRAW_ROUNDS {
                    c.seed_block = env.block + 1;
                } else {
                    c.phase = CasePhase::Voting;
                    c.voting = true;
                    c.commit_deadline = ts + c.window;
                    c.reveal_deadline = c.commit_deadline + c.reveal_window;
                    let short = c.committee.len() < usize::from(c.size);
                    self.event(if short {
                        "draw: committee short after the last round"
                    } else {
                        "draw: committee full"
                    });
                }
                Ok(Effect::None)
            }
            Call::CommitBallot(id, digest, salt) => {
                let c = self.case(*id)?;
                if c.phase != CasePhase::Voting {
                    return Err("WrongPhase");
                }
                self.edge("commitBallot: commit deadline", ts, c.commit_deadline);
                if ts > c.commit_deadline {
                    return Err("CommitDeadlinePassed");
                }
                if !c.committee.contains(&from) {
                    return Err("NotCommitteeMember");
                }
                if c.ballots.contains_key(&from) {
                    return Err("AlreadyCommitted");
                }
                let commitment = self.ballot_commitment(*id, from, *digest, *salt);
                let c = &mut self.task_mut(*id).case;
                c.ballots.insert(from, BallotM::Committed(commitment));
                c.committed += 1;
                Ok(Effect::None)
            }
            Call::RevealBallot(id, digest, salt) => {
                let c = self.case(*id)?;
                if c.phase != CasePhase::Voting {
                    return Err("WrongPhase");
                }
                if usize::from(c.committed) < c.committee.len() {
                    self.edge(
                        "revealBallot: commit phase open until commit deadline",
                        ts,
                        c.commit_deadline,
                    );
                    if ts <= c.commit_deadline {
                        return Err("RevealTooEarly");
                    }
                }
                self.edge("revealBallot: reveal deadline", ts, c.reveal_deadline);
                if ts > c.reveal_deadline {
                    return Err("RevealDeadlinePassed");
                }
                if digest.is_zero() {
                    return Err("ZeroDigest");
                }
                let Some(BallotM::Committed(commitment)) = c.ballots.get(&from).copied() else {
                    return Err("NotCommitted");
                };
                if self.ballot_commitment(*id, from, *digest, *salt) != commitment {
                    return Err("CommitmentMismatch");
                }
                let c = &mut self.task_mut(*id).case;
                let agrees = *digest == c.claimed;
                c.ballots.insert(
                    from,
                    if agrees {
                        BallotM::Agreed
                    } else {
                        BallotM::Disagreed
                    },
                );
                c.revealed += 1;
                if agrees {
                    c.agree += 1;
                } else {
                    c.disagree += 1;
                }
                Ok(Effect::None)
            }
            Call::Tally(id) => {
                let c = self.case(*id)?;
                let n = c.committee.len();
                match c.phase {
                    CasePhase::Drawing => {
                        self.edge("tally: draw deadline", ts, c.draw_deadline);
                        if ts <= c.draw_deadline {
                            return Err("TooEarly");
                        }
                    }
                    CasePhase::Voting => {
                        if usize::from(c.revealed) < n {
                            self.edge("tally: reveal deadline", ts, c.reveal_deadline);
                            if ts <= c.reveal_deadline {
                                return Err("TooEarly");
                            }
                        }
                    }
                    _ => return Err("WrongPhase"),
                }
                let (agree, disagree) = (usize::from(c.agree), usize::from(c.disagree));
                let drawing = c.phase == CasePhase::Drawing;
                let c = &mut self.task_mut(*id).case;
                if n > 0 && agree * 2 > n {
                    c.phase = CasePhase::Decided;
                    c.verdict = Verdict::Upheld;
                    self.event("tally: upheld by the committee");
                } else if n > 0 && disagree * 2 > n {
                    c.phase = CasePhase::Decided;
                    c.verdict = Verdict::Overturned;
                    self.event("tally: overturned by the committee");
                } else {
                    c.phase = CasePhase::Escalated;
                    c.arbiter_deadline = ts + c.arbiter_window;
                    self.event(if drawing {
                        "tally: escalated (committee never drawn)"
                    } else if n == 0 {
                        "tally: escalated (empty committee)"
                    } else {
                        "tally: escalated (no majority)"
                    });
                }
                Ok(Effect::None)
            }
            Call::Arbitrate(id, overturn) => {
                if from != self.arbiter || self.arbiter.is_zero() {
                    return Err("NotArbiter");
                }
                let c = self.case(*id)?;
                if c.phase != CasePhase::Escalated {
                    return Err("WrongPhase");
                }
                self.edge("arbitrate: arbiter deadline", ts, c.arbiter_deadline);
                if ts > c.arbiter_deadline {
                    return Err("ArbiterWindowClosed");
                }
                let c = &mut self.task_mut(*id).case;
                c.phase = CasePhase::Decided;
                c.by_arbiter = true;
                c.verdict = if *overturn {
                    Verdict::Overturned
                } else {
                    Verdict::Upheld
                };
                self.event(if *overturn {
                    "arbitrate: overturned"
                } else {
                    "arbitrate: upheld"
                });
                Ok(Effect::None)
            }
            Call::ResolveDispute(id) => {
                let t = self.task(*id)?;
                expect_status(t, Status::Challenged)?;
                let (operator, collateral, bounty) = (t.operators[0], t.collateral, t.bounty);
                let c = &t.case;
                let challenger = c.challenger;
                // An audit has no challenger and no bond; the committee's pot is the audit fee
                // (a tenth of the bounty) if the result stands, a tenth of the slash if not.
                let audit = challenger.is_zero();
                let bond = if audit { U256::ZERO } else { collateral };
                let share = collateral * U256::from(COMMITTEE_SHARE_BPS) / U256::from(10_000);
                let upheld_pot = if audit {
                    bounty * U256::from(AUDIT_FEE_BPS) / U256::from(10_000)
                } else {
                    share
                };
                // court.close
                let verdict = match c.phase {
                    CasePhase::Escalated => {
                        self.edge("resolveDispute: arbiter deadline", ts, c.arbiter_deadline);
                        if ts <= c.arbiter_deadline {
                            return Err("TooEarly");
                        }
                        Verdict::Neutral
                    }
                    CasePhase::Decided => c.verdict,
                    _ => return Err("WrongPhase"),
                };
                {
                    let c = &mut self.task_mut(*id).case;
                    c.phase = CasePhase::Closed;
                    c.verdict = verdict;
                }
                let pot = match verdict {
                    Verdict::Upheld => upheld_pot,
                    Verdict::Overturned => share,
                    _ => U256::ZERO,
                };
                self.settle_members(*id, verdict, pot, ts)?;
                // The market.
                self.bonded -= bond;
                match verdict {
                    Verdict::Neutral => {
                        self.event(if audit {
                            "audit: neutral (nobody slashed)"
                        } else {
                            "dispute: neutral (nobody slashed)"
                        });
                        self.release(operator, collateral, false)?;
                        self.credit(*id, challenger, bond);
                        self.refund(*id);
                    }
                    Verdict::Overturned => {
                        self.event(if audit {
                            "audit: overturned (operator slashed)"
                        } else {
                            "dispute: overturned"
                        });
                        self.market_tokens -= share;
                        self.court_tokens += share;
                        let treasury = self.treasury;
                        self.slash_to(*id, operator, treasury, ts)?;
                        // The challenger's reward (none for an audit) and the committee's share
                        // leave the treasury's accrual.
                        let reward = bond * U256::from(CHALLENGE_REWARD_BPS) / U256::from(10_000);
                        self.acct(treasury).market -= reward + share;
                        *self.task_mut(*id).credited.entry(treasury).or_default() -= reward + share;
                        self.total_credited -= reward + share;
                        self.credit(*id, challenger, bond + reward);
                        self.refund(*id);
                    }
                    _ if audit => {
                        self.event("audit: upheld (operator paid less the audit fee)");
                        self.market_tokens -= upheld_pot;
                        self.court_tokens += upheld_pot;
                        self.pay_winners(*id, &[operator], 1, ts, upheld_pot)?;
                    }
                    _ => {
                        self.event("dispute: upheld (bond less the share to the operator)");
                        self.market_tokens -= share;
                        self.court_tokens += share;
                        self.credit(*id, operator, bond - share);
                        self.pay_winners(*id, &[operator], 1, ts, U256::ZERO)?;
                    }
                }
                Ok(Effect::None)
            }
            Call::CourtWithdraw => {
                let amount = self.account(from).court;
                if amount.is_zero() {
                    return Err("NothingToWithdraw");
                }
                let a = self.acct(from);
                a.court = U256::ZERO;
                a.wallet += amount;
                self.court_tokens -= amount;
                Ok(Effect::Withdrawn(amount))
            }
            Call::Withdraw => {
                let amount = self.account(from).market;
                if amount.is_zero() {
                    return Err("NothingToWithdraw");
                }
                let a = self.acct(from);
                a.market = U256::ZERO;
                a.wallet += amount;
                self.total_credited -= amount;
                self.market_tokens -= amount;
                Ok(Effect::Withdrawn(amount))
            }
            Call::Deposit(amount) => {
                if amount.is_zero() {
                    return Err("ZeroAmount");
                }
                if self.account(from).wallet < *amount {
                    return Err("ERC20InsufficientBalance");
                }
                let a = self.acct(from);
                a.wallet -= *amount;
                a.market += *amount;
                self.total_credited += *amount;
                self.market_tokens += *amount;
                Ok(Effect::None)
            }
            Call::Stake(amount) => {
                let a = self.account(from);
                if !a.op.registered {
                    return Err("NotRegistered");
                }
                if amount.is_zero() {
                    return Err("ZeroAmount");
                }
                if a.op.stake + amount > U256::from(u128::MAX >> 32) {
                    return Err("AmountTooLarge");
                }
                if a.wallet < *amount {
                    return Err("ERC20InsufficientBalance");
                }
                let a = self.acct(from);
                a.op.stake += *amount;
                a.wallet -= *amount;
                self.registry_tokens += *amount;
                self.sync(from, ts, env.block);
                Ok(Effect::None)
            }
            Call::RequestUnstake(amount) => {
                let a = self.account(from);
                if !a.op.registered {
                    return Err("NotRegistered");
                }
                if amount.is_zero() {
                    return Err("ZeroAmount");
                }
                if *amount > a.op.stake - a.op.locked {
                    return Err("InsufficientFreeStake");
                }
                if a.op.unbonding + amount > U256::from(u128::MAX >> 32) {
                    return Err("AmountTooLarge");
                }
                let delay = self.unbonding_delay;
                let o = &mut self.acct(from).op;
                o.stake -= *amount;
                o.unbonding += *amount;
                o.unbonding_ready_at = ts + delay;
                self.sync(from, ts, env.block);
                Ok(Effect::None)
            }
            Call::WithdrawUnbonded => {
                let o = &self.account(from).op;
                let amount = o.unbonding;
                if amount.is_zero() {
                    return Err("NothingUnbonding");
                }
                self.edge("withdrawUnbonded: ready at", ts, o.unbonding_ready_at);
                if ts < o.unbonding_ready_at {
                    return Err("UnbondingNotReady");
                }
                let a = self.acct(from);
                a.op.unbonding = U256::ZERO;
                a.op.unbonding_ready_at = 0;
                a.wallet += amount;
                self.registry_tokens -= amount;
                Ok(Effect::None)
            }
            Call::Mine => Ok(Effect::None),
            Call::SetFees(p, sch) => {
                self.only_owner(from)?;
                if *p > MAX_FEE_BPS || *sch > MAX_FEE_BPS {
                    return Err("FeeTooHigh");
                }
                (self.protocol_bps, self.scheduler_bps) = (*p, *sch);
                Ok(Effect::None)
            }
            Call::SetDisputeParams(size, window, reveal) => {
                self.only_owner(from)?;
                let (window, reveal) = (u64::from(*window), u64::from(*reveal));
                if !(MIN_COMMITTEE..=MAX_COMMITTEE).contains(size)
                    || !(MIN_WINDOW..=MAX_WINDOW).contains(&window)
                    || !(MIN_WINDOW..=MAX_WINDOW).contains(&reveal)
                {
                    return Err("ParameterOutOfRange");
                }
                (self.committee_size, self.dispute_window, self.reveal_window) =
                    (*size, window, reveal);
                Ok(Effect::None)
            }
            Call::SetTreasury(who) | Call::SetCoordinator(who, _) => {
                self.only_owner(from)?;
                if who.is_zero() {
                    return Err("ZeroAddress");
                }
                match call {
                    Call::SetCoordinator(_, true) => self.coordinators.insert(*who),
                    Call::SetCoordinator(_, false) => self.coordinators.remove(who),
                    _ => {
                        self.treasury = *who;
                        true
                    }
                };
                Ok(Effect::None)
            }
            Call::SetMinStake(amount) => {
                self.only_owner(from)?;
                if *amount > U256::from(u128::MAX >> 32) {
                    return Err("AmountTooLarge");
                }
                self.min_stake = *amount;
                Ok(Effect::None)
            }
            Call::SetJailDuration(secs) | Call::SetUnbondingDelay(secs) => {
                self.only_owner(from)?;
                if *secs > MAX_REGISTRY_DURATION {
                    return Err("ParameterOutOfRange");
                }
                if matches!(call, Call::SetJailDuration(_)) {
                    self.jail_duration = *secs;
                } else {
                    self.unbonding_delay = *secs;
                }
                Ok(Effect::None)
            }
        }
    }

    fn only_owner(&self, from: Address) -> Result<(), Revert> {
        if from != self.owner {
            Err("OwnableUnauthorizedAccount")
        } else {
            Ok(())
        }
    }

    fn create_task(&mut self, from: Address, r: &TaskRequest, ts: u64) -> Result<u64, Revert> {
        // _validate
        if r.bounty.is_zero() || r.collateral.is_zero() {
            return Err("ZeroAmount");
        }
        if r.program_digest.is_zero() || r.input_digest.is_zero() {
            return Err("ZeroDigest");
        }
        if r.mode == Mode::Replicated {
            if r.replication < verity_settlement::MIN_REPLICATION
                || r.replication > MAX_REPLICATION
                || r.quorum > r.replication
                || u16::from(r.quorum) * 2 <= u16::from(r.replication)
            {
                return Err("InvalidReplication");
            }
        } else if r.replication != 1 || r.quorum != 1 {
            return Err("InvalidReplication");
        }
        self.edge(
            "createTask: assign deadline after now",
            ts,
            r.assign_deadline,
        );
        if r.assign_deadline <= ts {
            return Err("DeadlineInPast");
        }
        if r.commit_deadline <= r.assign_deadline {
            return Err("DeadlinesOutOfOrder");
        }
        if r.commit_deadline - r.assign_deadline < self.min_response_window {
            return Err("WindowTooShort");
        }
        let mut last = r.commit_deadline;
        if r.mode == Mode::Replicated {
            if r.reveal_deadline <= r.commit_deadline {
                return Err("DeadlinesOutOfOrder");
            }
            if r.reveal_deadline - r.commit_deadline < self.min_reveal_window {
                return Err("WindowTooShort");
            }
            last = r.reveal_deadline;
        } else if r.reveal_deadline != 0 {
            return Err("DeadlinesOutOfOrder");
        }
        if last - ts > MAX_TASK_DURATION {
            return Err("TaskTooLong");
        }
        let window = u64::from(r.challenge_window);
        if r.mode == Mode::Optimistic {
            if window == 0 || window > MAX_CHALLENGE_WINDOW {
                return Err("InvalidChallengeWindow");
            }
            let p = r.audit_bps;
            if p < self.min_audit_bps || p > 10_000 {
                return Err("InvalidAuditRate");
            }
            if p != 0 && r.collateral < collateral_floor(r.bounty, p) {
                return Err("CollateralTooLow");
            }
        } else if window != 0 {
            return Err("InvalidChallengeWindow");
        } else if r.audit_bps != 0 {
            return Err("InvalidAuditRate");
        }
        let mut verifier = Address::ZERO;
        if r.mode == Mode::ZkProof {
            verifier = *self
                .verifiers
                .get(&r.verifier_id)
                .ok_or("UnknownVerifier")?;
        } else if !r.verifier_id.is_zero() {
            return Err("UnexpectedVerifier");
        }
        // The bounty comes from the market balance if it covers it, else from the wallet.
        let from_balance = self.account(from).market >= r.bounty;
        if !from_balance && self.account(from).wallet < r.bounty {
            return Err("ERC20InsufficientBalance");
        }
        let id = self.tasks.len() as u64 + 1;
        self.tasks.push(TaskM {
            id,
            client: from,
            mode: r.mode,
            status: Status::Open,
            replication: r.replication,
            quorum: r.quorum,
            protocol_bps: self.protocol_bps,
            scheduler_bps: self.scheduler_bps,
            bounty: r.bounty,
            collateral: r.collateral,
            assign_deadline: r.assign_deadline,
            commit_deadline: r.commit_deadline,
            reveal_deadline: r.reveal_deadline,
            challenge_window: window,
            submitted_at: 0,
            assigner: Address::ZERO,
            commits: 0,
            reveals: 0,
            declined: 0,
            program_digest: r.program_digest,
            input_digest: r.input_digest,
            result: B256::ZERO,
            verifier,
            audit_bps: r.audit_bps,
            submit_block: 0,
            cleared: false,
            operators: Vec::new(),
            seats: BTreeMap::new(),
            case: CaseM::default(),
            secrets: BTreeMap::new(),
            ballot_secrets: BTreeMap::new(),
            copied: false,
            credited: BTreeMap::new(),
            settlements: 0,
        });
        self.escrowed += r.bounty;
        if from_balance {
            self.acct(from).market -= r.bounty;
            self.total_credited -= r.bounty;
        } else {
            self.acct(from).wallet -= r.bounty;
            self.market_tokens += r.bounty;
        }
        Ok(id)
    }

    fn assign(&mut self, from: Address, id: u64, ops: &[Address], ts: u64) -> Result<(), Revert> {
        if !self.coordinators.contains(&from) {
            return Err("NotCoordinator");
        }
        let t = self.task(id)?;
        expect_status(t, Status::Open)?;
        self.edge("assign: assign deadline", ts, t.assign_deadline);
        if ts > t.assign_deadline {
            return Err("AssignDeadlinePassed");
        }
        if ops.len() != usize::from(t.replication) {
            return Err("WrongOperatorCount");
        }
        let collateral = t.collateral;
        for (i, op) in ops.iter().enumerate() {
            if op.is_zero() {
                return Err("ZeroAddress");
            }
            if ops[..i].contains(op) {
                return Err("DuplicateOperator");
            }
            self.can_lock(*op, collateral, ts, "assign: jailed until")?;
        }
        for op in ops {
            self.acct(*op).op.locked += collateral;
        }
        let t = self.task_mut(id);
        for op in ops {
            t.seats.insert(
                *op,
                SeatM {
                    seat: Seat::Assigned,
                    commit_block: 0,
                    commitment: B256::ZERO,
                    digest: B256::ZERO,
                },
            );
        }
        t.operators = ops.to_vec();
        t.status = Status::Assigned;
        t.assigner = from;
        Ok(())
    }

    /// `registry.lockCollateral`'s checks.
    fn can_lock(
        &self,
        op: Address,
        collateral: U256,
        ts: u64,
        check: &'static str,
    ) -> Result<(), Revert> {
        let o = self
            .accounts
            .get(&op)
            .map(|a| a.op.clone())
            .unwrap_or_default();
        if !o.registered {
            return Err("NotRegistered");
        }
        self.edge(check, ts, o.jailed_until);
        if o.jailed_until > ts {
            return Err("OperatorJailed");
        }
        if o.stake < self.min_stake {
            return Err("BelowMinimumStake");
        }
        if collateral > o.stake - o.locked {
            return Err("InsufficientFreeStake");
        }
        Ok(())
    }

    fn reassign(
        &mut self,
        from: Address,
        id: u64,
        seat: u64,
        to: Address,
        ts: u64,
    ) -> Result<(), Revert> {
        if !self.coordinators.contains(&from) {
            return Err("NotCoordinator");
        }
        let t = self.task(id)?;
        expect_status(t, Status::Assigned)?;
        let Some(i) = usize::try_from(seat)
            .ok()
            .filter(|i| *i < t.operators.len())
        else {
            return Err("SeatOutOfRange");
        };
        self.edge("reassign: commit deadline", ts, t.commit_deadline);
        if ts > t.commit_deadline {
            return Err("CommitDeadlinePassed");
        }
        self.edge(
            "reassign: minimum response window",
            ts + self.min_response_window,
            t.commit_deadline,
        );
        if t.commit_deadline - ts < self.min_response_window {
            return Err("ResponseWindowTooShort");
        }
        if to.is_zero() {
            return Err("ZeroAddress");
        }
        if t.operators.contains(&to) {
            return Err("DuplicateOperator");
        }
        let old = t.operators[i];
        let declined = t.seat(old) == Seat::Declined;
        if declined {
            if t.reveals > 0 {
                return Err("RevealPhaseStarted");
            }
        } else if t.seat(old) != Seat::Assigned {
            return Err("AlreadyCommitted");
        }
        let collateral = t.collateral;
        self.can_lock(to, collateral, ts, "reassign: jailed until")?;
        self.acct(to).op.locked += collateral;
        if declined {
            self.event("reassign: declined seat");
        } else {
            self.event("reassign: silent seat");
            self.release(old, collateral, false)?;
        }
        let t = self.task_mut(id);
        t.seats.remove(&old);
        t.seats.insert(
            to,
            SeatM {
                seat: Seat::Assigned,
                commit_block: 0,
                commitment: B256::ZERO,
                digest: B256::ZERO,
            },
        );
        if declined {
            t.declined -= 1;
        }
        t.operators[i] = to;
        Ok(())
    }

    fn finalize_replicated(&mut self, id: u64, ts: u64) -> Result<(), Revert> {
        let t = self.task(id)?;
        let revealed = |op: &Address| t.seats.get(op).filter(|s| s.seat == Seat::Revealed);
        let mut best = B256::ZERO;
        let mut best_count = 0usize;
        for op in &t.operators {
            let Some(s) = revealed(op) else { continue };
            let count = t
                .operators
                .iter()
                .filter(|o| revealed(o).is_some_and(|x| x.digest == s.digest))
                .count();
            if count > best_count {
                best_count = count;
                best = s.digest;
            }
        }
        let majority = best_count >= usize::from(t.quorum);
        let collateral = t.collateral;
        let mut winners = Vec::new();
        let mut slashed = Vec::new();
        let mut released = Vec::new();
        for op in &t.operators {
            let s = &t.seats[op];
            if s.seat == Seat::Declined {
                continue;
            }
            if s.seat != Seat::Revealed {
                slashed.push(*op);
            } else if !majority {
                released.push(*op);
            } else if s.digest == best {
                winners.push(*op);
            } else {
                slashed.push(*op);
            }
        }
        let treasury = self.treasury;
        if majority {
            self.event(if slashed.is_empty() {
                "replicated: unanimous"
            } else {
                "replicated: majority, someone slashed"
            });
        } else {
            self.event("replicated: no majority (refund)");
        }
        // The contract interleaves these per operator; the end state is the same.
        for op in slashed {
            self.slash_to(id, op, treasury, ts)?;
        }
        for op in released {
            self.release(op, collateral, false)?;
        }
        if majority {
            self.task_mut(id).result = best;
            self.pay_winners(id, &winners, best_count, ts, U256::ZERO)
        } else {
            self.refund(id);
            Ok(())
        }
    }

    fn pay_winners(
        &mut self,
        id: u64,
        winners: &[Address],
        count: usize,
        _ts: u64,
        withheld: U256,
    ) -> Result<(), Revert> {
        let t = self.task_mut(id);
        t.status = Status::Finalized;
        t.settlements += 1;
        let (bounty, collateral, assigner) = (t.bounty, t.collateral, t.assigner);
        let protocol_fee = bounty * U256::from(t.protocol_bps) / U256::from(10_000);
        let scheduler_fee = bounty * U256::from(t.scheduler_bps) / U256::from(10_000);
        self.escrowed -= bounty;
        // `withheld` (an audit's fee) leaves escrow with the bounty; the caller sends it on.
        let reward = bounty - protocol_fee - scheduler_fee - withheld;
        let each = reward / U256::from(count);
        let dust = reward - each * U256::from(count);
        for w in &winners[..count] {
            self.release(*w, collateral, true)?;
            self.credit(id, *w, each);
        }
        let treasury = self.treasury;
        // The division remainder goes to the treasury with the protocol fee.
        self.credit(id, treasury, protocol_fee + dust);
        self.credit(id, assigner, scheduler_fee);
        Ok(())
    }

    fn refund(&mut self, id: u64) {
        let t = self.task_mut(id);
        t.status = Status::Refunded;
        t.settlements += 1;
        let (bounty, client) = (t.bounty, t.client);
        self.escrowed -= bounty;
        self.credit(id, client, bounty);
    }

    fn slash_to(&mut self, id: u64, op: Address, to: Address, ts: u64) -> Result<(), Revert> {
        let amount = self.task(id)?.collateral;
        let jail = self.jail_duration;
        let o = &mut self.acct(op).op;
        if amount > o.locked {
            return Err("CollateralUnderflow");
        }
        o.locked -= amount;
        o.stake -= amount;
        o.tasks_failed += 1;
        o.times_slashed += 1;
        o.jailed_until = o.jailed_until.max(ts + jail);
        self.registry_tokens -= amount;
        self.market_tokens += amount;
        self.credit(id, to, amount);
        let block = self.block;
        self.sync(op, ts, block);
        Ok(())
    }

    fn release(&mut self, op: Address, amount: U256, completed: bool) -> Result<(), Revert> {
        let o = &mut self.acct(op).op;
        if amount > o.locked {
            return Err("CollateralUnderflow");
        }
        o.locked -= amount;
        if completed {
            o.tasks_completed += 1;
        } else {
            o.tasks_failed += 1;
        }
        Ok(())
    }

    fn credit(&mut self, id: u64, who: Address, amount: U256) {
        if amount.is_zero() {
            return;
        }
        self.acct(who).market += amount;
        self.total_credited += amount;
        *self.task_mut(id).credited.entry(who).or_default() += amount;
    }

    /// The model's own bookkeeping identities. They hold by construction if the model is right;
    /// since the model is compared to the chain after every step they also hold on chain.
    pub fn check_identities(&self) -> Result<(), String> {
        let mut escrowed = U256::ZERO;
        let mut bonded = U256::ZERO;
        let mut locked: BTreeMap<Address, U256> = BTreeMap::new();
        for t in &self.tasks {
            let terminal = t.status.is_terminal();
            if t.settlements != u32::from(terminal) {
                return Err(format!(
                    "task {} settled {} times, status {:?}",
                    t.id, t.settlements, t.status
                ));
            }
            if terminal {
                continue;
            }
            escrowed += t.bounty;
            // A challenge's bond; an audit has none.
            if t.status == Status::Challenged && !t.case.challenger.is_zero() {
                bonded += t.collateral;
            }
            for (op, s) in &t.seats {
                if matches!(s.seat, Seat::Assigned | Seat::Committed | Seat::Revealed) {
                    *locked.entry(*op).or_default() += t.collateral;
                }
            }
            // Committee members' bonds stay locked until the case closes.
            for m in &t.case.committee {
                *locked.entry(*m).or_default() += t.case.member_bond;
            }
        }
        let credited: U256 = self.accounts.values().map(|a| a.market).sum();
        let staked: U256 = self
            .accounts
            .values()
            .map(|a| a.op.stake + a.op.unbonding)
            .sum();
        let checks = [
            ("escrowed == sum of live bounties", self.escrowed, escrowed),
            ("bonded == sum of live bonds", self.bonded, bonded),
            (
                "totalCredited == sum of balances",
                self.total_credited,
                credited,
            ),
            (
                "market tokens == escrowed + bonded + credited",
                self.market_tokens,
                escrowed + bonded + credited,
            ),
            (
                "registry tokens == stakes + unbonding",
                self.registry_tokens,
                staked,
            ),
            (
                "court tokens == sum of court balances",
                self.court_tokens,
                self.accounts.values().map(|a| a.court).sum(),
            ),
        ];
        for (what, got, want) in checks {
            if got != want {
                return Err(format!("model identity broken: {what}: {got} != {want}"));
            }
        }
        for (who, a) in &self.accounts {
            let want = locked.get(who).copied().unwrap_or_default();
            if a.op.locked != want {
                return Err(format!(
                    "{who}: locked {} != collateral of its open seats {want}",
                    a.op.locked
                ));
            }
            if a.op.locked > a.op.stake {
                return Err(format!(
                    "{who}: locked {} > stake {}",
                    a.op.locked, a.op.stake
                ));
            }
        }
        Ok(())
    }
}

fn expect_status(t: &TaskM, s: Status) -> Result<(), Revert> {
    if t.status != s {
        Err("WrongStatus")
    } else {
        Ok(())
    }
}

fn expect_mode(t: &TaskM, m: Mode) -> Result<(), Revert> {
    if t.mode != m {
        Err("WrongMode")
    } else {
        Ok(())
    }
}

fn expect_mode_not(t: &TaskM, m: Mode) -> Result<(), Revert> {
    if t.mode == m {
        Err("WrongMode")
    } else {
        Ok(())
    }
}
