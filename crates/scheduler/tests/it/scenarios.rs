//! Concrete scenarios with hand-checked answers.

use verity_scheduler::{
    AllocError, AllocationId, Constraint, NodeError, NodeView, Region, RegionSet, ReleaseError,
    TaskNeeds,
};

use crate::common::{any_needs, check_plan, cpu_node, op, scheduler};

#[test]
fn picks_the_k_best_by_reputation_when_all_else_is_equal() {
    let mut s = scheduler();
    for (n, reputation) in [(1, 500), (2, 900), (3, 700), (4, 950), (5, 600)] {
        let view = NodeView {
            reputation_permille: reputation,
            ..cpu_node(276)
        };
        s.join(op(n), view).unwrap();
    }
    let needs = TaskNeeds {
        replication: 3,
        ..any_needs()
    };
    let plan = s.plan(&needs).unwrap();
    let primaries: Vec<_> = plan.assignments.iter().map(|a| a.primary).collect();
    assert_eq!(primaries, vec![op(4), op(2), op(3)]);
    check_plan(&s, &needs, &plan).unwrap();
}

#[test]
fn hard_constraints_exclude_better_scoring_nodes() {
    let mut s = scheduler();
    // The best-scoring node lacks a GPU; only the weaker ones qualify.
    s.join(
        op(1),
        NodeView {
            reputation_permille: 1000,
            ..cpu_node(276)
        },
    )
    .unwrap();
    s.join(
        op(2),
        NodeView {
            gpu_memory_mib: 16 * 1024,
            reputation_permille: 100,
            ..cpu_node(250)
        },
    )
    .unwrap();
    s.join(
        op(3),
        NodeView {
            gpu_memory_mib: 8 * 1024,
            reputation_permille: 100,
            ..cpu_node(250)
        },
    )
    .unwrap();
    let needs = TaskNeeds {
        min_gpu_memory_mib: 12 * 1024,
        ..any_needs()
    };
    let plan = s.plan(&needs).unwrap();
    assert_eq!(plan.assignments[0].primary, op(2));

    let in_germany = TaskNeeds {
        allowed_regions: Some([Region(276)].into_iter().collect()),
        ..any_needs()
    };
    assert_eq!(s.plan(&in_germany).unwrap().assignments[0].primary, op(1));

    let with_flag = TaskNeeds {
        required_capabilities: 0b100,
        ..any_needs()
    };
    s.update(
        op(3),
        NodeView {
            capabilities: 0b110,
            gpu_memory_mib: 8 * 1024,
            reputation_permille: 100,
            ..cpu_node(250)
        },
    )
    .unwrap();
    assert_eq!(s.plan(&with_flag).unwrap().assignments[0].primary, op(3));
}

#[test]
fn distinct_regions_skip_a_better_node_in_a_used_region() {
    let mut s = scheduler();
    s.join(
        op(1),
        NodeView {
            reputation_permille: 1000,
            ..cpu_node(276)
        },
    )
    .unwrap();
    s.join(
        op(2),
        NodeView {
            reputation_permille: 990,
            ..cpu_node(276)
        },
    )
    .unwrap();
    s.join(
        op(3),
        NodeView {
            reputation_permille: 500,
            ..cpu_node(250)
        },
    )
    .unwrap();
    let needs = TaskNeeds {
        replication: 2,
        distinct_regions: true,
        ..any_needs()
    };
    let plan = s.plan(&needs).unwrap();
    let primaries: Vec<_> = plan.assignments.iter().map(|a| a.primary).collect();
    assert_eq!(primaries, vec![op(1), op(3)]);
    // Without the rule the two German nodes win.
    let plain = TaskNeeds {
        distinct_regions: false,
        ..needs.clone()
    };
    let primaries: Vec<_> = s
        .plan(&plain)
        .unwrap()
        .assignments
        .iter()
        .map(|a| a.primary)
        .collect();
    assert_eq!(primaries, vec![op(1), op(2)]);
}

#[test]
fn backups_are_distinct_and_keep_regions_distinct_on_failover() {
    let mut s = scheduler();
    // 276: nodes 1 (best) and 2; 250: nodes 3 and 4; 380: node 5 (worst).
    for (n, region, reputation) in [
        (1, 276, 1000),
        (2, 276, 990),
        (3, 250, 980),
        (4, 250, 970),
        (5, 380, 100),
    ] {
        s.join(
            op(n),
            NodeView {
                reputation_permille: reputation,
                ..cpu_node(region)
            },
        )
        .unwrap();
    }
    let needs = TaskNeeds {
        replication: 2,
        distinct_regions: true,
        backups: true,
        ..any_needs()
    };
    let plan = s.plan(&needs).unwrap();
    check_plan(&s, &needs, &plan).unwrap();
    // Primary 1 (276) is backed by 2 (276, not 250); primary 3 (250) by 4.
    let pairs: Vec<_> = plan
        .assignments
        .iter()
        .map(|a| (a.primary, a.backup))
        .collect();
    assert_eq!(pairs, vec![(op(1), Some(op(2))), (op(3), Some(op(4)))]);
}

#[test]
fn capacity_is_a_hard_limit_and_release_restores_it() {
    let mut s = scheduler();
    s.join(
        op(1),
        NodeView {
            capacity: 2,
            ..cpu_node(276)
        },
    )
    .unwrap();
    let a = s.allocate(&any_needs()).unwrap();
    let b = s.allocate(&any_needs()).unwrap();
    assert_eq!(s.node(op(1)).unwrap().load, 2);
    assert_eq!(
        s.allocate(&any_needs()).unwrap_err(),
        AllocError::NoFeasibleSet {
            constraint: Constraint::Capacity,
            needed: 1,
            remaining: 0
        }
    );
    s.release(a.id).unwrap();
    assert_eq!(s.node(op(1)).unwrap().load, 1);
    s.allocate(&any_needs()).unwrap();
    assert_eq!(s.node(op(1)).unwrap().load, 2);
    s.release(b.id).unwrap();
    assert_eq!(
        s.release(b.id).unwrap_err(),
        ReleaseError::UnknownAllocation(b.id)
    );
    assert_eq!(
        s.release(AllocationId(99)).unwrap_err(),
        ReleaseError::UnknownAllocation(AllocationId(99))
    );
}

#[test]
fn repeated_allocations_spread_across_equal_nodes() {
    let mut s = scheduler();
    for n in 0..10 {
        s.join(op(n), cpu_node(276)).unwrap();
    }
    for _ in 0..10 {
        s.allocate(&any_needs()).unwrap();
    }
    let loads: Vec<u32> = (0..10).map(|n| s.node(op(n)).unwrap().load).collect();
    assert_eq!(loads, vec![1; 10]);
}

#[test]
fn one_at_a_time_tasks_rotate_over_equal_nodes() {
    // Each task finishes before the next arrives, so load is always zero when a node is
    // picked: the least recently picked node wins the tie instead of the lowest id every time.
    let mut s = scheduler();
    for n in 0..4 {
        s.join(op(n), cpu_node(276)).unwrap();
    }
    let mut picks = std::collections::BTreeMap::new();
    for _ in 0..12 {
        let a = s.allocate(&any_needs()).unwrap();
        *picks.entry(a.assignments[0].primary).or_insert(0) += 1;
        s.release(a.id).unwrap();
    }
    assert_eq!(picks.len(), 4, "{picks:?}");
    assert!(picks.values().all(|&n| n == 3), "{picks:?}");
    // The naive scan (the test oracle) agrees with the index on who is next.
    let naive = s.plan_naive(&any_needs()).unwrap();
    let indexed = s.allocate(&any_needs()).unwrap();
    assert_eq!(naive.assignments[0].primary, indexed.assignments[0].primary);
}

#[test]
fn load_penalty_lets_a_weaker_node_win_over_a_loaded_one() {
    let mut s = scheduler();
    s.join(
        op(1),
        NodeView {
            reputation_permille: 1000,
            ..cpu_node(276)
        },
    )
    .unwrap();
    s.join(
        op(2),
        NodeView {
            reputation_permille: 950,
            ..cpu_node(276)
        },
    )
    .unwrap();
    let first = s.allocate(&any_needs()).unwrap();
    assert_eq!(first.assignments[0].primary, op(1));
    // Node 1 is now at 1/4 load: its score fell by 20%, below node 2's.
    let second = s.allocate(&any_needs()).unwrap();
    assert_eq!(second.assignments[0].primary, op(2));
    assert_eq!(s.node(op(1)).unwrap().load, 1);
    assert_eq!(s.node(op(2)).unwrap().load, 1);
}

#[test]
fn the_error_names_the_constraint_that_emptied_the_pool() {
    let mut s = scheduler();
    for n in 0..10 {
        let gpu = if n < 2 { 24 * 1024 } else { 0 };
        s.join(
            op(n),
            NodeView {
                gpu_memory_mib: gpu,
                ..cpu_node(276)
            },
        )
        .unwrap();
    }
    let gpu3 = TaskNeeds {
        min_gpu_memory_mib: 16 * 1024,
        replication: 3,
        ..any_needs()
    };
    assert_eq!(
        s.allocate(&gpu3).unwrap_err(),
        AllocError::NoFeasibleSet {
            constraint: Constraint::GpuMemory,
            needed: 3,
            remaining: 2
        }
    );
    let distinct = TaskNeeds {
        replication: 2,
        distinct_regions: true,
        ..any_needs()
    };
    assert_eq!(
        s.allocate(&distinct).unwrap_err(),
        AllocError::NoFeasibleSet {
            constraint: Constraint::DistinctRegions,
            needed: 2,
            remaining: 1
        }
    );
    let gpu_backup = TaskNeeds {
        min_gpu_memory_mib: 16 * 1024,
        replication: 2,
        backups: true,
        ..any_needs()
    };
    assert_eq!(
        s.allocate(&gpu_backup).unwrap_err(),
        AllocError::NoFeasibleSet {
            constraint: Constraint::GpuMemory,
            needed: 4,
            remaining: 2
        }
    );
    let elsewhere = TaskNeeds {
        allowed_regions: Some([Region(250)].into_iter().collect()),
        ..any_needs()
    };
    let err = s.allocate(&elsewhere).unwrap_err();
    assert_eq!(
        err,
        AllocError::NoFeasibleSet {
            constraint: Constraint::Region,
            needed: 1,
            remaining: 0
        }
    );
    assert!(err.to_string().contains("allowed regions"), "{err}");
    // Nothing was allocated by the failures.
    assert!(s.nodes().all(|n| n.load == 0));
    assert_eq!(s.outstanding(), 0);
}

#[test]
fn offline_nodes_are_never_picked() {
    let mut s = scheduler();
    s.join(
        op(1),
        NodeView {
            reputation_permille: 1000,
            ..cpu_node(276)
        },
    )
    .unwrap();
    s.join(op(2), cpu_node(276)).unwrap();
    s.set_live(op(1), false).unwrap();
    assert_eq!(s.plan(&any_needs()).unwrap().assignments[0].primary, op(2));
    s.set_live(op(2), false).unwrap();
    assert_eq!(
        s.plan(&any_needs()).unwrap_err(),
        AllocError::NoFeasibleSet {
            constraint: Constraint::Liveness,
            needed: 1,
            remaining: 0
        }
    );
    s.set_live(op(1), true).unwrap();
    assert_eq!(s.plan(&any_needs()).unwrap().assignments[0].primary, op(1));
}

#[test]
fn a_node_that_leaves_keeps_its_load_until_released_and_may_rejoin() {
    let mut s = scheduler();
    s.join(op(1), cpu_node(276)).unwrap();
    s.join(op(2), cpu_node(276)).unwrap();
    let a = s.allocate(&any_needs()).unwrap();
    let held = a.assignments[0].primary;
    s.leave(held).unwrap();
    assert!(s.node(held).unwrap().departed);
    assert_eq!(s.node(held).unwrap().load, 1);
    assert_eq!(
        s.update(held, cpu_node(276)).unwrap_err(),
        NodeError::UnknownOperator(held)
    );
    // Rejoining carries the load over.
    s.join(held, cpu_node(276)).unwrap();
    assert_eq!(s.node(held).unwrap().load, 1);
    s.leave(held).unwrap();
    s.release(a.id).unwrap();
    assert!(
        s.node(held).is_none(),
        "record dropped once its load is released"
    );
    assert_eq!(s.len(), 1);
}

#[test]
fn bad_input_gets_typed_errors() {
    let mut s = scheduler();
    s.join(op(1), cpu_node(276)).unwrap();
    assert_eq!(
        s.join(op(1), cpu_node(276)).unwrap_err(),
        NodeError::AlreadyJoined(op(1))
    );
    assert_eq!(
        s.leave(op(2)).unwrap_err(),
        NodeError::UnknownOperator(op(2))
    );
    assert_eq!(
        s.set_live(op(2), true).unwrap_err(),
        NodeError::UnknownOperator(op(2))
    );
    let bad = NodeView {
        reputation_permille: 1001,
        ..cpu_node(276)
    };
    assert!(matches!(
        s.join(op(3), bad).unwrap_err(),
        NodeError::Invalid {
            field: "reputation_permille",
            ..
        }
    ));
    let bad = NodeView {
        region: Region(1000),
        ..cpu_node(276)
    };
    assert!(matches!(
        s.update(op(1), bad).unwrap_err(),
        NodeError::Invalid {
            field: "region",
            ..
        }
    ));
    let bad = NodeView {
        green_energy_pct: 101,
        ..cpu_node(276)
    };
    assert!(matches!(
        s.join(op(4), bad).unwrap_err(),
        NodeError::Invalid {
            field: "green_energy_pct",
            ..
        }
    ));
    for needs in [
        TaskNeeds {
            replication: 0,
            ..any_needs()
        },
        TaskNeeds {
            replication: 65,
            ..any_needs()
        },
        TaskNeeds {
            min_reputation_permille: 1001,
            ..any_needs()
        },
        TaskNeeds {
            allowed_regions: Some(RegionSet::empty()),
            ..any_needs()
        },
    ] {
        assert!(matches!(
            s.allocate(&needs).unwrap_err(),
            AllocError::InvalidNeeds { .. }
        ));
        assert!(matches!(
            s.allocate_naive(&needs).unwrap_err(),
            AllocError::InvalidNeeds { .. }
        ));
    }
    // The rejected changes left the registry as it was.
    assert_eq!(s.len(), 1);
    assert_eq!(s.node(op(1)).unwrap().view, &cpu_node(276));
}

#[test]
fn held_work_counts_against_capacity_and_score_like_allocations() {
    let mut s = scheduler();
    for n in 1..=3 {
        s.join(
            op(n),
            NodeView {
                capacity: 2,
                ..cpu_node(276)
            },
        )
        .unwrap();
    }
    let needs = any_needs();
    // Equal nodes: ties go to the lowest id.
    assert_eq!(s.plan(&needs).unwrap().assignments[0].primary, op(1));
    // op(1) holds one seat elsewhere: it now scores below the idle ones.
    assert!(s.set_held(op(1), 1).unwrap());
    assert!(!s.set_held(op(1), 1).unwrap(), "unchanged");
    assert!(s.score(op(1)).unwrap() < s.score(op(2)).unwrap());
    assert_eq!(s.plan(&needs).unwrap().assignments[0].primary, op(2));
    assert_eq!(
        s.allocate_naive(&needs).unwrap().assignments[0].primary,
        op(2)
    );
    // Full from held work alone: never picked, whatever its score.
    s.set_held(op(3), 2).unwrap();
    let a = s.allocate(&needs).unwrap();
    assert_eq!(
        a.assignments[0].primary,
        op(1),
        "op(2) has 1 allocated, op(1) 1 held: tie"
    );
    let st = s.node(op(1)).unwrap();
    assert_eq!((st.load, st.held), (1, 1));
    assert_eq!(s.eligible(), 1, "op(1) and op(3) are full");
    // Held work going away frees the slot again.
    s.set_held(op(3), 0).unwrap();
    assert_eq!(s.plan(&needs).unwrap().assignments[0].primary, op(3));
    check_plan(&s, &needs, &s.plan(&needs).unwrap()).unwrap();
    assert_eq!(
        s.set_held(op(9), 1).unwrap_err(),
        NodeError::UnknownOperator(op(9))
    );
}
