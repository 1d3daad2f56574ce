//! The reference model: `TaskMarket` and `NodeRegistry` rewritten in plain Rust, check for check
//! in the contracts' order, so that every call's outcome (success and its effects, or the name
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
use verity_settlement::{Mode, Seat, Status, TaskRequest};

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
    DrawCommittee(u64),
    Vote(u64, B256),
    ResolveDispute(u64),
    Withdraw,
    Deposit(U256),
    Stake(U256),
    RequestUnstake(U256),
    WithdrawUnbonded,
    /// An empty block (`evm_mine`).
    Mine,
    // ---- governance (owner only)
    SetFees(u16, u16),
    SetDisputeParams(u8, u32),
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
            | Call::DrawCommittee(id)
            | Call::Vote(id, _)
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
}

/// The block a call lands in.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    pub ts: u64,
    pub block: u64,
    /// `blockhash` of the block `DrawCommittee` seeds from (see [`Model::draw_hash_block`]).
    pub seed_hash: Option<B256>,
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

/// Everything one address holds: token wallet, market balance, registry record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub wallet: U256,
    pub market: U256,
    pub op: OpState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatM {
    pub seat: Seat,
    pub commit_block: u64,
    pub commitment: B256,
    pub digest: B256,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisputeM {
    pub challenger: Address,
    pub challenge_block: u64,
    pub vote_deadline: u64,
    pub agree: u8,
    pub disagree: u8,
    pub drawn: bool,
    pub rounds: u8,
    pub pool_size: u32,
    pub seed_block: u64,
    /// Snapshots at the challenge.
    pub size: u8,
    pub window: u64,
    pub min_stake: U256,
    pub committee: Vec<Address>,
    pub voted: BTreeSet<Address>,
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
    pub operators: Vec<Address>,
    pub seats: BTreeMap<Address, SeatM>,
    pub dispute: DisputeM,
    // ---- bookkeeping of the test, not contract state
    /// What each committed operator would open its commitment with: (digest, salt).
    pub secrets: BTreeMap<Address, (B256, B256)>,
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
            Status::Challenged => vec![self.dispute.vote_deadline],
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
            d = d.max(self.dispute.vote_deadline);
        }
        d
    }
}

/// The true result of a task: a function of its input.
pub fn truth(input: B256) -> B256 {
    keccak256((B256::from(keccak256("verity-result")), input).abi_encode())
}

/// The mock verifier's proof for a statement.
pub fn mock_proof(program: B256, input: B256, digest: B256, binding: B256) -> Bytes {
    Bytes::from(keccak256((program, input, digest, binding).abi_encode()).to_vec())
}

pub const MAX_REPLICATION: u8 = 16;
pub const MAX_FEE_BPS: u16 = 1_000;
pub const MAX_COMMITTEE: u8 = 15;
pub const MIN_DISPUTE_WINDOW: u64 = 60;
pub const MAX_DISPUTE_WINDOW: u64 = 7 * 86_400;
pub const MAX_REGISTRY_DURATION: u64 = 30 * 86_400;
pub const MAX_TASK_DURATION: u64 = 30 * 86_400;
pub const MAX_CHALLENGE_WINDOW: u64 = 7 * 86_400;
pub const DRAW_TRIES_PER_SEAT: usize = 8;
pub const MAX_DRAW_ROUNDS: u8 = 4;
pub const CHALLENGE_REWARD_BPS: u64 = 2_000;
pub const DECLINE_FEE_BPS: u64 = 200;
pub const STAKE_WEIGHT_CAP_MULTIPLE: u64 = 10;
pub const MAX_ASSIGN_BATCH: usize = 32;

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
    pub committee_size: u8,
    pub dispute_window: u64,
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
    pub accounts: BTreeMap<Address, Account>,
    pub tasks: Vec<TaskM>,
    pub escrowed: U256,
    pub bonded: U256,
    pub total_credited: U256,
    /// Token balances of the two contracts.
    pub market_tokens: U256,
    pub registry_tokens: U256,
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

    /// The block whose hash seeds the committee if `DrawCommittee(id)` lands in block `block`
    /// (`None` if the draw would revert before reading it).
    pub fn draw_hash_block(&self, id: u64, block: u64) -> Option<u64> {
        let t = self.task(id).ok()?;
        if t.status != Status::Challenged || t.dispute.drawn {
            return None;
        }
        let seed_block = t.dispute.seed_block;
        if block <= seed_block {
            return None;
        }
        // BLOCKHASH answers for the 256 most recent blocks only; past that the market re-arms
        // instead of reading a hash.
        (block - seed_block <= 256).then_some(seed_block)
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
                Ok(Effect::None)
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
                self.pay_winners(*id, &[from], 1, ts)?;
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
                        self.pay_winners(*id, &ops, 1, ts)?;
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
                let window = self.dispute_window;
                let t = self.task_mut(*id);
                t.status = Status::Challenged;
                t.dispute.challenger = from;
                t.dispute.challenge_block = env.block;
                t.dispute.seed_block = env.block + 1;
                t.dispute.vote_deadline = ts + window;
                let pool = self.eligible_list.len() as u32;
                let (size, min_stake) = (self.committee_size, self.min_stake);
                let t = self.task_mut(*id);
                t.dispute.pool_size = pool;
                t.dispute.size = size;
                t.dispute.window = window;
                t.dispute.min_stake = min_stake;
                self.bonded += bond;
                self.acct(from).wallet -= bond;
                self.market_tokens += bond;
                Ok(Effect::None)
            }
            Call::DrawCommittee(id) => {
                let t = self.task(*id)?;
                expect_status(t, Status::Challenged)?;
                let d = &t.dispute;
                if d.drawn {
                    return Err("CommitteeAlreadyDrawn");
                }
                self.edge("drawCommittee: vote deadline", ts, d.vote_deadline);
                if ts > d.vote_deadline {
                    return Err("VotingClosed");
                }
                if env.block <= d.seed_block {
                    return Err("SeedNotReady");
                }
                if env.block - d.seed_block > 256 {
                    self.event("drawCommittee: seed expired, re-armed");
                    self.task_mut(*id).dispute.seed_block = env.block + 1;
                    return Ok(Effect::None);
                }
                let block_seed = env
                    .seed_hash
                    .expect("the driver fetches the seed block's hash");
                let seed =
                    keccak256((block_seed, U256::from(*id), U256::from(d.rounds)).abi_encode());
                let exclude = [t.operators[0], d.challenger, t.client];
                let size = usize::from(d.size);
                let mut committee = d.committee.clone();
                let want = size.saturating_sub(committee.len());
                let pool = d.pool_size as usize;
                let snapshot = d.challenge_block;
                let min_stake = d.min_stake;
                let cap = (min_stake * U256::from(STAKE_WEIGHT_CAP_MULTIPLE)).max(U256::from(1));
                let mut picked = 0;
                for i in 0..want * DRAW_TRIES_PER_SEAT {
                    if picked >= want || pool == 0 {
                        break;
                    }
                    let r = U256::from_be_bytes(keccak256((seed, U256::from(i)).abi_encode()).0);
                    let slot = (r % U256::from(pool)).to::<usize>();
                    let Some(&c) = self.eligible_list.get(slot) else {
                        continue;
                    };
                    let o = &self.account(c).op;
                    if !o.registered || o.jailed_until > ts || o.stake < min_stake {
                        continue;
                    }
                    if self.eligible_since[&c] >= snapshot {
                        continue;
                    }
                    let weight = self.account(c).op.stake.min(cap);
                    if (r >> 128) % cap >= weight {
                        continue;
                    }
                    if exclude.contains(&c) || committee.contains(&c) {
                        continue;
                    }
                    committee.push(c);
                    picked += 1;
                }
                let d = &mut self.task_mut(*id).dispute;
                let window = d.window;
                d.committee = committee;
                d.rounds += 1;
                if d.committee.len() < size && d.rounds < MAX_DRAW_ROUNDS {
                    d.seed_block = env.block + 1;
                } else {
                    d.drawn = true;
                    d.vote_deadline = ts + window;
                }
                Ok(Effect::None)
            }
            Call::Vote(id, digest) => {
                let t = self.task(*id)?;
                expect_status(t, Status::Challenged)?;
                let d = &t.dispute;
                self.edge("vote: vote deadline", ts, d.vote_deadline);
                if ts > d.vote_deadline {
                    return Err("VotingClosed");
                }
                if !d.committee.contains(&from) {
                    return Err("NotCommitteeMember");
                }
                if d.voted.contains(&from) {
                    return Err("AlreadyVoted");
                }
                let agrees = *digest == t.result;
                let d = &mut self.task_mut(*id).dispute;
                d.voted.insert(from);
                if agrees {
                    d.agree += 1;
                } else {
                    d.disagree += 1;
                }
                Ok(Effect::None)
            }
            Call::ResolveDispute(id) => {
                let t = self.task(*id)?;
                expect_status(t, Status::Challenged)?;
                let d = &t.dispute;
                let size = d.committee.len();
                let all_voted = d.drawn && usize::from(d.agree) + usize::from(d.disagree) == size;
                if !all_voted {
                    self.edge("resolveDispute: vote deadline", ts, d.vote_deadline);
                    if ts <= d.vote_deadline {
                        return Err("TooEarly");
                    }
                }
                let (operator, challenger, bond) = (t.operators[0], d.challenger, t.collateral);
                let overturned = size > 0 && usize::from(d.disagree) * 2 > size;
                let confirmed = size > 0 && usize::from(d.agree) * 2 > size;
                self.bonded -= bond;
                self.event(if overturned {
                    "dispute: overturned"
                } else if confirmed {
                    "dispute: confirmed (bond to operator)"
                } else {
                    "dispute: undecided (bond returned)"
                });
                if size == 0 {
                    self.event("dispute: no committee (nobody slashed)");
                    self.release(operator, bond, false)?;
                    self.credit(*id, challenger, bond);
                    self.refund(*id);
                } else if overturned {
                    let treasury = self.treasury;
                    self.slash_to(*id, operator, treasury, ts)?;
                    // The challenger's share moves from the treasury's accrual to it.
                    let reward = bond * U256::from(CHALLENGE_REWARD_BPS) / U256::from(10_000);
                    self.acct(treasury).market -= reward;
                    *self.task_mut(*id).credited.entry(treasury).or_default() -= reward;
                    self.total_credited -= reward;
                    self.credit(*id, challenger, bond + reward);
                    self.refund(*id);
                } else {
                    self.credit(*id, if confirmed { operator } else { challenger }, bond);
                    self.pay_winners(*id, &[operator], 1, ts)?;
                }
                Ok(Effect::None)
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
            Call::SetDisputeParams(size, window) => {
                self.only_owner(from)?;
                let window = u64::from(*window);
                if *size == 0
                    || *size > MAX_COMMITTEE
                    || !(MIN_DISPUTE_WINDOW..=MAX_DISPUTE_WINDOW).contains(&window)
                {
                    return Err("ParameterOutOfRange");
                }
                (self.committee_size, self.dispute_window) = (*size, window);
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
            if r.replication == 0
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
        } else if window != 0 {
            return Err("InvalidChallengeWindow");
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
            operators: Vec::new(),
            seats: BTreeMap::new(),
            dispute: DisputeM::default(),
            secrets: BTreeMap::new(),
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
            self.pay_winners(id, &winners, best_count, ts)
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
    ) -> Result<(), Revert> {
        let t = self.task_mut(id);
        t.status = Status::Finalized;
        t.settlements += 1;
        let (bounty, collateral, assigner) = (t.bounty, t.collateral, t.assigner);
        let protocol_fee = bounty * U256::from(t.protocol_bps) / U256::from(10_000);
        let scheduler_fee = bounty * U256::from(t.scheduler_bps) / U256::from(10_000);
        self.escrowed -= bounty;
        let reward = bounty - protocol_fee - scheduler_fee;
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
            if t.status == Status::Challenged {
                bonded += t.collateral;
            }
            for (op, s) in &t.seats {
                if matches!(s.seat, Seat::Assigned | Seat::Committed | Seat::Revealed) {
                    *locked.entry(*op).or_default() += t.collateral;
                }
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
