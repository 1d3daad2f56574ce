//! ZkProof tasks through the node's task loop on the embedded devchain (issue 6): a node that
//! declares the zk-prove capability finds the input blob named in the `createTask`
//! transaction, proves at N = 16 with the deterministic devnet keys, and the market's
//! registered Groth16 verifier accepts the proof, finalizing and paying (exact balance change
//! of client, operator, assigner and treasury). A node without the capability, and a proving
//! node given a bad signature or an unregistered device, decline and are not slashed.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::ProviderBuilder,
};
use verity_devchain::{DevchainConfig, DevchainHandle};
use verity_executor::{Executor, ExecutorConfig};
use verity_node::{
    blobs::MemoryBlobs,
    db::{Phase, TaskDb},
    metrics::Metrics,
    prover::Prover,
    worker::Worker,
};
use verity_primitives::capability;
use verity_settlement::{
    DeployConfig, Mode, OperatorProfile, Settlement, Status, TaskRequest, TxOptions, deploy,
};
use verity_zk::{
    Shape,
    device::Device,
    input::{ProvingInput, calldata_suffix},
    market::{deploy_verifier, program_digest, verifier_id},
    registry::Registry,
    statement::{Aggregate, Query, SignedReading, field_to_word},
};

const SHAPE: Shape = Shape {
    slots: 16,
    depth: 10,
};
const PROTOCOL_BPS: u16 = 100;
const SCHEDULER_BPS: u16 = 50;

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

fn to_i128(x: U256) -> i128 {
    i128::try_from(x).expect("fits")
}

/// Wallet, market balance, stake, locked collateral, times slashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Row {
    wallet: i128,
    market: i128,
    stake: i128,
    locked: i128,
    slashed: i128,
}

struct Net {
    s: Settlement,
    coordinator: Address,
    treasury: Address,
    client: Address,
    prover_op: Address,
    plain_op: Address,
    blobs: MemoryBlobs,
    prover: Arc<Prover>,
    program: B256,
    verifier: B256,
    devices: Vec<Device>,
    registry: Registry,
    query: Query,
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
        let (owner, coordinator, treasury, client) = (a[0], a[1], a[2], a[3]);
        let (prover_op, plain_op) = (a[4], a[5]);
        let mut cfg = DeployConfig::devnet(owner);
        cfg.treasury = treasury;
        cfg.coordinators = vec![coordinator];
        cfg.protocol_fee_bps = PROTOCOL_BPS;
        cfg.scheduler_fee_bps = SCHEDULER_BPS;
        let d = deploy(provider.clone(), &cfg).await.unwrap();
        let s = Settlement::new(provider.clone(), d, TxOptions::default());
        for who in [client, prover_op, plain_op] {
            s.mint(owner, who, tokens(10_000)).await.unwrap();
            s.approve_market(who, U256::MAX).await.unwrap();
            s.approve_registry(who, U256::MAX).await.unwrap();
        }
        for (op, caps) in [
            (prover_op, capability::EXECUTE_WASM | capability::ZK_PROVE),
            (plain_op, capability::EXECUTE_WASM),
        ] {
            let p = OperatorProfile {
                signer: op,
                hardware_hash: keccak256(op),
                metadata_cid: Bytes::new(),
                region: 276,
                capabilities: caps,
            };
            s.register(op, &p).await.unwrap();
            s.stake(op, tokens(1_000)).await.unwrap();
        }
        // The program digest is that of the committed N=16 verifying key (which the
        // deterministic setup reproduces: verity-zk's drift test); the proving node makes its
        // keys itself on its first task.
        let prover = Arc::new(Prover::new());
        let vk = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../zk/keys/sensor-n16-d10.vk"
        ))
        .unwrap();
        let program = verity_node::blobs::sha256(&vk);
        let adapter = deploy_verifier(&provider, SHAPE, program).await.unwrap();
        let verifier = verifier_id(SHAPE);
        s.set_verifier(owner, verifier, adapter).await.unwrap();

        let devices: Vec<Device> = (0..8).map(Device::from_seed).collect();
        let mut registry = Registry::new(SHAPE.depth).unwrap();
        for d in &devices {
            registry.register(d.public_key()).unwrap();
        }
        let query = Query::new(registry.root(), (1000, 2000), (10, 100)).unwrap();
        Net {
            s,
            coordinator,
            treasury,
            client,
            prover_op,
            plain_op,
            blobs: MemoryBlobs::default(),
            prover,
            program,
            verifier,
            devices,
            registry,
            query,
            _chain: chain,
        }
    }

    /// Twelve readings: ten accepted, one out of range, one out of window.
    fn readings(&self) -> Vec<SignedReading> {
        (0..12u32)
            .map(|i| {
                let d = &self.devices[i as usize % self.devices.len()];
                match i {
                    1 => d.sign(500, 1500),
                    2 => d.sign(50, 2500),
                    _ => d.sign(10 + (i * 7) % 90, 1000 + i),
                }
            })
            .collect()
    }

    fn input(&self, readings: Vec<SignedReading>) -> ProvingInput {
        ProvingInput {
            shape: SHAPE,
            query: self.query,
            devices: self.devices.iter().map(Device::public_key).collect(),
            readings,
        }
    }

    fn worker(&self, op: Address, db: TaskDb, prover: Option<Arc<Prover>>) -> Worker<MemoryBlobs> {
        let w = Worker::new(
            self.s.clone(),
            op,
            db,
            self.blobs.clone(),
            Arc::new(Executor::new(ExecutorConfig::default()).unwrap()),
            Arc::new(Metrics::default()),
            Duration::from_millis(10),
        );
        match prover {
            Some(p) => w.with_prover(p),
            None => w,
        }
    }

    /// Publishes `input`, creates the ZkProof task naming it, assigns `op`.
    async fn open(&self, input: &ProvingInput, op: Address) -> U256 {
        let cid = self.blobs.insert(input.to_bytes());
        let now = self.s.chain_time().await.unwrap();
        let req = TaskRequest {
            mode: Mode::ZkProof,
            replication: 1,
            quorum: 1,
            program_digest: self.program,
            input_digest: field_to_word(self.query.digest()).into(),
            bounty: tokens(100),
            collateral: tokens(50),
            assign_deadline: now + 600,
            commit_deadline: now + 3_600,
            reveal_deadline: 0,
            challenge_window: 0,
            verifier_id: self.verifier,
            audit_bps: 0,
        };
        let (id, _) = self
            .s
            .create_task_with_suffix(self.client, &req, &calldata_suffix(cid.0))
            .await
            .unwrap();
        self.s.assign(self.coordinator, id, &[op]).await.unwrap();
        id
    }

    async fn ledger(&self) -> BTreeMap<Address, Row> {
        let mut rows = BTreeMap::new();
        for who in [
            self.coordinator,
            self.treasury,
            self.client,
            self.prover_op,
            self.plain_op,
        ] {
            let o = self.s.operator(who).await.unwrap();
            rows.insert(
                who,
                Row {
                    wallet: to_i128(self.s.token_balance(who).await.unwrap()),
                    market: to_i128(self.s.market_balance(who).await.unwrap()),
                    stake: to_i128(o.stake),
                    locked: to_i128(o.locked),
                    slashed: i128::from(o.times_slashed),
                },
            );
        }
        rows
    }
}

/// Asserts `after - before` equals `expected` for every actor (missing: unchanged).
#[track_caller]
fn assert_deltas(
    before: &BTreeMap<Address, Row>,
    after: &BTreeMap<Address, Row>,
    expected: &[(Address, Row)],
) {
    for (who, b) in before {
        let a = after[who];
        let got = Row {
            wallet: a.wallet - b.wallet,
            market: a.market - b.market,
            stake: a.stake - b.stake,
            locked: a.locked - b.locked,
            slashed: a.slashed - b.slashed,
        };
        let want = expected
            .iter()
            .find(|(x, _)| x == who)
            .map(|(_, r)| *r)
            .unwrap_or_default();
        assert_eq!(got, want, "balance change of {who}");
    }
}

async fn tick_until_settled(w: &Worker<MemoryBlobs>, s: &Settlement, id: U256) -> Status {
    for _ in 0..6 {
        w.tick().await.unwrap();
        let st = s.task(id).await.unwrap().status;
        if st.is_terminal() {
            // One more round records the settlement and withdraws.
            w.tick().await.unwrap();
            return st;
        }
    }
    s.task(id).await.unwrap().status
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proving_node_proves_a_zk_task_at_n16_and_is_paid_exactly() {
    let net = Net::new().await;
    let readings = net.readings();
    let expected = Aggregate::of(&net.query, readings.iter().map(|r| (r.value, r.timestamp)));
    assert_eq!(expected.count, 10, "two readings are excluded");
    let input = net.input(readings);
    let db = TaskDb::in_memory().await.unwrap();
    let worker = net.worker(net.prover_op, db.clone(), Some(net.prover.clone()));
    assert_eq!(
        net.s
            .operator(net.prover_op)
            .await
            .unwrap()
            .profile
            .capabilities
            & capability::ZK_PROVE,
        capability::ZK_PROVE,
        "the capability is registered on chain"
    );

    let before = net.ledger().await;
    let id = net.open(&input, net.prover_op).await;
    let started = std::time::Instant::now();
    let status = tick_until_settled(&worker, &net.s, id).await;
    eprintln!(
        "N=16 key setup + prove + submit + settle: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(status, Status::Finalized);
    assert_eq!(db.get(id).await.unwrap().unwrap().phase, Phase::Done);
    let task = net.s.task(id).await.unwrap();
    assert_eq!(
        task.result,
        B256::from(field_to_word(expected.digest())),
        "the result is Poseidon(count, sum, min, max) of the accepted readings"
    );
    let keys = net.prover.keys(SHAPE).unwrap();
    assert_eq!(
        program_digest(&keys).unwrap(),
        net.program,
        "the node's keys match the verifier"
    );
    assert!(
        Arc::ptr_eq(&keys, &net.prover.keys(SHAPE).unwrap()),
        "keys are cached, not made per task"
    );
    let after = net.ledger().await;
    let bounty = to_i128(tokens(100));
    let protocol = bounty * i128::from(PROTOCOL_BPS) / 10_000;
    let scheduler = bounty * i128::from(SCHEDULER_BPS) / 10_000;
    assert_deltas(
        &before,
        &after,
        &[
            (
                net.client,
                Row {
                    wallet: -bounty,
                    ..Row::default()
                },
            ),
            (
                // Paid into its market balance, then withdrawn by the node.
                net.prover_op,
                Row {
                    wallet: bounty - protocol - scheduler,
                    ..Row::default()
                },
            ),
            (
                net.treasury,
                Row {
                    market: protocol,
                    ..Row::default()
                },
            ),
            (
                net.coordinator,
                Row {
                    market: scheduler,
                    ..Row::default()
                },
            ),
        ],
    );
}

/// The client's bounty came back to its market balance; the operator that declined paid the
/// decline fee (2 % of the collateral, to the treasury) and nothing else moved (no slash, no
/// collateral left locked). The client then withdraws, so the next task is paid from its wallet.
async fn assert_refunded(net: &Net, before: &BTreeMap<Address, Row>, id: U256, op: Address) {
    let bounty = to_i128(tokens(100));
    let fee = to_i128(net.s.task(id).await.unwrap().collateral) * 200 / 10_000;
    assert_deltas(
        before,
        &net.ledger().await,
        &[
            (
                net.client,
                Row {
                    wallet: -bounty,
                    market: bounty,
                    ..Row::default()
                },
            ),
            (
                op,
                Row {
                    stake: -fee,
                    ..Row::default()
                },
            ),
            (
                net.treasury,
                Row {
                    market: fee,
                    ..Row::default()
                },
            ),
        ],
    );
    net.s.withdraw(net.client).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_decline_zk_tasks_they_cannot_prove_and_are_not_slashed() {
    let net = Net::new().await;
    // 1. A node without the capability hands the seat back.
    let plain_db = TaskDb::in_memory().await.unwrap();
    let plain = net.worker(net.plain_op, plain_db.clone(), None);
    let before = net.ledger().await;
    let id = net.open(&net.input(net.readings()), net.plain_op).await;
    assert_eq!(
        tick_until_settled(&plain, &net.s, id).await,
        Status::Refunded
    );
    assert_eq!(
        plain_db.get(id).await.unwrap().unwrap().phase,
        Phase::Declined,
        "declined, not executed"
    );
    assert_refunded(&net, &before, id, net.plain_op).await;

    // 2. A proving node given a reading whose value was changed after signing.
    let prover_db = TaskDb::in_memory().await.unwrap();
    let prover = net.worker(net.prover_op, prover_db.clone(), Some(net.prover.clone()));
    let mut readings = net.readings();
    readings[4].value += 1;
    let before = net.ledger().await;
    let id = net.open(&net.input(readings), net.prover_op).await;
    assert_eq!(
        tick_until_settled(&prover, &net.s, id).await,
        Status::Refunded
    );
    assert_refunded(&net, &before, id, net.prover_op).await;
    assert_eq!(
        prover_db.get(id).await.unwrap().unwrap().phase,
        Phase::Declined
    );

    // 3. A reading from a device that is not in the registry.
    let mut readings = net.readings();
    readings.push(Device::from_seed(99).sign(20, 1500));
    let before = net.ledger().await;
    let id = net.open(&net.input(readings), net.prover_op).await;
    assert_eq!(
        tick_until_settled(&prover, &net.s, id).await,
        Status::Refunded
    );
    assert_refunded(&net, &before, id, net.prover_op).await;
    assert_eq!(
        net.registry.index_of(&Device::from_seed(99).public_key()),
        None
    );
}
