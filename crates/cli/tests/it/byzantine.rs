//! `verity devnet --byzantine --once` end to end, across real processes: four honest nodes,
//! three faulty ones (wrong results, copied commitments, silence once assigned) and a
//! watchtower. Every fault a node had the chance to commit is punished, no honest node is
//! slashed, and every account's balance moves by exactly what the contracts' rules say.

use std::collections::BTreeMap;

use alloy::primitives::{I256, U256};
use serde_json::Value;

use crate::devnet::{reward_each, run_devnet, unit};

const SILENT: &str = "silent (no reveal or submission in time)";
const DISSENT: &str = "dissent (revealed against the majority)";
const WRONG: &str = "wrong result (overturned by the committee)";

fn wei(v: &Value) -> I256 {
    v.as_str().expect("decimal string").parse().expect("amount")
}

fn id(v: &Value) -> U256 {
    v.as_str().expect("hex task id").parse().expect("task id")
}

#[test]
fn faulty_nodes_are_caught_and_punished_and_honest_ones_are_paid_exactly() {
    let _serial = crate::network_lock();
    let (report, dir) = run_devnet(
        "byzantine",
        &[
            "--byzantine",
            // The faulty nodes cannot prove, so ZkProof tasks would never reach them.
            "--modes",
            "optimistic,replicated",
            "--nodes",
            "4",
            "--tasks",
            "14",
            "--challenge-window",
            "5",
            "--timeout-secs",
            "300",
        ],
    );
    let bounty = U256::from(10u64) * unit();

    // Everything settles: the windows bound how long a faulty seat can hold a task up.
    for m in report["modes"].as_array().unwrap() {
        assert_eq!(m["unsettled"], 0, "{m}");
        assert_eq!(m["submitted"], 7, "{m}");
    }

    // Who is who.
    let payouts = report["payouts"].as_array().unwrap();
    assert_eq!(
        payouts.len(),
        8,
        "4 honest, 3 faulty, 1 watchtower: {report}"
    );
    let role: BTreeMap<String, String> = payouts
        .iter()
        .map(|p| {
            (
                p["operator"].as_str().unwrap().to_lowercase(),
                p["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let of_role = |r: &str| {
        role.iter()
            .find(|(_, v)| v.as_str() == r)
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| panic!("no {r} in {report}"))
    };
    let (wrong, copier, silent, watchtower) = (
        of_role("wrong_result"),
        of_role("copy_commitments"),
        of_role("silent"),
        of_role("watchtower"),
    );

    // Slashes by task and operator.
    let mut slashed: BTreeMap<(U256, String), (String, I256)> = BTreeMap::new();
    for s in report["slashes"].as_array().unwrap() {
        let key = (
            id(&s["task"]),
            s["operator"].as_str().unwrap().to_lowercase(),
        );
        let prev = slashed.insert(
            key,
            (
                s["reason"].as_str().unwrap().to_string(),
                wei(&s["amountWei"]),
            ),
        );
        assert!(prev.is_none(), "slashed twice for one task: {s}");
    }
    for ((task, op), (reason, _)) in &slashed {
        assert_ne!(
            role[op], "honest",
            "honest {op} slashed on task {task}: {reason}"
        );
    }

    // Tasks the audit coin sent to the court: an honest result there is upheld and its
    // operator paid its reward less the auditors' tenth of the bounty.
    let audited: Vec<U256> = report["audits"]["audited"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    let audit_fee = I256::from_raw(bounty / U256::from(10u64));

    // Every fault a node had the chance to commit is punished.
    let tasks = report["tasks"].as_array().unwrap();
    let (mut silent_seats, mut copier_seats, mut wrong_caught) = (0, 0, 0);
    let mut expected_earned: BTreeMap<String, I256> = BTreeMap::new();
    let mut challenger_reward = I256::ZERO;
    for t in tasks {
        let task = id(&t["id"]);
        let mode = t["mode"].as_str().unwrap();
        let status = t["status"].as_str().unwrap();
        let ops: Vec<String> = t["operators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap().to_lowercase())
            .collect();
        let reason = |op: &str| {
            slashed
                .get(&(task, op.to_string()))
                .map(|(r, _)| r.as_str())
        };
        if ops.contains(&silent) {
            silent_seats += 1;
            assert_eq!(reason(&silent), Some(SILENT), "silent seat unpunished: {t}");
        }
        if mode == "replicated" && ops.contains(&copier) {
            copier_seats += 1;
            // It cannot reveal a commitment it did not make: it earns nothing and loses its
            // collateral.
            assert_eq!(reason(&copier), Some(SILENT), "copier unpunished: {t}");
        }
        if ops.contains(&wrong) {
            match (mode, status) {
                // The watchtower re-executes every optimistic result (sample rate 1).
                ("optimistic", _) => {
                    assert_eq!(
                        reason(&wrong),
                        Some(WRONG),
                        "wrong result unchallenged: {t}"
                    );
                    assert_eq!(status, "refunded", "{t}");
                    // The challenger gets its bond back plus a fifth of the slashed collateral
                    // (`CHALLENGE_REWARD_BPS`); the rest goes to the treasury.
                    challenger_reward += slashed[&(task, wrong.clone())].1
                        * I256::try_from(2_000).unwrap()
                        / I256::try_from(10_000).unwrap();
                    wrong_caught += 1;
                }
                ("replicated", "finalized") => {
                    assert_eq!(reason(&wrong), Some(DISSENT), "{t}");
                    wrong_caught += 1;
                }
                // No majority (two faulty seats of three): nobody can tell who was wrong.
                _ => assert_eq!(status, "refunded", "{t}"),
            }
        }
        if status == "finalized" {
            let winners: Vec<&String> = ops.iter().filter(|o| reason(o).is_none()).collect();
            assert!(!winners.is_empty(), "{t}");
            let mut each = I256::from_raw(reward_each(bounty, winners.len() as u64));
            if audited.contains(&task) {
                assert_eq!(mode, "optimistic", "{t}");
                each -= audit_fee;
            }
            for w in winners {
                *expected_earned.entry(w.clone()).or_default() += each;
            }
        } else {
            assert_eq!(status, "refunded", "{t}");
        }
    }
    assert!(
        silent_seats > 0,
        "the silent node was never assigned: {report}"
    );
    assert!(
        copier_seats > 0,
        "the copier never held a replicated seat: {report}"
    );
    assert!(
        wrong_caught > 0,
        "the wrong-result node was never caught: {report}"
    );

    // Exact balance change of every account: pay for the seats it won plus the dispute court's
    // pay for voting with verdicts (withdrawn into the wallet: the report reads it from the
    // court's `Withdrawn` events and balances), its slashes off its stake, and the watchtower a
    // fifth of the collateral of every operator it proved wrong. The committees share a tenth
    // of each overturned operator's collateral (and any idle member's penalty, which then
    // shows as a stake change below).
    let mut committee_pay = I256::ZERO;
    for p in payouts {
        let op = p["operator"].as_str().unwrap().to_lowercase();
        let earned = wei(&p["earnedWei"]);
        let pay = wei(&p["committeePayWei"]);
        assert!(pay >= I256::ZERO, "committee pay of {op}: {report}");
        committee_pay += pay;
        let want = if op == watchtower {
            challenger_reward
        } else {
            expected_earned.get(&op).copied().unwrap_or_default() + pay
        };
        // `earned` counts court pay once withdrawn, `committeePayWei` also what is still held
        // in the court: exact when everything was withdrawn, short by at most the held part.
        assert!(
            earned <= want && want - earned <= pay,
            "earnings of {op} ({}): {earned} against {want}: {report}",
            role[&op]
        );
        let lost: I256 = slashed
            .iter()
            .filter(|((_, o), _)| *o == op)
            .map(|(_, (_, amount))| *amount)
            .fold(I256::ZERO, |a, b| a + b);
        assert_eq!(wei(&p["stakeChangeWei"]), -lost, "stake of {op}: {report}");
    }
    // Nobody idled (no stake moved but slashes), so the committees were paid exactly the tenth
    // of each overturned collateral (half the challenger's fifth) and the tenth of the bounty
    // of each audited result they upheld, less the division dust (under one wei per member
    // per case) that goes to the treasury.
    let share = challenger_reward / I256::try_from(2).unwrap()
        + audit_fee * I256::try_from(audited.len()).unwrap();
    assert!(
        committee_pay <= share && share - committee_pay < I256::try_from(100).unwrap(),
        "committee pay {committee_pay} against the committees' share {share}: {report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
