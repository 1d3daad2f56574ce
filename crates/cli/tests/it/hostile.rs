//! Issue 21, "a hostile program can never hurt an honest operator", end to end: a running
//! `verity devnet` (real chain, gateway, coordinator and four honest node processes) is sent,
//! as a client sends tasks, one module per hostile class of the issue: compile bombs (too many
//! functions, too many locals, too deep nesting), an export flood, byte-at-a-time `read_input`
//! with the highest fuel a node grants, a start function looping on a host call, and a
//! `memory.grow 0` loop; replicated, and the cheap ones optimistic too.
//!
//! Every task ends (finalized on the program's deterministic failure, or refunded when the
//! nodes declined it), each seat's receipt names the reason, nobody is slashed or jailed, every
//! account moves by exactly what the contracts say (decline fees included), and a normal task
//! sent afterwards is finalized.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, U256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use verity_contracts::TaskMarket;
use verity_primitives::{digest::error_digest, envelope::ExecLimits};
use verity_sdk::{Requester, TaskSpec};
use verity_settlement::{
    Deployment, Mode, Settlement, Status, TxOptions,
    events::{DEFAULT_CHUNK_BLOCKS, history_to_head},
};
use verity_store::GatewayClient;

use crate::{
    chaos::{Devnet, free_port, liquid, wait_until},
    devnet::{reward_each, unit},
};

const SHA256: &[u8] = include_bytes!("../../../../guests/out/sha256.wasm");

/// The most fuel a node grants by default (`ExecutorConfig::max_task_fuel`).
const NODE_MAX_FUEL: u64 = 100_000_000_000;

// ---- the hostile modules, emitted as bytes (the bombs would be slow to write as text) ----

fn leb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn name(out: &mut Vec<u8>, name: &str) {
    leb(out, name.len() as u64);
    out.extend(name.as_bytes());
}

fn section(out: &mut Vec<u8>, id: u8, fill: impl FnOnce(&mut Vec<u8>)) {
    let mut body = Vec::new();
    fill(&mut body);
    out.push(id);
    leb(out, body.len() as u64);
    out.extend(body);
}

/// A `run` + `memory` module of `functions` functions `() -> ()`, each with `locals` i32
/// locals and `depth` nested empty blocks, and `extra_exports` more exports of function 0.
fn bomb(functions: u32, locals: u32, depth: u32, extra_exports: u32) -> Vec<u8> {
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    section(&mut out, 1, |s| s.extend([1, 0x60, 0, 0]));
    section(&mut out, 3, |s| {
        leb(s, functions.into());
        s.extend(std::iter::repeat_n(0, functions as usize));
    });
    section(&mut out, 5, |s| s.extend([1, 0, 1]));
    section(&mut out, 7, |s| {
        leb(s, u64::from(extra_exports) + 2);
        name(s, "memory");
        s.extend([2, 0]);
        name(s, "run");
        s.extend([0, 0]);
        for i in 0..extra_exports {
            name(s, &format!("e{i}"));
            s.extend([0, 0]);
        }
    });
    section(&mut out, 10, |s| {
        leb(s, functions.into());
        let mut body = Vec::new();
        if locals == 0 {
            body.push(0);
        } else {
            body.push(1);
            leb(&mut body, locals.into());
            body.push(0x7f);
        }
        for _ in 0..depth {
            body.extend([0x02, 0x40]);
        }
        body.extend(std::iter::repeat_n(0x0b, depth as usize));
        body.push(0x0b);
        for _ in 0..functions {
            leb(s, body.len() as u64);
            s.extend(&body);
        }
    });
    out
}

/// Reads its input one byte at a time, forever.
const BYTE_AT_A_TIME: &str = r#"(module
  (import "verity" "input_len" (func $input_len (result i32)))
  (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (local $at i32)
    (loop $forever
      (drop (call $read_input (i32.const 0) (local.get $at) (i32.const 1)))
      (local.set $at (i32.rem_u (i32.add (local.get $at) (i32.const 1)) (call $input_len)))
      (br $forever))))"#;

/// Its start function loops on a host call: it never gets to `run`.
const START_LOOP: &str = r#"(module
  (import "verity" "input_len" (func $input_len (result i32)))
  (memory (export "memory") 1)
  (func $start (loop $forever (drop (call $input_len)) (br $forever)))
  (start $start)
  (func (export "run")))"#;

/// `memory.grow 0`, forever.
const GROW_ZERO: &str = r#"(module (memory (export "memory") 1)
  (func (export "run") (loop $forever (drop (memory.grow (i32.const 0))) (br $forever))))"#;

/// One hostile class: its name, module, fuel, and the failure codes a seat's receipt may give
/// (over budget is the program's verdict; a loop ends out of fuel, or at the node's wall-clock
/// limit where the node is slower than the calibration).
struct Class {
    name: &'static str,
    program: Vec<u8>,
    fuel: u64,
    codes: &'static [&'static str],
}

const OVER_BUDGET: &[&str] = &["V-EXE-018"];
const A_LOOP: &[&str] = &["V-EXE-006", "V-EXE-015"];

fn classes() -> Vec<Class> {
    let sdk_fuel = 1_000_000_000;
    let wat = |t: &str| wat::parse_str(t).unwrap();
    vec![
        Class {
            name: "functions bomb",
            program: bomb(20_001, 0, 0, 0),
            fuel: sdk_fuel,
            codes: OVER_BUDGET,
        },
        Class {
            name: "locals bomb",
            program: bomb(1, 50_000, 0, 0),
            fuel: sdk_fuel,
            codes: OVER_BUDGET,
        },
        Class {
            name: "nesting bomb",
            program: bomb(1, 0, 1_001, 0),
            fuel: sdk_fuel,
            codes: OVER_BUDGET,
        },
        Class {
            name: "export flood",
            program: bomb(1, 0, 0, 1_000),
            fuel: sdk_fuel,
            codes: OVER_BUDGET,
        },
        Class {
            name: "byte-at-a-time read_input, highest fuel",
            program: wat(BYTE_AT_A_TIME),
            fuel: NODE_MAX_FUEL,
            codes: A_LOOP,
        },
        Class {
            name: "start function loop",
            program: wat(START_LOOP),
            fuel: sdk_fuel,
            codes: A_LOOP,
        },
        Class {
            name: "memory.grow 0 loop",
            program: wat(GROW_ZERO),
            fuel: sdk_fuel,
            codes: A_LOOP,
        },
    ]
}

/// The decoded market events of one kind since the deployment.
/// What `op` was paid by the dispute court (audits it sat on): withdrawn plus still held.
async fn court_pay(s: &Settlement, op: Address, from: u64) -> U256 {
    let source = verity_settlement::events::RpcLogSource::new(
        s.provider().clone(),
        vec![s.deployment().court],
    )
    .events(vec![
        verity_contracts::DisputeCourt::Withdrawn::SIGNATURE_HASH,
    ])
    .topic1(op.into_word());
    let withdrawn = history_to_head(&source, from, DEFAULT_CHUNK_BLOCKS)
        .await
        .unwrap()
        .iter()
        .map(|l| {
            verity_contracts::DisputeCourt::Withdrawn::decode_log(&l.inner)
                .unwrap()
                .data
                .amount
        })
        .fold(U256::ZERO, |a, b| a + b);
    withdrawn + s.court_balance(op).await.unwrap()
}

async fn events<E: SolEvent>(s: &Settlement, from: u64) -> Vec<E> {
    history_to_head(
        &s.market_logs().events(vec![E::SIGNATURE_HASH]),
        from,
        DEFAULT_CHUNK_BLOCKS,
    )
    .await
    .unwrap()
    .iter()
    .map(|l| E::decode_log(&l.inner).unwrap().data)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::await_holding_lock,
    reason = "the lock only serialises whole-network tests, each on its own runtime"
)]
async fn issue_21_no_hostile_program_gets_an_honest_operator_slashed_through_the_devnet() {
    let _serial = crate::network_lock();
    let dir = std::env::temp_dir().join(format!("verity-hostile-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (coord_port, gw_port) = (free_port(), free_port());
    let mut devnet = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(["devnet", "--json", "--log", "warn", "--port", "0"])
        .args(["--nodes", "4", "--tasks", "0"])
        .args(["--coordinator-port", &coord_port.to_string()])
        .args(["--gateway-port", &gw_port.to_string()])
        .arg("--dir")
        .arg(&dir)
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
    let s = Settlement::new(provider, deployment, TxOptions::default());
    let gateway = GatewayClient::new(&format!("http://127.0.0.1:{gw_port}")).unwrap();
    let sdk = Requester::new(s.clone(), gateway, client);
    let coordinator = format!("http://127.0.0.1:{coord_port}");

    let client_before = liquid(&s, client).await;
    let mut ops_before = Vec::new();
    for op in &operators {
        let o = s.operator(*op).await.unwrap();
        assert_eq!((o.times_slashed, o.jailed_until), (0, 0), "{op}");
        ops_before.push((liquid(&s, *op).await, o.stake));
    }

    // Every class replicated; the compile bombs optimistic too.
    let bounty = U256::from(10u64) * unit();
    let spec = |c: &Class, mode: Mode| {
        let input = b"0123456789".to_vec();
        let limits = ExecLimits {
            fuel: c.fuel,
            ..TaskSpec::optimistic(Vec::new(), Vec::new()).limits
        };
        match mode {
            Mode::Replicated => TaskSpec::replicated(c.program.clone(), input, 3),
            _ => TaskSpec::optimistic(c.program.clone(), input).challenge_window(3),
        }
        .limits(limits)
        .bounty(bounty)
        .windows(30, 90, 30)
    };
    let classes = classes();
    let mut hostile: Vec<(U256, &Class, Mode)> = Vec::new();
    for c in &classes {
        let id = sdk.submit(&spec(c, Mode::Replicated)).await.unwrap().id;
        hostile.push((id, c, Mode::Replicated));
    }
    for c in classes.iter().filter(|c| c.codes == OVER_BUDGET).take(2) {
        let id = sdk.submit(&spec(c, Mode::Optimistic)).await.unwrap().id;
        hostile.push((id, c, Mode::Optimistic));
    }

    // Every task ends.
    wait_until("every hostile task to settle", 300, || async {
        let mut settled = true;
        for (id, ..) in &hostile {
            settled &= matches!(
                s.status(*id).await.unwrap(),
                Status::Finalized | Status::Refunded
            );
        }
        settled
    })
    .await;

    // The nodes still work: a normal task sent afterwards is finalized.
    let normal = sdk
        .submit(
            &TaskSpec::optimistic(SHA256.to_vec(), vec![7u8; 4096])
                .challenge_window(3)
                .bounty(bounty)
                .windows(30, 90, 30),
        )
        .await
        .unwrap()
        .id;
    wait_until("the normal task to be finalized", 120, || async {
        s.status(normal).await.unwrap() == Status::Finalized
    })
    .await;

    // Each seat's receipt reaches the client and names the reason; a finalized task's result is
    // the digest of that (deterministic) failure.
    let http = reqwest::Client::new();
    for (id, class, mode) in &hostile {
        let task = s.task(*id).await.unwrap();
        let url = format!("{coordinator}/v1/tasks/{id}/logs");
        // Every seat reports once it has run the task: wait (bounded) until each has.
        let mut logs = serde_json::Value::Null;
        for attempt in 0..=240 {
            if let Ok(r) = http.get(&url).send().await
                && let Ok(v) = r.json::<serde_json::Value>().await
            {
                let n = v["logs"].as_array().map_or(0, Vec::len);
                let seats = v["operators"].as_array().map_or(usize::MAX, Vec::len);
                logs = v;
                if n > 0 && n >= seats {
                    break;
                }
            }
            assert!(
                attempt < 240,
                "{} ({mode:?}): not every seat's receipt arrived within 60 s: {logs}",
                class.name
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        let logs = logs["logs"].as_array().unwrap();
        for l in logs {
            let f = &l["failure"];
            let code = f["code"].as_str().unwrap_or_else(|| {
                panic!(
                    "{} ({mode:?}): a receipt without a failure: {l}",
                    class.name
                )
            });
            assert!(
                class.codes.contains(&code),
                "{} ({mode:?}): {code} is not one of {:?}: {l}",
                class.name,
                class.codes
            );
            assert_eq!(l["resultDigest"], serde_json::Value::Null, "{l}");
            if code == "V-EXE-018" {
                // Refused before compiling: no fuel spent, nothing run.
                assert_eq!(f["deterministic"], true, "{l}");
                assert_eq!(l["fuelUsed"], serde_json::Value::Null, "{l}");
            }
        }
        match task.status {
            Status::Finalized => {
                let deterministic: Vec<&str> = logs
                    .iter()
                    .filter(|l| l["failure"]["deterministic"] == true)
                    .map(|l| l["failure"]["code"].as_str().unwrap())
                    .collect();
                assert!(
                    deterministic.iter().any(|c| error_digest(c) == task.result),
                    "{}: finalized on {} but no receipt has that failure: {logs:?}",
                    class.name,
                    task.result
                );
            }
            Status::Refunded => assert!(
                logs.iter().all(|l| l["failure"]["deterministic"] == false),
                "{}: refunded although a node reached the program's verdict: {logs:?}",
                class.name
            ),
            other => panic!("{}: still {other}", class.name),
        }
        if class.codes == OVER_BUDGET {
            assert_eq!(task.status, Status::Finalized, "{}", class.name);
            assert_eq!(task.result, error_digest("V-EXE-018"), "{}", class.name);
        }
    }

    // `verity task logs`, as a client runs it: the human summary names the reason, --json is
    // the API's answer.
    let (bomb_id, ..) = hostile[0];
    let out = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(["task", "logs", &bomb_id.to_string()])
        .args(["--coordinator", &coordinator])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("failed V-EXE-018 (deterministic"), "{text}");
    assert_eq!(text.matches("failed V-EXE-018").count(), 3, "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(["task", "logs", &bomb_id.to_string(), "--json"])
        .args(["--coordinator", &coordinator])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["taskId"], bomb_id.to_string());
    assert_eq!(json["logs"].as_array().unwrap().len(), 3, "{json}");

    // Nobody was slashed or jailed.
    let from = deployment.deployed_block;
    let slashed = events::<TaskMarket::OperatorSlashed>(&s, from).await;
    assert!(
        slashed.is_empty(),
        "slashed: {slashed:?}; logs in {}",
        dir.display()
    );
    for op in &operators {
        let o = s.operator(*op).await.unwrap();
        assert_eq!((o.times_slashed, o.jailed_until), (0, 0), "{op}");
    }

    // Exact money. The client paid the bounties of the finalized tasks and got the refunded
    // ones back. An operator earned `reward_each` for each finalized seat it won (the replicated
    // seats that revealed the result, the optimistic submitter), and its stake is down by the
    // decline fee (2 % of the collateral) of each seat it gave back, never more.
    let all: Vec<U256> = hostile.iter().map(|h| h.0).chain([normal]).collect();
    let finalized = events::<TaskMarket::TaskFinalized>(&s, from).await;
    let revealed = events::<TaskMarket::Revealed>(&s, from).await;
    let submitted = events::<TaskMarket::ResultSubmitted>(&s, from).await;
    let declined = events::<TaskMarket::Declined>(&s, from).await;
    // Optimistic results the audit coin sent to the court (20 % each): the committee re-ran
    // them, upheld the failure, and took a tenth of the bounty from the operator's reward.
    let audited: Vec<U256> = events::<TaskMarket::AuditDrawn>(&s, from)
        .await
        .iter()
        .filter(|a| a.audited)
        .map(|a| a.taskId)
        .collect();
    let mut paid = U256::ZERO;
    let mut earned = BTreeMap::<Address, U256>::new();
    for id in &all {
        let task = s.task(*id).await.unwrap();
        if task.status != Status::Finalized {
            assert_eq!(task.status, Status::Refunded, "task {id}");
            continue;
        }
        paid += bounty;
        let winners: Vec<Address> = if task.mode == Mode::Replicated {
            revealed
                .iter()
                .filter(|r| r.taskId == *id && r.resultDigest == task.result)
                .map(|r| r.operator)
                .collect()
        } else {
            submitted
                .iter()
                .filter(|r| r.taskId == *id)
                .map(|r| r.operator)
                .collect()
        };
        let mut each = reward_each(bounty, winners.len() as u64);
        if audited.contains(id) {
            each -= bounty / U256::from(10u64);
        }
        let ev = finalized.iter().find(|f| f.taskId == *id).unwrap();
        assert_eq!(
            (ev.winners, ev.rewardEach),
            (U256::from(winners.len()), each),
            "task {id}"
        );
        for w in winners {
            *earned.entry(w).or_default() += each;
        }
    }
    assert_eq!(liquid(&s, client).await, client_before - paid, "client");
    let mut fees = BTreeMap::<Address, U256>::new();
    for d in &declined {
        let collateral = s.task(d.taskId).await.unwrap().collateral;
        *fees.entry(d.operator).or_default() +=
            collateral * U256::from(200u64) / U256::from(10_000u64);
    }
    for (op, (liquid_before, stake_before)) in operators.iter().zip(&ops_before) {
        let fee = fees.get(op).copied().unwrap_or_default();
        assert_eq!(
            s.operator(*op).await.unwrap().stake,
            *stake_before - fee,
            "stake of {op}"
        );
        // Plus what it earned auditing others' results (withdrawn into its wallet).
        let pay = court_pay(&s, *op, from).await;
        assert_eq!(
            liquid(&s, *op).await + s.court_balance(*op).await.unwrap(),
            *liquid_before + earned.get(op).copied().unwrap_or_default() + pay,
            "earnings of {op}"
        );
    }
    eprintln!(
        "hostile devnet: {} tasks, {} declined seats, fees {:?}",
        all.len(),
        declined.len(),
        fees
    );
    let _ = std::fs::remove_dir_all(&dir);
}
