//! Reading the chain and comparing it with the model; the properties checked after each step.

use std::collections::BTreeSet;

use alloy::{
    eips::BlockId,
    primitives::{Address, U256},
    providers::Provider,
};
use verity_settlement::{Ballot, CaseInfo, OperatorInfo, SeatInfo, Settlement, Status, TaskInfo};

use super::{
    actions::Cast,
    reference::{Account, BallotM, Model, OpState, TaskM},
};

/// Status moves the market allows (besides staying put).
pub fn allowed(from: Status, to: Status) -> bool {
    use Status::*;
    from == to
        || matches!(
            (from, to),
            (None, Open)
                | (Open, Assigned | Refunded)
                | (Assigned, Submitted | Finalized | Refunded)
                | (Submitted, Challenged | Finalized)
                | (Challenged, Finalized | Refunded)
        )
}

/// What the checker remembers between steps.
#[derive(Debug, Default)]
pub struct Checker {
    /// Last status read from the chain, per task (index = id - 1).
    pub seen: Vec<Status>,
    /// Terminal tasks already compared in full (they cannot change any more).
    pub done: BTreeSet<u64>,
}

pub async fn read_account(s: &Settlement, who: Address) -> Account {
    read(s, who, true).await
}

/// An account's wallet, market and court balances and (if `registry`) registry record; without
/// the registry read the record is returned as default (what a non-operator has).
async fn read(s: &Settlement, who: Address, registry: bool) -> Account {
    let wallet = s.token_balance(who).await.expect("token balance");
    let market = s.market_balance(who).await.expect("market balance");
    let court = s.court_balance(who).await.expect("court balance");
    if !registry {
        return Account {
            wallet,
            market,
            court,
            op: OpState::default(),
        };
    }
    let o: OperatorInfo = s.operator(who).await.expect("operator");
    Account {
        wallet,
        market,
        court,
        op: OpState {
            registered: o.registered,
            stake: o.stake,
            locked: o.locked,
            unbonding: o.unbonding,
            unbonding_ready_at: o.unbonding_ready_at,
            jailed_until: o.jailed_until,
            tasks_completed: o.tasks_completed,
            tasks_failed: o.tasks_failed,
            times_slashed: o.times_slashed,
        },
    }
}

/// The task as the chain should report it.
fn expected_task(t: &TaskM) -> TaskInfo {
    TaskInfo {
        client: t.client,
        mode: t.mode,
        status: t.status,
        replication: t.replication,
        quorum: t.quorum,
        protocol_fee_bps: t.protocol_bps,
        scheduler_fee_bps: t.scheduler_bps,
        bounty: t.bounty,
        collateral: t.collateral,
        assign_deadline: t.assign_deadline,
        commit_deadline: t.commit_deadline,
        reveal_deadline: t.reveal_deadline,
        challenge_window: t.challenge_window,
        submitted_at: t.submitted_at,
        assigner: t.assigner,
        commits: t.commits,
        reveals: t.reveals,
        declined: t.declined,
        program_digest: t.program_digest,
        input_digest: t.input_digest,
        result: t.result,
        verifier: t.verifier,
        audit_bps: t.audit_bps,
    }
}

impl Checker {
    /// One account: wallet, market and court balances and registry record equal the model's; honest
    /// operators were never slashed; locked stake never exceeds stake.
    /// `all`: read the registry record of non-operators too (they have none; the sweeps check).
    pub async fn account(&self, s: &Settlement, m: &Model, cast: &Cast, who: Address, all: bool) {
        let want = m.account(who);
        let got = read(s, who, all || want.op.registered).await;
        assert_eq!(
            &got,
            want,
            "account {} ({who}) differs from the model",
            cast.name(who)
        );
        assert!(
            got.op.locked <= got.op.stake,
            "{}: locked > stake",
            cast.name(who)
        );
        if cast.is_honest(who) {
            assert_eq!(
                got.op.times_slashed,
                0,
                "honest operator {} was slashed",
                cast.name(who)
            );
        }
    }

    /// One task's record, and its status move since it was last read.
    pub async fn task(&mut self, s: &Settlement, m: &Model, id: u64) {
        let Ok(t) = m.task(id) else {
            let got = s.task(U256::from(id)).await.expect("task");
            assert_eq!(
                got.status,
                Status::None,
                "task {id} exists on chain but not in the model"
            );
            return;
        };
        let got = s.task(U256::from(id)).await.expect("task");
        let i = id as usize - 1;
        if self.seen.len() <= i {
            self.seen.resize(i + 1, Status::None);
        }
        let prev = self.seen[i];
        assert!(
            allowed(prev, got.status),
            "task {id}: status moved {prev:?} -> {:?}",
            got.status
        );
        self.seen[i] = got.status;
        assert_eq!(got, expected_task(t), "task {id} differs from the model");
    }

    pub async fn seat(&self, s: &Settlement, m: &Model, id: u64, op: Address) {
        let Ok(t) = m.task(id) else { return };
        let got: SeatInfo = s.seat(U256::from(id), op).await.expect("seat");
        let want = t.seats.get(&op).map_or(
            SeatInfo {
                seat: verity_settlement::Seat::None,
                commit_block: 0,
                commitment: Default::default(),
                digest: Default::default(),
            },
            |w| SeatInfo {
                seat: w.seat,
                commit_block: w.commit_block,
                commitment: w.commitment,
                digest: w.digest,
            },
        );
        assert_eq!(got, want, "task {id}: seat of {op} differs from the model");
    }

    /// The task's case in the court (phase `None` if it has none).
    pub async fn case(&self, s: &Settlement, m: &Model, id: u64) {
        let Ok(t) = m.task(id) else { return };
        let got = s.case(U256::from(id)).await.expect("case");
        let c = &t.case;
        let want = CaseInfo {
            phase: c.phase,
            verdict: c.verdict,
            by_arbiter: c.by_arbiter,
            operator: c.operator,
            challenger: c.challenger,
            client: c.client,
            claimed: c.claimed,
            size: c.size,
            pool_size: c.pool_size,
            window: c.window as u32,
            rounds: c.rounds,
            committed: c.committed,
            revealed: c.revealed,
            agree: c.agree,
            disagree: c.disagree,
            seed_block: c.seed_block,
            draw_deadline: c.draw_deadline,
            commit_deadline: c.commit_deadline,
            reveal_deadline: c.reveal_deadline,
            arbiter_deadline: c.arbiter_deadline,
            member_bond: c.member_bond,
            committee: c.committee.clone(),
        };
        assert_eq!(got, want, "task {id}: case differs from the model");
    }

    /// The ballots of `members` in the task's case.
    pub async fn ballots(&self, s: &Settlement, m: &Model, id: u64, members: &[Address]) {
        let Ok(t) = m.task(id) else { return };
        let c = &t.case;
        for member in members {
            let got = s.ballot(U256::from(id), *member).await.expect("ballot");
            let want = match c.ballots.get(member) {
                None => Ballot::None,
                Some(BallotM::Committed(_)) => Ballot::Committed,
                Some(BallotM::Agreed) => Ballot::Agreed,
                Some(BallotM::Disagreed) => Ballot::Disagreed,
            };
            assert_eq!(
                got, want,
                "task {id}: ballot of {member} differs from the model"
            );
        }
    }

    pub async fn operators(&self, s: &Settlement, m: &Model, id: u64) {
        let Ok(t) = m.task(id) else { return };
        let got = s.operators_of(U256::from(id)).await.expect("operators");
        assert_eq!(
            got, t.operators,
            "task {id}: operators differ from the model"
        );
    }

    /// Everything about a task: record, operators, seats, case.
    pub async fn task_full(&mut self, s: &Settlement, m: &Model, id: u64) {
        self.task(s, m, id).await;
        self.operators(s, m, id).await;
        let ops = m.task(id).map(|t| t.operators.clone()).unwrap_or_default();
        for op in ops {
            self.seat(s, m, id, op).await;
        }
        self.case(s, m, id).await;
        let members = m
            .task(id)
            .map(|t| t.case.committee.clone())
            .unwrap_or_default();
        self.ballots(s, m, id, &members).await;
    }

    /// The money identities of the market, the registry and the court, on chain values, and the
    /// totals against the model. `registry_stakes` is the sum of every operator's stake + unbonding (on chain).
    pub async fn money(&self, s: &Settlement, m: &Model, registry_stakes: U256) {
        let d = s.deployment();
        let totals = s.market_totals().await.expect("totals");
        let market_tokens = s.token_balance(d.market).await.expect("market tokens");
        let registry_tokens = s.token_balance(d.registry).await.expect("registry tokens");
        let court_tokens = s.token_balance(d.court).await.expect("court tokens");
        // Every account's court balance is compared with the model's after each step, so the
        // model's sum stands for the chain's.
        let court_credited: U256 = m.accounts.values().map(|a| a.court).sum();
        assert_eq!(
            court_tokens, court_credited,
            "court token balance != sum of the balances it records"
        );
        assert_eq!(
            court_tokens, m.court_tokens,
            "court tokens differ from the model"
        );
        // The chain keeps no sum of balances; every account's balance is compared to the
        // model's after each step, so the model's sum stands for the chain's here.
        assert_eq!(
            market_tokens,
            totals.escrowed + totals.bonded + m.total_credited,
            "market token balance != escrowed + bonded + sum of balances"
        );
        assert_eq!(
            registry_tokens, registry_stakes,
            "registry token balance != sum of stake + unbonding"
        );
        assert_eq!(
            (
                totals.escrowed,
                totals.bonded,
                m.total_credited,
                market_tokens,
                registry_tokens
            ),
            (
                m.escrowed,
                m.bonded,
                m.total_credited,
                m.market_tokens,
                m.registry_tokens
            ),
            "market totals (escrowed, bonded, credited, market tokens, registry tokens) differ from the model"
        );
    }

    /// Latest block number and timestamp.
    pub async fn clock(&self, s: &Settlement, m: &Model) {
        let b = s
            .provider()
            .get_block(BlockId::latest())
            .await
            .expect("latest block")
            .expect("a latest block");
        assert_eq!(
            (b.header.number, b.header.timestamp),
            (m.block, m.ts),
            "chain head (number, time) differs from the model"
        );
    }

    /// Everything: every account, every task not yet known final, the money, the clock.
    pub async fn sweep(&mut self, s: &Settlement, m: &Model, cast: &Cast) {
        let mut stakes = U256::ZERO;
        for who in &cast.everyone {
            self.account(s, m, cast, *who, true).await;
            let o = &m.account(*who).op;
            stakes += o.stake + o.unbonding;
        }
        for t in &m.tasks {
            if self.done.contains(&t.id) {
                continue;
            }
            self.task_full(s, m, t.id).await;
            if t.status.is_terminal() {
                self.done.insert(t.id);
            }
        }
        // One past the last task does not exist.
        self.task(s, m, m.tasks.len() as u64 + 1).await;
        self.money(s, m, stakes).await;
        self.clock(s, m).await;
    }
}
