//! Stateful property test against a reference model.
//!
//! Random sequences of actions by two clients, the coordinator (assigning one task at a time or
//! a batch, and failing seats over with `reassign`), five honest operators, a copier,
//! a griefer, a challenger, dispute-court committee members, the court's arbiter and a keeper
//! run against a fresh deployment, with
//! the timestamp of every block chosen by the test (often a deadline's edge: D-1, D, D+1). Before
//! each call the reference model ([`reference`]) predicts its outcome (success and effects, or the
//! custom error); after it the chain is compared with the model, and the properties are checked:
//!
//! - conservation: market tokens == escrowed + bonded + the sum of every balance (the
//!   treasury's includes its accrued fees and slashes; clients also deposit), registry tokens ==
//!   sum of stake + unbonding, court tokens == the sum of the court balances it records
//!   (members' pay, the treasury's share), and all three equal the model's ledger;
//! - every task settles exactly once (later settlement calls revert and change nothing);
//! - status moves only along Open→Assigned|Refunded, Assigned→Submitted|Finalized|Refunded,
//!   Submitted→Challenged|Finalized, Challenged→Finalized|Refunded;
//! - an operator that follows the protocol is never slashed (honest operators are a strict
//!   majority of every replicated task and always meet their deadlines);
//! - requestUnstake never succeeds for more than stake - locked, and locked stake always equals
//!   the collateral of the operator's open seats plus the bonds of its open committee seats;
//! - a copied commitment earns nothing;
//! - a reassignment never slashes or charges the replaced operator: its stake and balance stay,
//!   exactly its collateral is released (none if it had declined), and it no longer holds a seat;
//! - at the end, past every deadline, the keeper settles every task with permissionless calls
//!   (a dispute: tally, then the arbiter's window runs out if it escalated, then resolve),
//!   everyone withdraws from the market and the court, and the market, the registry and the
//!   court hold exactly 0 tokens while every wallet holds exactly what the model says.
//!
//! Optimistic tasks ask for a random audit rate (0, small, anything, often 10 000) with a
//! collateral at its floor or above (and sometimes below it, or an invalid rate, or a rate on a
//! replicated or zk task, each refused by name). The model reads each result's audit coin as the
//! market does, from the hash of the block after the one the result landed in (the receipt's
//! block; an expired hash counts as audited, though the runs rarely reach one); `rollAudit` reads
//! it early (tasks with a long challenge window are left for `finalize` to read). A
//! drawn audit is a case with no challenger and no bond; its close is checked account by
//! account (`Runner::audit_closed`), and reading a coin moves no money.
//!
//! Disputes run in the `DisputeCourt`: the keeper draws the committee in rounds (each member
//! locks its bond or is skipped), members commit and reveal ballots, anyone tallies, the arbiter
//! decides escalated cases, and `resolveDispute` closes the case (members paid or penalised).
//! Honest members ballot the true digest; the copier and the griefer sometimes a wrong one, but
//! never when they could overturn an honest operator's result, and the arbiter decides an honest
//! operator's case rightly, so honest operators stay unslashed.
//!
//! Honest operators are kept on time by a scheduler ([`actions::guard`]): an action (or a time
//! jump) that would leave them unable to send what they owe before its deadline waits, and the
//! owed message goes first. Everyone else, the owner's governance calls included, acts at random,
//! right or wrong, and the model must know every answer.
//!
//! `VERITY_MODEL_STEPS` is the total number of steps across the seeds (default 10 000), one
//! fresh deployment per seed, each seed its own test; even seeds deploy the production least
//! audit rate (100 bps), odd seeds 0. A failure prints the seed and the last
//! actions; `VERITY_MODEL_SEED=<seed> VERITY_MODEL_STEPS=<steps of that seed>` replays one seed
//! (in `model_seed_0`; the other entry points then do nothing). `VERITY_MODEL_COVERAGE=1` prints,
//! per seed, every (call, outcome) pair, the slash and dispute outcomes, and how often each
//! deadline check ran at D-1, D and D+1.

mod actions;
mod check;
mod driver;
mod reference;

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    time::Instant,
};

use alloy::{
    eips::BlockId,
    primitives::{Address, U256},
    providers::Provider,
};
use verity_contracts::MockResultVerifier;
use verity_settlement::{CasePhase, Mode, Status, Verdict};

use self::{
    actions::{Action, Cast, Gen, VERIFIER_ID},
    check::Checker,
    reference::{BallotM, Call, Effect, Env, Model},
};
use crate::harness::*;

/// One fresh deployment per seed. More, shorter runs are cheaper than fewer, longer ones: the
/// devchain's cost per block grows with the state.
const SEEDS: [u64; 8] = [
    0x5eed_0001,
    0x5eed_0002,
    0x5eed_0003,
    0x5eed_0004,
    0x5eed_0005,
    0x5eed_0006,
    0x5eed_0007,
    0x5eed_0008,
];
const DEFAULT_STEPS: usize = 10_000;
/// Compare everything (all accounts, all tasks, the clock) every this many steps.
const SWEEP_EVERY: usize = 25;
/// Short jail and unbonding so that both run out (and their edges are hit) within a run.
const MODEL_JAIL: u64 = 90;
const MODEL_UNBONDING: u64 = 120;
/// Short court windows (draw-and-commit, reveal), so that disputes end within a run.
const MODEL_DISPUTE_WINDOW: u64 = 60;
const MODEL_REVEAL_WINDOW: u64 = 60;
const TRACE_LEN: usize = 25;

#[tokio::test]
async fn model_seed_0() {
    run(0).await;
}

#[tokio::test]
async fn model_seed_1() {
    run(1).await;
}

#[tokio::test]
async fn model_seed_2() {
    run(2).await;
}

#[tokio::test]
async fn model_seed_3() {
    run(3).await;
}

#[tokio::test]
async fn model_seed_4() {
    run(4).await;
}

#[tokio::test]
async fn model_seed_5() {
    run(5).await;
}

#[tokio::test]
async fn model_seed_6() {
    run(6).await;
}

#[tokio::test]
async fn model_seed_7() {
    run(7).await;
}

/// The hash of block `n`, as `BLOCKHASH` answers it.
async fn block_hash(s: &verity_settlement::Settlement, n: u64) -> alloy::primitives::B256 {
    s.provider()
        .get_block(BlockId::number(n))
        .await
        .expect("block")
        .expect("block")
        .header
        .hash
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().replace('_', ""))
        .filter(|v| !v.is_empty())
        .map(|v| {
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
}

async fn run(index: usize) {
    let (seed, steps) = match env_u64("VERITY_MODEL_SEED") {
        Some(_) if index != 0 => return,
        Some(seed) => (
            seed,
            env_u64("VERITY_MODEL_STEPS").map_or(DEFAULT_STEPS / SEEDS.len(), |n| n as usize),
        ),
        None => {
            let total = env_u64("VERITY_MODEL_STEPS").map_or(DEFAULT_STEPS, |n| n as usize);
            (SEEDS[index], total.div_ceil(SEEDS.len()))
        }
    };
    let started = Instant::now();
    // Half the seeds deploy the production minimum audit rate (rate 0 and rates below it are
    // then refused), half a test market's 0 (tasks may go unaudited).
    let min_audit_bps = if seed % 2 == 0 {
        verity_settlement::PRODUCTION_MIN_AUDIT_BPS
    } else {
        0
    };
    let net = Net::with_min_audit_bps(min_audit_bps).await;
    let mut r = Runner::new(net, seed, min_audit_bps).await;
    for step in 0..steps {
        r.step_no = step;
        let action = r.actions.next(&r.model, &r.cast);
        r.step(action, false).await;
        if step % SWEEP_EVERY == SWEEP_EVERY - 1 {
            r.checker.sweep(&r.net.s, &r.model, &r.cast).await;
        }
    }
    r.drain().await;
    r.trace.done = true;
    eprintln!(
        "model seed {seed:#x} (min audit rate {min_audit_bps} bps): {steps} steps (+{} to drain) over {} s of chain time, {} tasks ({}), {} reverts predicted, {:.1?}",
        r.step_no + 1 - steps,
        r.model.ts - r.started_at,
        r.model.tasks.len(),
        r.summary(),
        r.reverts,
        started.elapsed()
    );
    if std::env::var_os("VERITY_MODEL_COVERAGE").is_some() {
        eprintln!(
            "  time sending {:.1?}, checking {:.1?}",
            r.timing[0], r.timing[1]
        );
        for (k, n) in &r.coverage {
            eprintln!("  {n:>6}  {k}");
        }
        let edges = r.model.edges.borrow();
        for ((what, _), n) in edges.iter().filter(|((_, off), _)| *off == i8::MIN) {
            eprintln!("  {n:>6}  {what}");
        }
        let checks: BTreeSet<&str> = edges
            .keys()
            .filter(|(_, off)| *off != i8::MIN)
            .map(|(c, _)| *c)
            .collect();
        eprintln!("  deadline checks at D-1 / D / D+1:");
        for c in checks {
            let n = |off: i8| edges.get(&(c, off)).copied().unwrap_or(0);
            eprintln!("  {:>5} {:>5} {:>5}  {c}", n(-1), n(0), n(1));
        }
    }
}

/// The last actions, printed if the test fails.
struct Trace {
    seed: u64,
    lines: VecDeque<String>,
    done: bool,
}

impl Drop for Trace {
    fn drop(&mut self) {
        if !self.done && std::thread::panicking() {
            eprintln!(
                "\n==== model test failed: seed {:#x} (reproduce: VERITY_MODEL_SEED={:#x}) ====",
                self.seed, self.seed
            );
            eprintln!(
                "last {} actions (step, block time, sender, call -> outcome):",
                self.lines.len()
            );
            for l in &self.lines {
                eprintln!("  {l}");
            }
        }
    }
}

struct Runner {
    // Declared first so that it is dropped (and prints) before the devchain goes away.
    trace: Trace,
    net: Net,
    cast: Cast,
    model: Model,
    checker: Checker,
    actions: Gen,
    step_no: usize,
    reverts: usize,
    /// (call, outcome) -> count, printed at the end.
    coverage: BTreeMap<String, usize>,
    /// Chain time at the start.
    started_at: u64,
    /// Time spent sending calls and checking the chain.
    timing: [std::time::Duration; 2],
    /// What every actor held at the start, in total (wallet + market + court + stake +
    /// unbonding).
    initial_total: U256,
}

impl Runner {
    async fn new(net: Net, seed: u64, min_audit_bps: u16) -> Runner {
        let s = &net.s;
        let verifier = s
            .create_contract(net.owner, MockResultVerifier::BYTECODE.clone())
            .await
            .expect("verifier");
        s.set_verifier(net.owner, VERIFIER_ID, verifier)
            .await
            .expect("set verifier");
        s.set_jail_duration(net.owner, MODEL_JAIL)
            .await
            .expect("jail");
        s.set_unbonding_delay(net.owner, MODEL_UNBONDING)
            .await
            .expect("unbonding");
        // Committees of 3, 4 or 5 (even sizes make "strict majority" differ from "half"; the
        // five honest operators, the copier and the griefer are the pool).
        let committee = 3 + (seed % 3) as u8;
        s.set_dispute_params(
            net.owner,
            committee,
            MODEL_DISPUTE_WINDOW as u32,
            MODEL_REVEAL_WINDOW as u32,
        )
        .await
        .expect("dispute params");
        let ops = net.operators.clone();
        let cast = Cast {
            owner: net.owner,
            coordinator: net.coordinator,
            treasury: net.treasury,
            clients: [net.client, net.client2],
            challenger: net.challenger,
            keeper: net.keeper,
            arbiter: net.arbiter,
            honest: ops[..5].to_vec(),
            copier: ops[5],
            griefer: ops[6],
            everyone: net.actors(),
        };
        let d = *s.deployment();
        let mut accounts = BTreeMap::new();
        for who in &cast.everyone {
            accounts.insert(*who, check::read_account(s, *who).await);
        }
        let head = s
            .provider()
            .get_block(BlockId::latest())
            .await
            .expect("head")
            .expect("head");
        let totals = s.market_totals().await.expect("totals");
        let total_credited = accounts.values().map(|a| a.market).sum();
        let eligible = s.eligible_set().await.expect("eligible set");
        let d_cfg = verity_settlement::DeployConfig::devnet(net.owner);
        let model = Model {
            chain_id: s.chain_id(),
            owner: net.owner,
            market: d.market,
            treasury: net.treasury,
            coordinators: BTreeSet::from([net.coordinator]),
            protocol_bps: PROTOCOL_BPS,
            scheduler_bps: SCHEDULER_BPS,
            court: d.court,
            committee_size: committee,
            dispute_window: MODEL_DISPUTE_WINDOW,
            reveal_window: MODEL_REVEAL_WINDOW,
            arbiter: s.arbiter().await.expect("arbiter"),
            arbiter_window: u64::from(ARBITER_WINDOW),
            min_stake: tokens(MIN_STAKE),
            unbonding_delay: MODEL_UNBONDING,
            jail_duration: MODEL_JAIL,
            verifiers: BTreeMap::from([(VERIFIER_ID, verifier)]),
            operator_list: s.operators().await.expect("operator list"),
            eligible_list: eligible.iter().map(|(a, _)| *a).collect(),
            eligible_since: eligible.iter().copied().collect(),
            min_response_window: u64::from(d_cfg.min_response_window),
            min_reveal_window: u64::from(d_cfg.min_reveal_window),
            min_audit_bps,
            accounts,
            tasks: Vec::new(),
            escrowed: totals.escrowed,
            bonded: totals.bonded,
            total_credited,
            market_tokens: s.token_balance(d.market).await.expect("market tokens"),
            registry_tokens: s.token_balance(d.registry).await.expect("registry tokens"),
            court_tokens: s.token_balance(d.court).await.expect("court tokens"),
            ts: head.header.timestamp,
            block: head.header.number,
            touched: BTreeSet::new(),
            edges: Default::default(),
        };
        assert_eq!(model.operator_list, ops, "operators registered in order");
        assert_eq!(model.arbiter, net.arbiter, "the harness's arbiter");
        model.check_identities().expect("initial state");
        let initial_total = model
            .accounts
            .values()
            .map(|a| a.wallet + a.market + a.court + a.op.stake + a.op.unbonding)
            .sum();
        let mut checker = Checker::default();
        checker.sweep(s, &model, &cast).await;
        let started_at = model.ts;
        Runner {
            trace: Trace {
                seed,
                lines: VecDeque::new(),
                done: false,
            },
            net,
            cast,
            model,
            checker,
            actions: Gen::new(seed),
            step_no: 0,
            reverts: 0,
            coverage: BTreeMap::new(),
            timing: Default::default(),
            started_at,
            initial_total,
        }
    }

    fn log(&mut self, line: String) {
        if self.trace.lines.len() == TRACE_LEN {
            self.trace.lines.pop_front();
        }
        self.trace.lines.push_back(line);
    }

    fn describe(&self, a: &Action) -> String {
        let call = match &a.call {
            Call::CreateTask(r) => format!(
                "CreateTask({:?} r{}/q{} bounty {} coll {} deadlines {}/{}/{} window {} audit {} bps vid {})",
                r.mode,
                r.replication,
                r.quorum,
                r.bounty,
                r.collateral,
                r.assign_deadline,
                r.commit_deadline,
                r.reveal_deadline,
                r.challenge_window,
                r.audit_bps,
                if r.verifier_id.is_zero() { "0" } else { "set" }
            ),
            Call::Assign(id, ops) => {
                format!(
                    "Assign({id}, [{}])",
                    ops.iter()
                        .map(|o| self.cast.name(*o))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            Call::AssignBatch(batch) => format!(
                "AssignBatch({})",
                batch
                    .iter()
                    .map(|(id, ops)| format!(
                        "{id}: [{}]",
                        ops.iter()
                            .map(|o| self.cast.name(*o))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Call::Reassign(id, seat, to) => {
                format!("Reassign({id}, seat {seat}, {})", self.cast.name(*to))
            }
            Call::SubmitProof(id, d, p) => format!("SubmitProof({id}, {d}, {} bytes)", p.len()),
            other => format!("{other:?}"),
        };
        format!(
            "#{} t={} {} {} [{}]",
            self.step_no,
            a.ts,
            self.cast.name(a.from),
            call,
            a.why
        )
    }

    /// Sends one action at its timestamp, checks the outcome against the model's prediction,
    /// then the state and the properties.
    async fn step(&mut self, a: Action, must_succeed: bool) {
        assert!(a.ts > self.model.ts, "actions move time forward");
        let desc = self.describe(&a);
        self.log(format!("{desc} -> ..."));
        let before = self.model.clone();
        let s = self.net.s.clone();

        // Pin the block's timestamp; the call is estimated and mined at exactly this second.
        self.net.next_block_at(a.ts).await;
        let block = self.model.block + 1;
        let mut env = Env::at(a.ts, block);
        if let Call::Draw(id) = &a.call
            && let Some(n) = self.model.draw_hash_block(*id, block)
        {
            env.seed_hash = Some(block_hash(&s, n).await);
        }
        // The audit coin: the hash of the block after the result's, read from the chain.
        if let Call::Finalize(id) | Call::RollAudit(id) = &a.call
            && let Some(n) = self.model.coin_block(*id, block)
        {
            env.coin_hash = Some(block_hash(&s, n).await);
        }
        let sent = Instant::now();
        let predicted = self.model.apply(a.from, &a.call, &env);
        let got = match &a.call {
            Call::Mine => {
                self.net.mine().await;
                Ok(Effect::None)
            }
            call => driver::send(&s, a.from, call).await,
        };
        let outcome = match (&predicted, &got) {
            (Ok(p), Ok(g)) => {
                assert_eq!(p, g, "{desc}: return value differs from the model");
                "ok".to_string()
            }
            (Err(name), Err(e)) => {
                assert_eq!(
                    e.revert_name().as_deref(),
                    Some(*name),
                    "{desc}: expected revert {name}, got: {e}"
                );
                self.reverts += 1;
                format!("reverts {name}")
            }
            (Ok(_), Err(e)) => panic!("{desc}: the model expects success, the chain says: {e}"),
            (Err(name), Ok(_)) => {
                panic!("{desc}: the model expects revert {name}, the chain accepted it")
            }
        };
        self.trace.lines.pop_back();
        self.log(format!("{desc} -> {outcome}"));
        let kind = format!("{:?}", a.call);
        let kind = kind.split(['(', ' ']).next().unwrap_or_default();
        *self
            .coverage
            .entry(format!("{kind} {outcome}"))
            .or_default() += 1;
        *self.coverage.entry(format!("~ by {}", a.why)).or_default() += 1;
        if must_succeed {
            assert!(
                predicted.is_ok(),
                "{desc}: must succeed, reverts {predicted:?}"
            );
        }

        // Test bookkeeping the contracts do not keep.
        if let (Ok(_), Call::CommitBallot(id, digest, salt)) = (&predicted, &a.call) {
            self.model.tasks[*id as usize - 1]
                .ballot_secrets
                .insert(a.from, (*digest, *salt));
        }
        if let (Ok(_), Call::Commit(id, _)) = (&predicted, &a.call) {
            let t = &mut self.model.tasks[*id as usize - 1];
            if let Some(secret) = a.secret {
                t.secrets.insert(a.from, secret);
            }
            if a.from == self.cast.copier {
                t.copied = true;
            }
        }

        let checked = Instant::now();
        self.timing[0] += checked - sent;
        self.check(&a, &before, predicted.is_ok()).await;
        self.timing[1] += checked.elapsed();
    }

    async fn check(&mut self, a: &Action, before: &Model, succeeded: bool) {
        let s = self.net.s.clone();
        let m = &self.model;
        if let Err(e) = m.check_identities() {
            panic!("{e}");
        }
        // Every account the step could have changed.
        let mut touched = m.touched.clone();
        touched.insert(a.from);
        for who in &touched {
            self.checker.account(&s, m, &self.cast, *who, false).await;
        }
        // The task it was about (or created).
        let id = match &a.call {
            Call::CreateTask(_) => Some(m.tasks.len() as u64),
            c => c.task(),
        };
        if let Some(id) = id.filter(|i| *i > 0) {
            self.checker.task(&s, m, id).await;
            match &a.call {
                Call::Assign(..) | Call::Reassign(..) | Call::CreateTask(_) => {
                    self.checker.task_full(&s, m, id).await
                }
                Call::Commit(..) | Call::Reveal(..) | Call::Decline(_) => {
                    self.checker.seat(&s, m, id, a.from).await
                }
                Call::CommitBallot(..) | Call::RevealBallot(..) => {
                    self.checker.case(&s, m, id).await;
                    self.checker.ballots(&s, m, id, &[a.from]).await;
                }
                Call::Challenge(_)
                | Call::Finalize(_)
                | Call::RollAudit(_)
                | Call::Draw(_)
                | Call::Tally(_)
                | Call::Arbitrate(..)
                | Call::ResolveDispute(_) => self.checker.case(&s, m, id).await,
                _ => {}
            }
        }
        if let Call::AssignBatch(batch) = &a.call {
            for (id, _) in batch {
                if m.task(*id).is_ok() {
                    self.checker.task_full(&s, m, *id).await;
                }
            }
        }
        // Money, every step. The untouched operators' stakes are unchanged and were compared
        // when they last changed, so the model's sum is the chain's.
        let stakes = m
            .accounts
            .values()
            .map(|x| x.op.stake + x.op.unbonding)
            .sum();
        self.checker.money(&s, m, stakes).await;

        // ---- properties beyond "chain == model"
        // Stake that may still be slashed (locked) cannot start unbonding. The state before the
        // step was compared with the chain, so this is the chain's free stake.
        if let (Call::RequestUnstake(amount), true) = (&a.call, succeeded) {
            let o = &before.account(a.from).op;
            assert!(
                *amount <= o.stake - o.locked,
                "requestUnstake of {amount} succeeded with only {} free",
                o.stake - o.locked
            );
        }
        if let Some(id) = a.call.task()
            && let Ok(prev) = before.task(id)
        {
            let now = m.task(id).expect("task");
            // Settled exactly once: a settled task accepts no call at all.
            if prev.status.is_terminal() {
                assert!(
                    !succeeded,
                    "task {id} accepted {:?} after settlement",
                    a.call
                );
                assert_eq!(
                    now.status, prev.status,
                    "task {id} changed after settlement"
                );
            }
            if !prev.status.is_terminal() && now.status.is_terminal() && now.copied {
                let copier = self.cast.copier;
                let after = check::read_account(&s, copier).await.market;
                assert!(
                    after <= before.account(copier).market,
                    "the copier gained from task {id} it copied"
                );
                assert!(
                    !now.credited.contains_key(&copier),
                    "task {id} credited the copier"
                );
            }
        }
        if let (Call::Reassign(id, seat, to), true) = (&a.call, succeeded) {
            let old = before.task(*id).expect("task").operators[*seat as usize];
            let declined =
                before.task(*id).expect("task").seat(old) == verity_settlement::Seat::Declined;
            let collateral = m.task(*id).expect("task").collateral;
            let (was, now) = (&before.account(old), &m.account(old));
            assert_eq!(
                (now.op.stake, now.market, now.wallet, now.op.times_slashed),
                (was.op.stake, was.market, was.wallet, was.op.times_slashed),
                "task {id}: the replaced operator lost something"
            );
            let released = if declined { U256::ZERO } else { collateral };
            assert_eq!(now.op.locked, was.op.locked - released);
            assert_eq!(
                m.account(*to).op.locked,
                before.account(*to).op.locked + collateral
            );
            // The chain agrees: the replaced operator no longer holds a seat.
            self.checker.seat(&s, m, *id, old).await;
            assert_eq!(
                m.task(*id).expect("task").seat(old),
                verity_settlement::Seat::None
            );
        }
        // Closing a case: every member's bond is released; a member that revealed the verdict's
        // side loses nothing, any other loses at most MEMBER_PENALTY_BPS of its bond.
        if let (Call::ResolveDispute(id), true) = (&a.call, succeeded) {
            let c = &before.task(*id).expect("task").case;
            let side = match m.task(*id).expect("task").case.verdict {
                Verdict::Upheld => Some(BallotM::Agreed),
                Verdict::Overturned => Some(BallotM::Disagreed),
                _ => None,
            };
            let most =
                c.member_bond * U256::from(reference::MEMBER_PENALTY_BPS) / U256::from(10_000);
            for member in &c.committee {
                let (was, now) = (&before.account(*member).op, &m.account(*member).op);
                let name = self.cast.name(*member);
                assert_eq!(
                    now.locked,
                    was.locked - c.member_bond,
                    "task {id}: {name}'s bond not released"
                );
                let lost = was.stake - now.stake;
                if side.is_some() && c.ballots.get(member).copied() == side {
                    assert!(
                        lost.is_zero(),
                        "task {id}: {name} voted with the verdict, lost {lost}"
                    );
                } else {
                    assert!(
                        lost <= most,
                        "task {id}: {name} lost {lost} > the penalty {most}"
                    );
                }
            }
        }
        // Reading an audit coin moves no money: a drawn audit leaves the task to the court,
        // a cleared one waits for `finalize`.
        if let (Call::Finalize(id) | Call::RollAudit(id), true) = (&a.call, succeeded)
            && m.task(*id).expect("task").status == Status::Challenged
        {
            assert_eq!(
                m.accounts, before.accounts,
                "task {id}: the audit opened and money moved"
            );
            assert_eq!(
                (m.escrowed, m.bonded, m.market_tokens, m.court_tokens),
                (
                    before.escrowed,
                    before.bonded,
                    before.market_tokens,
                    before.court_tokens
                ),
                "task {id}: the audit opened and money moved"
            );
        }
        if let (Call::ResolveDispute(id), true) = (&a.call, succeeded)
            && before.task(*id).expect("task").case.challenger.is_zero()
        {
            self.audit_closed(before, *id);
        }
        for h in &self.cast.honest {
            assert_eq!(
                m.account(*h).op.times_slashed,
                0,
                "honest operator {} slashed",
                self.cast.name(*h)
            );
        }
        assert!(
            actions::feasible(
                &actions::obligations(m, &self.cast)
                    .iter()
                    .map(|o| (o.release, o.deadline))
                    .collect::<Vec<_>>(),
                m.ts + 1
            ),
            "test bug: honest operators can no longer meet their deadlines"
        );
    }

    /// The money of a closed audit, account by account (the model's accounts were just
    /// compared with the chain's): Upheld, the operator is paid its reward less
    /// `AUDIT_FEE_BPS` of the bounty, which goes to the court, and the fees go as usual;
    /// Overturned, the operator loses its collateral C, the court gets `COMMITTEE_SHARE_BPS` of
    /// C, the treasury the rest and the client its bounty back; Neutral, the collateral is
    /// released and the client refunded. The court also receives what idle or outvoted
    /// members forfeit; no other market balance moves.
    fn audit_closed(&self, before: &Model, id: u64) {
        let m = &self.model;
        let t = m.task(id).expect("task");
        let (bounty, collateral, op) = (t.bounty, t.collateral, t.operators[0]);
        let bps = |x: U256, b: u64| x * U256::from(b) / U256::from(10_000);
        let i = |x: U256| x.to::<i128>();
        let mut market: BTreeMap<Address, i128> = BTreeMap::new();
        let (stake, court) = match t.case.verdict {
            Verdict::Upheld => {
                let fee = bps(bounty, reference::AUDIT_FEE_BPS);
                let protocol = bps(bounty, u64::from(t.protocol_bps));
                let scheduler = bps(bounty, u64::from(t.scheduler_bps));
                *market.entry(op).or_default() += i(bounty - protocol - scheduler - fee);
                *market.entry(m.treasury).or_default() += i(protocol);
                *market.entry(t.assigner).or_default() += i(scheduler);
                (0, fee)
            }
            Verdict::Overturned => {
                let share = bps(collateral, reference::COMMITTEE_SHARE_BPS);
                *market.entry(m.treasury).or_default() += i(collateral - share);
                *market.entry(t.client).or_default() += i(bounty);
                (-i(collateral), share)
            }
            _ => {
                *market.entry(t.client).or_default() += i(bounty);
                (0, U256::ZERO)
            }
        };
        let verdict = t.case.verdict;
        for (who, now) in &m.accounts {
            let was = before.accounts.get(who).cloned().unwrap_or_default();
            let want = market.get(who).copied().unwrap_or_default();
            assert_eq!(
                i(now.market) - i(was.market),
                want,
                "task {id}: audit {verdict:?}, market balance of {}",
                self.cast.name(*who)
            );
        }
        let (was, now) = (&before.account(op).op, &m.account(op).op);
        assert_eq!(
            (i(now.stake) - i(was.stake), i(was.locked) - i(now.locked)),
            (stake, i(collateral)),
            "task {id}: audit {verdict:?}, operator's stake and released collateral"
        );
        let forfeited: U256 = before
            .task(id)
            .expect("task")
            .case
            .committee
            .iter()
            .map(|a| before.account(*a).op.stake - m.account(*a).op.stake)
            .sum();
        assert_eq!(
            m.court_tokens - before.court_tokens,
            court + forfeited,
            "task {id}: audit {verdict:?}, court's takings"
        );
    }

    /// The end: honest operators finish, time passes every deadline, the keeper settles every
    /// task with permissionless calls, everyone withdraws everything.
    async fn drain(&mut self) {
        // Honest operators send what they owe (earliest deadline first).
        loop {
            self.step_no += 1;
            let owed = actions::obligations(&self.model, &self.cast);
            let next = self.model.ts + 1;
            let Some(o) = owed
                .iter()
                .filter(|o| !matches!(o.call, Call::Mine))
                .min_by_key(|o| (o.release.max(next), o.deadline))
            else {
                break;
            };
            let a = Action {
                from: o.from,
                call: o.call.clone(),
                ts: o.release.max(next),
                why: "drain: honest",
                secret: o.secret,
            };
            self.step(a, true).await;
        }
        // Past every deadline, the keeper settles every task.
        let end = self
            .model
            .tasks
            .iter()
            .map(|t| t.last_deadline())
            .max()
            .unwrap_or(0)
            .max(self.model.ts)
            + 1;
        let live: Vec<u64> = self.model.live_tasks().map(|t| t.id).collect();
        let mut ts = end;
        for id in live {
            // Until it settles: a finalize may draw an audit, whose case then runs its course
            // like a challenge's.
            for _ in 0..2 {
                // A dispute: the keeper tallies (all its deadlines passed: it decides or
                // escalates), and an escalated case waits out the arbiter, who stays silent
                // (Neutral). A case the drain itself opened has its deadlines ahead.
                let c = &self.model.task(id).expect("task").case;
                match c.phase {
                    CasePhase::Drawing => ts = ts.max(c.draw_deadline + 1),
                    CasePhase::Voting => ts = ts.max(c.reveal_deadline + 1),
                    _ => {}
                }
                if c.tally_due(ts) {
                    self.step_no += 1;
                    self.step(
                        Action::new(self.cast.keeper, Call::Tally(id), ts, "drain: tally"),
                        true,
                    )
                    .await;
                    ts += 1;
                }
                let c = &self.model.task(id).expect("task").case;
                if c.phase == CasePhase::Escalated {
                    ts = ts.max(c.arbiter_deadline + 1);
                }
                let t = self.model.task(id).expect("task");
                // An audit coin is read from the block after the result's, not in it.
                if t.status == Status::Submitted
                    && t.audit_bps != 0
                    && !t.cleared
                    && self.model.block <= t.submit_block
                {
                    self.step_no += 1;
                    self.step(
                        Action::new(self.cast.keeper, Call::Mine, ts, "drain: coin block"),
                        true,
                    )
                    .await;
                    ts += 1;
                }
                let t = self.model.task(id).expect("task");
                let call = match (t.status, t.mode) {
                    (Status::Open, _) => Call::ClaimTimeout(id),
                    (Status::Assigned, Mode::Replicated) => Call::Finalize(id),
                    (Status::Assigned, _) => Call::ClaimTimeout(id),
                    (Status::Submitted, _) => Call::Finalize(id),
                    (Status::Challenged, _) => Call::ResolveDispute(id),
                    (s, _) => panic!("task {id} is live in status {s:?}"),
                };
                self.step_no += 1;
                self.step(
                    Action::new(self.cast.keeper, call, ts, "drain: settle"),
                    true,
                )
                .await;
                ts += 1;
                if self.model.task(id).expect("task").status.is_terminal() {
                    break;
                }
            }
            assert!(self.model.task(id).expect("task").status.is_terminal());
            // Every settlement call now reverts and changes nothing (checked in `check`).
            for again in [
                Call::Finalize(id),
                Call::ClaimTimeout(id),
                Call::ResolveDispute(id),
            ] {
                ts += 1;
                self.step_no += 1;
                self.step(
                    Action::new(self.cast.keeper, again, ts, "drain: settle again"),
                    false,
                )
                .await;
            }
            ts += 1;
        }
        assert_eq!(self.model.live_tasks().count(), 0);
        // Everyone withdraws (from the market and the court); operators unbond everything.
        for who in self.cast.everyone.clone() {
            if !self.model.account(who).court.is_zero() {
                self.step_no += 1;
                self.step(
                    Action::new(who, Call::CourtWithdraw, ts, "drain: court withdraw"),
                    true,
                )
                .await;
                ts += 1;
            }
            if !self.model.account(who).market.is_zero() {
                self.step_no += 1;
                self.step(
                    Action::new(who, Call::Withdraw, ts, "drain: withdraw"),
                    true,
                )
                .await;
                ts += 1;
            }
            let o = self.model.account(who).op.clone();
            assert!(
                o.locked.is_zero(),
                "{} still has locked stake",
                self.cast.name(who)
            );
            if !o.stake.is_zero() {
                self.step_no += 1;
                self.step(
                    Action::new(who, Call::RequestUnstake(o.stake), ts, "drain: unstake"),
                    true,
                )
                .await;
                ts += 1;
            }
        }
        let ready = self
            .model
            .accounts
            .values()
            .map(|a| a.op.unbonding_ready_at)
            .max()
            .unwrap_or(0);
        ts = ts.max(ready).max(self.model.ts + 1);
        for who in self.cast.everyone.clone() {
            if !self.model.account(who).op.unbonding.is_zero() {
                self.step_no += 1;
                self.step(
                    Action::new(who, Call::WithdrawUnbonded, ts, "drain: withdraw unbonded"),
                    true,
                )
                .await;
                ts += 1;
            }
        }
        // Nothing is left anywhere but in the wallets, and every wallet is what the model says.
        let s = self.net.s.clone();
        self.checker.sweep(&s, &self.model, &self.cast).await;
        let d = *s.deployment();
        assert_eq!(
            s.token_balance(d.market).await.expect("market tokens"),
            U256::ZERO,
            "market holds tokens at the end"
        );
        assert_eq!(
            s.token_balance(d.registry).await.expect("registry tokens"),
            U256::ZERO,
            "registry holds tokens at the end"
        );
        assert_eq!(
            s.token_balance(d.court).await.expect("court tokens"),
            U256::ZERO,
            "court holds tokens at the end"
        );
        let totals = s.market_totals().await.expect("totals");
        assert_eq!(
            (totals.escrowed, totals.bonded, totals.treasury_accrued),
            (U256::ZERO, U256::ZERO, U256::ZERO)
        );
        let mut wallets = U256::ZERO;
        for who in &self.cast.everyone {
            let w = s.token_balance(*who).await.expect("wallet");
            assert_eq!(
                w,
                self.model.account(*who).wallet,
                "final wallet of {}",
                self.cast.name(*who)
            );
            wallets += w;
        }
        assert_eq!(wallets, self.initial_total, "tokens were created or lost");
        for t in &self.model.tasks {
            assert_eq!(
                t.settlements, 1,
                "task {} settled {} times",
                t.id, t.settlements
            );
        }
    }

    fn summary(&self) -> String {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for t in &self.model.tasks {
            *by.entry(format!("{:?}", t.status)).or_default() += 1;
        }
        let copied = self.model.tasks.iter().filter(|t| t.copied).count();
        let slashed: u32 = [self.cast.copier, self.cast.griefer]
            .iter()
            .map(|a| self.model.account(*a).op.times_slashed)
            .sum();
        let _: &Address = &self.cast.owner;
        format!("{by:?}, {copied} copied, copier+griefer slashed {slashed}x")
    }
}
