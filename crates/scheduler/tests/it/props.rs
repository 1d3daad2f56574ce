//! Property tests: on random registries with random loads, the indexed fast path picks exactly
//! what the naive scan and the independent brute-force oracle pick, and every pick satisfies
//! the hard rules.

use proptest::prelude::*;
use verity_scheduler::{
    AllocError, Checks, NodeView, Provenance, Region, RegionSet, Scheduler, TaskNeeds, Verified,
};

use crate::common::{check_plan, op, oracle, scheduler};

/// Regions few enough that nodes share them (ties and distinct-region conflicts happen).
const REGIONS: [u16; 6] = [40, 250, 276, 380, 724, 840];
const GPUS: [u64; 7] = [0, 4096, 8192, 12288, 24576, 49152, 81920];

/// A provenance: checked (one of the four ways) two times in three, claimed otherwise.
pub(crate) fn provenance() -> impl Strategy<Value = Provenance> {
    prop_oneof![
        1 => Just(Provenance::Claimed),
        2 => prop::sample::select(vec![
            Verified::Measured,
            Verified::Attested,
            Verified::Benchmarked,
            Verified::OnChain,
        ])
        .prop_map(Provenance::Verified),
    ]
}

/// The provenance of each figure, drawn independently.
pub(crate) fn checks() -> impl Strategy<Value = Checks> {
    (
        provenance(),
        provenance(),
        provenance(),
        provenance(),
        provenance(),
    )
        .prop_map(
            |(hardware, reputation, latency, green_energy, price)| Checks {
                hardware,
                reputation,
                latency,
                green_energy,
                price,
            },
        )
}

pub(crate) fn node_view() -> impl Strategy<Value = NodeView> {
    (
        (
            1u32..=64,
            prop::sample::select(vec![4096u64, 16384, 65536, 262144]),
        ),
        prop::sample::select(GPUS.to_vec()),
        prop::sample::select(REGIONS.to_vec()),
        0u64..16,
        (0u128..2000, 0u16..=1000),
        (
            prop_oneof![1 => Just(0u32), 6 => 1u32..=4],
            1u32..400,
            0u8..=100,
            0u128..3_000_000_000,
        ),
        prop::bool::weighted(0.9),
        checks(),
    )
        .prop_map(
            |(
                (cpu, mem),
                gpu,
                region,
                caps,
                (stake, rep),
                (cap, lat, green, price),
                live,
                provenance,
            )| {
                NodeView {
                    cpu_cores: cpu,
                    memory_mib: mem,
                    gpu_memory_mib: gpu,
                    region: Region(region),
                    capabilities: caps,
                    stake,
                    reputation_permille: rep,
                    capacity: cap,
                    latency_ms: lat,
                    green_energy_pct: green,
                    price_per_megafuel: price,
                    live,
                    provenance,
                }
            },
        )
}

/// Region restrictions: none, a few of the used regions (answered from the region maps), or
/// more than the index's region fan-out (answered from the GPU tiers with a per-entry check).
fn allowed_regions() -> impl Strategy<Value = Option<RegionSet>> {
    prop_oneof![
        2 => Just(None),
        2 => prop::sample::subsequence(REGIONS.to_vec(), 1..=3)
            .prop_map(|r| Some(r.into_iter().map(Region).collect())),
        1 => prop::sample::subsequence(REGIONS.to_vec(), 1..=4).prop_map(|r| {
            let mut set: RegionSet = r.into_iter().map(Region).collect();
            for filler in 500..540 {
                set.insert(Region(filler));
            }
            Some(set)
        }),
    ]
}

pub(crate) fn task_needs() -> impl Strategy<Value = TaskNeeds> {
    // Each constraint is off most of the time, so that most random tasks are feasible and
    // the comparison covers real picks, not only agreeing errors.
    (
        (
            prop_oneof![3 => Just(0u32), 1 => 1u32..=32],
            prop_oneof![3 => Just(0u64), 1 => Just(8192), 1 => Just(65536)],
        ),
        prop_oneof![
            3 => Just(0u64),
            2 => prop::sample::select(vec![1u64, 8192, 12288, 24576, 81920]),
        ],
        allowed_regions(),
        prop_oneof![3 => Just(0u64), 1 => prop::sample::select(vec![1u64, 2, 4, 8, 5])],
        (
            prop_oneof![3 => Just(0u128), 1 => 0u128..2000],
            prop_oneof![3 => Just(0u16), 1 => 0u16..=1000],
        ),
        (1u32..=4, any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |((cpu, mem), gpu, allowed_regions, caps, (stake, rep), (k, distinct, backups))| {
                TaskNeeds {
                    min_cpu_cores: cpu,
                    min_memory_mib: mem,
                    min_gpu_memory_mib: gpu,
                    allowed_regions,
                    required_capabilities: caps,
                    min_stake: stake,
                    min_reputation_permille: rep,
                    replication: k,
                    distinct_regions: distinct,
                    backups,
                }
            },
        )
}

/// A registry of `views`, then `warmup` unconstrained single allocations so loads differ.
fn build(views: &[NodeView], warmup: usize) -> Scheduler {
    let mut s = scheduler();
    for (n, view) in views.iter().enumerate() {
        s.join(op(n as u32), view.clone()).unwrap();
    }
    let one = TaskNeeds {
        min_cpu_cores: 0,
        min_memory_mib: 0,
        min_gpu_memory_mib: 0,
        allowed_regions: None,
        required_capabilities: 0,
        min_stake: 0,
        min_reputation_permille: 0,
        replication: 1,
        distinct_regions: false,
        backups: false,
    };
    for _ in 0..warmup {
        if s.allocate(&one).is_err() {
            break;
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_matches_the_oracle_and_never_breaks_a_hard_rule(
        views in prop::collection::vec(node_view(), 0..160),
        warmup in 0usize..60,
        needs in prop::collection::vec(task_needs(), 1..6),
    ) {
        let mut s = build(&views, warmup);
        for needs in &needs {
            let fast = s.plan(needs);
            let naive = s.plan_naive(needs);
            prop_assert_eq!(&fast, &naive);
            let expected = oracle(&s, needs);
            match &fast {
                Ok(plan) => {
                    if let Err(why) = check_plan(&s, needs, plan) {
                        return Err(TestCaseError::fail(why));
                    }
                    prop_assert_eq!(Some(&plan.assignments), expected.as_ref());
                }
                Err(AllocError::NoFeasibleSet { .. }) => prop_assert!(expected.is_none()),
                Err(other) => return Err(TestCaseError::fail(format!("unexpected {other}"))),
            }
            // Commit some of them so later needs see the new loads.
            if fast.is_ok() {
                let before: Vec<(u32, u32)> = fast.as_ref().unwrap().assignments.iter()
                    .map(|a| { let n = s.node(a.primary).unwrap(); (n.load, n.view.capacity) })
                    .collect();
                let allocation = s.allocate(needs).unwrap();
                prop_assert_eq!(&allocation.assignments, &fast.as_ref().unwrap().assignments);
                for (a, (load, capacity)) in allocation.assignments.iter().zip(before) {
                    let after = s.node(a.primary).unwrap().load;
                    prop_assert_eq!(after, load + 1);
                    prop_assert!(after <= capacity);
                }
            }
        }
    }
}
