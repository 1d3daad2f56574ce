//! Checked against claimed figures: a claim nothing has checked gives no advantage.
//!
//! Issue 20: the devnet showed that a fresh identity claiming the maximum of everything scored
//! 0.85 against 0.63 to 0.71 for honest nodes, so three cheap identities won every seat.

use proptest::prelude::*;
use verity_scheduler::{
    Checks, Figure, NodeView, OperatorId, Policy, Provenance, Region, Scheduler, TaskNeeds,
    Verified,
};

use crate::common::{any_needs, check_plan, op, scheduler};
use crate::props::{node_view, task_needs};

/// An honest node as the coordinator sees it after a while on the network: hardware bound to
/// a TEE quote, reputation from its on-chain outcomes, latency measured by the coordinator;
/// its green share and price are only its word.
fn honest(region: u16, reputation: u16, latency_ms: u32) -> NodeView {
    NodeView {
        cpu_cores: 16,
        memory_mib: 32 * 1024,
        gpu_memory_mib: 0,
        region: Region(region),
        capabilities: 0,
        stake: 1_000,
        reputation_permille: reputation,
        capacity: 4,
        latency_ms,
        green_energy_pct: 40,
        price_per_megafuel: 1_000_000_000,
        live: true,
        provenance: Checks {
            hardware: Provenance::Verified(Verified::Attested),
            reputation: Provenance::Verified(Verified::OnChain),
            latency: Provenance::Verified(Verified::Measured),
            ..Checks::CLAIMED
        },
    }
}

/// A fresh identity claiming the maximum of everything. Its reputation is the coordinator's
/// prior for a node with no outcomes on chain (0.5); nothing else is checked.
fn max_claimer(region: u16) -> NodeView {
    NodeView {
        cpu_cores: 256,
        memory_mib: 1024 * 1024,
        gpu_memory_mib: 80 * 1024,
        region: Region(region),
        capabilities: 0,
        stake: 1_000,
        reputation_permille: 500,
        capacity: 64,
        latency_ms: 0,
        green_energy_pct: 100,
        price_per_megafuel: 0,
        live: true,
        provenance: Checks {
            reputation: Provenance::Verified(Verified::OnChain),
            ..Checks::CLAIMED
        },
    }
}

/// Three honest nodes (0..3) and three max-claiming fresh identities (3..6).
fn devnet(policy: Policy) -> Scheduler {
    let mut s = Scheduler::new(policy).expect("valid policy");
    for (n, (rep, lat)) in [(900, 20), (820, 45), (750, 60)].into_iter().enumerate() {
        s.join(op(n as u32), honest(276, rep, lat)).unwrap();
    }
    for n in 3..6 {
        s.join(op(n), max_claimer(276)).unwrap();
    }
    s
}

fn is_honest(id: OperatorId) -> bool {
    (0..3).any(|n| op(n) == id)
}

#[test]
fn issue_20_three_fresh_identities_claiming_the_maximum_win_no_seats() {
    let mut s = devnet(Policy::default());
    let needs = TaskNeeds {
        replication: 3,
        backups: true,
        ..any_needs()
    };
    // Every honest node scores above every claimer, as long as it has a free slot.
    let best_claimer = (3..6).map(|n| s.score(op(n)).unwrap()).max().unwrap();
    for n in 0..3 {
        assert!(s.score(op(n)).unwrap() > best_claimer, "node {n}");
    }
    // The honest nodes have 4 slots each: four 3-seat tasks fill them, and every seat goes
    // to an honest node; the claimers only stand by.
    for task in 0..4 {
        let plan = s.plan(&needs).unwrap();
        check_plan(&s, &needs, &plan).unwrap();
        let seats: Vec<OperatorId> = plan.assignments.iter().map(|a| a.primary).collect();
        assert!(
            seats.iter().all(|&p| is_honest(p)),
            "task {task}: {seats:?}"
        );
        assert!(
            plan.assignments
                .iter()
                .all(|a| a.backup.is_some_and(|b| !is_honest(b))),
            "task {task}: the claimers are the only spare nodes"
        );
        let allocation = s.allocate(&needs).unwrap();
        assert_eq!(allocation.assignments, plan.assignments);
    }
    // Only once every honest slot is taken does a claimer get a seat.
    let plan = s
        .plan(&TaskNeeds {
            backups: false,
            ..needs
        })
        .unwrap();
    assert!(plan.assignments.iter().all(|a| !is_honest(a.primary)));
}

#[test]
fn issue_20_the_same_claims_taken_at_face_value_win_every_seat() {
    // The peer: a policy that trusts every claim (the scheduler before issue 20). The test
    // above would fail under it: the claimers take all three seats.
    let text = "[claims]\ntrusted = [\"hardware\", \"reputation\", \"latency\", \
                \"green_energy\", \"price\"]\n";
    let s = devnet(Policy::from_toml_str(text).unwrap());
    let needs = TaskNeeds {
        replication: 3,
        ..any_needs()
    };
    let plan = s.plan(&needs).unwrap();
    assert!(
        plan.assignments.iter().all(|a| !is_honest(a.primary)),
        "{plan:?}"
    );
}

#[test]
fn an_unchecked_hardware_claim_does_not_pass_a_hardware_minimum() {
    let mut s = scheduler();
    s.join(op(1), max_claimer(276)).unwrap();
    let attested_gpu = NodeView {
        gpu_memory_mib: 24 * 1024,
        ..honest(250, 500, 50)
    };
    s.join(op(2), attested_gpu).unwrap();
    let needs = TaskNeeds {
        min_gpu_memory_mib: 16 * 1024,
        ..any_needs()
    };
    let plan = s.plan(&needs).unwrap();
    assert_eq!(plan.assignments[0].primary, op(2));
    // Benchmarked counts as well as attested.
    let mut only_claimer = scheduler();
    let benchmarked = NodeView {
        provenance: Checks {
            hardware: Provenance::Verified(Verified::Benchmarked),
            ..Checks::CLAIMED
        },
        ..max_claimer(276)
    };
    only_claimer.join(op(1), max_claimer(276)).unwrap();
    assert!(only_claimer.plan(&needs).is_err());
    only_claimer.update(op(1), benchmarked).unwrap();
    assert_eq!(
        only_claimer.plan(&needs).unwrap().assignments[0].primary,
        op(1)
    );
}

#[test]
fn claims_table_parses_and_rejects_unknown_figures() {
    let p =
        Policy::from_toml_str("[claims]\ntrusted = [\"price\"]\nfloor_cpu_cores = 2\n").unwrap();
    assert!(p.claims.trusted.contains(&Figure::Price));
    assert_eq!(p.claims.floor_cpu_cores, 2);
    assert!(Policy::from_toml_str("[claims]\ntrusted = [\"stake\"]\n").is_err());
    assert!(Policy::default().claims.trusted.is_empty());
}

/// Each way to raise one figure of a node (more hardware, reputation, green share; less
/// latency, price), by the maximum.
#[derive(Debug, Clone, Copy)]
enum Raise {
    Hardware,
    Reputation,
    Latency,
    Green,
    Price,
}

fn raise(view: &NodeView, r: Raise) -> NodeView {
    let mut v = view.clone();
    match r {
        Raise::Hardware => {
            v.cpu_cores = u32::MAX;
            v.memory_mib = u64::MAX;
            v.gpu_memory_mib = u64::MAX;
        }
        Raise::Reputation => v.reputation_permille = 1000,
        Raise::Latency => v.latency_ms = 0,
        Raise::Green => v.green_energy_pct = 100,
        Raise::Price => v.price_per_megafuel = 0,
    }
    v
}

/// Marks the raised figure as claimed only.
fn claimed(view: &NodeView, r: Raise) -> NodeView {
    with_provenance(view, r, Provenance::Claimed)
}

/// Gives the figure `r` raises the provenance `prov`.
fn with_provenance(view: &NodeView, r: Raise, prov: Provenance) -> NodeView {
    let mut v = view.clone();
    let p = &mut v.provenance;
    *match r {
        Raise::Hardware => &mut p.hardware,
        Raise::Reputation => &mut p.reputation,
        Raise::Latency => &mut p.latency,
        Raise::Green => &mut p.green_energy,
        Raise::Price => &mut p.price,
    } = prov;
    v
}

fn raise_kind() -> impl Strategy<Value = Raise> {
    prop::sample::select(vec![
        Raise::Hardware,
        Raise::Reputation,
        Raise::Latency,
        Raise::Green,
        Raise::Price,
    ])
}

/// How many nodes the scheduler scores strictly above `id`.
fn rank(s: &Scheduler, id: OperatorId) -> usize {
    let mine = s.score(id).unwrap();
    s.nodes()
        .filter(|n| n.id != id && s.score(n.id).is_some_and(|x| x > mine))
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn raising_a_claimed_only_figure_never_raises_a_nodes_rank(
        views in prop::collection::vec(node_view(), 2..24),
        target in any::<prop::sample::Index>(),
        r in raise_kind(),
        needs in task_needs(),
    ) {
        let t = target.index(views.len());
        let mut s = scheduler();
        for (n, v) in views.iter().enumerate() {
            let v = if n == t { claimed(v, r) } else { v.clone() };
            s.join(op(n as u32), v).unwrap();
        }
        let id = op(t as u32);
        let (score, place, plan) = (s.score(id), rank(&s, id), s.plan(&needs));
        s.update(id, raise(&claimed(&views[t], r), r)).unwrap();
        prop_assert_eq!(s.score(id), score);
        prop_assert!(rank(&s, id) >= place);
        // Nor does it change any pick: a task that could not use the node still cannot.
        prop_assert_eq!(s.plan(&needs), plan);
    }

    #[test]
    fn a_checked_figure_never_scores_below_the_same_figure_claimed(
        view in node_view(),
        r in raise_kind(),
    ) {
        let mut s = scheduler();
        let view = NodeView { live: true, capacity: view.capacity.max(1), ..view };
        let view = with_provenance(&view, r, Provenance::Verified(Verified::Benchmarked));
        s.join(op(0), view.clone()).unwrap();
        s.join(op(1), claimed(&view, r)).unwrap();
        prop_assert!(s.score(op(0)) >= s.score(op(1)));
    }
}
