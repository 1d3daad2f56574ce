//! The node's task loop on the embedded devchain: both modes paid exactly, a restart between
//! commit and reveal, and a missing input handed back without a slash.

mod disputes;
mod task_logs;
mod zk;

use std::{sync::Arc, time::Duration};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{Provider, ProviderBuilder},
};
use verity_devchain::{DevchainConfig, DevchainHandle};
use verity_executor::{Executor, ExecutorConfig};
use verity_node::{
    blobs::{MemoryBlobs, sha256},
    db::{Phase, TaskDb},
    metrics::Metrics,
    worker::Worker,
};
use verity_primitives::envelope::{ExecLimits, InputEnvelope};
use verity_settlement::{
    DeployConfig, Mode, OperatorProfile, Settlement, Status, TaskRequest, TxOptions, deploy,
};

pub(crate) const ECHO: &str = r#"(module
  (import "verity" "input_len" (func $input_len (result i32)))
  (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $read_input (i32.const 0) (i32.const 0) (call $input_len)))
    (call $write_output (i32.const 0) (call $input_len))))"#;

fn unit() -> U256 {
    U256::from(10u64).pow(U256::from(18u64))
}

pub(crate) struct Net {
    s: Settlement,
    owner: Address,
    client: Address,
    ops: Vec<Address>,
    blobs: MemoryBlobs,
    executor: Arc<Executor>,
    program: B256,
    input: B256,
    _chain: DevchainHandle,
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
        // Unaudited tasks (a test deployment's rate 0): each test follows the path it names.
        let cfg = DeployConfig {
            min_audit_bps: 0,
            ..DeployConfig::devnet(owner)
        };
        let d = deploy(provider.clone(), &cfg).await.unwrap();
        let s = Settlement::new(provider, d, TxOptions::default());
        let (client, ops) = (a[1], a[2..5].to_vec());
        for who in a.iter().take(5) {
            s.mint(owner, *who, U256::from(10_000u64) * unit())
                .await
                .unwrap();
            s.approve_market(*who, U256::MAX).await.unwrap();
            s.approve_registry(*who, U256::MAX).await.unwrap();
        }
        for (i, op) in ops.iter().enumerate() {
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
            payload: b"sensor readings".to_vec(),
        };
        let input = blobs.insert(envelope.encode());
        let executor = Arc::new(Executor::new(ExecutorConfig::default()).unwrap());
        Net {
            s,
            owner,
            client,
            ops,
            blobs,
            executor,
            program,
            input,
            _chain: chain,
        }
    }

    fn worker(&self, op: Address, db: TaskDb) -> Worker<MemoryBlobs> {
        Worker::new(
            self.s.clone(),
            op,
            db,
            self.blobs.clone(),
            self.executor.clone(),
            Arc::new(Metrics::default()),
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
        let _: serde_json::Value = p
            .raw_request("evm_mine".into(), serde_json::json!([]))
            .await
            .unwrap();
    }

    async fn wallet(&self, who: Address) -> U256 {
        self.s.token_balance(who).await.unwrap()
    }
}

/// The same integer fee split the market uses.
fn split(bounty: U256) -> (U256, U256, U256) {
    let p = bounty * U256::from(100u64) / U256::from(10_000u64);
    let s = bounty * U256::from(50u64) / U256::from(10_000u64);
    (p, s, bounty - p - s)
}

#[tokio::test]
async fn optimistic_task_is_executed_submitted_finalized_and_paid_exactly() {
    let net = Net::new().await;
    let op = net.ops[0];
    let worker = net.worker(op, TaskDb::in_memory().await.unwrap());
    let (op0, client0) = (net.wallet(op).await, net.wallet(net.client).await);
    let req = net.request(Mode::Optimistic, 1).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &[op]).await.unwrap();

    for _ in 0..4 {
        worker.tick().await.unwrap();
    }
    let task = net.s.task(id).await.unwrap();
    assert_eq!(task.status, Status::Submitted);
    // The echo program's output is its payload; the output is published to the store.
    assert_eq!(task.result, sha256(b"sensor readings"));
    assert!(net.blobs.contains(task.result));

    net.advance(61).await;
    for _ in 0..2 {
        worker.tick().await.unwrap();
    }
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);
    let (p, s, rest) = split(req.bounty);
    assert_eq!(
        net.wallet(op).await,
        op0 + rest,
        "operator withdrew bounty minus fees"
    );
    assert_eq!(net.wallet(net.client).await, client0 - req.bounty);
    assert_eq!(
        net.s.market_balance(net.owner).await.unwrap(),
        p + s,
        "owner is treasury and coordinator"
    );
    assert_eq!(net.s.market_balance(op).await.unwrap(), U256::ZERO);
    let o = net.s.operator(op).await.unwrap();
    assert_eq!(
        (o.locked, o.tasks_completed, o.times_slashed),
        (U256::ZERO, 1, 0)
    );
}

#[tokio::test]
async fn a_long_window_has_its_audit_coin_read_before_the_hash_expires() {
    let net = Net::new().await;
    let op = net.ops[0];
    let worker = net.worker(op, TaskDb::in_memory().await.unwrap());
    let mut req = net.request(Mode::Optimistic, 1).await;
    // A window far longer than 256 blocks of this chain could cover, and a certain audit, so
    // the early read is seen as the audit it opens.
    req.challenge_window = 3_600;
    req.audit_bps = 10_000;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &[op]).await.unwrap();
    for _ in 0..4 {
        worker.tick().await.unwrap();
        if net.s.task(id).await.unwrap().status != Status::Assigned {
            break;
        }
    }
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Submitted);
    // The coin block is mined; the next round reads the coin, an hour before the window ends.
    net.advance(1).await;
    worker.tick().await.unwrap();
    let task = net.s.task(id).await.unwrap();
    assert_eq!(task.status, Status::Challenged, "the audit opened early");
    assert!(net.s.chain_time().await.unwrap() < task.challenge_ends());
    assert_eq!(
        net.s.challenger_of(id).await.unwrap(),
        alloy::primitives::Address::ZERO,
        "an audit, not a challenge"
    );
}

#[tokio::test]
async fn replicated_task_survives_a_restart_between_commit_and_reveal() {
    let net = Net::new().await;
    let dir = tempfile::tempdir().unwrap();
    let req = net.request(Mode::Replicated, 3).await;
    let before: Vec<U256> = futures_wallets(&net).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &net.ops).await.unwrap();

    let db_path = |i: usize| dir.path().join(format!("node{i}.db"));
    // Every node executes and commits.
    for (i, op) in net.ops.iter().enumerate() {
        let w = net.worker(*op, TaskDb::open(&db_path(i)).await.unwrap());
        for _ in 0..3 {
            w.tick().await.unwrap();
        }
        assert_eq!(
            TaskDb::open(&db_path(i))
                .await
                .unwrap()
                .get(id)
                .await
                .unwrap()
                .unwrap()
                .phase,
            Phase::Committed
        );
    }
    assert_eq!(net.s.task(id).await.unwrap().commits, 3);
    // The workers are gone ("killed"); new ones on the same databases reveal with the stored
    // salts and settle. Nothing is committed twice.
    let workers: Vec<_> = futures_workers(&net, &db_path).await;
    for _ in 0..3 {
        for w in &workers {
            w.tick().await.unwrap();
        }
    }
    let task = net.s.task(id).await.unwrap();
    assert_eq!(
        (task.status, task.commits, task.reveals),
        (Status::Finalized, 3, 3)
    );
    let (_, _, rest) = split(req.bounty);
    let each = rest / U256::from(3u64);
    let after = futures_wallets(&net).await;
    for i in 0..3 {
        assert_eq!(
            after[i],
            before[i] + each,
            "operator {i} paid its exact share"
        );
    }
    // The division remainder goes to the treasury with the protocol fee: the client is owed
    // nothing back.
    assert_eq!(
        net.s.market_balance(net.client).await.unwrap(),
        U256::ZERO,
        "no dust to the client"
    );
}

async fn futures_wallets(net: &Net) -> Vec<U256> {
    let mut v = Vec::new();
    for op in &net.ops {
        v.push(net.wallet(*op).await);
    }
    v
}

async fn futures_workers(
    net: &Net,
    path: &dyn Fn(usize) -> std::path::PathBuf,
) -> Vec<Worker<MemoryBlobs>> {
    let mut v = Vec::new();
    for (i, op) in net.ops.iter().enumerate() {
        v.push(net.worker(*op, TaskDb::open(&path(i)).await.unwrap()));
    }
    v
}

#[tokio::test]
async fn a_salt_stored_but_never_sent_is_reused_after_a_crash() {
    let net = Net::new().await;
    let op = net.ops[0];
    let db = TaskDb::in_memory().await.unwrap();
    let req = net.request(Mode::Replicated, 3).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &net.ops).await.unwrap();
    let w = net.worker(op, db.clone());
    let mut others = Vec::new();
    for o in &net.ops[1..] {
        others.push(net.worker(*o, TaskDb::in_memory().await.unwrap()));
    }
    w.tick().await.unwrap(); // scan + execute
    // Simulate a crash right after the salt was made durable, before the commit was sent.
    let salt = B256::repeat_byte(0x5a);
    db.set_phase(id, Phase::Committing, None, Some(salt))
        .await
        .unwrap();
    w.tick().await.unwrap(); // commits with the stored salt
    let seat = net.s.seat(id, op).await.unwrap();
    let d = net.s.deployment();
    let result = db.get(id).await.unwrap().unwrap().result.unwrap();
    assert_eq!(
        seat.commitment,
        verity_primitives::commitment(d.chain_id, d.market, id, op, result, salt)
    );
    // The other two seats execute and commit.
    for _ in 0..2 {
        for o in &others {
            o.tick().await.unwrap();
        }
    }
    // With instant mining nothing else makes a block; the reveal needs one after the commit.
    net.advance(1).await;
    for _ in 0..3 {
        w.tick().await.unwrap();
        for o in &others {
            o.tick().await.unwrap();
        }
    }
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);
}

#[tokio::test]
async fn a_missing_input_is_handed_back_and_nobody_is_slashed() {
    let net = Net::new().await;
    let op = net.ops[0];
    let w = net.worker(op, TaskDb::in_memory().await.unwrap());
    let mut req = net.request(Mode::Optimistic, 1).await;
    req.input_digest = keccak256("never uploaded");
    let client0 = net.wallet(net.client).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &[op]).await.unwrap();
    for _ in 0..3 {
        w.tick().await.unwrap();
    }
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Refunded);
    let o = net.s.operator(op).await.unwrap();
    // Declining cost the decline fee (2 % of the collateral, to the treasury), no slash.
    let fee = req.collateral * U256::from(200u64) / U256::from(10_000u64);
    assert_eq!(
        (o.times_slashed, o.locked, o.stake),
        (0, U256::ZERO, U256::from(1_000u64) * unit() - fee)
    );
    assert_eq!(net.s.market_balance(net.client).await.unwrap(), req.bounty);
    assert_eq!(
        net.wallet(net.client).await,
        client0 - req.bounty,
        "refund is credited, pulled later"
    );
    let p = net.s.provider();
    assert!(p.get_block_number().await.unwrap() > 0);
}

#[tokio::test]
async fn a_seat_handed_over_by_failover_is_worked_by_the_new_holder_and_dropped_by_the_old() {
    let net = Net::new().await;
    let (old, new) = (net.ops[0], net.ops[1]);
    let (old_db, new_db) = (
        TaskDb::in_memory().await.unwrap(),
        TaskDb::in_memory().await.unwrap(),
    );
    let (old_worker, new_worker) = (net.worker(old, old_db.clone()), net.worker(new, new_db));
    let (old_wallet, new_wallet) = (net.wallet(old).await, net.wallet(new).await);
    let old_stake = net.s.operator(old).await.unwrap().stake;
    let req = net.request(Mode::Optimistic, 1).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &[old]).await.unwrap();
    // The old holder went quiet before posting anything: the coordinator hands the seat over.
    net.s.reassign(net.owner, id, 0, new).await.unwrap();

    for _ in 0..4 {
        new_worker.tick().await.unwrap();
        old_worker.tick().await.unwrap();
    }
    let task = net.s.task(id).await.unwrap();
    assert_eq!(task.status, Status::Submitted, "the new holder submitted");
    assert_eq!(task.result, sha256(b"sensor readings"));
    assert_eq!(
        old_db.get(id).await.unwrap().map(|r| r.phase),
        Some(Phase::Done),
        "the old holder dropped the task"
    );

    net.advance(61).await;
    for _ in 0..2 {
        new_worker.tick().await.unwrap();
        old_worker.tick().await.unwrap();
    }
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Finalized);
    let (_, _, rest) = split(req.bounty);
    assert_eq!(
        net.wallet(new).await,
        new_wallet + rest,
        "the new holder is paid"
    );
    assert_eq!(net.wallet(old).await, old_wallet, "the old holder is not");
    let o = net.s.operator(old).await.unwrap();
    assert_eq!(o.stake, old_stake, "a handed-over seat is not slashed");
    assert_eq!(
        (o.locked, o.tasks_failed, o.times_slashed),
        (U256::ZERO, 1, 0)
    );
}

/// An optimistic result executed but never posted before the commit deadline, and the task
/// reclaimed by its client: the node's next round records it as settled (unpaid) instead of
/// retrying a submit the market can no longer take.
#[tokio::test]
async fn an_executed_result_past_its_deadline_is_settled_not_retried() {
    let net = Net::new().await;
    let op = net.ops[0];
    let db = TaskDb::in_memory().await.unwrap();
    let worker = net.worker(op, db.clone());
    let req = net.request(Mode::Optimistic, 1).await;
    let (id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, id, &[op]).await.unwrap();
    worker.tick().await.unwrap();
    assert_eq!(
        db.get(id).await.unwrap().map(|r| r.phase),
        Some(Phase::Executed),
        "one round executes the task"
    );

    net.advance(201).await;
    let client0 = net.wallet(net.client).await;
    net.s.claim_timeout(net.client, id).await.unwrap();
    assert_eq!(net.s.task(id).await.unwrap().status, Status::Refunded);
    worker.tick().await.unwrap();
    assert_eq!(
        db.get(id).await.unwrap().map(|r| r.phase),
        Some(Phase::Done)
    );
    assert_eq!(
        net.s.market_balance(net.client).await.unwrap() + net.wallet(net.client).await,
        client0 + req.bounty,
        "the client got its bounty back"
    );
    assert_eq!(net.s.operator(op).await.unwrap().times_slashed, 1);
}
