//! Verification under attack (issue 5), on the embedded devchain with in-process workers:
//! fault-injected nodes (`wrong_result`, `copy_commitments`, `silent`), honest committee nodes
//! and the watchtower. Every test asserts the exact balance change of every actor.

use std::{sync::Arc, time::Duration};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    sol_types::SolEvent,
};
use verity_contracts::TaskMarket;
use verity_devchain::{DevchainConfig, DevchainHandle};
use verity_executor::{Executor, ExecutorConfig};
use verity_node::{
    blobs::{MemoryBlobs, sha256},
    db::{DutyPhase, TaskDb},
    fault::{self, Behaviour},
    metrics::Metrics,
    watchtower::{Sampling, Watchtower, WatchtowerMetrics},
    worker::Worker,
};
use verity_primitives::envelope::{ExecLimits, InputEnvelope};
use verity_settlement::{
    DeployConfig, Mode, OperatorProfile, Settlement, Status, TaskRequest, TxOptions, deploy,
    events::{DEFAULT_CHUNK_BLOCKS, history_to_head},
};

const ECHO: &str = r#"(module
  (import "verity" "input_len" (func $input_len (result i32)))
  (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $read_input (i32.const 0) (i32.const 0) (call $input_len)))
    (call $write_output (i32.const 0) (call $input_len))))"#;

const PAYLOAD: &[u8] = b"sensor readings";
// `TaskMarket.SlashReason`.
const SILENT: u8 = 0;
const DISSENT: u8 = 1;
const WRONG_RESULT: u8 = 2;

fn unit() -> U256 {
    U256::from(10u64).pow(U256::from(18u64))
}

/// Devchain accounts: 0 owner (treasury and coordinator), 1 client, 2..=6 operators,
/// 7 watchtower (funded, not registered).
struct Net {
    s: Settlement,
    owner: Address,
    client: Address,
    ops: Vec<Address>,
    tower: Address,
    blobs: MemoryBlobs,
    executor: Arc<Executor>,
    program: B256,
    input: B256,
    _chain: DevchainHandle,
}

/// What every actor holds: wallet, market balance, stake, times slashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Books {
    wallet: U256,
    market: U256,
    stake: U256,
    slashed: u32,
}

impl Net {
    async fn new() -> Net {
        let chain = verity_devchain::spawn(DevchainConfig::default())
            .await
            .unwrap();
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
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(chain.url.parse().unwrap());
        let a: Vec<Address> = keys.iter().map(|k| k.address()).collect();
        let owner = a[0];
        // Committees of three, so one honest operator stays outside each.
        let cfg = DeployConfig {
            committee_size: 3,
            // Unaudited tasks (a test deployment's rate 0): these tests take each task to the
            // court through a challenge, never through a drawn audit.
            min_audit_bps: 0,
            ..DeployConfig::devnet(owner)
        };
        let d = deploy(provider.clone(), &cfg).await.unwrap();
        let s = Settlement::new(provider, d, TxOptions::default());
        let (client, ops, tower) = (a[1], a[2..7].to_vec(), a[7]);
        for who in a.iter().take(8) {
            s.mint(owner, *who, U256::from(10_000u64) * unit())
                .await
                .unwrap();
        }
        s.approve_market(client, U256::MAX).await.unwrap();
        for (i, op) in ops.iter().enumerate() {
            s.approve_registry(*op, U256::MAX).await.unwrap();
            let p = OperatorProfile {
                signer: *op,
                hardware_hash: keccak256([i as u8]),
                metadata_cid: Bytes::new(),
                region: 276,
                capabilities: 1,
            };
            s.register(*op, &p).await.unwrap();
            s.stake(*op, U256::from(1_000u64) * unit()).await.unwrap();
        }
        let blobs = MemoryBlobs::default();
        let program = blobs.insert(wat::parse_str(ECHO).unwrap());
        let envelope = InputEnvelope {
            limits: ExecLimits {
                fuel: 1_000_000,
                max_memory_bytes: 1 << 20,
                max_table_elements: 100,
                max_output_bytes: 1 << 16,
            },
            payload: PAYLOAD.to_vec(),
        };
        let input = blobs.insert(envelope.encode());
        Net {
            s,
            owner,
            client,
            ops,
            tower,
            blobs,
            executor: Arc::new(Executor::new(ExecutorConfig::default()).unwrap()),
            program,
            input,
            _chain: chain,
        }
    }

    async fn worker(&self, op: Address, fault: Behaviour) -> Worker<MemoryBlobs> {
        Worker::new(
            self.s.clone(),
            op,
            TaskDb::in_memory().await.unwrap(),
            self.blobs.clone(),
            self.executor.clone(),
            Arc::new(Metrics::default()),
            Duration::from_millis(10),
        )
        .with_fault(fault)
    }

    fn watchtower(&self, rate: f64, metrics: Arc<WatchtowerMetrics>) -> Watchtower<MemoryBlobs> {
        Watchtower::new(
            self.s.clone(),
            self.tower,
            self.blobs.clone(),
            self.executor.clone(),
            Sampling { rate, seed: 42 },
            metrics,
            Duration::from_millis(10),
        )
    }

    async fn request(&self, mode: Mode, replication: u8) -> TaskRequest {
        let now = self.s.chain_time().await.unwrap();
        TaskRequest {
            mode,
            replication,
            quorum: replication / 2 + 1,
            program_digest: self.program,
            input_digest: self.input,
            bounty: U256::from(100u64) * unit(),
            collateral: U256::from(50u64) * unit(),
            assign_deadline: now + 100,
            commit_deadline: now + 200,
            reveal_deadline: if mode == Mode::Replicated {
                now + 300
            } else {
                0
            },
            challenge_window: if mode == Mode::Optimistic { 60 } else { 0 },
            verifier_id: B256::ZERO,
            audit_bps: 0,
        }
    }

    async fn advance(&self, secs: u64) {
        let target = self.s.chain_time().await.unwrap() + secs;
        let p = self.s.provider();
        let _: serde_json::Value = p
            .raw_request("evm_setNextBlockTimestamp".into(), (target,))
            .await
            .unwrap();
        self.mine().await;
    }

    async fn mine(&self) {
        let _: serde_json::Value = self
            .s
            .provider()
            .raw_request("evm_mine".into(), serde_json::json!([]))
            .await
            .unwrap();
    }

    async fn books(&self, who: Address) -> Books {
        let o = self.s.operator(who).await.unwrap();
        Books {
            wallet: self.s.token_balance(who).await.unwrap(),
            market: self.s.market_balance(who).await.unwrap(),
            stake: o.stake,
            slashed: o.times_slashed,
        }
    }

    async fn all_books(&self) -> Vec<(Address, Books)> {
        let mut v = Vec::new();
        for who in [self.owner, self.client, self.tower]
            .into_iter()
            .chain(self.ops.iter().copied())
        {
            v.push((who, self.books(who).await));
        }
        v
    }

    /// `(operator, reason)` of every `OperatorSlashed` on `task`.
    async fn slashes(&self, task: U256) -> Vec<(Address, u8)> {
        let source = self
            .s
            .market_logs()
            .events(vec![TaskMarket::OperatorSlashed::SIGNATURE_HASH])
            .topic1(B256::from(task));
        let logs = history_to_head(&source, 0, DEFAULT_CHUNK_BLOCKS)
            .await
            .unwrap();
        logs.iter()
            .map(|l| {
                let ev = TaskMarket::OperatorSlashed::decode_log(&l.inner).unwrap();
                (ev.operator, ev.reason)
            })
            .collect()
    }
}

/// The market's integer fee split: (protocol fee, scheduler fee, reward).
fn split(bounty: U256) -> (U256, U256, U256) {
    let p = bounty * U256::from(100u64) / U256::from(10_000u64);
    let s = bounty * U256::from(50u64) / U256::from(10_000u64);
    (p, s, bounty - p - s)
}

/// Asserts every actor's books changed by exactly `expected(who)` (wallet, market, stake deltas
/// as signed values and the slash-count delta); everyone not listed is unchanged.
fn assert_changes(
    before: &[(Address, Books)],
    after: &[(Address, Books)],
    expected: &[(Address, [i128; 3], u32)],
) {
    let signed = |a: U256, b: U256| -> i128 {
        if b >= a {
            i128::try_from(b - a).unwrap()
        } else {
            -i128::try_from(a - b).unwrap()
        }
    };
    for ((who, b0), (who1, b1)) in before.iter().zip(after) {
        assert_eq!(who, who1);
        let (d, slashes) = expected
            .iter()
            .find(|(w, _, _)| w == who)
            .map_or(([0; 3], 0), |(_, d, s)| (*d, *s));
        let got = [
            signed(b0.wallet, b1.wallet),
            signed(b0.market, b1.market),
            signed(b0.stake, b1.stake),
        ];
        assert_eq!(got, d, "{who}: wallet, market, stake deltas");
        assert_eq!(b1.slashed - b0.slashed, slashes, "{who}: slash count");
    }
}

fn tokens(n: U256) -> i128 {
    i128::try_from(n).unwrap()
}

#[tokio::test]
async fn optimistic_cheat_is_challenged_by_the_watchtower_and_overturned_by_the_committee() {
    let net = Net::new().await;
    let cheater = net.ops[0];
    let cheater_w = net.worker(cheater, Behaviour::WrongResult).await;
    let mut honest = Vec::new();
    for op in &net.ops[1..] {
        honest.push(net.worker(*op, Behaviour::None).await);
    }
    let tm = Arc::new(WatchtowerMetrics::default());
    let tower = net.watchtower(1.0, tm.clone());
    let req = net.request(Mode::Optimistic, 1).await;
    let before = net.all_books().await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &[cheater]).await.unwrap();

    let mut rounds = 0;
    while net.s.status(id).await.unwrap() != Status::Refunded && rounds < 30 {
        rounds += 1;
        cheater_w.tick().await.unwrap();
        tower.tick().await.unwrap();
        for w in &honest {
            w.tick().await.unwrap();
        }
        net.mine().await;
    }
    assert_eq!(
        net.s.status(id).await.unwrap(),
        Status::Refunded,
        "overturned after {rounds} rounds"
    );
    // One more round lets the tower collect and the workers record the settlement.
    tower.tick().await.unwrap();
    cheater_w.tick().await.unwrap();
    for w in &honest {
        w.tick().await.unwrap();
    }

    let d = net.s.case(id).await.unwrap();
    assert_eq!(d.challenger, net.tower);
    assert_eq!(d.committee.len(), 3, "three of the four honest operators");
    assert!(!d.committee.contains(&cheater));
    assert_eq!((d.agree, d.disagree), (0, 3), "every member voted against");
    assert_eq!(d.verdict, verity_settlement::Verdict::Overturned);
    assert_eq!(net.slashes(id).await, vec![(cheater, WRONG_RESULT)]);
    assert_eq!(
        (
            tm.sampled.get(),
            tm.matched.get(),
            tm.challenged.get(),
            tm.won.get(),
            tm.lost.get()
        ),
        (1, 0, 1, 1, 0)
    );
    let c = tokens(req.collateral);
    let after = net.all_books().await;
    // A tenth of the slash pays the committee, equally; each member withdrew its share.
    let share = c / 10;
    let each = share / 3;
    let mut expected = vec![
        // Lost its collateral; nothing paid.
        (cheater, [0, 0, -c], 1),
        // Bond back plus a fifth of the cheater's collateral, withdrawn.
        (net.tower, [c / 5, 0, 0], 0),
        // Paid the bounty, refunded into its market balance.
        (net.client, [-tokens(req.bounty), tokens(req.bounty), 0], 0),
        // Treasury (and assigner): no fee on a refund; the slash less the challenger's fifth
        // and the committee's tenth.
        (net.owner, [0, c - c / 5 - share, 0], 0),
    ];
    // Nobody honest is slashed; the members were paid for voting with the verdict.
    expected.extend(d.committee.iter().map(|m| (*m, [each, 0, 0], 0)));
    assert_changes(&before, &after, &expected);
    // The division's dust is the treasury's, in the court.
    assert_eq!(
        tokens(net.s.court_balance(net.owner).await.unwrap()),
        share - 3 * each
    );
    let totals = net.s.market_totals().await.unwrap();
    assert_eq!((totals.escrowed, totals.bonded), (U256::ZERO, U256::ZERO));
}

#[tokio::test]
async fn honest_optimistic_result_is_sampled_matched_and_finalizes_after_the_window() {
    let net = Net::new().await;
    let op = net.ops[0];
    let w = net.worker(op, Behaviour::None).await;
    let tm = Arc::new(WatchtowerMetrics::default());
    let tower = net.watchtower(1.0, tm.clone());
    let req = net.request(Mode::Optimistic, 1).await;
    let before = net.all_books().await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &[op]).await.unwrap();
    for _ in 0..3 {
        w.tick().await.unwrap();
        tower.tick().await.unwrap();
    }
    assert_eq!(net.s.status(id).await.unwrap(), Status::Submitted);
    assert_eq!(
        (tm.sampled.get(), tm.matched.get(), tm.challenged.get()),
        (1, 1, 0)
    );
    net.advance(61).await;
    for _ in 0..2 {
        w.tick().await.unwrap();
        tower.tick().await.unwrap();
    }
    assert_eq!(net.s.status(id).await.unwrap(), Status::Finalized);
    assert_eq!(net.s.task(id).await.unwrap().result, sha256(PAYLOAD));
    let (p, s, rest) = split(req.bounty);
    assert_changes(
        &before,
        &net.all_books().await,
        &[
            (op, [tokens(rest), 0, 0], 0),
            (net.client, [-tokens(req.bounty), 0, 0], 0),
            (net.owner, [0, tokens(p + s), 0], 0),
        ],
    );
    assert!(net.slashes(id).await.is_empty());
}

/// Ticks every worker until the task settles: at round 5 the commit deadline passes (a seat
/// that never committed stops blocking the reveals), at round 10 the reveal deadline (a seat
/// that cannot reveal stops blocking the finalization).
async fn run_replicated(net: &Net, workers: &[Worker<MemoryBlobs>], id: U256) {
    let mut rounds = 0;
    while !net.s.status(id).await.unwrap().is_terminal() && rounds < 20 {
        rounds += 1;
        for w in workers {
            w.tick().await.unwrap();
        }
        if rounds == 5 {
            net.advance(201).await;
        }
        if rounds == 10 {
            net.advance(200).await;
        }
    }
    for w in workers {
        w.tick().await.unwrap();
    }
    assert_eq!(
        net.s.status(id).await.unwrap(),
        Status::Finalized,
        "after {rounds} rounds"
    );
}

#[tokio::test]
async fn replicated_wrong_result_is_slashed_for_dissent_and_the_majority_paid() {
    let net = Net::new().await;
    let ops = &net.ops[..3];
    let workers = vec![
        net.worker(ops[0], Behaviour::None).await,
        net.worker(ops[1], Behaviour::WrongResult).await,
        net.worker(ops[2], Behaviour::None).await,
    ];
    let req = net.request(Mode::Replicated, 3).await;
    let before = net.all_books().await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, ops).await.unwrap();
    run_replicated(&net, &workers, id).await;

    let task = net.s.task(id).await.unwrap();
    assert_eq!(task.result, sha256(PAYLOAD));
    assert_eq!(
        net.s.seat(id, ops[1]).await.unwrap().digest,
        fault::corrupt_digest(PAYLOAD),
        "the faulty node revealed the corrupted digest"
    );
    assert_eq!(net.slashes(id).await, vec![(ops[1], DISSENT)]);
    let (p, s, rest) = split(req.bounty);
    let each = rest / U256::from(2u64);
    let dust = rest - each * U256::from(2u64);
    assert_changes(
        &before,
        &net.all_books().await,
        &[
            (ops[0], [tokens(each), 0, 0], 0),
            (ops[1], [0, 0, -tokens(req.collateral)], 1),
            (ops[2], [tokens(each), 0, 0], 0),
            (net.client, [-tokens(req.bounty), 0, 0], 0),
            // Protocol fee + dust + the slashed collateral (treasury), scheduler fee (assigner).
            (net.owner, [0, tokens(p + s + dust + req.collateral), 0], 0),
        ],
    );
}

#[tokio::test]
async fn a_copied_commitment_cannot_be_revealed_and_earns_nothing() {
    let net = Net::new().await;
    let ops = &net.ops[..3];
    // Honest workers tick first each round, so the copier finds a commitment to copy.
    let workers = vec![
        net.worker(ops[0], Behaviour::None).await,
        net.worker(ops[1], Behaviour::None).await,
        net.worker(ops[2], Behaviour::CopyCommitments).await,
    ];
    let req = net.request(Mode::Replicated, 3).await;
    let before = net.all_books().await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, ops).await.unwrap();
    run_replicated(&net, &workers, id).await;

    let copied = net.s.seat(id, ops[2]).await.unwrap();
    let original = net.s.seat(id, ops[0]).await.unwrap();
    assert_eq!(
        copied.commitment, original.commitment,
        "the copier committed another seat's bytes"
    );
    assert_ne!(copied.commit_block, 0);
    assert_eq!(net.s.task(id).await.unwrap().reveals, 2);
    assert_eq!(net.slashes(id).await, vec![(ops[2], SILENT)]);
    let (p, s, rest) = split(req.bounty);
    let each = rest / U256::from(2u64);
    let dust = rest - each * U256::from(2u64);
    assert_changes(
        &before,
        &net.all_books().await,
        &[
            (ops[0], [tokens(each), 0, 0], 0),
            (ops[1], [tokens(each), 0, 0], 0),
            (ops[2], [0, 0, -tokens(req.collateral)], 1),
            (net.client, [-tokens(req.bounty), 0, 0], 0),
            (net.owner, [0, tokens(p + s + dust + req.collateral), 0], 0),
        ],
    );
}

#[tokio::test]
async fn a_silent_replica_is_slashed_on_finalize_and_the_others_paid() {
    let net = Net::new().await;
    let ops = &net.ops[..3];
    let workers = vec![
        net.worker(ops[0], Behaviour::Silent).await,
        net.worker(ops[1], Behaviour::None).await,
        net.worker(ops[2], Behaviour::None).await,
    ];
    let req = net.request(Mode::Replicated, 3).await;
    let before = net.all_books().await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, ops).await.unwrap();
    run_replicated(&net, &workers, id).await;

    assert_eq!(
        net.s.seat(id, ops[0]).await.unwrap().commit_block,
        0,
        "never committed"
    );
    assert_eq!(net.slashes(id).await, vec![(ops[0], SILENT)]);
    let (p, s, rest) = split(req.bounty);
    let each = rest / U256::from(2u64);
    let dust = rest - each * U256::from(2u64);
    assert_changes(
        &before,
        &net.all_books().await,
        &[
            (ops[0], [0, 0, -tokens(req.collateral)], 1),
            (ops[1], [tokens(each), 0, 0], 0),
            (ops[2], [tokens(each), 0, 0], 0),
            (net.client, [-tokens(req.bounty), 0, 0], 0),
            (net.owner, [0, tokens(p + s + dust + req.collateral), 0], 0),
        ],
    );
}

#[tokio::test]
async fn a_silent_optimistic_operator_is_slashed_by_claim_timeout() {
    let net = Net::new().await;
    let op = net.ops[0];
    let w = net.worker(op, Behaviour::Silent).await;
    let req = net.request(Mode::Optimistic, 1).await;
    let before = net.all_books().await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &[op]).await.unwrap();
    for _ in 0..3 {
        w.tick().await.unwrap();
    }
    assert_eq!(
        net.s.status(id).await.unwrap(),
        Status::Assigned,
        "nothing submitted"
    );
    net.advance(201).await;
    net.s.claim_timeout(net.client, id).await.unwrap();
    w.tick().await.unwrap();
    assert_eq!(net.s.status(id).await.unwrap(), Status::Refunded);
    assert_eq!(net.slashes(id).await, vec![(op, SILENT)]);
    assert_changes(
        &before,
        &net.all_books().await,
        &[
            (op, [0, 0, -tokens(req.collateral)], 1),
            (net.client, [-tokens(req.bounty), tokens(req.bounty), 0], 0),
            (net.owner, [0, tokens(req.collateral), 0], 0),
        ],
    );
}

#[tokio::test]
async fn a_committee_ballot_is_neither_lost_nor_doubled_by_a_restart() {
    // A member commits (its digest and salt stored first) and is then restarted: the new
    // worker, with the same database, reveals with the stored salt once the commit phase is
    // over, and never commits or reveals twice.
    let net = Net::new().await;
    let cheater = net.ops[0];
    let cheater_w = net.worker(cheater, Behaviour::WrongResult).await;
    let tower = net.watchtower(1.0, Arc::new(WatchtowerMetrics::default()));
    let req = net.request(Mode::Optimistic, 1).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &[cheater]).await.unwrap();
    for _ in 0..6 {
        cheater_w.tick().await.unwrap();
        tower.tick().await.unwrap();
        net.mine().await;
    }
    let d = net.s.case(id).await.unwrap();
    assert_eq!(
        d.phase,
        verity_settlement::CasePhase::Voting,
        "the watchtower drew the committee"
    );
    let member = d.committee[0];
    let db = TaskDb::in_memory().await.unwrap();
    let worker = |db: TaskDb| {
        Worker::new(
            net.s.clone(),
            member,
            db,
            net.blobs.clone(),
            net.executor.clone(),
            Arc::new(Metrics::default()),
            Duration::from_millis(10),
        )
    };
    worker(db.clone()).tick().await.unwrap();
    let duty = db
        .duty(id)
        .await
        .unwrap()
        .expect("the scan found the dispute");
    assert_eq!(duty.phase, DutyPhase::Committed);
    assert!(
        duty.salt.is_some(),
        "the salt was stored before the commitment went out"
    );
    assert_eq!(
        net.s.ballot(id, member).await.unwrap(),
        verity_settlement::Ballot::Committed
    );
    // The other members never commit: the reveal waits for the commit deadline.
    net.advance(d.commit_deadline - net.s.chain_time().await.unwrap() + 1)
        .await;
    let restarted = worker(db.clone());
    restarted.tick().await.unwrap();
    restarted.tick().await.unwrap();
    assert_eq!(
        net.s.ballot(id, member).await.unwrap(),
        verity_settlement::Ballot::Disagreed,
        "revealed with the stored salt: the cheater's digest is wrong"
    );
    let d = net.s.case(id).await.unwrap();
    assert_eq!((d.committed, d.revealed), (1, 1), "no second ballot");
}
