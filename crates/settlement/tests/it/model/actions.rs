//! Random actions by every actor, with time moves biased to deadline edges, and the scheduler
//! that keeps honest operators on time.

use std::{cmp::Reverse, collections::BinaryHeap};

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use rand::{
    Rng,
    rngs::StdRng,
    seq::{IndexedRandom, SliceRandom},
};
use verity_settlement::{Mode, Seat, Status, TaskRequest};

use super::reference::{Call, Model, TaskM, mock_proof, truth};
use crate::harness::tokens;

/// The id the tests register the mock verifier under.
pub const VERIFIER_ID: B256 = B256::repeat_byte(0x2a);
/// At most this many unsettled tasks at once (more would only dilute the actions per task).
const MAX_LIVE: usize = 6;

/// Who is who.
#[derive(Debug, Clone)]
pub struct Cast {
    pub owner: Address,
    pub coordinator: Address,
    pub treasury: Address,
    pub clients: [Address; 2],
    pub challenger: Address,
    pub keeper: Address,
    /// Follow the protocol, always on time.
    pub honest: Vec<Address>,
    /// Copies other operators' commitments.
    pub copier: Address,
    /// Wrong results, silence, early withdrawals, unstaking locked stake.
    pub griefer: Address,
    /// Everyone, for withdrawals and the final accounting.
    pub everyone: Vec<Address>,
}

impl Cast {
    pub fn is_honest(&self, who: Address) -> bool {
        self.honest.contains(&who)
    }

    pub fn operators(&self) -> Vec<Address> {
        let mut v = self.honest.clone();
        v.push(self.copier);
        v.push(self.griefer);
        v
    }

    pub fn name(&self, who: Address) -> String {
        if let Some(i) = self.honest.iter().position(|a| *a == who) {
            return format!("honest{i}");
        }
        let named = [
            (self.owner, "owner"),
            (self.coordinator, "coordinator"),
            (self.treasury, "treasury"),
            (self.clients[0], "client"),
            (self.clients[1], "client2"),
            (self.challenger, "challenger"),
            (self.keeper, "keeper"),
            (self.copier, "copier"),
            (self.griefer, "griefer"),
        ];
        named.iter().find(|(a, _)| *a == who).map_or_else(|| who.to_string(), |(_, n)| (*n).to_string())
    }
}

/// One step: who sends what, and the timestamp of the block it lands in.
#[derive(Debug, Clone)]
pub struct Action {
    pub from: Address,
    pub call: Call,
    pub ts: u64,
    /// Why the generator chose it (for the trace).
    pub why: &'static str,
}

// ------------------------------------------------------------------ honest obligations

/// Something an honest operator must still send: (release, deadline, the action).
#[derive(Debug, Clone)]
pub struct Obligation {
    pub release: u64,
    pub deadline: u64,
    pub from: Address,
    pub call: Call,
}

/// Every message honest operators still owe. A reveal is released once every seat committed,
/// else after the commit deadline; a commit's reveal is listed too (released after the commit
/// deadline) so that the schedule reserves a slot for it.
pub fn obligations(m: &Model, cast: &Cast) -> Vec<Obligation> {
    let mut out = Vec::new();
    for t in m.live_tasks().filter(|t| t.status == Status::Assigned) {
        for op in t.operators.iter().filter(|o| cast.is_honest(**o)) {
            let seat = t.seat(*op);
            let now = m.ts + 1;
            match (t.mode, seat) {
                (Mode::Replicated, Seat::Assigned) => {
                    let salt = keccak256((B256::from(U256::from(t.id)), *op).abi_encode_packed_pair());
                    let c = m.commitment(t.id, *op, truth(t.input_digest), salt);
                    out.push(Obligation { release: now, deadline: t.commit_deadline, from: *op, call: Call::Commit(t.id, c) });
                    out.push(Obligation {
                        release: t.commit_deadline + 1,
                        deadline: t.reveal_deadline,
                        from: *op,
                        call: Call::Mine, // placeholder slot for the later reveal
                    });
                }
                (Mode::Replicated, Seat::Committed) => {
                    let all = t.commits + t.declined == t.replication;
                    let release = if all { now } else { now.max(t.commit_deadline + 1) };
                    let (digest, salt) = t.secrets[op];
                    out.push(Obligation {
                        release,
                        deadline: t.reveal_deadline,
                        from: *op,
                        call: Call::Reveal(t.id, digest, salt),
                    });
                }
                (Mode::Optimistic, Seat::Assigned) => out.push(Obligation {
                    release: now,
                    deadline: t.commit_deadline,
                    from: *op,
                    call: Call::SubmitResult(t.id, truth(t.input_digest)),
                }),
                (Mode::ZkProof, Seat::Assigned) => {
                    let d = truth(t.input_digest);
                    let proof = mock_proof(t.program_digest, t.input_digest, d, m.binding(t.id, *op));
                    out.push(Obligation {
                        release: now,
                        deadline: t.commit_deadline,
                        from: *op,
                        call: Call::SubmitProof(t.id, d, proof),
                    });
                }
                _ => {}
            }
        }
    }
    out
}

/// Helper so the honest salt is a deterministic function of (task, operator).
trait PackedPair {
    fn abi_encode_packed_pair(&self) -> Vec<u8>;
}

impl PackedPair for (B256, Address) {
    fn abi_encode_packed_pair(&self) -> Vec<u8> {
        let mut v = self.0.to_vec();
        v.extend_from_slice(self.1.as_slice());
        v
    }
}

/// Whether unit jobs with these (release, deadline) windows can all run, one per second, from
/// second `start` on (earliest deadline first, which is optimal for unit jobs).
pub fn feasible(windows: &[(u64, u64)], start: u64) -> bool {
    let mut jobs: Vec<(u64, u64)> = windows.iter().map(|(r, d)| ((*r).max(start), *d)).collect();
    jobs.sort_unstable();
    let mut ready = BinaryHeap::new();
    let mut t = start;
    let mut i = 0;
    while i < jobs.len() || !ready.is_empty() {
        if ready.is_empty() && jobs[i].0 > t {
            t = jobs[i].0;
        }
        while i < jobs.len() && jobs[i].0 <= t {
            ready.push(Reverse(jobs[i].1));
            i += 1;
        }
        let Reverse(deadline) = ready.pop().expect("a ready job");
        if deadline < t {
            return false;
        }
        t += 1;
    }
    true
}

/// The obligations an assignment would create (with the task as it would be once assigned).
fn new_obligations(m: &Model, cast: &Cast, t: &TaskM, ops: &[Address], at: u64) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    for op in ops.iter().filter(|o| cast.is_honest(**o)) {
        v.push((at + 1, t.commit_deadline));
        if t.mode == Mode::Replicated {
            v.push((t.commit_deadline + 1, t.reveal_deadline));
        }
        let _ = (m, op);
    }
    v
}

/// Makes `action` safe for honest operators: if sending it at its timestamp would leave them
/// unable to meet a deadline, an owed message goes first at the next second instead.
pub fn guard(m: &Model, cast: &Cast, action: Action) -> Action {
    let owed = obligations(m, cast);
    let mut windows: Vec<(u64, u64)> = owed.iter().map(|o| (o.release, o.deadline)).collect();
    if let Call::Assign(id, ops) = &action.call
        && let Ok(t) = m.task(*id)
    {
        windows.extend(new_obligations(m, cast, t, ops, action.ts));
    }
    if feasible(&windows, action.ts + 1) {
        return action;
    }
    let next = m.ts + 1;
    // Earliest deadline first among what can be sent now.
    let due = owed
        .iter()
        .filter(|o| o.release <= next && !matches!(o.call, Call::Mine))
        .min_by_key(|o| o.deadline);
    if let Some(o) = due {
        return Action { from: o.from, call: o.call.clone(), ts: next, why: "honest (due)" };
    }
    let at_next = Action { ts: next, ..action };
    if matches!(at_next.call, Call::Assign(..)) {
        let owed_only: Vec<(u64, u64)> = owed.iter().map(|o| (o.release, o.deadline)).collect();
        let mut with = owed_only.clone();
        if let Call::Assign(id, ops) = &at_next.call
            && let Ok(t) = m.task(*id)
        {
            with.extend(new_obligations(m, cast, t, ops, next));
        }
        if !feasible(&with, next + 1) {
            return Action { from: cast.keeper, call: Call::Mine, ts: next, why: "assign would overload honest" };
        }
    }
    at_next
}

// ------------------------------------------------------------------ time

/// A timestamp for the next block: mostly one second on, often an edge (D-1, D, D+1) of a
/// deadline of `focus` (or of any live task), sometimes a small jump.
fn pick_ts(rng: &mut StdRng, m: &Model, focus: &[u64]) -> u64 {
    let next = m.ts + 1;
    let roll = rng.random_range(0..100);
    let edge = |rng: &mut StdRng, ds: &[u64]| -> Option<u64> {
        let d = *ds.choose(rng)?;
        let t = (d + rng.random_range(0..3)).checked_sub(1)?;
        (t >= next).then_some(t)
    };
    if roll < 40 {
        if let Some(t) = edge(rng, focus) {
            return t;
        }
    } else if roll < 55 {
        let all: Vec<u64> = m.live_tasks().flat_map(|t| t.deadlines()).collect();
        if let Some(t) = edge(rng, &all) {
            return t;
        }
    } else if roll < 65 {
        return next + rng.random_range(1..15);
    }
    next
}

// ------------------------------------------------------------------ generation

fn random_b256(rng: &mut StdRng) -> B256 {
    B256::from(rng.random::<[u8; 32]>())
}

fn amount(rng: &mut StdRng, lo: u64, hi: u64) -> U256 {
    tokens(rng.random_range(lo..=hi)) + U256::from(rng.random_range(0..1_000u64))
}

fn pick_task<'a>(rng: &mut StdRng, m: &'a Model, f: impl Fn(&TaskM) -> bool) -> Option<&'a TaskM> {
    let v: Vec<&TaskM> = m.tasks.iter().filter(|t| f(t)).collect();
    v.choose(rng).copied()
}

/// The next action. Honest operators' deadlines are protected by [`guard`].
pub fn next(rng: &mut StdRng, m: &Model, cast: &Cast) -> Action {
    for _ in 0..20 {
        if let Some(a) = propose(rng, m, cast) {
            return guard(m, cast, a);
        }
    }
    guard(m, cast, Action { from: cast.keeper, call: Call::Mine, ts: m.ts + 1, why: "idle" })
}

fn propose(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let live = m.live_tasks().count();
    let weights: [(u32, fn(&mut StdRng, &Model, &Cast) -> Option<Action>); 12] = [
        (if live < MAX_LIVE { 14 } else { 1 }, create),
        (2, cancel),
        (10, assign),
        (16, honest),
        (5, copier),
        (8, griefer),
        (5, challenge),
        (6, vote),
        (12, keeper),
        (4, withdraw),
        (3, stake),
        (1, |_, m, c| Some(Action { from: c.keeper, call: Call::Mine, ts: m.ts + 1, why: "mine" })),
    ];
    let total: u32 = weights.iter().map(|w| w.0).sum();
    let mut roll = rng.random_range(0..total);
    for (w, f) in weights {
        if roll < w {
            return f(rng, m, cast);
        }
        roll -= w;
    }
    None
}

fn create(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let from = *cast.clients.choose(rng)?;
    let ts = pick_ts(rng, m, &[]);
    let mode = *[Mode::Replicated, Mode::Replicated, Mode::Optimistic, Mode::ZkProof].choose(rng)?;
    let (replication, quorum) = match mode {
        Mode::Replicated => {
            let r: u8 = rng.random_range(1..=5);
            (r, rng.random_range(r / 2 + 1..=r))
        }
        _ => (1, 1),
    };
    let spare = u64::from(replication) + 2;
    let assign_deadline = ts + rng.random_range(2..30);
    let commit_deadline = assign_deadline + rng.random_range(spare..spare + 30);
    let reveal_deadline =
        if mode == Mode::Replicated { commit_deadline + rng.random_range(spare..spare + 30) } else { 0 };
    let mut req = TaskRequest {
        mode,
        replication,
        quorum,
        program_digest: keccak256(format!("program-{}", rng.random_range(0..4))),
        input_digest: random_b256(rng),
        bounty: amount(rng, 1, 40),
        collateral: amount(rng, 10, 60),
        assign_deadline,
        commit_deadline,
        reveal_deadline,
        challenge_window: if mode == Mode::Optimistic { rng.random_range(2..30) } else { 0 },
        verifier_id: if mode == Mode::ZkProof { VERIFIER_ID } else { B256::ZERO },
    };
    let mut why = "create";
    if rng.random_bool(0.12) {
        why = "create (invalid)";
        match rng.random_range(0..9) {
            0 => req.assign_deadline = ts,
            1 => req.quorum = req.replication / 2,
            2 => req.commit_deadline = req.assign_deadline,
            3 => req.bounty = U256::ZERO,
            4 => req.reveal_deadline = ts + 30 * 86_400 + 1,
            5 => req.verifier_id = random_b256(rng),
            6 => req.challenge_window = if mode == Mode::Optimistic { 0 } else { 5 },
            7 => req.bounty = tokens(1_000_000),
            _ => req.input_digest = B256::ZERO,
        }
    }
    Some(Action { from, call: Call::CreateTask(Box::new(req)), ts, why })
}

fn cancel(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let t = pick_task(rng, m, |t| t.status == Status::Open).or_else(|| m.tasks.choose(rng))?;
    let from = if rng.random_bool(0.85) { t.client } else { *cast.clients.choose(rng)? };
    Some(Action { from, call: Call::Cancel(t.id), ts: pick_ts(rng, m, &[]), why: "cancel" })
}

/// Operators that could take a seat of `t` at `ts`.
fn can_seat(m: &Model, t: &TaskM, op: Address, ts: u64) -> bool {
    m.eligible(op, ts) && m.free_stake(op) >= t.collateral
}

fn assign(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let t = pick_task(rng, m, |t| t.status == Status::Open)?;
    let ts = pick_ts(rng, m, &[t.assign_deadline]);
    let r = usize::from(t.replication);
    let mut honest: Vec<Address> = cast.honest.iter().copied().filter(|o| can_seat(m, t, *o, ts)).collect();
    let mut bad: Vec<Address> = [cast.copier, cast.griefer].into_iter().filter(|o| can_seat(m, t, *o, ts)).collect();
    honest.shuffle(rng);
    bad.shuffle(rng);
    let mut ops: Vec<Address> = if t.mode == Mode::Replicated {
        // The copier and the griefer together stay a strict minority.
        let max_bad = (r - 1) / 2;
        let b = rng.random_range(0..=max_bad.min(bad.len()));
        let mut v: Vec<Address> = bad[..b].to_vec();
        v.extend(honest.iter().take(r - b));
        v
    } else {
        let pool: Vec<Address> = if rng.random_bool(0.5) { honest.clone() } else { bad.clone() };
        pool.choose(rng).or_else(|| honest.first()).or_else(|| bad.first()).into_iter().copied().collect()
    };
    let mut from = cast.coordinator;
    let mut why = "assign";
    if rng.random_bool(0.12) {
        why = "assign (invalid)";
        match rng.random_range(0..5) {
            0 => from = cast.keeper,
            1 => {
                ops.pop();
            }
            2 if !ops.is_empty() => ops.push(ops[0]),
            3 => ops.push(cast.challenger),
            // Anyone, eligible or not (jailed, short of stake): the model knows the outcome.
            _ => {
                let all = cast.operators();
                if let Some(slot) = ops.first_mut() {
                    *slot = *all.choose(rng)?;
                }
            }
        }
    }
    if ops.len() != r && why == "assign" {
        why = "assign (short of operators)";
    }
    // An assignment that could succeed must keep the honest majority on replicated tasks.
    let bad_seats = ops.iter().filter(|o| !cast.is_honest(**o)).count();
    if t.mode == Mode::Replicated && bad_seats * 2 >= r && ops.len() == r {
        let mut probe = m.clone();
        let env = super::reference::Env { ts, block: m.block + 1, seed_hash: None };
        if probe.apply(from, &Call::Assign(t.id, ops.clone()), &env).is_ok() {
            return None;
        }
    }
    Some(Action { from, call: Call::Assign(t.id, ops), ts, why })
}

fn honest(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let owed: Vec<Obligation> =
        obligations(m, cast).into_iter().filter(|o| !matches!(o.call, Call::Mine) && o.release <= o.deadline).collect();
    if owed.is_empty() {
        // Nothing owed: an honest operator tidies up (withdraws, adjusts stake) or declines.
        return None;
    }
    let o = owed.choose(rng)?;
    // Anywhere in its window, often at the very edge.
    let lo = o.release.max(m.ts + 1);
    if lo > o.deadline {
        return None;
    }
    let ts = match rng.random_range(0..4) {
        0 => o.deadline,
        1 => o.deadline.saturating_sub(1).max(lo),
        _ => lo,
    };
    if rng.random_bool(0.04)
        && let Some(id) = o.call.task()
        && m.task(id).is_ok_and(|t| t.seat(o.from) == Seat::Assigned)
    {
        return Some(Action { from: o.from, call: Call::Decline(id), ts, why: "honest declines" });
    }
    Some(Action { from: o.from, call: o.call.clone(), ts, why: "honest" })
}

fn copier(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let me = cast.copier;
    let Some(t) = pick_task(rng, m, |t| !t.status.is_terminal() && t.seat(me) != Seat::None) else {
        return misc(rng, m, me);
    };
    let ts = pick_ts(rng, m, &t.deadlines());
    let call = match (t.mode, t.seat(me)) {
        (Mode::Replicated, Seat::Assigned) => {
            // Someone else's commitment, verbatim: on this task if any, else from elsewhere.
            let here: Vec<B256> = t.seats.iter().filter(|(o, s)| **o != me && !s.commitment.is_zero()).map(|(_, s)| s.commitment).collect();
            let elsewhere: Vec<B256> = m.tasks.iter().flat_map(|x| x.seats.values()).map(|s| s.commitment).filter(|c| !c.is_zero()).collect();
            let c = here.choose(rng).or_else(|| elsewhere.choose(rng)).copied().unwrap_or_else(|| random_b256(rng));
            Call::Commit(t.id, c)
        }
        (Mode::Replicated, Seat::Committed) => {
            // Open it with what the original committer used (the copier saw its reveal).
            let (d, s) = t.secrets.get(&me).copied().unwrap_or((truth(t.input_digest), random_b256(rng)));
            Call::Reveal(t.id, d, s)
        }
        (Mode::Optimistic, Seat::Assigned) => {
            // Another task's result (copied), or nothing.
            if rng.random_bool(0.5) {
                return misc(rng, m, me);
            }
            let r = m.tasks.iter().map(|x| x.result).filter(|r| !r.is_zero()).collect::<Vec<_>>();
            Call::SubmitResult(t.id, r.choose(rng).copied().unwrap_or_else(|| random_b256(rng)))
        }
        (Mode::ZkProof, Seat::Assigned) => {
            // A proof made for another operator's binding.
            let d = truth(t.input_digest);
            let other = *cast.honest.choose(rng)?;
            Call::SubmitProof(t.id, d, mock_proof(t.program_digest, t.input_digest, d, m.binding(t.id, other)))
        }
        _ => return misc(rng, m, me),
    };
    Some(Action { from: me, call, ts, why: "copier" })
}

fn griefer(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let me = cast.griefer;
    let seated = pick_task(rng, m, |t| !t.status.is_terminal() && t.seat(me) != Seat::None);
    let Some(t) = seated.filter(|_| rng.random_bool(0.7)) else {
        return misc(rng, m, me);
    };
    let ts = pick_ts(rng, m, &t.deadlines());
    let wrong = keccak256((t.input_digest, B256::repeat_byte(0xee)).abi_encode_packed_pair_b());
    let call = match (t.mode, t.seat(me), t.status) {
        (Mode::Replicated, Seat::Assigned, _) => match rng.random_range(0..10) {
            0 => Call::Commit(t.id, B256::ZERO),
            1 => Call::Decline(t.id),
            2 => Call::Reveal(t.id, wrong, B256::ZERO),
            // Commits (to a wrong digest or the truth); see `record_secret` for what it opens.
            _ => {
                let d = if rng.random_bool(0.7) { wrong } else { truth(t.input_digest) };
                Call::Commit(t.id, m.commitment(t.id, me, d, B256::repeat_byte(0x99)))
            }
        },
        (Mode::Replicated, Seat::Committed, _) => match rng.random_range(0..6) {
            0 => Call::Reveal(t.id, wrong, B256::repeat_byte(0x01)),
            1 => Call::Decline(t.id),
            2 => return misc(rng, m, me), // silent
            _ => {
                let (d, s) = t.secrets.get(&me).copied().unwrap_or((wrong, B256::repeat_byte(0x99)));
                // Sometimes lies at reveal time: opens the commitment with another digest.
                if rng.random_bool(0.2) { Call::Reveal(t.id, truth(d), s) } else { Call::Reveal(t.id, d, s) }
            }
        },
        (Mode::Optimistic, Seat::Assigned, Status::Assigned) => match rng.random_range(0..6) {
            0 => Call::SubmitResult(t.id, B256::ZERO),
            1 => Call::SubmitResult(t.id, truth(t.input_digest)),
            2 => return misc(rng, m, me),
            _ => Call::SubmitResult(t.id, wrong),
        },
        (Mode::Optimistic, _, Status::Submitted) => Call::Challenge(t.id),
        (Mode::ZkProof, Seat::Assigned, _) => match rng.random_range(0..4) {
            0 => Call::SubmitProof(t.id, wrong, Bytes::from(vec![0u8; 31])),
            1 => {
                let d = truth(t.input_digest);
                Call::SubmitProof(t.id, d, mock_proof(t.program_digest, t.input_digest, d, m.binding(t.id + 1, me)))
            }
            2 => {
                let d = truth(t.input_digest);
                Call::SubmitProof(t.id, d, mock_proof(t.program_digest, t.input_digest, d, m.binding(t.id, me)))
            }
            _ => return misc(rng, m, me),
        },
        _ => return misc(rng, m, me),
    };
    Some(Action { from: me, call, ts, why: "griefer" })
}

trait PackedPairB {
    fn abi_encode_packed_pair_b(&self) -> Vec<u8>;
}

impl PackedPairB for (B256, B256) {
    fn abi_encode_packed_pair_b(&self) -> Vec<u8> {
        [self.0.as_slice(), self.1.as_slice()].concat()
    }
}

/// What a misbehaving operator does when it has no seat to abuse: tries to unstake locked
/// stake, withdraws early, votes without a seat, touches tasks it is not on.
fn misc(rng: &mut StdRng, m: &Model, me: Address) -> Option<Action> {
    let o = &m.account(me).op;
    let free = o.stake - o.locked;
    let ts = pick_ts(rng, m, &[o.unbonding_ready_at, o.jailed_until]);
    let call = match rng.random_range(0..8) {
        0 | 1 if !o.locked.is_zero() => Call::RequestUnstake(free + U256::from(rng.random_range(1..=1_000u64))),
        0 => Call::RequestUnstake(o.stake + U256::from(1)),
        1 => Call::RequestUnstake(free.min(tokens(rng.random_range(1..=30)))),
        2 => Call::Withdraw,
        3 => Call::WithdrawUnbonded,
        4 => {
            let t = m.tasks.choose(rng)?;
            Call::Vote(t.id, truth(t.input_digest))
        }
        5 => {
            let t = m.tasks.choose(rng)?;
            Call::Commit(t.id, random_b256(rng))
        }
        6 => {
            let t = m.tasks.choose(rng)?;
            Call::Decline(t.id)
        }
        _ => Call::Stake(tokens(rng.random_range(0..=200))),
    };
    Some(Action { from: me, call, ts, why: "misc" })
}

fn challenge(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let submitted = pick_task(rng, m, |t| t.status == Status::Submitted);
    let t = match submitted {
        // Right results are challenged too, less often.
        Some(t) if t.result != truth(t.input_digest) || rng.random_bool(0.4) => t,
        _ => m.tasks.choose(rng)?,
    };
    let from = if rng.random_bool(0.9) { cast.challenger } else { *cast.clients.choose(rng)? };
    let ts = pick_ts(rng, m, &[t.challenge_closes()]);
    Some(Action { from, call: Call::Challenge(t.id), ts, why: "challenge" })
}

fn vote(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let t = pick_task(rng, m, |t| t.status == Status::Challenged && t.dispute.drawn)?;
    let d = &t.dispute;
    let pending: Vec<Address> = d.committee.iter().copied().filter(|a| !d.voted.contains(a)).collect();
    let from = match rng.random_range(0..10) {
        // A member that already voted, or anyone.
        0 => *d.committee.choose(rng).or_else(|| cast.honest.first())?,
        1 => *cast.operators().choose(rng)?,
        _ => *pending.choose(rng)?,
    };
    // The griefer, when drawn, mostly stays silent.
    if from == cast.griefer && rng.random_bool(0.7) {
        return None;
    }
    let ts = pick_ts(rng, m, &[d.vote_deadline]);
    Some(Action { from, call: Call::Vote(t.id, truth(t.input_digest)), ts, why: "vote" })
}

fn keeper(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let roll = rng.random_range(0..100);
    let id = if roll < 85 {
        pick_task(rng, m, |t| !t.status.is_terminal()).or_else(|| m.tasks.choose(rng))?.id
    } else if roll < 97 {
        m.tasks.choose(rng)?.id
    } else {
        m.tasks.len() as u64 + 1 + rng.random_range(0..2)
    };
    let (call, focus) = match m.task(id) {
        Err(_) => (Call::Finalize(id), vec![]),
        Ok(t) => {
            let preferred = match (t.status, t.mode) {
                (Status::Open, _) => Call::ClaimTimeout(id),
                (Status::Assigned, Mode::Replicated) => Call::Finalize(id),
                (Status::Assigned, _) => Call::ClaimTimeout(id),
                (Status::Submitted, _) => Call::Finalize(id),
                (Status::Challenged, _) if !t.dispute.drawn && rng.random_bool(0.6) => Call::DrawCommittee(id),
                (Status::Challenged, _) => Call::ResolveDispute(id),
                _ => Call::Finalize(id),
            };
            let call = if rng.random_bool(0.8) {
                preferred
            } else {
                [Call::Finalize(id), Call::ClaimTimeout(id), Call::ResolveDispute(id), Call::DrawCommittee(id)]
                    .choose(rng)?
                    .clone()
            };
            (call, t.deadlines())
        }
    };
    let ts = pick_ts(rng, m, &focus);
    let from = if rng.random_bool(0.8) { cast.keeper } else { *cast.everyone.choose(rng)? };
    Some(Action { from, call, ts, why: "keeper" })
}

fn withdraw(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let with_balance: Vec<Address> = cast.everyone.iter().copied().filter(|a| !m.account(*a).market.is_zero()).collect();
    let from = if rng.random_bool(0.8) { *with_balance.choose(rng).or_else(|| cast.everyone.choose(rng))? } else { *cast.everyone.choose(rng)? };
    Some(Action { from, call: Call::Withdraw, ts: pick_ts(rng, m, &[]), why: "withdraw" })
}

fn stake(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let ops = cast.operators();
    let who = *ops.choose(rng)?;
    let o = &m.account(who).op;
    let (call, focus) = if o.stake < tokens(400) {
        (Call::Stake(tokens(rng.random_range(100..=600))), vec![])
    } else if !o.unbonding.is_zero() && rng.random_bool(0.6) {
        (Call::WithdrawUnbonded, vec![o.unbonding_ready_at])
    } else {
        let free = o.stake - o.locked;
        let want = tokens(rng.random_range(1..=40)).min(free);
        (if want.is_zero() { Call::Stake(tokens(50)) } else { Call::RequestUnstake(want) }, vec![])
    };
    let ts = pick_ts(rng, m, &focus);
    Some(Action { from: who, call, ts, why: "stake" })
}
