//! Scheduling through the assigner on the devchain: the policy file named in the config decides
//! who is picked, repeated tasks spread over equal nodes with the load taken from the chain
//! (surviving a restart, released when holders deliver), ZkProof tasks go only to provers, and
//! replicas asked to be in distinct regions are.

use std::{collections::BTreeMap, path::Path, sync::Arc};

use alloy::primitives::{Address, U256, keccak256};
use verity_coordinator::{
    CoordinatorConfig,
    assigner::Assigner,
    capability,
    clock::{Clock, ManualClock, unix_now},
    registry_view::{RegistryView, operator_id},
    store::{HeartbeatRecord, Store},
};
use verity_primitives::heartbeat::{Heartbeat, domain};
use verity_settlement::{Mode, TaskId};

use crate::{devnet::Net, support::TestDb};

/// What operator `i` claims in its heartbeat.
#[derive(Clone, Copy)]
struct Claim {
    free_slots: u32,
    price: u64,
    green: u8,
}

const EQUAL: Claim = Claim {
    free_slots: 4,
    price: 1_000_000_000,
    green: 50,
};

async fn beat(net: &Net, store: &dyn Store, i: usize, at: u64, c: Claim) {
    let hb = Heartbeat {
        operator: net.operators[i],
        seq: at,
        timestamp: at,
        cpuCores: 8,
        memoryMb: 16_384,
        gpuMemoryMb: 0,
        loadPermille: 0,
        freeSlots: c.free_slots,
        pricePerMegafuel: U256::from(c.price),
        region: 276,
        greenEnergyPct: c.green,
        capabilities: 1,
    };
    let signed = hb
        .sign(
            &net.signer_key(i),
            &domain(net.s.chain_id(), net.s.deployment().registry),
        )
        .unwrap();
    store
        .record_heartbeat(&HeartbeatRecord {
            operator: net.operators[i],
            seq: at,
            sent_at: at,
            received_at: at,
            telemetry: serde_json::to_value(signed).unwrap(),
        })
        .await
        .unwrap();
}

/// An assigner configured the way the coordinator service builds it: policy from the config.
fn assigner(
    net: &Net,
    store: Arc<dyn Store>,
    clock: &ManualClock,
    cfg: &CoordinatorConfig,
) -> Assigner {
    let view = RegistryView::new(
        cfg.policy().unwrap(),
        cfg.heartbeat.liveness(),
        cfg.reputation,
    )
    .unwrap();
    Assigner::new(
        store,
        net.s.clone(),
        net.coordinator,
        view,
        Arc::new(clock.clone()),
        cfg.assigner.clone(),
    )
}

fn config_with_policy(dir: &Path, policy: &str) -> CoordinatorConfig {
    std::fs::write(dir.join("policy.toml"), policy).unwrap();
    let cfg = dir.join("coordinator.toml");
    std::fs::write(&cfg, "[scheduler]\npolicy = \"policy.toml\"\n").unwrap();
    CoordinatorConfig::load(&cfg).unwrap()
}

async fn holder(net: &Net, id: TaskId) -> Address {
    let ops = net.s.operators_of(id).await.unwrap();
    assert_eq!(ops.len(), 1, "{ops:?}");
    ops[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_file_weights_decide_which_node_the_assigner_picks() {
    let net = Net::new(4).await;
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 50);
    let clock = ManualClock::new(unix_now());
    // Operator 0 is the cheapest, operator 1 the greenest; the rest are neither.
    for i in 0..4 {
        let claim = match i {
            0 => Claim { price: 1, ..EQUAL },
            1 => Claim {
                green: 100,
                price: 1_000_000_000_000,
                ..EQUAL
            },
            _ => Claim {
                green: 0,
                price: 1_000_000_000_000,
                ..EQUAL
            },
        };
        beat(
            &net,
            store.as_ref(),
            i,
            clock.now(),
            Claim {
                green: if i == 0 { 0 } else { claim.green },
                ..claim
            },
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    // Price and green share are only claims, which count as nothing unless the policy trusts
    // them (issue 20): this policy does, as a permissioned network's might.
    let weights = |price: u32, green: u32| {
        format!(
            "[weights]\nperformance = 0\nreputation = 0\nlatency = 0\ngreen_energy = {green}\nprice = {price}\n\
             [claims]\ntrusted = [\"price\", \"green_energy\"]\n"
        )
    };

    let by_price = config_with_policy(dir.path(), &weights(1, 0));
    let first = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    indexer.sync(1_000).await.unwrap();
    let r = assigner(&net, store.clone(), &clock, &by_price)
        .pass()
        .await
        .unwrap();
    assert_eq!(r.assigned, vec![first]);
    assert_eq!(
        holder(&net, first).await,
        net.operators[0],
        "price policy: the cheapest"
    );

    let by_green = config_with_policy(dir.path(), &weights(0, 1));
    let second = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    indexer.sync(1_000).await.unwrap();
    let r = assigner(&net, store.clone(), &clock, &by_green)
        .pass()
        .await
        .unwrap();
    assert_eq!(r.assigned, vec![second], "{r:?}");
    assert_eq!(
        holder(&net, second).await,
        net.operators[1],
        "green policy: the greenest"
    );
}

/// Tasks per operator on chain, over `tasks`.
async fn per_operator(net: &Net, tasks: &[TaskId]) -> BTreeMap<Address, usize> {
    let mut n: BTreeMap<Address, usize> = net.operators.iter().map(|o| (*o, 0)).collect();
    for t in tasks {
        for op in net.s.operators_of(*t).await.unwrap() {
            *n.get_mut(&op).unwrap() += 1;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_tasks_spread_over_equal_nodes_with_load_from_the_chain() {
    let net = Net::new(4).await;
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 50);
    let clock = ManualClock::new(unix_now());
    // One heartbeat each, sent before any assignment: 4 free slots = capacity 4.
    for i in 0..4 {
        beat(&net, store.as_ref(), i, clock.now(), EQUAL).await;
    }
    let cfg = CoordinatorConfig::default();
    let mut a = assigner(&net, store.clone(), &clock, &cfg);
    let mut tasks = Vec::new();
    // Three passes of 3 tasks each (so no pass alone could balance them), indexed in between.
    for _ in 0..3 {
        let mut batch = Vec::new();
        for _ in 0..3 {
            batch.push(net.create(&net.s, net.client, Mode::Optimistic, 10).await);
        }
        indexer.sync(1_000).await.unwrap();
        let mut r = a.pass().await.unwrap();
        r.assigned.sort();
        assert_eq!(r.assigned, batch, "{r:?}");
        tasks.extend(batch);
    }
    indexer.sync(1_000).await.unwrap();
    // 9 tasks over 4 nodes: each gets 2 or 3.
    let n = per_operator(&net, &tasks).await;
    assert!(n.values().all(|c| (2..=3).contains(c)), "{n:?}");
    assert_eq!(n.values().sum::<usize>(), 9);

    // A restarted assigner (fresh scheduler) takes the load from the chain: 7 more tasks fill
    // every node to exactly its capacity of 4, never beyond.
    let mut restarted = assigner(&net, store.clone(), &clock, &cfg);
    restarted.pass().await.unwrap();
    for (op, c) in &n {
        let st = restarted
            .view()
            .scheduler_state()
            .node(operator_id(*op))
            .unwrap();
        assert_eq!(
            (st.held, st.load, st.view.capacity),
            (*c as u32, 0, 4),
            "{op}"
        );
    }
    let mut more = Vec::new();
    for _ in 0..8 {
        more.push(net.create(&net.s, net.client, Mode::Optimistic, 10).await);
    }
    indexer.sync(1_000).await.unwrap();
    let r = restarted.pass().await.unwrap();
    assert_eq!(r.assigned.len(), 7, "16 slots, 9 taken: {r:?}");
    assert_eq!(
        r.infeasible.len(),
        1,
        "the 17th task finds every node full: {r:?}"
    );
    tasks.extend(r.assigned.iter().copied());
    indexer.sync(1_000).await.unwrap();
    let n = per_operator(&net, &tasks).await;
    assert!(n.values().all(|c| *c == 4), "{n:?}");

    // Delivering frees the slot: two tasks of operator 0 submit a result, and the next pass
    // gives the waiting task to operator 0, the only node with room.
    let mine: Vec<TaskId> = {
        let mut v = Vec::new();
        for t in &tasks {
            if holder(&net, *t).await == net.operators[0] {
                v.push(*t);
            }
        }
        v
    };
    for t in &mine[..2] {
        net.s
            .submit_result(net.operators[0], *t, keccak256("result"))
            .await
            .unwrap();
    }
    indexer.sync(1_000).await.unwrap();
    let r = restarted.pass().await.unwrap();
    assert_eq!(r.assigned.len(), 1, "{r:?}");
    assert_eq!(holder(&net, r.assigned[0]).await, net.operators[0]);
    indexer.sync(1_000).await.unwrap();
    restarted.pass().await.unwrap();
    let st = restarted
        .view()
        .scheduler_state()
        .node(operator_id(net.operators[0]))
        .unwrap();
    assert_eq!(
        (st.held, st.load),
        (3, 0),
        "4 - 2 delivered + 1 new, all counted from the chain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zk_proof_tasks_go_only_to_provers_and_wait_when_there_is_none() {
    let net = Net::new(4).await;
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 50);
    let clock = ManualClock::new(unix_now());
    for i in 0..4 {
        // The prover-to-be is the worst by every other measure.
        let claim = if i == 2 {
            Claim {
                price: u64::MAX,
                green: 0,
                ..EQUAL
            }
        } else {
            EQUAL
        };
        beat(&net, store.as_ref(), i, clock.now(), claim).await;
    }
    let cfg = CoordinatorConfig::default();
    let mut a = assigner(&net, store.clone(), &clock, &cfg);
    // A ZkProof task names a registered verifier (never called here: nothing is proven).
    let verifier_id = keccak256("verifier");
    let owner = net.keys[0].address();
    net.s.set_verifier(owner, verifier_id, owner).await.unwrap();
    let mut req = net.request(Mode::ZkProof, 10).await;
    req.verifier_id = verifier_id;
    let zk = net.s.create_task(net.client, &req).await.unwrap().0;
    indexer.sync(1_000).await.unwrap();
    let r = a.pass().await.unwrap();
    assert_eq!(
        (r.assigned.clone(), r.infeasible.clone()),
        (vec![], vec![zk]),
        "no prover yet"
    );

    // Operator 2 registers the prove capability.
    let mut profile = net.profile(2);
    profile.capabilities = capability::EXECUTE_WASM | capability::ZK_PROVE;
    net.s
        .update_metadata(net.operators[2], &profile)
        .await
        .unwrap();
    indexer.sync(1_000).await.unwrap();
    let opt = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    indexer.sync(1_000).await.unwrap();
    let r = a.pass().await.unwrap();
    let mut assigned = r.assigned.clone();
    assigned.sort();
    assert_eq!(assigned, vec![zk, opt], "{r:?}");
    assert_eq!(holder(&net, zk).await, net.operators[2]);
    assert_ne!(
        holder(&net, opt).await,
        net.operators[2],
        "optimistic: anyone better"
    );
    // One prover: no backup for the ZkProof seat (a backup must be able to prove too).
    assert_eq!(store.plan(zk).await.unwrap()[0].backup, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_asked_for_distinct_regions_get_them_through_the_assigner() {
    let net = Net::new(5).await;
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 50);
    let clock = ManualClock::new(unix_now());
    // Operators 0 and 1 are the two best and registered in the same region.
    let mut profile = net.profile(1);
    profile.region = net.profile(0).region;
    net.s
        .update_metadata(net.operators[1], &profile)
        .await
        .unwrap();
    for i in 0..5 {
        let claim = if i < 2 {
            Claim { price: 1, ..EQUAL }
        } else {
            EQUAL
        };
        beat(&net, store.as_ref(), i, clock.now(), claim).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |distinct: bool| {
        let cfg = config_with_policy(
            dir.path(),
            &format!(
                "[weights]\nprice = 1\n[claims]\ntrusted = [\"price\"]\n\
                 [defaults]\ndistinct_regions = {distinct}\n"
            ),
        );
        assigner(&net, store.clone(), &clock, &cfg)
    };
    let mut without = run(false);
    let mut with = run(true);
    for (a, distinct) in [(&mut without, false), (&mut with, true)] {
        let t = net.create(&net.s, net.client, Mode::Replicated, 10).await;
        indexer.sync(1_000).await.unwrap();
        let r = a.pass().await.unwrap();
        assert_eq!(r.assigned, vec![t], "{r:?}");
        let ops = net.s.operators_of(t).await.unwrap();
        assert_eq!(ops.len(), 3);
        let mut regions = Vec::new();
        for op in &ops {
            regions.push(store.node(*op).await.unwrap().unwrap().region);
        }
        let both = ops.contains(&net.operators[0]) && ops.contains(&net.operators[1]);
        regions.sort();
        regions.dedup();
        if distinct {
            assert_eq!(regions.len(), 3, "{ops:?}");
            assert!(!both, "the two same-region operators are never both picked");
        } else {
            assert!(both, "without the rule the two best are picked together");
            assert_eq!(regions.len(), 2);
        }
        indexer.sync(1_000).await.unwrap();
    }
}

/// Regression (devnet, 4 nodes with `max_concurrent_tasks = 2`): the node reports its total as
/// free in every heartbeat, and capacity was taken as free slots plus the seats it holds, so
/// after its next heartbeat a 2-slot node was given 4 tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_reports_its_total_as_free_is_not_given_more_than_its_total() {
    let net = Net::new(4).await;
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 50);
    let clock = ManualClock::new(unix_now());
    let two = Claim {
        free_slots: 2,
        ..EQUAL
    };
    for i in 0..4 {
        beat(&net, store.as_ref(), i, clock.now(), two).await;
    }
    let cfg = CoordinatorConfig::default();
    let mut a = assigner(&net, store.clone(), &clock, &cfg);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        tasks.push(net.create(&net.s, net.client, Mode::Optimistic, 10).await);
    }
    indexer.sync(1_000).await.unwrap();
    assert_eq!(a.pass().await.unwrap().assigned.len(), 8);
    indexer.sync(1_000).await.unwrap();
    let n = per_operator(&net, &tasks).await;
    assert!(n.values().all(|c| *c == 2), "{n:?}");
    // Every node beats again, after its assignments (chain time; the devchain runs ahead of
    // the wall clock), still claiming 2 free slots.
    let chain_now = net.now().await;
    clock.advance(chain_now.saturating_sub(clock.now()) + 5);
    for i in 0..4 {
        beat(&net, store.as_ref(), i, clock.now(), two).await;
    }
    let extra = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    indexer.sync(1_000).await.unwrap();
    let r = a.pass().await.unwrap();
    assert_eq!((r.assigned, r.infeasible), (vec![], vec![extra]));
    for op in &net.operators {
        let st = a.view().scheduler_state().node(operator_id(*op)).unwrap();
        assert_eq!((st.held, st.view.capacity), (2, 2), "{op}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_holder_without_a_backup_shows_in_the_blocked_failovers_gauge() {
    let net = Net::new(1).await;
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 50);
    let clock = ManualClock::new(unix_now());
    beat(&net, store.as_ref(), 0, clock.now(), EQUAL).await;
    let metrics = verity_coordinator::metrics::CoordinatorMetrics::default();
    let mut a = assigner(&net, store.clone(), &clock, &CoordinatorConfig::default())
        .with_metrics(metrics.clone());
    let t = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    indexer.sync(1_000).await.unwrap();
    assert_eq!(a.pass().await.unwrap().assigned, vec![t]);
    indexer.sync(1_000).await.unwrap();
    assert_eq!(
        store.plan(t).await.unwrap()[0].backup,
        None,
        "one node: no backup"
    );
    a.pass().await.unwrap();
    assert_eq!(metrics.failovers_blocked.get(), 0, "holder live");
    // The only node goes quiet: its seat should move but there is nowhere to move it.
    clock.advance(45);
    let r = a.pass().await.unwrap();
    assert!(
        r.failovers.is_empty() && r.failovers_pending.is_empty(),
        "{r:?}"
    );
    assert_eq!(metrics.failovers_blocked.get(), 1);
    assert_eq!(metrics.failovers_refused_total.get(), 0);
}
