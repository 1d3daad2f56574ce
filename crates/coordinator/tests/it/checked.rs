//! Issue 20: the scheduler ranks what the coordinator can check. Latency is timed on the
//! coordinator's clock from a nonce it issues (a node's lying clock buys nothing); reputation
//! comes from indexed on-chain outcomes; hardware from a verified TEE quote or a checked
//! benchmark; and three fresh identities claiming the maximum of everything win no seat
//! against three honest nodes with measured latency and on-chain history.

use std::sync::Arc;

use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
};
use verity_coordinator::{
    clock::ManualClock,
    config::HeartbeatConfig,
    hardware::{
        self, BenchmarkRun, HardwareCheckError, HardwareChecks, HardwareClass, attested,
        benchmarked, hardware_report_data,
    },
    heartbeat::{Echo, HeartbeatIntake},
    latency::{LatencyProbes, ManualStopwatch},
    liveness::LivenessPolicy,
    registry_view::{RegistryView, operator_id},
    reputation::ReputationPolicy,
    store::{Change, OutcomeKind, OutcomeRecord, Store},
};
use verity_primitives::heartbeat::{self as hb, Heartbeat, SignedHeartbeat};
use verity_scheduler::{Policy, Provenance, TaskNeeds, Verified};
use verity_tee::{AttestationBackend, DevnetInsecureBackend, parse_collateral, verify_quote};

use crate::{
    heartbeat::{NOW, chain},
    support::{TestDb, block, log, node, operator, task},
};

/// A store with operators `1..=n` registered, each with its own signing key; an intake over
/// it issuing probes from `probes`; its clock.
async fn network(
    db: &TestDb,
    n: u8,
    probes: Arc<LatencyProbes>,
) -> (Arc<dyn Store>, HeartbeatIntake, Vec<PrivateKeySigner>) {
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let keys: Vec<PrivateKeySigner> = (0..n).map(|_| PrivateKeySigner::random()).collect();
    let b = block(1, 0);
    let logs: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            log(
                b,
                i as u64,
                "OperatorRegistered",
                vec![Change::Node(node(i as u8 + 1, k.address()))],
            )
        })
        .collect();
    store.apply_block(b, &logs, 64).await.unwrap();
    let intake = HeartbeatIntake::new(
        store.clone(),
        Arc::new(ManualClock::new(NOW)),
        &chain(),
        HeartbeatConfig::default(), // max age 60 s, max future 5 s
    )
    .with_probes(probes);
    (store, intake, keys)
}

fn sign(h: Heartbeat, key: &PrivateKeySigner) -> SignedHeartbeat {
    let c = chain();
    h.sign(key, &hb::domain(c.chain_id, c.registry)).unwrap()
}

/// What an honest node sends: its real (modest) hardware, at the coordinator's time.
fn honest_beat(op: u8, timestamp: u64) -> Heartbeat {
    Heartbeat {
        cpuCores: 8,
        memoryMb: 16_384,
        ..hb::example(operator(op), timestamp, timestamp)
    }
}

/// What a max-claiming fresh identity sends, its clock 5 s ahead (the most the intake allows).
fn max_claim_beat(op: u8) -> Heartbeat {
    Heartbeat {
        cpuCores: 1_024,
        memoryMb: 4 << 20,
        gpuMemoryMb: 80 * 1024,
        pricePerMegafuel: U256::ZERO,
        greenEnergyPct: 100,
        freeSlots: 64,
        ..hb::example(operator(op), NOW + 5, NOW + 5)
    }
}

fn view_over(probes: Arc<LatencyProbes>, hardware: Arc<HardwareChecks>) -> RegistryView {
    RegistryView::new(
        Policy::default(),
        LivenessPolicy::default(),
        ReputationPolicy::default(),
    )
    .unwrap()
    .with_checks(probes, hardware)
}

#[tokio::test]
async fn issue_20_latency_is_timed_on_the_coordinators_clock_and_a_lying_node_clock_buys_nothing() {
    let db = TestDb::sqlite();
    let watch = ManualStopwatch::default();
    let probes = Arc::new(LatencyProbes::new(Arc::new(watch.clone())));
    let (store, intake, keys) = network(&db, 2, probes.clone()).await;

    // Operator 1's clock is right and it answers in 20 ms. Operator 2's clock runs 5 s ahead
    // (before issue 20 its latency came out as 0: received minus its own send time) and it
    // answers in 80 ms.
    let a = intake
        .accept(&sign(honest_beat(1, NOW), &keys[0]))
        .await
        .unwrap();
    let b = intake
        .accept(&sign(
            Heartbeat {
                timestamp: NOW + 5,
                ..honest_beat(2, NOW)
            },
            &keys[1],
        ))
        .await
        .unwrap();
    assert_ne!(a.probe, b.probe, "every probe is a fresh nonce");
    watch.advance_ms(20);
    let m = intake
        .echo(&Echo {
            operator: operator(1),
            nonce: a.probe,
        })
        .unwrap();
    assert_eq!((m.rtt_ms, m.latency_ms), (20, 20));
    // Operator 2 cannot answer with operator 1's nonce, nor its own twice.
    assert!(
        intake
            .echo(&Echo {
                operator: operator(2),
                nonce: a.probe,
            })
            .is_err()
    );
    watch.advance_ms(60);
    let m = intake
        .echo(&Echo {
            operator: operator(2),
            nonce: b.probe,
        })
        .unwrap();
    assert_eq!(m.rtt_ms, 80);
    assert!(
        intake
            .echo(&Echo {
                operator: operator(2),
                nonce: b.probe,
            })
            .is_err()
    );

    let mut view = view_over(probes, Arc::new(HardwareChecks::default()));
    view.refresh(store.as_ref(), NOW).await.unwrap();
    let v1 = view.view(operator(1)).unwrap().clone();
    let v2 = view.view(operator(2)).unwrap().clone();
    assert_eq!((v1.latency_ms, v2.latency_ms), (20, 80));
    assert_eq!(
        v2.provenance.latency,
        Provenance::Verified(Verified::Measured)
    );
    let s = view.scheduler_state();
    assert!(s.score(operator_id(operator(1))) > s.score(operator_id(operator(2))));
}

/// Three honest nodes (1..=3) with completed tasks on chain and measured latency; three fresh
/// identities (4..=6) claiming the maximum of everything, clocks 5 s ahead, never echoing.
#[tokio::test]
async fn issue_20_three_fresh_identities_claiming_the_maximum_win_no_seats() {
    let db = TestDb::sqlite();
    let watch = ManualStopwatch::default();
    let probes = Arc::new(LatencyProbes::new(Arc::new(watch.clone())));
    let (store, intake, keys) = network(&db, 6, probes.clone()).await;

    // Indexed chain history: ten tasks each for the honest operators, all paid.
    let b2 = block(2, 0);
    let mut logs = Vec::new();
    for op in 1..=3u8 {
        for t in 0..10u64 {
            let id = u64::from(op) * 100 + t;
            let i = logs.len() as u64;
            logs.push(log(
                b2,
                i,
                "TaskFinalized",
                vec![
                    Change::Task(task(id, 0xc1)),
                    Change::Outcome(OutcomeRecord {
                        task_id: U256::from(id),
                        operator: operator(op),
                        kind: OutcomeKind::Completed,
                        at: NOW - 3_600 * (t + 1),
                        latency_ms: Some(5_000),
                    }),
                ],
            ));
        }
    }
    store.apply_block(b2, &logs, 64).await.unwrap();

    for (i, k) in keys.iter().enumerate() {
        let op = i as u8 + 1;
        let beat = if op <= 3 {
            honest_beat(op, NOW)
        } else {
            max_claim_beat(op)
        };
        let accepted = intake.accept(&sign(beat, k)).await.unwrap();
        if op <= 3 {
            watch.advance_ms(10 * u64::from(op));
            intake
                .echo(&Echo {
                    operator: operator(op),
                    nonce: accepted.probe,
                })
                .unwrap();
        }
    }

    let mut view = view_over(probes, Arc::new(HardwareChecks::default()));
    view.refresh(store.as_ref(), NOW).await.unwrap();
    let honest = |a: Address| (1..=3).any(|op| operator(op) == a);
    for op in 4..=6 {
        let v = view.view(operator(op)).unwrap();
        assert_eq!(v.provenance.hardware, Provenance::Claimed);
        assert_eq!(v.provenance.latency, Provenance::Claimed);
    }
    let needs = TaskNeeds {
        replication: 3,
        backups: false,
        ..view.scheduler_state().policy().task_defaults()
    };
    let plan = view.scheduler_state().plan(&needs).unwrap();
    let seats: Vec<Address> = plan
        .assignments
        .iter()
        .map(|a| Address::from(a.primary.0))
        .collect();
    assert_eq!(seats.len(), 3);
    assert!(seats.iter().all(|a| honest(*a)), "{seats:?}");
    // And every honest node outranks every claimer.
    let s = view.scheduler_state();
    let worst_honest = (1..=3)
        .map(|op| s.score(operator_id(operator(op))).unwrap())
        .min()
        .unwrap();
    let best_claimer = (4..=6)
        .map(|op| s.score(operator_id(operator(op))).unwrap())
        .max()
        .unwrap();
    assert!(
        worst_honest > best_claimer,
        "{worst_honest:?} vs {best_claimer:?}"
    );
}

fn devnet_collateral() -> verity_tee::Collateral {
    // The devnet stand-in ignores collateral; the TDX sample is a well-formed one to pass.
    parse_collateral(include_bytes!(
        "../../../tee/tests/data/tdx_quote_collateral.json"
    ))
    .unwrap()
}

const CLASS: HardwareClass = HardwareClass {
    cpu_cores: 32,
    memory_mib: 131_072,
    gpu_memory_mib: 24_576,
};

#[tokio::test]
async fn attested_hardware_counts_in_the_view_and_every_refusal_is_typed() {
    let op = operator(1);
    let nonce = B256::repeat_byte(9);
    let quote = DevnetInsecureBackend::new()
        .quote(hardware_report_data(op, CLASS, nonce))
        .unwrap();
    let policy = verity_tee::Policy::default()
        .allow_insecure_devnet(31337)
        .unwrap();
    let verified = verify_quote(&quote, &devnet_collateral(), NOW, &policy).unwrap();

    let checked = attested(&verified, op, CLASS, nonce, 31337, NOW).unwrap();
    assert_eq!(checked.how, Verified::Attested);
    assert_eq!(checked.valid_until, NOW + hardware::ATTESTATION_TTL_SECS);
    // Refusals: the devnet stand-in off the devnet; another operator, class or nonce.
    assert_eq!(
        attested(&verified, op, CLASS, nonce, 1, NOW),
        Err(HardwareCheckError::DevnetQuoteOffDevnet { chain_id: 1 })
    );
    for (who, class, n) in [
        (operator(2), CLASS, nonce),
        (
            op,
            HardwareClass {
                cpu_cores: 64,
                ..CLASS
            },
            nonce,
        ),
        (op, CLASS, B256::ZERO),
    ] {
        let e = attested(&verified, who, class, n, 31337, NOW).unwrap_err();
        assert!(matches!(e, HardwareCheckError::NotBound { .. }), "{e}");
        assert!(e.to_string().starts_with("[V-CHW-001]"), "{e}");
    }

    // The view uses the attested class instead of the heartbeat's claim.
    let db = TestDb::sqlite();
    let probes = Arc::new(LatencyProbes::default());
    let (store, intake, keys) = network(&db, 1, probes.clone()).await;
    intake
        .accept(&sign(max_claim_beat(1), &keys[0]))
        .await
        .unwrap();
    let hw = Arc::new(HardwareChecks::default());
    let mut view = view_over(probes, hw.clone());
    view.refresh(store.as_ref(), NOW).await.unwrap();
    assert_eq!(
        view.view(op).unwrap().provenance.hardware,
        Provenance::Claimed
    );
    hw.record(op, checked);
    view.refresh(store.as_ref(), NOW).await.unwrap();
    let v = view.view(op).unwrap();
    assert_eq!(
        (v.cpu_cores, v.memory_mib, v.gpu_memory_mib),
        (32, 131_072, 24_576)
    );
    assert_eq!(
        v.provenance.hardware,
        Provenance::Verified(Verified::Attested)
    );
    // Expired: back to the claim, counted as the floor.
    let later = checked.valid_until + 1;
    assert_eq!(hw.current(op, later), None);
}

#[test]
fn a_benchmark_counts_only_with_the_right_digest_in_time() {
    let op = operator(1);
    let run = BenchmarkRun {
        class: CLASS,
        expected: B256::repeat_byte(1),
        found: B256::repeat_byte(1),
        deadline: NOW + 60,
        answered_at: NOW + 30,
    };
    let ok = benchmarked(op, &run).unwrap();
    assert_eq!((ok.class, ok.how), (CLASS, Verified::Benchmarked));
    assert_eq!(ok.valid_until, NOW + 30 + hardware::BENCHMARK_TTL_SECS);
    let wrong = BenchmarkRun {
        found: B256::repeat_byte(2),
        ..run
    };
    assert!(matches!(
        benchmarked(op, &wrong),
        Err(HardwareCheckError::WrongBenchmarkResult { .. })
    ));
    let late = BenchmarkRun {
        answered_at: NOW + 61,
        ..run
    };
    let e = benchmarked(op, &late).unwrap_err();
    assert_eq!(e.code(), "V-CHW-005");
}
