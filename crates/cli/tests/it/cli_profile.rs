//! Issue 16, "a CLI people enjoy": after `verity devnet`, `verity task ...` works with nothing
//! in the environment (the devnet's profile says where everything is), read-only commands need
//! no key, amounts read in tokens (raw units under `--json`), statuses have one spelling,
//! errors carry no source locations unless `RUST_BACKTRACE` asks, and `--help` shows examples
//! on their own lines. Also `task estimate`, `task cancel` and `account balance`.

use std::process::Command;

use super::user_devnet::{UserDevnet, ok, refused};

const ECHO: &str = r#"(module
  (import "verity" "input_len" (func $input_len (result i32)))
  (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "verity" "write_output" (func $write_output (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (drop (call $read_input (i32.const 0) (i32.const 0) (call $input_len)))
    (call $write_output (i32.const 0) (call $input_len))))"#;

const STATUSES: [&str; 7] = [
    "none",
    "open",
    "assigned",
    "submitted",
    "challenged",
    "finalized",
    "refunded",
];

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn after_verity_devnet_task_commands_work_from_the_profile_alone() {
    let _serial = crate::network_lock();
    // Two nodes: an optimistic task is audited one time in five by default, and the audit's
    // committee is drawn from the nodes other than the one that ran it (with one node the
    // case would wait out the arbiter's window).
    let net = UserDevnet::start_with_nodes("cli-profile", 2);
    let profile = net.profile();
    for key in ["rpc_url", "coordinator_url", "gateway_url", "key_file"] {
        assert!(profile[key].is_string(), "{key} missing: {profile}");
    }
    assert_eq!(profile["chain_id"], 31337);
    let stderr = std::fs::read_to_string(&net.stderr).unwrap();
    assert!(
        stderr.contains("profile \"devnet\" written to"),
        "the devnet says where the profile is: {stderr}"
    );

    let program = net.home.join("echo.wasm");
    std::fs::write(&program, wat::parse_str(ECHO).unwrap()).unwrap();
    let input = net.home.join("in.bin");
    std::fs::write(&input, b"hello from the profile").unwrap();
    let (program, input) = (program.to_str().unwrap(), input.to_str().unwrap());

    // Submit and follow with no flags about the network and no environment but HOME.
    let out = ok(&net.verity(&[
        "task",
        "submit",
        "--program",
        program,
        "--input",
        input,
        "--bounty",
        "3",
        "--challenge-window",
        "2",
        "--wait",
        "--timeout-secs",
        "240",
        "--json",
    ]));
    let submitted = json(&out);
    assert_eq!(submitted["status"], "finalized", "{submitted}");
    let id = submitted["id"].as_str().unwrap().to_string();
    let result = net.verity(&["task", "result", &id]);
    assert_eq!(ok(&result).as_bytes(), b"hello from the profile");

    // A profile without a key: the read-only commands still work.
    let keyless = net.home.join(".config/verity/profiles/readonly.toml");
    let text = std::fs::read_to_string(net.home.join(".config/verity/profiles/devnet.toml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("key_file"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&keyless, text).unwrap();
    let ro = ["--profile", "readonly"];

    let status = ok(&net.verity(&[&["task", "status", &id][..], &ro].concat()));
    assert!(
        status.contains(&format!("task {id}  finalized  optimistic  bounty 3 tVRT")),
        "{status}"
    );
    let list = ok(&net.verity(&[&["task", "list"][..], &ro].concat()));
    let row = list
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id.as_str()))
        .unwrap_or_else(|| panic!("task {id} not listed: {list}"));
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        [
            id.as_str(),
            "finalized",
            "optimistic",
            "bounty",
            "3",
            "tVRT"
        ]
    );
    // One spelling of every status, in both commands and under --json (raw units there).
    let listed = json(&ok(
        &net.verity(&[&["task", "list", "--json"][..], &ro].concat())
    ));
    for t in listed.as_array().unwrap() {
        assert!(STATUSES.contains(&t["status"].as_str().unwrap()), "{t}");
    }
    let one = json(&ok(
        &net.verity(&[&["task", "status", &id, "--json"][..], &ro].concat())
    ));
    assert_eq!(one["status"], "finalized");
    assert_eq!(one["bounty"], "3000000000000000000");
    ok(&net.verity(&[&["dispute", "list"][..], &ro].concat()));

    // Sending needs the key, and says so.
    let e = refused(
        &net.verity(
            &[
                &["task", "submit", "--program", program, "--input", input][..],
                &ro,
            ]
            .concat(),
        ),
    );
    assert!(e.contains("no requester key"), "{e}");

    // The client's balances: it paid exactly the bounty (a fresh dev account holds
    // 1,000,000 tokens and has nothing in the market).
    let client: alloy::signers::local::PrivateKeySigner =
        std::fs::read_to_string(profile["key_file"].as_str().unwrap())
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    let client = client.address().to_string();
    let bal = json(&ok(&net.verity(&["account", "balance", "--json"])));
    assert_eq!(
        bal["account"].as_str().unwrap().to_lowercase(),
        client.to_lowercase()
    );
    assert_eq!(bal["wallet"], "999997000000000000000000");
    assert_eq!(bal["market"], "0");
    assert_eq!(bal["operator"], false);
    let human = ok(&net.verity(&[&["account", "balance", &client][..], &ro].concat()));
    assert!(human.contains("wallet     999997 tVRT"), "{human}");

    // The quote: the bounty, the market's fees (100 and 50 bps on the devnet) and the approval's
    // gas at the current gas price.
    let quote = json(&ok(&net.verity(&[
        "task",
        "estimate",
        "--program",
        program,
        "--input",
        input,
        "--bounty",
        "10",
        "--json",
    ])));
    assert_eq!(quote["bounty"], "10000000000000000000");
    assert_eq!(quote["protocolFee"], "100000000000000000");
    assert_eq!(quote["schedulerFee"], "50000000000000000");
    assert_eq!(quote["toOperators"], "9850000000000000000");
    let gas = quote["gas"].as_array().unwrap();
    assert_eq!(gas[0]["call"], "approve");
    assert!(gas[0]["gas"].as_u64().unwrap() > 21_000, "{quote}");
    let price: u128 = quote["gasPriceWei"].as_str().unwrap().parse().unwrap();
    let cost: u128 = quote["gasCostWei"].as_str().unwrap().parse().unwrap();
    assert_eq!(cost, u128::from(gas[0]["gas"].as_u64().unwrap()) * price);
    // With nothing in the market and no allowance yet, the node cannot estimate createTask
    // before the approval; the quote says so instead of guessing.
    assert_eq!(gas[1]["call"], "createTask");
    assert!(gas[1]["gas"].is_null(), "{quote}");

    // Cancel: a task no coordinator looks at (the check of live nodes is skipped with an empty
    // --coordinator) and no one can take (three replicas, two nodes) stays open; its client takes
    // the bounty back into its market balance.
    let opened = json(&ok(&net.verity(&[
        "task",
        "submit",
        "--program",
        program,
        "--mode",
        "replicated",
        "--replication",
        "3",
        "--bounty",
        "4",
        "--coordinator",
        "",
        "--json",
    ])));
    let open_id = opened["id"].as_str().unwrap();
    let cancelled = json(&ok(&net.verity(&["task", "cancel", open_id, "--json"])));
    assert_eq!(cancelled["status"], "refunded");
    assert_eq!(cancelled["refunded"], "4000000000000000000");
    let bal = json(&ok(&net.verity(&["account", "balance", "--json"])));
    assert_eq!(bal["wallet"], "999993000000000000000000");
    assert_eq!(bal["market"], "4000000000000000000");
    let again = refused(&net.verity(&["task", "cancel", open_id]));
    assert!(again.contains("is refunded"), "{again}");

    // Now the market balance pays a 4-token bounty: no approval, and createTask is estimated.
    let quote = json(&ok(&net.verity(&[
        "task",
        "estimate",
        "--program",
        program,
        "--bounty",
        "4",
        "--json",
    ])));
    let gas = quote["gas"].as_array().unwrap();
    assert_eq!(gas.len(), 1, "{quote}");
    assert_eq!(gas[0]["call"], "createTask");
    assert!(gas[0]["gas"].as_u64().unwrap() > 21_000, "{quote}");
}

#[test]
fn errors_name_the_subsystem_and_hide_source_locations_unless_asked() {
    let dir = std::env::temp_dir().join(format!("verity-errors-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let deployment = dir.join("deployment.json");
    std::fs::write(
        &deployment,
        r#"{"chainId":31337,"token":"0x0000000000000000000000000000000000000001",
            "registry":"0x0000000000000000000000000000000000000002",
            "market":"0x0000000000000000000000000000000000000003",
            "verifiers":"0x0000000000000000000000000000000000000004",
            "court":"0x0000000000000000000000000000000000000005","deployedBlock":0}"#,
    )
    .unwrap();
    let run = |backtrace: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_verity"));
        c.args(["task", "status", "1", "--rpc-url", "http://127.0.0.1:9"])
            .arg("--deployment")
            .arg(&deployment)
            .env_clear()
            .env("HOME", &dir);
        if let Some(b) = backtrace {
            c.env("RUST_BACKTRACE", b);
        }
        c.output().unwrap()
    };
    let plain = refused(&run(None));
    assert!(plain.starts_with("error: chain: reading task 1"), "{plain}");
    assert!(!plain.contains("Location:"), "{plain}");
    assert!(!plain.contains(".rs:"), "{plain}");
    let asked = refused(&run(Some("1")));
    assert!(asked.contains("Location:"), "{asked}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_task_account_dispute_and_devnet_help_has_examples_on_their_own_lines() {
    let commands: &[&[&str]] = &[
        &["devnet"],
        &["task", "submit"],
        &["task", "estimate"],
        &["task", "status"],
        &["task", "result"],
        &["task", "list"],
        &["task", "cancel"],
        &["account", "balance"],
        &["dispute", "list"],
        &["dispute", "show"],
        &["dispute", "arbitrate"],
    ];
    for args in commands {
        let out = Command::new(env!("CARGO_BIN_EXE_verity"))
            .args(*args)
            .arg("--help")
            .output()
            .unwrap();
        let help = ok(&out);
        let (_, examples) = help
            .split_once("Example")
            .unwrap_or_else(|| panic!("{args:?} --help has no examples:\n{help}"));
        let lines: Vec<&str> = examples
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect();
        assert!(!lines.is_empty(), "{args:?}:\n{help}");
        for l in &lines {
            // One command per line, each starting with `verity`.
            assert!(
                l.trim_start().starts_with("verity "),
                "{args:?}: {l:?}\n{help}"
            );
            assert_eq!(l.matches("verity ").count(), 1, "{args:?}: {l:?}");
        }
    }
}
