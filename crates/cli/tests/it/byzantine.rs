//! `verity devnet --byzantine --once` end to end, across real processes: four honest nodes,
//! five faulty ones (wrong results, copied commitments, silence once assigned, an idle
//! committee member, a self-challenger with its second address) and a watchtower. Every fault
//! a node had the chance to commit is punished, no honest node is slashed or penalised, every
//! strategy takes less than honest work, and every account's balance moves by exactly what the
//! contracts' rules say.

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
            "16",
            "--challenge-window",
            "5",
            // An idle member holds each dispute for the devnet's commit and reveal windows
            // (60 s each).
            "--timeout-secs",
            "420",
        ],
    );
    let bounty = U256::from(10u64) * unit();

    // Everything settles: the windows bound how long a faulty seat can hold a task up.
    for m in report["modes"].as_array().unwrap() {
        assert_eq!(m["unsettled"], 0, "{m}");
        assert_eq!(m["submitted"], 8, "{m}");
    }

    // Who is who.
    let payouts = report["payouts"].as_array().unwrap();
    assert_eq!(
        payouts.len(),
        11,
        "4 honest, 5 faulty, 1 watchtower, 1 accomplice: {report}"
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
    let (idle, self_challenger, accomplice) = (
        of_role("idle_member"),
        of_role("self_challenger"),
        of_role("accomplice"),
    );

    // Committee penalties by member.
    let mut penalised: BTreeMap<String, I256> = BTreeMap::new();
    for p in report["penalties"].as_array().unwrap() {
        *penalised
            .entry(p["member"].as_str().unwrap().to_lowercase())
            .or_default() += wei(&p["amountWei"]);
    }
    for (member, amount) in &penalised {
        assert_eq!(
            role[member], "idle_member",
            "{member} ({}) penalised {amount} as a committee member: {report}",
            role[member]
        );
    }

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
    let (mut silent_seats, mut copier_seats, mut wrong_caught, mut self_challenged) = (0, 0, 0, 0);
    let mut expected_earned: BTreeMap<String, I256> = BTreeMap::new();
    // What each challenger won, and the committees' share of overturned collateral.
    let mut challenger_reward: BTreeMap<String, I256> = BTreeMap::new();
    let mut court_share = I256::ZERO;
    let mut upheld_audits = 0i64;
    let bps = |v: I256, b: i64| v * I256::try_from(b).unwrap() / I256::try_from(10_000).unwrap();
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
        let challenger = t["challenger"].as_str().map(str::to_lowercase);
        // The self-challenger lies on optimistic tasks only (where its accomplice can
        // challenge); on replicated ones it works honestly.
        let liar = if ops.contains(&wrong) {
            Some(wrong.clone())
        } else if mode == "optimistic" && ops.contains(&self_challenger) {
            Some(self_challenger.clone())
        } else {
            None
        };
        if let Some(liar) = liar.as_ref().filter(|_| mode == "optimistic") {
            // The watchtower re-executes every optimistic result (sample rate 1); the
            // accomplice challenges its partner's unchecked. Either way the result is
            // overturned and the liar loses its whole collateral.
            assert_eq!(reason(liar), Some(WRONG), "wrong result unpunished: {t}");
            assert_eq!(status, "refunded", "{t}");
            let slash = slashed[&(task, liar.clone())].1;
            // Challenged: its challenger gets the bond back plus a fifth of the slashed
            // collateral (`CHALLENGE_REWARD_BPS`); unchallenged, the audit coin sent it to the
            // court. The committee shares a tenth in both cases; the rest is the treasury's.
            match challenger {
                Some(c) => {
                    if *liar == wrong {
                        assert_eq!(c, watchtower, "{t}");
                    } else {
                        assert!(c == watchtower || c == accomplice, "{t}");
                        self_challenged += u32::from(c == accomplice);
                    }
                    *challenger_reward.entry(c).or_default() += bps(slash, 2_000);
                }
                None => assert!(audited.contains(&task), "overturned with no case: {t}"),
            }
            court_share += bps(slash, 1_000);
            wrong_caught += 1;
        } else if ops.contains(&wrong) {
            match (mode, status) {
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
                court_share += audit_fee;
                upheld_audits += 1;
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
        "no wrong result was ever caught: {report}"
    );
    assert!(
        tasks.iter().any(|t| t["mode"] == "optimistic"
            && t["operators"].as_array().unwrap().iter().any(|o| o
                .as_str()
                .unwrap()
                .to_lowercase()
                == self_challenger)),
        "the self-challenger never held an optimistic task: {report}"
    );
    // Every dispute reaches a committee the idle member sits on (the eligible set is smaller
    // than a committee once the liars are jailed), and it never votes.
    assert!(
        penalised.contains_key(&idle),
        "the idle committee member was never penalised: {report}"
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
        let want = if op == watchtower || op == accomplice {
            challenger_reward.get(&op).copied().unwrap_or_default()
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
        let penalty = penalised.get(&op).copied().unwrap_or_default();
        assert_eq!(
            wei(&p["stakeChangeWei"]),
            -lost - penalty,
            "stake of {op}: {report}"
        );
    }
    // The committees were paid exactly the tenth of each overturned collateral, the tenth of
    // the bounty of each audited result they upheld and the idle member's penalties, less the
    // division dust (under one wei per member per case) that goes to the treasury.
    let share = court_share + penalised.values().fold(I256::ZERO, |a, b| a + *b);
    assert!(
        committee_pay <= share && share - committee_pay < I256::try_from(100).unwrap(),
        "committee pay {committee_pay} against the committees' share {share} \
         ({upheld_audits} audits upheld): {report}"
    );

    // Every strategy took less than honest work on the same seats would have: the reward
    // share of every seat it held (less the auditors' tenth where the coin drew an audit),
    // plus the committee pay it earned either way. The self-challenger is counted with its
    // second address.
    let honest_work = |op: &str| {
        tasks
            .iter()
            .filter(|t| {
                t["operators"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|o| o.as_str().unwrap().to_lowercase() == op)
            })
            .fold(I256::ZERO, |a, t| {
                let seats = t["operators"].as_array().unwrap().len() as u64;
                let mut each = I256::from_raw(reward_each(bounty, seats));
                if audited.contains(&id(&t["id"])) {
                    each -= audit_fee;
                }
                a + each
            })
    };
    let take = |op: &str| {
        let p = payouts
            .iter()
            .find(|p| p["operator"].as_str().unwrap().to_lowercase() == op)
            .unwrap();
        wei(&p["earnedWei"]) + wei(&p["stakeChangeWei"])
    };
    let pay_of = |op: &str| {
        let p = payouts
            .iter()
            .find(|p| p["operator"].as_str().unwrap().to_lowercase() == op)
            .unwrap();
        wei(&p["committeePayWei"])
    };
    for (label, liar, second) in [
        ("wrong results", &wrong, None),
        ("copied commitments", &copier, None),
        ("silence", &silent, None),
        ("self-challenge", &self_challenger, Some(&accomplice)),
    ] {
        let took = take(liar.as_str()) + second.map_or(I256::ZERO, |a| take(a.as_str()));
        let honest = honest_work(liar.as_str()) + pay_of(liar.as_str());
        assert!(
            took < honest,
            "{label}: took {took} where honest work would have earned {honest}: {report}"
        );
    }
    // Each self-challenge cost the pair four fifths of the collateral: the accomplice's fifth
    // never makes up for its partner's slash.
    if self_challenged > 0 {
        assert!(
            challenger_reward[&accomplice] * I256::try_from(5).unwrap()
                <= slashed
                    .iter()
                    .filter(|((_, o), _)| *o == self_challenger)
                    .fold(I256::ZERO, |a, (_, (_, x))| a + *x),
            "{report}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
