//! ZkProof tasks in the real TaskMarket on the devchain, verified by the generated Groth16
//! verifier through the `SensorAggregateVerifier` adapter registered in the VerifierRegistry:
//! a valid proof finalizes and pays (exact balance change of every actor); an invalid proof,
//! a proof for another task, a proof from another operator and out-of-field public inputs are
//! rejected with their decoded custom errors and change nothing.

use std::collections::BTreeMap;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::ProviderBuilder;
use alloy::sol;
use verity_contracts::{ContractError, Mode, Status, TaskMarket::TaskMarketErrors};
use verity_devchain::{DevchainConfig, DevchainHandle, spawn};
use verity_settlement::{
    DeployConfig, OperatorProfile, Settlement, TaskId, TaskRequest, TxOptions, deploy,
};
use verity_zk::keys::{DEVNET_SEED, Keys, setup_deterministic, sha256_hex};
use verity_zk::solidity::encode_proof;
use verity_zk::statement::{Aggregate, field_to_word};
use verity_zk::{SensorCircuit, Shape};

use crate::fixture::{World, readings, shape, world};

sol!(
    #[sol(rpc)]
    SensorGroth16VerifierN16,
    "../../contracts/out/SensorGroth16VerifierN16.json"
);
sol!(
    #[sol(rpc)]
    SensorGroth16VerifierN64,
    "../../contracts/out/SensorGroth16VerifierN64.json"
);
sol!(
    #[sol(rpc)]
    SensorAggregateVerifier,
    "../../contracts/out/SensorAggregateVerifier.json"
);

/// BN254 scalar field modulus r.
const R: &str = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
const BOUNTY: u64 = 100;
const COLLATERAL: u64 = 50;
const PROTOCOL_BPS: u16 = 100;
const SCHEDULER_BPS: u16 = 50;

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

fn t(n: i64) -> i128 {
    i128::from(n) * 10i128.pow(18)
}

/// `x + r`: the same residue, but not a canonical field element.
fn plus_r(x: B256) -> B256 {
    let r = U256::from_str_radix(R, 10).expect("r");
    (U256::from_be_bytes(x.0) + r).to_be_bytes::<32>().into()
}

struct Net {
    s: Settlement,
    owner: Address,
    coordinator: Address,
    treasury: Address,
    client: Address,
    op: Address,
    other: Address,
    _chain: DevchainHandle,
}

/// Wallet, market balance, stake and locked collateral of one actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Row {
    wallet: i128,
    market: i128,
    stake: i128,
    locked: i128,
}

fn to_i128(x: U256) -> i128 {
    i128::try_from(x).expect("balance fits i128")
}

impl Net {
    async fn new() -> Net {
        let chain = spawn(DevchainConfig::default()).await.expect("devchain");
        let accounts = chain.chain.accounts();
        let mut wallet = EthereumWallet::from(accounts[0].signer.clone());
        for a in &accounts[1..] {
            wallet.register_signer(a.signer.clone());
        }
        let a: Vec<Address> = accounts.iter().map(|a| a.address).collect();
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(chain.url.parse().expect("url"));
        let (owner, coordinator, treasury) = (a[0], a[1], a[2]);
        let mut cfg = DeployConfig::devnet(owner);
        cfg.treasury = treasury;
        cfg.coordinators = vec![coordinator];
        cfg.protocol_fee_bps = PROTOCOL_BPS;
        cfg.scheduler_fee_bps = SCHEDULER_BPS;
        let deployment = deploy(provider.clone(), &cfg).await.expect("deploy");
        let s = Settlement::new(provider, deployment, TxOptions::default());
        let net = Net {
            s,
            owner,
            coordinator,
            treasury,
            client: a[3],
            op: a[4],
            other: a[5],
            _chain: chain,
        };
        for who in net.actors() {
            net.s.mint(who, who, tokens(10_000)).await.expect("mint");
            net.s.approve_market(who, U256::MAX).await.expect("approve");
            net.s
                .approve_registry(who, U256::MAX)
                .await
                .expect("approve");
        }
        for (i, op) in [net.op, net.other].into_iter().enumerate() {
            let profile = OperatorProfile {
                signer: op,
                hardware_hash: keccak256(format!("prover-{i}")),
                metadata_cid: Bytes::from(vec![0x01, 0x55, 0x12, 0x20, i as u8]),
                region: 276,
                capabilities: 0b11,
            };
            net.s.register(op, &profile).await.expect("register");
            net.s.stake(op, tokens(1_000)).await.expect("stake");
        }
        net
    }

    fn actors(&self) -> Vec<Address> {
        vec![
            self.owner,
            self.coordinator,
            self.treasury,
            self.client,
            self.op,
            self.other,
        ]
    }

    async fn ledger(&self) -> BTreeMap<Address, Row> {
        let mut rows = BTreeMap::new();
        for who in self.actors() {
            let o = self.s.operator(who).await.expect("operator");
            rows.insert(
                who,
                Row {
                    wallet: to_i128(self.s.token_balance(who).await.expect("balance")),
                    market: to_i128(self.s.market_balance(who).await.expect("balance")),
                    stake: to_i128(o.stake),
                    locked: to_i128(o.locked),
                },
            );
        }
        // Conservation: the market holds exactly the escrow, the bonds and every balance.
        let totals = self.s.market_totals().await.expect("totals");
        let market_tokens = self
            .s
            .token_balance(self.s.deployment().market)
            .await
            .expect("market tokens");
        let credited: i128 = rows.values().map(|r| r.market).sum();
        assert_eq!(
            to_i128(market_tokens),
            to_i128(totals.escrowed + totals.bonded) + credited,
            "market tokens == escrow + bonds + balances"
        );
        rows
    }

    /// A ZkProof task over `query_digest` with the circuit's program digest and verifier.
    async fn request(&self, program: B256, input: B256, verifier: B256) -> TaskRequest {
        let now = self.s.chain_time().await.expect("time");
        TaskRequest {
            mode: Mode::ZkProof,
            replication: 1,
            quorum: 1,
            program_digest: program,
            input_digest: input,
            bounty: tokens(BOUNTY),
            collateral: tokens(COLLATERAL),
            assign_deadline: now + 600,
            commit_deadline: now + 3_600,
            reveal_deadline: 0,
            challenge_window: 0,
            verifier_id: verifier,
            audit_bps: 0,
        }
    }

    async fn open(&self, req: &TaskRequest, op: Address) -> TaskId {
        let (id, _) = self.s.create_task(self.client, req).await.expect("create");
        self.s
            .assign(self.coordinator, id, &[op])
            .await
            .expect("assign");
        id
    }

    fn binding(&self, task: TaskId, op: Address) -> B256 {
        let d = self.s.deployment();
        verity_primitives::binding(d.chain_id, d.market, task, op)
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
        };
        let want = expected
            .iter()
            .filter(|(x, _)| x == who)
            .fold(Row::default(), |acc, (_, d)| Row {
                wallet: acc.wallet + d.wallet,
                market: acc.market + d.market,
                stake: acc.stake + d.stake,
                locked: acc.locked + d.locked,
            });
        assert_eq!(got, want, "balance change of {who}");
    }
}

fn wallet(n: i128) -> Row {
    Row {
        wallet: n,
        ..Row::default()
    }
}
fn market(n: i128) -> Row {
    Row {
        market: n,
        ..Row::default()
    }
}
fn locked(n: i128) -> Row {
    Row {
        locked: n,
        ..Row::default()
    }
}

/// Asserts a rejection with `InvalidProof(task)` or `NotAssigned(task, who)`.
#[track_caller]
fn expect_market_error<T: std::fmt::Debug>(
    r: verity_settlement::Result<T>,
    want: &str,
    task: TaskId,
) {
    let err = r.expect_err(want);
    match (err.contract_error(), want) {
        (Some(ContractError::Market(TaskMarketErrors::InvalidProof(e))), "InvalidProof") => {
            assert_eq!(e.taskId, task, "InvalidProof names the task");
        }
        (Some(ContractError::Market(TaskMarketErrors::NotAssigned(e))), "NotAssigned") => {
            assert_eq!(e.taskId, task, "NotAssigned names the task");
        }
        _ => panic!("expected {want}({task}), got: {err}"),
    }
}

/// The program digest of a circuit: sha256 of its verifying key bytes.
fn program_digest(keys: &Keys) -> B256 {
    let vk = keys.verifying_key_bytes().expect("vk");
    let hex = sha256_hex(&vk);
    let mut b = [0u8; 32];
    for (i, x) in b.iter_mut().enumerate() {
        *x = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    b.into()
}

/// Deploys the verifier for `slots` and its adapter; registers the adapter under an id.
async fn register_circuit(net: &Net, slots: usize, program: B256) -> B256 {
    let verifier = match slots {
        16 => *SensorGroth16VerifierN16::deploy(net.s.provider().clone())
            .await
            .expect("deploy verifier")
            .address(),
        64 => *SensorGroth16VerifierN64::deploy(net.s.provider().clone())
            .await
            .expect("deploy verifier")
            .address(),
        other => panic!("no committed verifier for N={other}"),
    };
    let adapter = SensorAggregateVerifier::deploy(net.s.provider().clone(), verifier, program)
        .await
        .expect("deploy adapter");
    let id = keccak256(format!("verity.zk.sensor-aggregate.n{slots}.d10"));
    net.s
        .set_verifier(net.owner, id, *adapter.address())
        .await
        .expect("register verifier");
    id
}

fn prove(keys: &Keys, w: &World, n: usize, binding: B256) -> (Bytes, B256, Aggregate) {
    let rs = readings(w, n);
    let circuit =
        SensorCircuit::new(keys.shape, &w.registry, w.query, &rs, binding.0).expect("witness");
    let aggregate = circuit.claimed;
    let result: B256 = field_to_word(circuit.public_inputs().result_digest).into();
    let proof = keys.prove(circuit).expect("prove");
    (Bytes::from(encode_proof(&proof)), result, aggregate)
}

async fn market_round(keys: &Keys, readings_count: usize) {
    let net = Net::new().await;
    let w = world();
    let program = program_digest(keys);
    let vid = register_circuit(&net, keys.shape.slots, program).await;
    let input: B256 = field_to_word(w.query.digest()).into();
    let req = net.request(program, input, vid).await;

    let l0 = net.ledger().await;
    let task = net.open(&req, net.op).await;
    let task_b = net.open(&req, net.op).await;
    let task2 = net.open(&req, net.other).await;
    // A task whose input digest is the query digest plus r: not a field element.
    let bad_input = net.request(program, plus_r(input), vid).await;
    let task3 = net.open(&bad_input, net.op).await;
    let l1 = net.ledger().await;
    assert_deltas(
        &l0,
        &l1,
        &[
            (net.client, wallet(-4 * t(BOUNTY as i64))),
            (net.op, locked(3 * t(COLLATERAL as i64))),
            (net.other, locked(t(COLLATERAL as i64))),
        ],
    );

    let (proof, result, aggregate) = prove(keys, &w, readings_count, net.binding(task, net.op));
    assert_eq!(
        aggregate.count,
        readings_count as u64 - 2,
        "two readings are excluded"
    );

    // Rejections: each reverts with its custom error and changes nothing.
    let mut corrupted = proof.to_vec();
    corrupted[64] ^= 1;
    expect_market_error(
        net.s
            .submit_proof(net.op, task, result, corrupted.into())
            .await,
        "InvalidProof",
        task,
    );
    let mut wrong_result = result;
    wrong_result.0[31] ^= 1;
    expect_market_error(
        net.s
            .submit_proof(net.op, task, wrong_result, proof.clone())
            .await,
        "InvalidProof",
        task,
    );
    // The proof for `task` submitted to another task of the same operator and query.
    expect_market_error(
        net.s
            .submit_proof(net.op, task_b, result, proof.clone())
            .await,
        "InvalidProof",
        task_b,
    );
    // Another operator submits it: not assigned to `task`; and on its own task the binding
    // (to `op`) does not verify for `other`.
    expect_market_error(
        net.s
            .submit_proof(net.other, task, result, proof.clone())
            .await,
        "NotAssigned",
        task,
    );
    let (op_proof_for_task2, result2, _) =
        prove(keys, &w, readings_count, net.binding(task2, net.op));
    assert_eq!(result2, result, "same readings, same aggregate");
    expect_market_error(
        net.s
            .submit_proof(net.other, task2, result, op_proof_for_task2)
            .await,
        "InvalidProof",
        task2,
    );
    // Out-of-field public inputs: resultDigest + r (same residue), and the task whose input
    // digest is + r, with a proof made for that task and operator.
    expect_market_error(
        net.s
            .submit_proof(net.op, task, plus_r(result), proof.clone())
            .await,
        "InvalidProof",
        task,
    );
    let (proof3, _, _) = prove(keys, &w, readings_count, net.binding(task3, net.op));
    expect_market_error(
        net.s.submit_proof(net.op, task3, result, proof3).await,
        "InvalidProof",
        task3,
    );
    let l2 = net.ledger().await;
    assert_deltas(&l1, &l2, &[]);
    for id in [task, task_b, task2, task3] {
        assert_eq!(net.s.status(id).await.expect("status"), Status::Assigned);
    }

    // The valid proof finalizes and pays.
    let receipt = net
        .s
        .submit_proof(net.op, task, result, proof)
        .await
        .expect("submit valid proof");
    eprintln!(
        "submitProof gas (N={}): {}",
        keys.shape.slots, receipt.gas_used
    );
    assert_eq!(net.s.status(task).await.expect("status"), Status::Finalized);
    let l3 = net.ledger().await;
    let bounty = t(BOUNTY as i64);
    let protocol = bounty * i128::from(PROTOCOL_BPS) / 10_000;
    let scheduler = bounty * i128::from(SCHEDULER_BPS) / 10_000;
    assert_deltas(
        &l2,
        &l3,
        &[
            (net.op, market(bounty - protocol - scheduler)),
            (net.op, locked(-t(COLLATERAL as i64))),
            (net.treasury, market(protocol)),
            (net.coordinator, market(scheduler)),
        ],
    );
    // The other tasks are untouched by the payout.
    for id in [task_b, task2, task3] {
        assert_eq!(net.s.status(id).await.expect("status"), Status::Assigned);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn n16_zk_task_pays_on_valid_proof_and_rejects_copied_invalid_and_out_of_field_ones() {
    let keys = setup_deterministic(shape(16), DEVNET_SEED).expect("setup");
    market_round(&keys, 12).await;
}

/// N = 64: keys from the deterministic setup (the committed N=64 verifying key and verifier
/// are checked by the drift test), 60 readings of which 58 are accepted.
#[tokio::test(flavor = "multi_thread")]
async fn n64_zk_task_pays_on_valid_proof_and_rejects_copied_invalid_and_out_of_field_ones() {
    let keys = setup_deterministic(
        Shape {
            slots: 64,
            depth: crate::fixture::DEPTH,
        },
        DEVNET_SEED,
    )
    .expect("setup");
    market_round(&keys, 60).await;
}
