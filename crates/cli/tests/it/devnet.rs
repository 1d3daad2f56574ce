//! `verity devnet --once` end to end, across real processes: the devchain, the gateway, the
//! coordinator and four nodes come up, the sample workload runs in all three modes (optimistic,
//! replicated, zk), and the summary the command prints agrees with what the contracts pay.

use std::process::{Command, Stdio};

use alloy::primitives::{I256, U256};

pub(crate) fn unit() -> U256 {
    U256::from(10u64).pow(U256::from(18u64))
}

/// What one operator seat earns on a finalized task with `winners` paid seats: the bounty less
/// the protocol (100 bps) and scheduler (50 bps) fees of `DeployConfig::devnet`, split equally,
/// the split's remainder going to the treasury (`TaskMarket._payWinners`).
pub(crate) fn reward_each(bounty: U256, winners: u64) -> U256 {
    let fees = bounty * U256::from(100u64) / U256::from(10_000u64)
        + bounty * U256::from(50u64) / U256::from(10_000u64);
    (bounty - fees) / U256::from(winners)
}

/// Runs `verity devnet --once --json` with `args` on free ports in a fresh directory and
/// returns the workload report (the second JSON line) and the directory, after asserting the
/// command succeeded.
pub(crate) fn run_devnet(name: &str, args: &[&str]) -> (serde_json::Value, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("verity-{name}-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args([
            "devnet",
            "--once",
            "--json",
            "--log",
            "warn",
            "--port",
            "0",
            "--coordinator-port",
            "0",
            "--gateway-port",
            "0",
        ])
        .args(args)
        .arg("--dir")
        .arg(&dir)
        // The profile goes beside the network, not into the user's home.
        .env("VERITY_HOME", &dir)
        .stdin(Stdio::null())
        .output()
        .expect("run verity devnet");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "devnet failed: {}\nstdout: {stdout}\nlogs in {}",
        String::from_utf8_lossy(&out.stderr),
        dir.display()
    );
    // Two JSON lines: the chain summary, then the workload report.
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    (lines[1].clone(), dir)
}

#[test]
fn the_devnet_runs_the_sample_workload_to_the_end_and_pays_what_the_contracts_say() {
    let _serial = crate::network_lock();
    let (report, dir) = run_devnet(
        "devnet",
        &[
            "--nodes",
            "4",
            "--tasks",
            "9",
            "--challenge-window",
            "3",
            "--timeout-secs",
            "240",
        ],
    );
    let report = &report;

    let modes = report["modes"].as_array().unwrap();
    let by_mode = |m: &str| modes.iter().find(|x| x["mode"] == m).unwrap().clone();
    // The default workload alternates all three modes: three tasks each.
    let (opt, rep, zk) = (by_mode("optimistic"), by_mode("replicated"), by_mode("zk"));
    for m in [&opt, &rep, &zk] {
        assert_eq!(m["submitted"], 3, "{m}");
        assert_eq!(m["finalized"], 3, "every honest task is finalized: {m}");
        assert_eq!(m["refunded"], 0, "{m}");
        assert_eq!(m["unsettled"], 0, "{m}");
        let (p50, p99) = (
            m["latencyP50Ms"].as_u64().unwrap(),
            m["latencyP99Ms"].as_u64().unwrap(),
        );
        assert!(p50 > 0 && p50 <= p99, "{m}");
    }
    // Honest nodes only: nobody is slashed and no stake moves.
    assert_eq!(report["slashes"].as_array().unwrap().len(), 0, "{report}");
    let payouts = report["payouts"].as_array().unwrap();
    assert_eq!(payouts.len(), 4);
    let (mut total, mut committee) = (I256::ZERO, I256::ZERO);
    for p in payouts {
        let stake: I256 = p["stakeChangeWei"].as_str().unwrap().parse().unwrap();
        assert_eq!(stake, I256::ZERO, "{p}");
        let earned: I256 = p["earnedWei"].as_str().unwrap().parse().unwrap();
        assert!(!earned.is_negative(), "{p}");
        let pay: I256 = p["committeePayWei"].as_str().unwrap().parse().unwrap();
        total += earned - pay;
        committee += pay;
    }
    // Every finalized task paid its seats exactly: 3 optimistic and 3 zk tasks with one winner,
    // 3 replicated with three, bounty 10 tokens each; an optimistic result the audit coin sent
    // to the court (20 % each) was upheld, and its operator paid less the auditors' tenth of
    // the bounty, which the auditors shared (the division dust, less than one wei per member
    // of a committee of at most 7, going to the treasury).
    let bounty = U256::from(10u64) * unit();
    let audits = report["audits"]["audited"].as_array().unwrap().len() as u64;
    let fee = bounty / U256::from(10u64);
    let expected = U256::from(3u64 + 3) * reward_each(bounty, 1)
        + U256::from(3u64 * 3) * reward_each(bounty, 3)
        - U256::from(audits) * fee;
    // `earned` counts what a member withdrew from the court, `committeePayWei` also what it
    // still holds there: the work pay is at most the expected and short of it by at most the
    // court pay not yet withdrawn.
    let expected = I256::from_raw(expected);
    assert!(
        total <= expected && expected - total <= committee,
        "work pay {total} against {expected}: {report}"
    );
    let fees = I256::from_raw(U256::from(audits) * fee);
    assert!(
        committee <= fees && fees - committee <= I256::try_from(7 * audits).unwrap(),
        "auditors paid {committee} of {fees}: {report}"
    );
    // ZkProof tasks went only to the nodes that can prove (the first half: nodes 1 and 2).
    let provers: Vec<&str> = payouts[..2]
        .iter()
        .map(|p| p["operator"].as_str().unwrap())
        .collect();
    for t in report["tasks"].as_array().unwrap() {
        if t["mode"] == "zk" {
            let ops = t["operators"].as_array().unwrap();
            assert_eq!(ops.len(), 1, "{t}");
            assert!(
                provers
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(ops[0].as_str().unwrap())),
                "zk task on a node that cannot prove: {t}"
            );
        }
    }
    assert!(
        report["dashboard"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
