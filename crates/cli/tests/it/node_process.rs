//! `verity node run` as a real process against `verity devnet` as a real process: the node is
//! SIGKILLed between its commit and its reveal, restarted, and still reveals in time and is
//! paid; nobody is slashed.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{B256, Bytes, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use verity_primitives::envelope::{ExecLimits, TaskInput};
use verity_settlement::{
    Deployment, Mode, OperatorProfile, Seat, Settlement, Status, TaskRequest, TxOptions,
};
use verity_store::{BlobStore, Limits, MemoryStore};

const ECHO: &str = r#"(module
  (import "verity" "input_len" (func $input_len (result i32)))
  (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $read_input (i32.const 0) (i32.const 0) (call $input_len)))
    (call $write_output (i32.const 0) (call $input_len))))"#;

/// Kills the child on drop so a failing test leaves no process behind.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn unit() -> U256 {
    U256::from(10u64).pow(U256::from(18u64))
}

fn node(dir: &Path, rpc: &str, gateway: &str) -> Proc {
    let child = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args([
            "node",
            "run",
            "--log",
            "warn",
            "--rpc-url",
            rpc,
            "--gateway",
            gateway,
            "--metrics-listen",
            "",
        ])
        .arg("--deployment")
        .arg(dir.join("devnet.json"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--operator-key")
        .arg(dir.join("operator.key"))
        .arg("--node-key")
        .arg(dir.join("node.key"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn verity node run");
    Proc(child)
}

/// Polls `check` every 100 ms, at most `tries` times.
async fn wait_for<F, Fut>(what: &str, tries: u32, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..tries {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_between_commit_and_reveal_restarts_reveals_and_is_paid() {
    let dir = tempfile_dir();
    // The chain: a real `verity devnet` process producing a block every second.
    let mut devnet = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args([
            "devnet",
            "--nodes",
            "0",
            "--port",
            "0",
            "--json",
            "--log",
            "warn",
            "--block-time-ms",
            "1000",
        ])
        // The profile goes beside the test's files, not into the user's home.
        .env("VERITY_HOME", &dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn devnet");
    let mut line = String::new();
    BufReader::new(devnet.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _devnet = Proc(devnet);
    std::fs::write(dir.join("devnet.json"), &line).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&line).unwrap();
    let rpc = summary["rpcUrl"].as_str().unwrap().to_string();
    let deployment: Deployment = serde_json::from_value(summary["deployment"].clone()).unwrap();
    let dev: Vec<PrivateKeySigner> = summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["privateKey"].as_str().unwrap().parse().unwrap())
        .collect();
    let (owner, client, peer, peer2) = (
        dev[0].address(),
        dev[1].address(),
        dev[2].address(),
        dev[3].address(),
    );

    // A blob gateway holding the program and the input.
    let store: Arc<dyn BlobStore> = Arc::new(MemoryStore::new(Limits::default()));
    let program = store
        .put(wat::parse_str(ECHO).unwrap().into())
        .await
        .unwrap();
    let envelope = TaskInput {
        limits: ExecLimits {
            fuel: 1_000_000,
            max_memory_bytes: 1 << 20,
            max_table_elements: 10,
            max_output_bytes: 4096,
        },
        payload: b"42 readings".to_vec(),
    };
    let input = store.put(envelope.encode().into()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = format!("http://{}", listener.local_addr().unwrap());
    let cancel = tokio_util::sync::CancellationToken::new();
    tokio::spawn(verity_store::serve(listener, store.clone(), cancel.clone()));

    // The node's keys, created by the CLI, funded with gas money and tokens by the owner.
    for name in ["operator", "node"] {
        let out = Command::new(env!("CARGO_BIN_EXE_verity"))
            .args(["keys", "new", "--out"])
            .arg(dir.join(format!("{name}.key")))
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let op_key: PrivateKeySigner = std::fs::read_to_string(dir.join("operator.key"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let op = op_key.address();
    let mut wallet = EthereumWallet::from(dev[0].clone());
    for k in &dev[1..4] {
        wallet.register_signer(k.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(rpc.parse().unwrap());
    let s = Settlement::new(provider.clone(), deployment, TxOptions::default());
    let fund = TransactionRequest::default().with_to(op).with_value(unit());
    provider
        .send_transaction(fund)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    s.mint(owner, op, U256::from(5_000u64) * unit())
        .await
        .unwrap();
    // Two more operators we drive by hand (replication is at least 3), so the reveal phase
    // opens only when we say.
    for (i, p) in [peer, peer2].into_iter().enumerate() {
        s.register(
            p,
            &OperatorProfile {
                signer: p,
                hardware_hash: keccak256(format!("peer-{i}")),
                metadata_cid: Bytes::new(),
                region: 0,
                capabilities: 1,
            },
        )
        .await
        .unwrap();
        s.approve_registry(p, U256::MAX).await.unwrap();
        s.stake(p, U256::from(1_000u64) * unit()).await.unwrap();
    }

    let mut running = node(&dir, &rpc, &gateway);
    wait_for("the node to register and stake", 300, || async {
        s.operator(op)
            .await
            .map(|o| o.stake >= U256::from(1_000u64) * unit())
            .unwrap_or(false)
    })
    .await;
    let before = s.token_balance(op).await.unwrap();

    let now = s.chain_time().await.unwrap();
    let req = TaskRequest {
        mode: Mode::Replicated,
        replication: 3,
        quorum: 2,
        program_digest: B256::from(program.digest()),
        input_digest: B256::from(input.digest()),
        bounty: U256::from(100u64) * unit(),
        collateral: U256::from(50u64) * unit(),
        assign_deadline: now + 60,
        commit_deadline: now + 120,
        reveal_deadline: now + 240,
        challenge_window: 0,
        verifier_id: B256::ZERO,
        audit_bps: 0,
    };
    s.approve_market(client, req.bounty).await.unwrap();
    let (id, _) = s.create_task(client, &req).await.unwrap();
    s.assign(owner, id, &[op, peer, peer2]).await.unwrap();

    wait_for("the node's commitment", 300, || async {
        s.seat(id, op)
            .await
            .map(|x| x.seat == Seat::Committed)
            .unwrap_or(false)
    })
    .await;
    // Killed between commit and reveal: no chance to clean up.
    running.0.kill().unwrap();
    running.0.wait().unwrap();
    drop(running);

    // The peers commit the same result; the reveal phase opens while the node is down.
    let result = verity_node_result(b"42 readings");
    let salt = B256::repeat_byte(9);
    let d = s.deployment();
    for p in [peer, peer2] {
        s.commit(
            p,
            id,
            verity_primitives::commitment(d.chain_id, d.market, id, p, result, salt),
        )
        .await
        .unwrap();
    }
    let _restarted = node(&dir, &rpc, &gateway);
    wait_for("the restarted node's reveal", 300, || async {
        s.seat(id, op)
            .await
            .map(|x| x.seat == Seat::Revealed)
            .unwrap_or(false)
    })
    .await;
    for p in [peer, peer2] {
        s.reveal(p, id, result, salt).await.unwrap();
    }
    wait_for("settlement and withdrawal", 300, || async {
        s.token_balance(op)
            .await
            .map(|b| b > before)
            .unwrap_or(false)
    })
    .await;

    let task = s.task(id).await.unwrap();
    assert_eq!(
        (task.status, task.result, task.commits),
        (Status::Finalized, result, 3)
    );
    let fees = req.bounty * U256::from(150u64) / U256::from(10_000u64);
    let each = (req.bounty - fees) / U256::from(3u64);
    assert_eq!(
        s.token_balance(op).await.unwrap(),
        before + each,
        "paid exactly its share"
    );
    for who in [op, peer, peer2] {
        assert_eq!(s.operator(who).await.unwrap().times_slashed, 0);
    }
    cancel.cancel();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The echo program's result digest: sha2-256 of its input payload.
fn verity_node_result(payload: &[u8]) -> B256 {
    B256::from(verity_store::Cid::of(payload).digest())
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "verity-node-proc-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
