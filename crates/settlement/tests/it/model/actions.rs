//! Random actions by every actor, with time moves biased to deadline edges, and the scheduler
//! that keeps honest operators on time.

use std::{cmp::Reverse, collections::BinaryHeap};

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use rand::{
    Rng, SeedableRng,
    rngs::StdRng,
    seq::{IndexedRandom, SliceRandom},
};
use verity_settlement::{CasePhase, Mode, Seat, Status, TaskRequest};

use super::reference::{BallotM, Call, Env, Model, TaskM, collateral_floor, mock_proof, truth};
use crate::harness::tokens;

/// The id the tests register the mock verifier under.
pub const VERIFIER_ID: B256 = B256::repeat_byte(0x2a);
/// At most this many unsettled tasks at once (more would only dilute the actions per task).
const MAX_LIVE: usize = 6;
/// Optimistic tasks with a challenge window this long are left for `finalize` to read their
/// audit coin (nobody rolls it early). Meant to let some coins expire (256 blocks), but the
/// clock's jumps to deadline edges usually reach the window's end in fewer blocks: in the runs
/// so far no coin expired here (`audits.rs` pins the expired coin).
const LONG_WINDOW: u64 = 2_500;
/// The largest collateral floor a created task asks for (operators stake 1 000 tokens).
const MAX_FLOOR_TOKENS: u64 = 120;

/// Who is who.
#[derive(Debug, Clone)]
pub struct Cast {
    pub owner: Address,
    pub coordinator: Address,
    pub treasury: Address,
    pub clients: [Address; 2],
    pub challenger: Address,
    pub keeper: Address,
    /// Decides escalated disputes (the court's arbiter).
    pub arbiter: Address,
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
            (self.arbiter, "arbiter"),
            (self.copier, "copier"),
            (self.griefer, "griefer"),
        ];
        named
            .iter()
            .find(|(a, _)| *a == who)
            .map_or_else(|| who.to_string(), |(_, n)| (*n).to_string())
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
    /// For a commit: the (digest, salt) the sender believes opens it.
    pub secret: Option<(B256, B256)>,
}

impl Action {
    pub fn new(from: Address, call: Call, ts: u64, why: &'static str) -> Self {
        Action {
            from,
            call,
            ts,
            why,
            secret: None,
        }
    }
}

// ------------------------------------------------------------------ honest obligations

/// Something an honest operator must still send: (release, deadline, the action).
#[derive(Debug, Clone)]
pub struct Obligation {
    pub release: u64,
    pub deadline: u64,
    pub from: Address,
    pub call: Call,
    pub secret: Option<(B256, B256)>,
}

/// The salt an honest operator commits with (any value works; deterministic for replays).
pub fn honest_salt(id: u64, op: Address) -> B256 {
    keccak256([B256::from(U256::from(id)).as_slice(), op.as_slice()].concat())
}

/// The salt a committee member commits its ballot with (deterministic for replays).
pub fn ballot_salt(id: u64, member: Address) -> B256 {
    keccak256(
        [
            B256::from(U256::from(id)).as_slice(),
            member.as_slice(),
            b"ballot",
        ]
        .concat(),
    )
}

/// A wrong digest for a task (what the griefer computes).
pub fn wrong_digest(input: B256) -> B256 {
    keccak256([input.as_slice(), B256::repeat_byte(0xee).as_slice()].concat())
}

/// Every message honest operators still owe. A reveal is released once every seat committed,
/// else after the commit deadline; an honest commit also holds a slot for its reveal (released
/// after the commit deadline).
pub fn obligations(m: &Model, cast: &Cast) -> Vec<Obligation> {
    let mut out = Vec::new();
    for t in m.live_tasks().filter(|t| t.status == Status::Assigned) {
        for op in t.operators.iter().filter(|o| cast.is_honest(**o)) {
            out.extend(obligations_of(m, t, *op));
        }
    }
    out
}

/// What honest operator `op` owes on `t`.
fn obligations_of(m: &Model, t: &TaskM, op: Address) -> Vec<Obligation> {
    let mut out = Vec::new();
    if t.status != Status::Assigned {
        return out;
    }
    let now = m.ts + 1;
    let d = truth(t.input_digest);
    let ob = |release, deadline, call, secret| Obligation {
        release,
        deadline,
        from: op,
        call,
        secret,
    };
    match (t.mode, t.seat(op)) {
        (Mode::Replicated, Seat::Assigned) => {
            let salt = honest_salt(t.id, op);
            let c = m.commitment(t.id, op, d, salt);
            out.push(ob(
                now,
                t.commit_deadline,
                Call::Commit(t.id, c),
                Some((d, salt)),
            ));
            // Holds a slot for the reveal that follows.
            out.push(ob(
                t.commit_deadline + 1,
                t.reveal_deadline,
                Call::Mine,
                None,
            ));
        }
        (Mode::Replicated, Seat::Committed) => {
            let all = t.commits + t.declined == t.replication;
            let release = if all {
                now
            } else {
                now.max(t.commit_deadline + 1)
            };
            let (digest, salt) = *t
                .secrets
                .get(&op)
                .expect("honest commits record their secret");
            out.push(ob(
                release,
                t.reveal_deadline,
                Call::Reveal(t.id, digest, salt),
                None,
            ));
        }
        (Mode::Optimistic, Seat::Assigned) => {
            out.push(ob(
                now,
                t.commit_deadline,
                Call::SubmitResult(t.id, d),
                None,
            ));
        }
        (Mode::ZkProof, Seat::Assigned) => {
            let proof = mock_proof(t.program_digest, t.input_digest, d, m.binding(t.id, op));
            out.push(ob(
                now,
                t.commit_deadline,
                Call::SubmitProof(t.id, d, proof),
                None,
            ));
        }
        _ => {}
    }
    out
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

/// The (release, deadline) windows an assignment sent at `at` would create for honest seats.
fn new_obligations(cast: &Cast, t: &TaskM, ops: &[Address], at: u64) -> Vec<(u64, u64)> {
    let mut v = Vec::new();
    for _ in ops.iter().filter(|o| cast.is_honest(**o)) {
        v.push((at + 1, t.commit_deadline));
        if t.mode == Mode::Replicated {
            v.push((t.commit_deadline + 1, t.reveal_deadline));
        }
    }
    v
}

/// The windows left if `action` is sent at `at`: the obligation it fulfils is gone, the ones an
/// assignment creates are added.
fn windows_after(
    m: &Model,
    cast: &Cast,
    owed: &[Obligation],
    action: &Action,
    at: u64,
) -> Vec<(u64, u64)> {
    if matches!(action.call, Call::Reassign(..) | Call::AssignBatch(_)) {
        // What they change is more than new seats (a replaced honest seat owes nothing any
        // more; a reopened seat delays the reveals): read the obligations off the model after
        // the call.
        let mut next = m.clone();
        let env = Env::at(at, m.block + 1);
        if next.apply(action.from, &action.call, &env).is_ok() {
            return obligations(&next, cast)
                .iter()
                .map(|o| (o.release, o.deadline))
                .collect();
        }
        return owed.iter().map(|o| (o.release, o.deadline)).collect();
    }
    let fulfils = owed.iter().position(|o| {
        o.from == action.from && !matches!(o.call, Call::Mine) && same_kind(&o.call, &action.call)
    });
    let mut windows: Vec<(u64, u64)> = owed
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != fulfils)
        .map(|(_, o)| (o.release, o.deadline))
        .collect();
    if let Call::Assign(id, ops) = &action.call
        && let Ok(t) = m.task(*id)
    {
        windows.extend(new_obligations(cast, t, ops, at));
    }
    windows
}

fn same_kind(a: &Call, b: &Call) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) && a.task() == b.task()
}

/// What [`guard`] decided.
#[derive(Debug)]
pub enum Guarded {
    /// Send it as is (or one second earlier).
    Send(Action),
    /// An honest operator's message must go first; the action may be retried afterwards.
    Before(Action, Action),
    /// Not now: it would leave an honest operator unable to meet a deadline.
    Blocked,
}

/// Makes `action` safe for honest operators: if sending it at its timestamp could leave them
/// unable to meet a deadline, an owed message goes first (earliest deadline first), or the action
/// goes at the next second. Keeps the invariant that the owed messages can all be sent in time
/// from the next second on.
pub fn guard(m: &Model, cast: &Cast, action: Action) -> Guarded {
    let owed = obligations(m, cast);
    if feasible(
        &windows_after(m, cast, &owed, &action, action.ts),
        action.ts + 1,
    ) {
        return Guarded::Send(action);
    }
    let next = m.ts + 1;
    let due = owed
        .iter()
        .filter(|o| o.release <= next && !matches!(o.call, Call::Mine))
        .min_by_key(|o| o.deadline);
    if let Some(o) = due {
        let first = Action {
            from: o.from,
            call: o.call.clone(),
            ts: next,
            why: "honest (due)",
            secret: o.secret,
        };
        return Guarded::Before(first, action);
    }
    // An honest message cannot move before its window opens.
    let too_early = owed
        .iter()
        .any(|o| o.from == action.from && same_kind(&o.call, &action.call) && o.release > next);
    let at_next = Action {
        ts: next,
        ..action.clone()
    };
    if !too_early && feasible(&windows_after(m, cast, &owed, &at_next, next), next + 1) {
        return Guarded::Send(at_next);
    }
    Guarded::Blocked
}

/// The action source: a seeded RNG, and an action the guard held back, retried next.
#[derive(Debug)]
pub struct Gen {
    pub rng: StdRng,
    held: Option<Action>,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: StdRng::seed_from_u64(seed),
            held: None,
        }
    }

    /// The next action. Honest operators' deadlines are protected by [`guard`].
    pub fn next(&mut self, m: &Model, cast: &Cast) -> Action {
        let held = self.held.take().filter(|a| a.ts > m.ts);
        if let Some(a) = held.and_then(|a| self.guarded(m, cast, a)) {
            return a;
        }
        for _ in 0..50 {
            if let Some(a) = propose(&mut self.rng, m, cast).and_then(|a| self.guarded(m, cast, a))
            {
                return a;
            }
        }
        // Always safe: the invariant says the owed messages fit from the next second on.
        let idle = Action::new(cast.keeper, Call::Mine, m.ts + 1, "idle");
        self.guarded(m, cast, idle)
            .expect("an empty block at the next second is always safe")
    }

    fn guarded(&mut self, m: &Model, cast: &Cast, a: Action) -> Option<Action> {
        match guard(m, cast, a) {
            Guarded::Send(a) => Some(a),
            Guarded::Before(first, later) => {
                self.held = Some(later);
                Some(first)
            }
            Guarded::Blocked => None,
        }
    }
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
    if roll < 30 {
        if let Some(t) = edge(rng, focus) {
            return t;
        }
    } else if roll < 38 {
        let all: Vec<u64> = m.live_tasks().flat_map(|t| t.deadlines()).collect();
        if let Some(t) = edge(rng, &all) {
            return t;
        }
    } else if roll < 43 {
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

fn propose(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let live: Vec<&TaskM> = m.live_tasks().collect();
    // Right after a challenge: the committee cannot be drawn in the very next block.
    if let Some(t) = live
        .iter()
        .find(|t| t.status == Status::Challenged && t.case.open_block == m.block)
        && rng.random_bool(0.15)
    {
        return Some(Action::new(
            cast.keeper,
            Call::Draw(t.id),
            m.ts + 1,
            "draw (seed not ready)",
        ));
    }
    // Right after a result: its audit coin cannot be read in the very next block.
    if let Some(t) = live
        .iter()
        .find(|t| t.status == Status::Submitted && t.submit_block == m.block && t.audit_bps != 0)
        && rng.random_bool(0.15)
    {
        let call = if rng.random_bool(0.5) {
            Call::RollAudit(t.id)
        } else {
            Call::Finalize(t.id)
        };
        let ts = m.ts
            + if rng.random_bool(0.5) {
                1
            } else {
                t.challenge_window + 1
            };
        return Some(Action::new(cast.keeper, call, ts, "audit coin (not ready)"));
    }
    // The court's regulars keep disputes moving (their windows are short).
    if rng.random_bool(0.3)
        && let Some(a) = court_duty(rng, m, cast)
    {
        return Some(a);
    }
    // The copier watches for commitments to copy on tasks it sits on.
    let copyable = live.iter().find(|t| {
        t.status == Status::Assigned
            && t.seat(cast.copier) == Seat::Assigned
            && t.seats
                .iter()
                .any(|(o, s)| *o != cast.copier && !s.commitment.is_zero())
    });
    if let Some(t) = copyable
        && rng.random_bool(0.3)
    {
        return copier(rng, m, cast, t);
    }
    // Mostly: a live task moves on (or is poked at) by whoever its status calls for. Disputes
    // and posted results get more turns: their windows are short.
    if !live.is_empty() && rng.random_bool(0.6) {
        let weight = |t: &&TaskM| match t.status {
            Status::Challenged => 4,
            Status::Submitted => 3,
            _ => 1,
        };
        let t = *live.choose_weighted(rng, weight).ok()?;
        return progress(rng, m, cast, t);
    }
    if let Some(a) = edge_now(rng, m, cast).filter(|_| rng.random_bool(0.6)) {
        return Some(a);
    }
    if rng.random_bool(0.1) {
        return edge_jump(rng, m, cast);
    }
    type Make = fn(&mut StdRng, &Model, &Cast) -> Option<Action>;
    let weights: [(u32, Make); 10] = [
        (5, governance),
        (if live.len() < MAX_LIVE { 30 } else { 2 }, create),
        (6, |rng, m, c| misc(rng, m, c.griefer)),
        (3, |rng, m, c| misc(rng, m, c.copier)),
        (8, keeper),
        (7, withdraw),
        (5, stake),
        (3, noise),
        (3, |rng, m, c| {
            Some(Action::new(
                c.keeper,
                Call::Mine,
                pick_ts(rng, m, &[]),
                "mine",
            ))
        }),
        (2, |rng, m, c| {
            pick_task(rng, m, |t| t.status == Status::Open).and_then(|t| cancel(rng, m, c, t))
        }),
    ];
    let (_, make) = weights.choose_weighted(rng, |w| w.0).ok()?;
    make(rng, m, cast)
}

/// Calls whose outcome turns on a deadline D, each with the sender for whom trying it is
/// harmless (never an honest operator past its own deadline): (sender, call, D).
fn edge_options(m: &Model, cast: &Cast) -> Vec<(Address, Call, u64)> {
    let mut options: Vec<(Address, Call, u64)> = Vec::new();
    for t in m.live_tasks() {
        let id = t.id;
        let bad_seat = |want: Seat| -> Option<Address> {
            [cast.griefer, cast.copier]
                .into_iter()
                .find(|o| t.seat(*o) == want)
        };
        match (t.status, t.mode) {
            (Status::Open, _) => {
                let ops: Vec<Address> = cast
                    .honest
                    .iter()
                    .copied()
                    .filter(|o| can_seat(m, t, *o, m.ts + 1))
                    .collect();
                if ops.len() >= usize::from(t.replication) {
                    let ops = ops[..usize::from(t.replication)].to_vec();
                    options.push((cast.coordinator, Call::Assign(id, ops), t.assign_deadline));
                }
                options.push((cast.keeper, Call::ClaimTimeout(id), t.assign_deadline));
            }
            (Status::Assigned, Mode::Replicated) => {
                if let Some(op) = bad_seat(Seat::Assigned) {
                    let copied = t
                        .seats
                        .values()
                        .map(|s| s.commitment)
                        .find(|c| !c.is_zero());
                    let c = match copied {
                        Some(c) if op == cast.copier => c,
                        _ => m.commitment(
                            id,
                            op,
                            wrong_digest(t.input_digest),
                            B256::repeat_byte(0x99),
                        ),
                    };
                    options.push((op, Call::Commit(id, c), t.commit_deadline));
                    options.push((op, Call::Decline(id), t.commit_deadline));
                }
                if let Some(op) = bad_seat(Seat::Committed) {
                    let (d, salt) = t.secrets.get(&op).copied().unwrap_or_default();
                    options.push((op, Call::Reveal(id, d, salt), t.commit_deadline));
                    options.push((op, Call::Reveal(id, d, salt), t.reveal_deadline));
                }
                options.push((cast.keeper, Call::Finalize(id), t.reveal_deadline));
                if let Some((seat, to)) = failover(m, cast, t, m.ts + 1, true) {
                    options.push((
                        cast.coordinator,
                        Call::Reassign(id, seat, to),
                        t.commit_deadline,
                    ));
                }
            }
            (Status::Assigned, mode) => {
                let op = t.operators[0];
                if !cast.is_honest(op) {
                    let d = wrong_digest(t.input_digest);
                    let call = if mode == Mode::Optimistic {
                        Call::SubmitResult(id, d)
                    } else {
                        Call::SubmitProof(
                            id,
                            d,
                            mock_proof(t.program_digest, t.input_digest, d, m.binding(id, op)),
                        )
                    };
                    options.push((op, call, t.commit_deadline));
                    options.push((op, Call::Decline(id), t.commit_deadline));
                }
                options.push((cast.keeper, Call::ClaimTimeout(id), t.commit_deadline));
                if let Some((seat, to)) = failover(m, cast, t, m.ts + 1, true) {
                    options.push((
                        cast.coordinator,
                        Call::Reassign(id, seat, to),
                        t.commit_deadline,
                    ));
                }
            }
            (Status::Submitted, _) => {
                options.push((cast.challenger, Call::Challenge(id), t.challenge_closes()));
                options.push((cast.keeper, Call::Finalize(id), t.challenge_closes()));
            }
            (Status::Challenged, _) => {
                let c = &t.case;
                match c.phase {
                    CasePhase::Drawing => {
                        options.push((cast.keeper, Call::Draw(id), c.draw_deadline));
                        options.push((cast.keeper, Call::Tally(id), c.draw_deadline));
                    }
                    CasePhase::Voting => {
                        if let Some(member) =
                            c.committee.iter().find(|a| !c.ballots.contains_key(*a))
                        {
                            let call = Call::CommitBallot(
                                id,
                                truth(t.input_digest),
                                ballot_salt(id, *member),
                            );
                            options.push((*member, call, c.commit_deadline));
                        }
                        if let Some((member, (d, salt))) = t
                            .ballot_secrets
                            .iter()
                            .find(|(a, _)| matches!(c.ballots.get(*a), Some(BallotM::Committed(_))))
                        {
                            let call = Call::RevealBallot(id, *d, *salt);
                            options.push((*member, call.clone(), c.commit_deadline));
                            options.push((*member, call, c.reveal_deadline));
                        }
                        options.push((cast.keeper, Call::Tally(id), c.reveal_deadline));
                    }
                    CasePhase::Escalated => {
                        let overturn = c.claimed != truth(t.input_digest);
                        options.push((
                            cast.arbiter,
                            Call::Arbitrate(id, overturn),
                            c.arbiter_deadline,
                        ));
                        options.push((cast.keeper, Call::ResolveDispute(id), c.arbiter_deadline));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for op in cast.operators() {
        let o = &m.account(op).op;
        if !o.unbonding.is_zero() {
            options.push((op, Call::WithdrawUnbonded, o.unbonding_ready_at));
        }
        // An operator whose jail ends: assignable from that second on.
        if o.jailed_until + 1 > m.ts
            && let Some(t) = m
                .live_tasks()
                .find(|t| t.status == Status::Open && t.replication == 1)
        {
            options.push((
                cast.coordinator,
                Call::Assign(t.id, vec![op]),
                o.jailed_until,
            ));
        }
    }
    options
}

/// A call whose outcome turns on a deadline, at the next second if that is D-1, D or D+1.
fn edge_now(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let next = m.ts + 1;
    let options = edge_options(m, cast);
    let here: Vec<&(Address, Call, u64)> = options
        .iter()
        .filter(|(_, _, d)| next + 1 >= *d && next <= d + 1)
        .collect();
    let (from, call, _) = here.choose(rng)?;
    Some(Action::new(*from, call.clone(), next, "edge"))
}

/// A call whose outcome turns on a deadline, with a jump to D-1, D or D+1.
fn edge_jump(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let (from, call, deadline) = edge_options(m, cast).choose(rng)?.clone();
    let ts = (deadline + rng.random_range(0..3)).checked_sub(1)?;
    (ts > m.ts).then(|| Action::new(from, call, ts, "edge (jump)"))
}

/// Someone acts on `t` as its status calls for: assignment, a seat holder's message, a
/// challenge, the committee, or the keeper at one of its deadlines.
fn progress(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    match t.status {
        Status::Open => match rng.random_range(0..25) {
            0 => cancel(rng, m, cast, t),
            1..=3 => keeper_on(rng, m, cast, t),
            4..=7 => assign_batch(rng, m, cast),
            _ => assign(rng, m, cast, t),
        },
        Status::Assigned => {
            if rng.random_bool(0.2) {
                return keeper_on(rng, m, cast, t);
            }
            if rng.random_bool(0.2) {
                return reassign(rng, m, cast, t);
            }
            // Honest seats are kept on schedule by the guard anyway: the others get more turns.
            let seated: Vec<Address> = t
                .operators
                .iter()
                .copied()
                .filter(|o| t.seat(*o) != Seat::Declined)
                .collect();
            let bad: Vec<Address> = seated
                .iter()
                .copied()
                .filter(|o| !cast.is_honest(*o))
                .collect();
            let pool = if !bad.is_empty() && rng.random_bool(0.5) {
                &bad
            } else {
                &seated
            };
            let op = pool.choose(rng)?;
            if cast.is_honest(*op) {
                honest(rng, m, t, *op)
            } else if *op == cast.copier {
                copier(rng, m, cast, t)
            } else {
                griefer(rng, m, cast, t)
            }
        }
        Status::Submitted => {
            let wrong = t.result != truth(t.input_digest);
            if rolls_early(t) && rng.random_bool(0.2) {
                return roll_audit(rng, m, cast, t);
            }
            if rng.random_bool(if wrong { 0.8 } else { 0.4 }) {
                challenge(rng, m, cast, t)
            } else {
                keeper_on(rng, m, cast, t)
            }
        }
        Status::Challenged => match t.case.phase {
            // The arbiter out of turn (a case it cannot decide).
            _ if rng.random_bool(0.03) => arbitrate(rng, m, cast, t),
            CasePhase::Voting if rng.random_bool(0.8) => ballot(rng, m, cast, t),
            CasePhase::Drawing if rng.random_bool(0.05) => dodge_bond(rng, m, cast, t),
            CasePhase::Escalated if rng.random_bool(0.5) => arbitrate(rng, m, cast, t),
            _ => keeper_on(rng, m, cast, t),
        },
        _ => None,
    }
}

/// Whether `ops` keeps the copier and the griefer a strict minority of a replicated task.
fn honest_majority(cast: &Cast, t: &TaskM, ops: &[Address]) -> bool {
    t.mode != Mode::Replicated
        || ops.iter().filter(|o| !cast.is_honest(**o)).count() * 2 < ops.len()
}

/// A failover the coordinator could send at `ts`: a seat that has not posted anything (the
/// copier's or the griefer's first, or a declined one) and an operator able to take it that
/// keeps the honest majority (a misbehaving one first if `bad_first`).
fn failover(m: &Model, cast: &Cast, t: &TaskM, ts: u64, bad_first: bool) -> Option<(u64, Address)> {
    let open = |i: &usize| matches!(t.seat(t.operators[*i]), Seat::Assigned | Seat::Declined);
    let mut seats: Vec<usize> = (0..t.operators.len()).filter(open).collect();
    seats.sort_by_key(|i| {
        cast.is_honest(t.operators[*i]) && t.seat(t.operators[*i]) != Seat::Declined
    });
    let seat = *seats.first()?;
    let mut pool: Vec<Address> = cast
        .operators()
        .into_iter()
        .filter(|o| !t.operators.contains(o) && can_seat(m, t, *o, ts))
        .filter(|o| {
            let mut ops = t.operators.clone();
            ops[seat] = *o;
            honest_majority(cast, t, &ops)
        })
        .collect();
    if bad_first {
        pool.sort_by_key(|o| cast.is_honest(*o));
    }
    Some((seat as u64, *pool.first()?))
}

/// The coordinator fails a seat of `t` over: mostly a silent or declined seat, sometimes an
/// honest one that has not acted yet, sometimes a call that must fail.
fn reassign(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let ts = pick_ts(rng, m, &[t.commit_deadline]);
    let n = t.operators.len();
    let open: Vec<usize> = (0..n)
        .filter(|i| matches!(t.seat(t.operators[*i]), Seat::Assigned | Seat::Declined))
        .collect();
    let (mut seat, mut to) = match failover(m, cast, t, ts, rng.random_bool(0.5)) {
        Some((s, to)) if rng.random_bool(0.6) => (s, to),
        _ => {
            let seat = *open.choose(rng)?;
            let mut ops = t.operators.clone();
            let pool: Vec<Address> = cast
                .operators()
                .into_iter()
                .filter(|o| !t.operators.contains(o))
                .filter(|o| {
                    ops[seat] = *o;
                    honest_majority(cast, t, &ops)
                })
                .collect();
            (seat as u64, *pool.choose(rng)?)
        }
    };
    let mut from = cast.coordinator;
    let mut why = "reassign";
    if rng.random_bool(0.15) {
        why = "reassign (invalid)";
        match rng.random_range(0..6) {
            0 => from = *[cast.keeper, cast.clients[0], cast.honest[0]].choose(rng)?,
            1 => seat = n as u64 + rng.random_range(0..3),
            2 => to = Address::ZERO,
            3 => to = *t.operators.choose(rng)?,
            4 => to = cast.challenger,
            _ => {
                let posted: Vec<usize> = (0..n)
                    .filter(|i| matches!(t.seat(t.operators[*i]), Seat::Committed | Seat::Revealed))
                    .collect();
                seat = *posted.choose(rng)? as u64;
            }
        }
    }
    // Whatever succeeds must keep the honest majority.
    let mut ops = t.operators.clone();
    if let Some(slot) = ops.get_mut(seat as usize) {
        *slot = to;
    }
    if !honest_majority(cast, t, &ops) {
        let env = Env::at(ts, m.block + 1);
        if m.clone()
            .apply(from, &Call::Reassign(t.id, seat, to), &env)
            .is_ok()
        {
            return None;
        }
    }
    Some(Action::new(from, Call::Reassign(t.id, seat, to), ts, why))
}

/// The coordinator assigns several open tasks in one call (each as [`assign`] would), sometimes
/// with an entry that fails the whole batch: a task twice, a settled task, or nothing at all.
fn assign_batch(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let mut open: Vec<&TaskM> = m
        .live_tasks()
        .filter(|t| t.status == Status::Open)
        .collect();
    open.shuffle(rng);
    let deadlines: Vec<u64> = open.iter().map(|t| t.assign_deadline).collect();
    let ts = pick_ts(rng, m, &deadlines);
    let env = Env::at(ts, m.block + 1);
    // Each entry is chosen on the state the earlier entries leave (free stake).
    let mut sim = m.clone();
    let mut batch = Vec::new();
    for t in open.iter().take(4) {
        let Some(Action {
            call: Call::Assign(id, ops),
            ..
        }) = assign(rng, &sim, cast, t)
        else {
            continue;
        };
        if !honest_majority(cast, t, &ops) {
            continue;
        }
        let call = Call::Assign(id, ops.clone());
        if sim.apply(cast.coordinator, &call, &env).is_err() && rng.random_bool(0.8) {
            continue;
        }
        batch.push((id, ops));
    }
    let mut why = "assign batch";
    if rng.random_bool(0.1) {
        why = "assign batch (invalid)";
        match rng.random_range(0..3) {
            0 => batch.clear(),
            1 => {
                let first = batch.first()?.clone();
                batch.push(first);
            }
            _ => {
                let settled = pick_task(rng, m, |t| t.status != Status::Open)?;
                batch.push((settled.id, vec![cast.honest[0]]));
            }
        }
    } else if batch.is_empty() {
        return None;
    }
    Some(Action::new(
        cast.coordinator,
        Call::AssignBatch(batch),
        ts,
        why,
    ))
}

fn create(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    // Operators may be clients too (the committee excludes a task's client).
    let from = if rng.random_bool(0.1) {
        cast.griefer
    } else {
        *cast.clients.choose(rng)?
    };
    let ts = pick_ts(rng, m, &[]);
    let mode = *[
        Mode::Replicated,
        Mode::Replicated,
        Mode::Optimistic,
        Mode::Optimistic,
        Mode::ZkProof,
    ]
    .choose(rng)?;
    let (replication, quorum) = match mode {
        Mode::Replicated => {
            let r: u8 = *[1, 2, 3, 3, 4, 5, 5].choose(rng)?;
            (r, rng.random_range(r / 2 + 1..=r))
        }
        _ => (1, 1),
    };
    let spare = u64::from(replication) + 2;
    let assign_deadline = ts + rng.random_range(3..40);
    let commit_deadline = assign_deadline + rng.random_range(spare..spare + 30);
    let reveal_deadline = if mode == Mode::Replicated {
        commit_deadline + rng.random_range(spare..spare + 30)
    } else {
        0
    };
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
        challenge_window: match mode {
            Mode::Optimistic if rng.random_bool(0.05) => {
                rng.random_range(LONG_WINDOW as u32..2 * LONG_WINDOW as u32)
            }
            Mode::Optimistic => rng.random_range(2..30),
            _ => 0,
        },
        verifier_id: if mode == Mode::ZkProof {
            VERIFIER_ID
        } else {
            B256::ZERO
        },
        audit_bps: 0,
    };
    let mut why = "create";
    if mode == Mode::Optimistic {
        audit_terms(rng, &mut req, m.min_audit_bps);
    }
    if rng.random_bool(0.08) {
        why = "create (invalid audit terms)";
        match (mode, req.audit_bps) {
            // Below the floor, by one base unit or by more.
            (Mode::Optimistic, p) if p != 0 && rng.random_bool(0.6) => {
                let floor = collateral_floor(req.bounty, p);
                let short = if rng.random_bool(0.5) {
                    U256::from(1)
                } else {
                    floor / U256::from(2)
                };
                req.collateral = floor.saturating_sub(short);
            }
            (Mode::Optimistic, _) => {
                req.audit_bps = *[10_001, 20_000, u16::MAX].choose(rng)?;
            }
            // Audits are for optimistic tasks only.
            _ => req.audit_bps = *[1, 100, 2_000, 10_000].choose(rng)?,
        }
    } else if rng.random_bool(0.1) {
        why = "create (invalid)";
        match rng.random_range(0..10) {
            0 => req.assign_deadline = ts,
            1 => req.quorum = req.replication / 2,
            2 => req.commit_deadline = req.assign_deadline,
            3 => req.bounty = U256::ZERO,
            4 => req.reveal_deadline = ts + 30 * 86_400 + 1,
            5 => req.verifier_id = random_b256(rng),
            6 => req.challenge_window = if mode == Mode::Optimistic { 0 } else { 5 },
            7 => req.bounty = tokens(1_000_000),
            8 => req.replication = 2,
            _ => req.input_digest = B256::ZERO,
        }
    }
    Some(Action::new(from, Call::CreateTask(Box::new(req)), ts, why))
}

/// An optimistic task's audit rate, and a collateral at its floor or above: rate 0 (never
/// audited) a quarter of the time (mostly the market's least rate instead if that is not 0),
/// 10 000 (always audited) a quarter, else a small rate (now and then below the least) or one
/// anywhere in between. A bounty whose floor at that rate would not fit the operators' stakes
/// is scaled down.
fn audit_terms(rng: &mut StdRng, req: &mut TaskRequest, least: u16) {
    let p: u16 = match rng.random_range(0..8) {
        0 | 1 if least != 0 && rng.random_bool(0.8) => least,
        0 | 1 => 0,
        2 | 3 => 10_000,
        4 => rng.random_range(1..=500),
        5 => *[100, 1_000, 2_000, 5_000].choose(rng).expect("rates"),
        _ => rng.random_range(501..10_000),
    };
    req.audit_bps = p;
    if p == 0 {
        return;
    }
    let most = tokens(MAX_FLOOR_TOKENS);
    if collateral_floor(req.bounty, p) > most {
        // floor(b) <= b * ((10 000 - p) / p + 1 / 10) + 1
        let (pp, full) = (U256::from(p), U256::from(10_000));
        let cap =
            (most - U256::from(1)) * pp * U256::from(10) / ((full - pp) * U256::from(10) + pp);
        req.bounty = U256::from(rng.random_range(1..=cap.to::<u128>().max(1)));
    }
    let floor = collateral_floor(req.bounty, p);
    if req.collateral < floor || rng.random_bool(0.5) {
        req.collateral = match rng.random_range(0..4) {
            0 => floor,
            1 => floor + U256::from(1),
            _ => floor + amount(rng, 0, 40),
        };
    }
}

fn cancel(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let from = if rng.random_bool(0.8) {
        t.client
    } else {
        *cast.clients.choose(rng)?
    };
    Some(Action::new(
        from,
        Call::Cancel(t.id),
        pick_ts(rng, m, &[t.assign_deadline]),
        "cancel",
    ))
}

/// Whether `op` could take a seat of `t` at `ts`.
fn can_seat(m: &Model, t: &TaskM, op: Address, ts: u64) -> bool {
    m.eligible(op, ts) && m.free_stake(op) >= t.collateral
}

fn assign(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let ts = pick_ts(rng, m, &[t.assign_deadline]);
    let r = usize::from(t.replication);
    let mut honest: Vec<Address> = cast
        .honest
        .iter()
        .copied()
        .filter(|o| can_seat(m, t, *o, ts))
        .collect();
    let mut bad: Vec<Address> = [cast.copier, cast.griefer]
        .into_iter()
        .filter(|o| can_seat(m, t, *o, ts))
        .collect();
    honest.shuffle(rng);
    bad.shuffle(rng);
    let mut ops: Vec<Address> = if t.mode == Mode::Replicated {
        // The copier and the griefer together stay a strict minority.
        let max_bad = ((r - 1) / 2).min(bad.len());
        let b = if rng.random_bool(0.6) {
            max_bad
        } else {
            rng.random_range(0..=max_bad)
        };
        let mut v: Vec<Address> = bad[..b].to_vec();
        v.extend(honest.iter().take(r - b));
        v.shuffle(rng);
        v
    } else {
        let pool = if rng.random_bool(0.5) { &honest } else { &bad };
        pool.choose(rng)
            .or_else(|| honest.first())
            .or_else(|| bad.first())
            .into_iter()
            .copied()
            .collect()
    };
    let mut from = cast.coordinator;
    let mut why = if ops.len() == r {
        "assign"
    } else {
        "assign (short of operators)"
    };
    if rng.random_bool(0.15) && !ops.is_empty() {
        why = "assign (invalid)";
        let last = ops.len() - 1;
        match rng.random_range(0..5) {
            0 => from = *[cast.keeper, cast.clients[0], cast.honest[0]].choose(rng)?,
            1 => {
                ops.pop();
            }
            2 if last > 0 => ops[last] = ops[0],
            3 => ops[last] = cast.challenger,
            // Someone who cannot take the seat: jailed, short of stake, or of free stake.
            _ => {
                let unable: Vec<Address> = cast
                    .operators()
                    .into_iter()
                    .filter(|o| !can_seat(m, t, *o, ts))
                    .collect();
                ops[last] = *unable.choose(rng)?;
            }
        }
    }
    // An assignment that could succeed must keep the honest majority on replicated tasks.
    let bad_seats = ops.iter().filter(|o| !cast.is_honest(**o)).count();
    if t.mode == Mode::Replicated && bad_seats * 2 >= r {
        let env = Env::at(ts, m.block + 1);
        if m.clone()
            .apply(from, &Call::Assign(t.id, ops.clone()), &env)
            .is_ok()
        {
            return None;
        }
    }
    Some(Action::new(from, Call::Assign(t.id, ops), ts, why))
}

/// An honest seat holder sends what it owes, anywhere in its window (often at the very edge),
/// or sometimes gives the seat back.
fn honest(rng: &mut StdRng, m: &Model, t: &TaskM, op: Address) -> Option<Action> {
    let cast_free = |o: &Obligation| {
        o.from == op && o.call.task() == Some(t.id) && !matches!(o.call, Call::Mine)
    };
    let owed: Vec<Obligation> = obligations_of(m, t, op)
        .into_iter()
        .filter(cast_free)
        .collect();
    let o = owed.first()?;
    let lo = o.release.max(m.ts + 1);
    if lo > o.deadline {
        return None;
    }
    // Eager: a reveal tried around the end of the commit phase (it reverts if still open).
    if matches!(o.call, Call::Reveal(..)) && o.release > m.ts + 1 && rng.random_bool(0.5) {
        let ts = (t.commit_deadline + rng.random_range(0..3))
            .saturating_sub(1)
            .max(m.ts + 1);
        return Some(Action {
            from: op,
            call: o.call.clone(),
            ts,
            why: "honest (eager reveal)",
            secret: None,
        });
    }
    let ts = match rng.random_range(0..10) {
        0 => o.deadline,
        1 => o.deadline.saturating_sub(1).max(lo),
        2 => rng.random_range(lo..=o.deadline),
        _ => lo,
    };
    if rng.random_bool(0.12) && t.seat(op) == Seat::Assigned {
        return Some(Action::new(op, Call::Decline(t.id), ts, "honest declines"));
    }
    Some(Action {
        from: op,
        call: o.call.clone(),
        ts,
        why: "honest",
        secret: o.secret,
    })
}

fn copier(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let me = cast.copier;
    let ts = pick_ts(rng, m, &t.deadlines());
    let mut secret = None;
    let call = match (t.mode, t.seat(me)) {
        (Mode::Replicated, Seat::Assigned) => {
            // Someone else's commitment, verbatim: on this task if any, else from elsewhere.
            let here: Vec<(Address, B256)> = t
                .seats
                .iter()
                .filter(|(o, s)| **o != me && !s.commitment.is_zero())
                .map(|(o, s)| (*o, s.commitment))
                .collect();
            if here.is_empty() && rng.random_bool(0.7) {
                return None; // waits for something to copy
            }
            let elsewhere: Vec<B256> = m
                .tasks
                .iter()
                .flat_map(|x| x.seats.values())
                .map(|s| s.commitment)
                .filter(|c| !c.is_zero())
                .collect();
            let c = match here.choose(rng) {
                Some((source, c)) => {
                    // It will try to open it with what the source opens it with.
                    secret = t.secrets.get(source).copied();
                    *c
                }
                None => elsewhere
                    .choose(rng)
                    .copied()
                    .unwrap_or_else(|| random_b256(rng)),
            };
            Call::Commit(t.id, c)
        }
        (Mode::Replicated, Seat::Committed) => {
            let (d, s) = t
                .secrets
                .get(&me)
                .copied()
                .unwrap_or((truth(t.input_digest), random_b256(rng)));
            Call::Reveal(t.id, d, s)
        }
        (Mode::Optimistic, Seat::Assigned) if t.status == Status::Assigned => {
            // Another task's result, copied; or silence.
            if rng.random_bool(0.4) {
                return misc(rng, m, me);
            }
            let r = m
                .tasks
                .iter()
                .map(|x| x.result)
                .filter(|r| !r.is_zero())
                .collect::<Vec<_>>();
            Call::SubmitResult(
                t.id,
                r.choose(rng).copied().unwrap_or_else(|| random_b256(rng)),
            )
        }
        (Mode::ZkProof, Seat::Assigned) => {
            // A proof made for another operator's binding.
            let d = truth(t.input_digest);
            let other = *cast.honest.choose(rng)?;
            Call::SubmitProof(
                t.id,
                d,
                mock_proof(t.program_digest, t.input_digest, d, m.binding(t.id, other)),
            )
        }
        _ => return misc(rng, m, me),
    };
    Some(Action {
        from: me,
        call,
        ts,
        why: "copier",
        secret,
    })
}

fn griefer(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let me = cast.griefer;
    let ts = pick_ts(rng, m, &t.deadlines());
    let wrong = wrong_digest(t.input_digest);
    let mut secret = None;
    let call = match (t.mode, t.seat(me), t.status) {
        (Mode::Replicated, Seat::Assigned, _) => match rng.random_range(0..12) {
            0 => Call::Commit(t.id, B256::ZERO),
            1 | 10 | 11 => Call::Decline(t.id),
            2 => Call::Reveal(t.id, wrong, B256::ZERO),
            3 => return misc(rng, m, me), // silent
            // Commits, to a wrong digest or to the truth.
            _ => {
                let d = if rng.random_bool(0.7) {
                    wrong
                } else {
                    truth(t.input_digest)
                };
                let salt = B256::repeat_byte(0x99);
                secret = Some((d, salt));
                Call::Commit(t.id, m.commitment(t.id, me, d, salt))
            }
        },
        (Mode::Replicated, Seat::Committed, _) => match rng.random_range(0..8) {
            0 => Call::Reveal(t.id, wrong, B256::repeat_byte(0x01)),
            1 => Call::Decline(t.id),
            2 => Call::Commit(t.id, random_b256(rng)),
            3 => return misc(rng, m, me), // silent
            _ => {
                let (d, s) = t
                    .secrets
                    .get(&me)
                    .copied()
                    .unwrap_or((wrong, B256::repeat_byte(0x99)));
                // Sometimes lies at reveal time: opens the commitment with another digest.
                if rng.random_bool(0.15) {
                    Call::Reveal(t.id, truth(d), s)
                } else {
                    Call::Reveal(t.id, d, s)
                }
            }
        },
        (Mode::Replicated, Seat::Revealed, _) => Call::Reveal(t.id, wrong, B256::ZERO),
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
                Call::SubmitProof(
                    t.id,
                    d,
                    mock_proof(t.program_digest, t.input_digest, d, m.binding(t.id + 1, me)),
                )
            }
            2 => {
                let d = truth(t.input_digest);
                Call::SubmitProof(
                    t.id,
                    d,
                    mock_proof(t.program_digest, t.input_digest, d, m.binding(t.id, me)),
                )
            }
            _ => return misc(rng, m, me),
        },
        _ => return misc(rng, m, me),
    };
    Some(Action {
        from: me,
        call,
        ts,
        why: "griefer",
        secret,
    })
}

/// What a misbehaving operator does besides its seats: tries to unstake locked stake, withdraws
/// early, ballots without a seat, touches tasks it is not on.
fn misc(rng: &mut StdRng, m: &Model, me: Address) -> Option<Action> {
    let o = &m.account(me).op;
    let free = o.stake - o.locked;
    let ts = pick_ts(rng, m, &[o.unbonding_ready_at, o.jailed_until]);
    let call = match rng.random_range(0..9) {
        0 | 1 if !o.locked.is_zero() => {
            Call::RequestUnstake(free + U256::from(rng.random_range(1..=1_000u64)))
        }
        0 => Call::RequestUnstake(o.stake + U256::from(1)),
        1 => Call::RequestUnstake(free.min(tokens(rng.random_range(1..=30)))),
        2 => Call::Withdraw,
        3 => Call::WithdrawUnbonded,
        4 => {
            let t = m.tasks.choose(rng)?;
            Call::CommitBallot(t.id, truth(t.input_digest), ballot_salt(t.id, me))
        }
        5 => {
            let t = m.tasks.choose(rng)?;
            Call::Commit(t.id, random_b256(rng))
        }
        6 => {
            let t = m.tasks.choose(rng)?;
            Call::Decline(t.id)
        }
        7 => {
            let t = m.tasks.choose(rng)?;
            Call::SubmitResult(t.id, wrong_digest(t.input_digest))
        }
        _ => Call::Stake(tokens(rng.random_range(0..=200))),
    };
    Some(Action::new(me, call, ts, "misc"))
}

/// Anyone (but honest operators, who only follow the protocol) calls anything on any task: the
/// model must know every answer.
fn noise(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let from = **cast
        .everyone
        .iter()
        .filter(|a| !cast.is_honest(**a))
        .collect::<Vec<_>>()
        .choose(rng)?;
    let t = m.tasks.choose(rng)?;
    let d = truth(t.input_digest);
    let call = match rng.random_range(0..10) {
        0 => Call::Cancel(t.id),
        1 => Call::Commit(t.id, random_b256(rng)),
        2 => Call::Reveal(t.id, d, B256::ZERO),
        3 => Call::Decline(t.id),
        4 => Call::SubmitResult(t.id, d),
        5 => Call::SubmitProof(t.id, d, Bytes::new()),
        6 => Call::Challenge(t.id),
        7 => match rng.random_range(0..6) {
            0 => Call::Draw(t.id),
            1 => Call::Tally(t.id),
            2 => Call::CommitBallot(t.id, d, ballot_salt(t.id, from)),
            3 => Call::RevealBallot(t.id, d, ballot_salt(t.id, from)),
            // Right (an honest operator's result is never overturned by the arbiter).
            4 => Call::Arbitrate(t.id, t.result != d),
            _ => Call::CourtWithdraw,
        },
        8 if rng.random_bool(0.5) => Call::RollAudit(t.id),
        8 => Call::Stake(tokens(1)),
        _ => Call::RequestUnstake(tokens(1)),
    };
    Some(Action::new(
        from,
        call,
        pick_ts(rng, m, &t.deadlines()),
        "noise",
    ))
}

/// Whether anyone reads `t`'s audit coin before `finalize` does: not on a long challenge window
/// (its coin is left to `finalize`, and may expire first).
fn rolls_early(t: &TaskM) -> bool {
    t.challenge_window < LONG_WINDOW
}

/// Anyone reads the audit coin of a submitted result early (`rollAudit`): mostly the keeper,
/// sometimes the client, the operator or the challenger; again after it cleared now and then.
fn roll_audit(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let from = match rng.random_range(0..10) {
        0 => t.client,
        1 => t.operators[0],
        2 => cast.challenger,
        _ => cast.keeper,
    };
    let ts = pick_ts(rng, m, &[t.challenge_closes()]);
    Some(Action::new(from, Call::RollAudit(t.id), ts, "rollAudit"))
}

fn challenge(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let wrong = t.result != truth(t.input_digest);
    let from = match rng.random_range(0..20) {
        0 => t.operators[0], // self-challenge
        1 => t.client,
        // An honest operator challenges a wrong result (the committee then excludes it).
        2..=4 if wrong => *cast.honest.choose(rng)?,
        _ => cast.challenger,
    };
    let ts = pick_ts(rng, m, &[t.challenge_closes()]);
    Some(Action::new(from, Call::Challenge(t.id), ts, "challenge"))
}

/// Whether the misbehaving members of `t`'s committee may reveal a wrong digest: never enough
/// of them to overturn an honest operator's result (a strict majority of the committee).
fn may_lie(cast: &Cast, t: &TaskM) -> bool {
    let c = &t.case;
    let bad = c.committee.iter().filter(|a| !cast.is_honest(**a)).count();
    !cast.is_honest(c.operator) || bad * 2 <= c.committee.len()
}

/// A committee member (or someone else) commits or reveals a ballot. Honest members ballot the
/// true digest; the copier and the griefer sometimes a wrong one (see [`may_lie`]); the griefer
/// often stays silent.
fn ballot(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let c = &t.case;
    let id = t.id;
    let unrevealed: Vec<Address> = c
        .committee
        .iter()
        .copied()
        .filter(|a| matches!(c.ballots.get(a), Some(BallotM::Committed(_))))
        .collect();
    let uncommitted: Vec<Address> = c
        .committee
        .iter()
        .copied()
        .filter(|a| !c.ballots.contains_key(a))
        .collect();
    let from = match rng.random_range(0..10) {
        // A member that already balloted, or anyone.
        0 => *c.committee.choose(rng).or_else(|| cast.honest.first())?,
        1 => *cast.operators().choose(rng)?,
        2..=5 if !unrevealed.is_empty() => *unrevealed.choose(rng)?,
        _ => *uncommitted.choose(rng).or_else(|| unrevealed.choose(rng))?,
    };
    if from == cast.griefer && rng.random_bool(0.6) {
        return None;
    }
    let committed = matches!(c.ballots.get(&from), Some(BallotM::Committed(_)));
    // Now and then a reveal without a commitment (or a second one).
    if (committed && rng.random_bool(0.9)) || rng.random_bool(0.1) {
        let (d, salt) = t.ballot_secrets.get(&from).copied().unwrap_or_default();
        // Now and then a reveal that does not open the commitment.
        let salt = if !cast.is_honest(from) && rng.random_bool(0.1) {
            random_b256(rng)
        } else {
            salt
        };
        let ts = pick_ts(rng, m, &[c.commit_deadline, c.reveal_deadline]);
        return Some(Action::new(
            from,
            Call::RevealBallot(id, d, salt),
            ts,
            "reveal ballot",
        ));
    }
    let truth = truth(t.input_digest);
    let digest = if cast.is_honest(from) || !may_lie(cast, t) || rng.random_bool(0.5) {
        truth
    } else if rng.random_bool(0.5) {
        wrong_digest(t.input_digest)
    } else {
        random_b256(rng)
    };
    let ts = pick_ts(rng, m, &[c.commit_deadline]);
    Some(Action::new(
        from,
        Call::CommitBallot(id, digest, ballot_salt(id, from)),
        ts,
        "commit ballot",
    ))
}

/// What the court's regulars would do at the next second, one of them at random: the keeper
/// draws a round whose seed block is mined, tallies a case that is due, settles a decided one;
/// honest members commit and reveal their ballots while they can.
fn court_duty(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let next = m.ts + 1;
    let mut todo: Vec<(Address, Call)> = Vec::new();
    for t in m.live_tasks().filter(|t| t.status == Status::Challenged) {
        let (c, id) = (&t.case, t.id);
        match c.phase {
            CasePhase::Drawing if m.block + 1 > c.seed_block && next <= c.draw_deadline => {
                todo.push((cast.keeper, Call::Draw(id)));
            }
            CasePhase::Voting => {
                let reveal_open =
                    usize::from(c.committed) >= c.committee.len() || next > c.commit_deadline;
                for member in c.committee.iter().filter(|a| cast.is_honest(**a)) {
                    match c.ballots.get(member) {
                        None if next <= c.commit_deadline => todo.push((
                            *member,
                            Call::CommitBallot(id, truth(t.input_digest), ballot_salt(id, *member)),
                        )),
                        Some(BallotM::Committed(_)) if reveal_open && next <= c.reveal_deadline => {
                            let (d, salt) = t.ballot_secrets[member];
                            todo.push((*member, Call::RevealBallot(id, d, salt)));
                        }
                        _ => {}
                    }
                }
            }
            CasePhase::Decided => todo.push((cast.keeper, Call::ResolveDispute(id))),
            _ => {}
        }
        if c.tally_due(next) {
            todo.push((cast.keeper, Call::Tally(id)));
        }
    }
    let (from, call) = todo.choose(rng)?.clone();
    Some(Action::new(from, call, next, "court duty"))
}

/// While `t`'s committee is being drawn, a member-to-be is made unable to lock its bond (the
/// draw then skips it): the griefer unstakes all but half a bond of its free stake (if it stays
/// eligible), or the owner raises the minimum stake just above the lowest eligible stake (the
/// draw keeps the opening's minimum, the lock checks the current one).
fn dodge_bond(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let me = cast.griefer;
    let bond = t.case.member_bond;
    let o = &m.account(me).op;
    let free = o.stake - o.locked;
    let half = bond / U256::from(2);
    let next = m.ts + 1;
    if rng.random_bool(0.5) && !bond.is_zero() && free > bond && o.locked + half >= m.min_stake {
        return Some(Action::new(
            me,
            Call::RequestUnstake(free - half),
            next,
            "griefer dodges a bond",
        ));
    }
    let c = &t.case;
    let lowest = cast
        .operators()
        .into_iter()
        .filter(|a| ![c.operator, c.challenger, c.client].contains(a))
        .map(|a| m.account(a).op.stake)
        .filter(|s| *s >= m.min_stake)
        .min()?;
    Some(Action::new(
        cast.owner,
        Call::SetMinStake(lowest + U256::from(1)),
        next,
        "owner raises the minimum stake mid-draw",
    ))
}

/// The arbiter decides an escalated case: rightly, but for now and then on a misbehaving
/// operator's case; sometimes someone else tries.
fn arbitrate(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let c = &t.case;
    let right = c.claimed != truth(t.input_digest);
    let overturn = if !cast.is_honest(c.operator) && rng.random_bool(0.15) {
        !right
    } else {
        right
    };
    let from = if rng.random_bool(0.85) {
        cast.arbiter
    } else {
        **cast
            .everyone
            .iter()
            .filter(|a| !cast.is_honest(**a))
            .collect::<Vec<_>>()
            .choose(rng)?
    };
    let ts = pick_ts(rng, m, &[c.arbiter_deadline]);
    Some(Action::new(
        from,
        Call::Arbitrate(t.id, overturn),
        ts,
        "arbitrate",
    ))
}

/// The keeper (or anyone) calls the permissionless exits of `t`, right or wrong, often at one of
/// its deadlines' edges.
fn keeper_on(rng: &mut StdRng, m: &Model, cast: &Cast, t: &TaskM) -> Option<Action> {
    let id = t.id;
    let preferred = match (t.status, t.mode) {
        (Status::Open, _) => Call::ClaimTimeout(id),
        (Status::Assigned, Mode::Replicated) => Call::Finalize(id),
        (Status::Assigned, _) => Call::ClaimTimeout(id),
        (Status::Submitted, _) => Call::Finalize(id),
        (Status::Challenged, _) => match t.case.phase {
            CasePhase::Drawing if rng.random_bool(0.7) => Call::Draw(id),
            CasePhase::Drawing | CasePhase::Voting => Call::Tally(id),
            _ => Call::ResolveDispute(id),
        },
        _ => Call::Finalize(id),
    };
    let call = if rng.random_bool(0.85) {
        preferred
    } else {
        [
            Call::Finalize(id),
            Call::ClaimTimeout(id),
            Call::ResolveDispute(id),
            Call::Draw(id),
            Call::Tally(id),
            if rolls_early(t) {
                Call::RollAudit(id)
            } else {
                Call::Finalize(id)
            },
        ]
        .choose(rng)?
        .clone()
    };
    let ts = pick_ts(rng, m, &t.deadlines());
    let from = if rng.random_bool(0.8) {
        cast.keeper
    } else {
        *cast.everyone.choose(rng)?
    };
    Some(Action::new(from, call, ts, "keeper"))
}

/// The keeper on any task, settled ones included, or on one that does not exist.
fn keeper(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    if rng.random_bool(0.1) {
        let id = m.tasks.len() as u64 + rng.random_range(1..3);
        let call = [
            Call::Finalize(id),
            Call::ClaimTimeout(id),
            Call::ResolveDispute(id),
            Call::Cancel(id),
            Call::Tally(id),
        ]
        .choose(rng)?
        .clone();
        return Some(Action::new(
            cast.keeper,
            call,
            m.ts + 1,
            "keeper (no such task)",
        ));
    }
    let t = m.tasks.choose(rng)?;
    keeper_on(rng, m, cast, t)
}

fn withdraw(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    // A quarter of the time a client deposits instead (bounties then come from the balance);
    // sometimes zero or more than its wallet, to see both reverts.
    if rng.random_bool(0.25) {
        let who = *cast.clients.choose(rng)?;
        let amount = match rng.random_range(0..10) {
            0 => U256::ZERO,
            1 => m.account(who).wallet + U256::from(1),
            _ => tokens(rng.random_range(1..=300)),
        };
        return Some(Action::new(
            who,
            Call::Deposit(amount),
            pick_ts(rng, m, &[]),
            "deposit",
        ));
    }
    // Some of the time: a withdrawal from the court (committee pay, the treasury's share).
    if rng.random_bool(0.25) {
        let with_court: Vec<Address> = cast
            .everyone
            .iter()
            .copied()
            .filter(|a| !m.account(*a).court.is_zero())
            .collect();
        let from = match with_court.choose(rng) {
            Some(a) if rng.random_bool(0.8) => *a,
            _ => *cast.everyone.choose(rng)?,
        };
        return Some(Action::new(
            from,
            Call::CourtWithdraw,
            pick_ts(rng, m, &[]),
            "court withdraw",
        ));
    }
    let with_balance: Vec<Address> = cast
        .everyone
        .iter()
        .copied()
        .filter(|a| !m.account(*a).market.is_zero())
        .collect();
    let from = match with_balance.choose(rng) {
        Some(a) if rng.random_bool(0.8) => *a,
        _ => *cast.everyone.choose(rng)?,
    };
    Some(Action::new(
        from,
        Call::Withdraw,
        pick_ts(rng, m, &[]),
        "withdraw",
    ))
}

/// The owner retunes the protocol (fees apply to tasks created afterwards; jail, unbonding and
/// dispute parameters to what happens afterwards); sometimes out of range, sometimes not the owner.
fn governance(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let invalid = rng.random_bool(0.2);
    let call = match rng.random_range(0..8) {
        0 if invalid => Call::SetFees(rng.random_range(1_001..1_200), rng.random_range(0..=1_000)),
        0 => Call::SetFees(rng.random_range(0..=1_000), rng.random_range(0..=1_000)),
        1 if invalid => match rng.random_range(0..3) {
            0 => Call::SetDisputeParams(*[2, 16].choose(rng)?, 60, 60),
            1 => Call::SetDisputeParams(3, 9, 60),
            _ => Call::SetDisputeParams(3, 60, 9),
        },
        1 => Call::SetDisputeParams(
            rng.random_range(3..=6),
            rng.random_range(10..=120),
            rng.random_range(10..=120),
        ),
        2 => Call::SetTreasury(*[cast.treasury, cast.owner].choose(rng)?),
        3 => Call::SetCoordinator(cast.keeper, rng.random_bool(0.5)),
        4 => Call::SetMinStake(tokens(rng.random_range(50..=900))),
        5 | 6 if invalid => Call::SetJailDuration(30 * 86_400 + 1),
        5 | 6 => Call::SetJailDuration(rng.random_range(10..=200)),
        _ => Call::SetUnbondingDelay(rng.random_range(20..=150)),
    };
    let from = if rng.random_bool(0.1) {
        *cast.everyone.choose(rng)?
    } else {
        cast.owner
    };
    let _ = m;
    Some(Action::new(from, call, pick_ts(rng, m, &[]), "governance"))
}

fn stake(rng: &mut StdRng, m: &Model, cast: &Cast) -> Option<Action> {
    let who = *cast.operators().choose(rng)?;
    let o = &m.account(who).op;
    let (call, focus) = if o.stake < tokens(400) {
        (Call::Stake(tokens(rng.random_range(100..=600))), vec![])
    } else if !o.unbonding.is_zero() && rng.random_bool(0.6) {
        (Call::WithdrawUnbonded, vec![o.unbonding_ready_at])
    } else {
        let want = tokens(rng.random_range(1..=40)).min(o.stake - o.locked);
        (
            if want.is_zero() {
                Call::Stake(tokens(50))
            } else {
                Call::RequestUnstake(want)
            },
            vec![],
        )
    };
    Some(Action::new(who, call, pick_ts(rng, m, &focus), "stake"))
}
