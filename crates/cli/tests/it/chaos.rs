//! A running `verity devnet` (real chain, coordinator and four node processes) under trouble:
//! the coordinator is SIGKILLed while tasks are in flight and started again on the same
//! database, and two tasks name an input no gateway has. Every task still ends (finalized, or
//! refunded for the missing input), nothing is lost or duplicated in the coordinator's view, no
//! honest node is slashed, and every account moves by exactly what the contracts say.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, I256, U256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use verity_contracts::TaskMarket;
use verity_sdk::{Requester, TaskSpec};
use verity_settlement::{
    Deployment, Settlement, Status, TxOptions,
    events::{DEFAULT_CHUNK_BLOCKS, history_to_head},
};
use verity_store::GatewayClient;

use crate::devnet::{reward_each, unit};

const SHA256: &[u8] = include_bytes!("../../../../guests/out/sha256.wasm");

/// Kills the child on drop so a failing test leaves no process behind.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The devnet process: stopped with SIGTERM on drop so it stops its own children (a SIGKILL
/// would orphan the node processes), killed if it does not exit within 30 s.
pub(crate) struct Devnet(pub(crate) Child);

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        for _ in 0..300 {
            if self.0.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The coordinator exactly as `verity devnet` starts it (see `devnet/network.rs`).
fn coordinator(dir: &Path, rpc: &str, port: u16) -> Proc {
    let c = dir.join("coordinator");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(c.join("coordinator.log"))
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(["coordinator", "run", "--config"])
        .arg(c.join("coordinator.toml"))
        .args(["--rpc-url", rpc, "--deployment"])
        .arg(dir.join("deployment.json"))
        .arg("--coordinator-key")
        .arg(c.join("operator.key"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("restart the coordinator");
    Proc(child)
}

fn sigkill(pid_file: &Path) {
    let pid = std::fs::read_to_string(pid_file).unwrap();
    let status = Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -KILL {pid}");
}

/// The wallet plus market balance of `who`.
pub(crate) async fn liquid(s: &Settlement, who: Address) -> U256 {
    s.token_balance(who).await.unwrap() + s.market_balance(who).await.unwrap()
}

pub(crate) async fn wait_until<F, Fut>(what: &str, secs: u64, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..secs * 4 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out after {secs} s waiting for {what}");
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("verity-chaos-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::await_holding_lock,
    reason = "the lock only serialises whole-network tests, each on its own runtime"
)]
async fn a_coordinator_restart_and_a_missing_input_lose_nothing_and_slash_nobody() {
    let _serial = crate::network_lock();
    let dir = temp_dir();
    let (coord_port, gw_port) = (free_port(), free_port());
    let mut devnet = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(["devnet", "--json", "--log", "warn", "--port", "0"])
        .args(["--nodes", "4", "--tasks", "0"])
        // The test kills the coordinator and starts it again itself.
        .args(["--max-restarts", "0"])
        .args(["--coordinator-port", &coord_port.to_string()])
        .args(["--gateway-port", &gw_port.to_string()])
        .arg("--dir")
        .arg(&dir)
        // The profile goes beside the network, not into the user's home.
        .env("VERITY_HOME", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn verity devnet");
    let stdout = devnet.stdout.take().unwrap();
    let stderr = devnet.stderr.take().unwrap();
    let _devnet = Devnet(devnet);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&line).expect("chain summary");
    // Up once it says so on stderr (nodes registered and staked).
    let mut err = BufReader::new(stderr);
    let mut up = false;
    for _ in 0..200 {
        let mut l = String::new();
        if err.read_line(&mut l).unwrap() == 0 {
            break;
        }
        if l.contains("devnet up") {
            up = true;
            break;
        }
    }
    assert!(up, "the devnet did not come up; logs in {}", dir.display());
    // Keep draining stderr so the devnet never blocks on a full pipe.
    std::thread::spawn(move || for _ in err.lines() {});

    let rpc = summary["rpcUrl"].as_str().unwrap().to_string();
    let deployment: Deployment = serde_json::from_value(summary["deployment"].clone()).unwrap();
    let dev: Vec<PrivateKeySigner> = summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["privateKey"].as_str().unwrap().parse().unwrap())
        .collect();
    let client = dev[1].address();
    let operators: Vec<Address> = dev[2..6].iter().map(|k| k.address()).collect();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(dev[1].clone()))
        .connect_http(rpc.parse().unwrap());
    let s = Settlement::new(provider.clone(), deployment, TxOptions::default());
    let gateway = GatewayClient::new(&format!("http://127.0.0.1:{gw_port}")).unwrap();
    let sdk = Requester::new(s.clone(), gateway, client);

    let client_before = liquid(&s, client).await;
    let mut ops_before = Vec::new();
    for op in &operators {
        ops_before.push((liquid(&s, *op).await, s.operator(*op).await.unwrap().stake));
    }
    let bounty = U256::from(10u64) * unit();
    let spec = |mode: &str, n: u8| {
        let input = vec![n; 4096];
        match mode {
            "replicated" => TaskSpec::replicated(SHA256.to_vec(), input, 3),
            _ => TaskSpec::optimistic(SHA256.to_vec(), input).challenge_window(3),
        }
        .bounty(bounty)
        .windows(30, 60, 30)
    };

    // Two tasks, then the coordinator dies as soon as one is assigned.
    let mut good = Vec::new();
    for (n, mode) in ["optimistic", "replicated"].iter().enumerate() {
        good.push(sdk.submit(&spec(mode, n as u8)).await.unwrap().id);
    }
    wait_until("a first assignment", 60, || async {
        s.status(good[0]).await.unwrap() != Status::Open
            || s.status(good[1]).await.unwrap() != Status::Open
    })
    .await;
    sigkill(&dir.join("coordinator/coordinator.pid"));

    // While it is down: four more tasks, and two whose input no gateway has.
    for (n, mode) in ["optimistic", "replicated", "optimistic", "replicated"]
        .iter()
        .enumerate()
    {
        good.push(sdk.submit(&spec(mode, 10 + n as u8)).await.unwrap().id);
    }
    let program = sdk.upload_program(SHA256.to_vec().into()).await.unwrap();
    let mut missing = Vec::new();
    for (n, mode) in ["optimistic", "replicated"].iter().enumerate() {
        let now = s.chain_time().await.unwrap();
        let absent = B256::repeat_byte(0xa0 + n as u8);
        let request = spec(mode, 0)
            .request(now, B256::from(program.digest()), absent)
            .unwrap();
        s.approve_market(client, bounty).await.unwrap();
        missing.push(s.create_task(client, &request).await.unwrap().0);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _coordinator = coordinator(&dir, &rpc, coord_port);

    // Every task ends.
    let all: Vec<U256> = good.iter().chain(&missing).copied().collect();
    wait_until("every task to settle", 240, || async {
        let mut settled = true;
        for id in &all {
            let st = s.status(*id).await.unwrap();
            settled &= matches!(st, Status::Finalized | Status::Refunded);
        }
        settled
    })
    .await;
    for id in &good {
        assert_eq!(s.status(*id).await.unwrap(), Status::Finalized, "task {id}");
    }
    for id in &missing {
        assert_eq!(s.status(*id).await.unwrap(), Status::Refunded, "task {id}");
    }

    // Each task was assigned exactly once on chain (the restarted coordinator did not assign
    // again what its predecessor had), and nobody was slashed.
    let logs = |sig: B256| {
        let source = s.market_logs().events(vec![sig]);
        let from = deployment.deployed_block;
        async move {
            history_to_head(&source, from, DEFAULT_CHUNK_BLOCKS)
                .await
                .unwrap()
        }
    };
    let assigned = logs(TaskMarket::TaskAssigned::SIGNATURE_HASH).await;
    for id in &all {
        let n = assigned
            .iter()
            .filter(|l| {
                TaskMarket::TaskAssigned::decode_log(&l.inner)
                    .unwrap()
                    .taskId
                    == *id
            })
            .count();
        assert_eq!(n, 1, "TaskAssigned events for task {id}");
    }
    assert!(
        logs(TaskMarket::OperatorSlashed::SIGNATURE_HASH)
            .await
            .is_empty(),
        "an honest node was slashed; logs in {}",
        dir.display()
    );
    // The missing input was declined by the nodes that held it, not executed.
    let declined = logs(TaskMarket::Declined::SIGNATURE_HASH).await;
    for id in &missing {
        assert!(
            declined
                .iter()
                .any(|l| { TaskMarket::Declined::decode_log(&l.inner).unwrap().taskId == *id }),
            "task {id} was not declined"
        );
    }

    // Exact money: the client paid the six bounties it got results for and got the two
    // missing-input bounties back; the nodes earned exactly the seats they won; stakes untouched
    // but for decline fees.
    assert_eq!(
        liquid(&s, client).await,
        client_before - U256::from(6u64) * bounty,
        "client"
    );
    let expected_total =
        U256::from(3u64) * reward_each(bounty, 1) + U256::from(9u64) * reward_each(bounty, 3);
    // A decline costs its operator 2 % of the task's collateral (to the treasury), never a
    // slash: each node's stake is down by the fees of exactly the seats it declined.
    let mut fees = std::collections::BTreeMap::<Address, U256>::new();
    for l in &declined {
        let ev = TaskMarket::Declined::decode_log(&l.inner).unwrap();
        let collateral = s.task(ev.taskId).await.unwrap().collateral;
        *fees.entry(ev.operator).or_default() +=
            collateral * U256::from(200u64) / U256::from(10_000u64);
    }
    let mut total = I256::ZERO;
    for (op, (liquid_before, stake_before)) in operators.iter().zip(&ops_before) {
        let fee = fees.get(op).copied().unwrap_or_default();
        assert_eq!(
            s.operator(*op).await.unwrap().stake,
            *stake_before - fee,
            "{op}"
        );
        // Court pay for auditing others' results counts, withdrawn or not.
        let now = liquid(&s, *op).await + s.court_balance(*op).await.unwrap();
        total += I256::from_raw(now) - I256::from_raw(*liquid_before);
    }
    // An optimistic result the audit coin sent to the court (20 % each) paid its auditors a
    // tenth of its bounty out of the operator's reward; the auditors are these nodes, so the
    // total moves only by the division dust (under a wei per member of a committee of at most
    // 7) that goes to the treasury.
    let audits = logs(TaskMarket::AuditDrawn::SIGNATURE_HASH)
        .await
        .iter()
        .filter(|l| {
            TaskMarket::AuditDrawn::decode_log(&l.inner)
                .unwrap()
                .audited
        })
        .count();
    let expected = I256::from_raw(expected_total);
    assert!(
        total <= expected && expected - total <= I256::try_from(7 * audits).unwrap(),
        "nodes earned {total}, expected {expected} less the dust of {audits} audits"
    );

    // The restarted coordinator's view converges to the chain: every task once, same status.
    let api = format!("http://127.0.0.1:{coord_port}/v1/tasks?limit=100");
    let http = reqwest::Client::new();
    wait_until(
        "the coordinator to index every settled task",
        60,
        || async {
            let Ok(r) = http.get(&api).send().await else {
                return false;
            };
            let Ok(page) = r.json::<serde_json::Value>().await else {
                return false;
            };
            let items = page["items"].as_array().cloned().unwrap_or_default();
            let statuses: Vec<(String, String)> = items
                .iter()
                .map(|t| {
                    (
                        t["id"].as_str().unwrap_or_default().to_string(),
                        t["status"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            statuses.len() == all.len()
                && all.iter().all(|id| {
                    let want = if missing.contains(id) {
                        "refunded"
                    } else {
                        "finalized"
                    };
                    statuses
                        .iter()
                        .filter(|(i, st)| *i == id.to_string() && st == want)
                        .count()
                        == 1
                })
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}
