//! Allocation latency of the indexed scheduler against the naive scan (filter every node,
//! score every node, sort, take the best: seed 001's approach), in the same run, at 1,000,
//! 10,000 and 100,000 nodes; the load spread of the fast path; and the memory of the
//! registry view and scheduler state, counted by a counting global allocator.
//!
//! `cargo bench -p verity-scheduler --bench allocate`
//!
//! Workload (deterministic, seeded): nodes with a skewed region distribution over 60
//! countries, 30% with a GPU (8 to 80 GiB), capacity 1 to 16, 5% offline; a task mix of
//! generic single tasks, 3-way replicated tasks in distinct regions with a reputation floor,
//! GPU tasks, EU-only pairs, GPU tasks in one small country, capability-flag tasks with a
//! stake floor, and large-memory tasks; backups on most. The registry is first filled to a
//! steady state of outstanding allocations (about half the network's capacity in use, FIFO
//! release), then each measured step releases the oldest allocation and allocates the next
//! task. Both schedulers start from identical state and run the identical task sequence; the
//! bench checks that they pick identical sets.

use std::collections::{HashMap, VecDeque};
use std::hint::black_box;
use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region as AllocRegion, StatsAlloc};
use verity_scheduler::{
    AllocError, Allocation, AllocationId, Checks, NodeView, OperatorId, Policy, Provenance, Region,
    RegionSet, Scheduler, TaskNeeds, Verified,
};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const FAST_SAMPLES: usize = 20_000;
/// Naive samples per size: the scan is slow at 100k, so fewer samples there.
const NAIVE_SAMPLES: [usize; 3] = [10_000, 2_000, 500];
const UTILISATION: f64 = 0.5;

/// Most populous regions first; weight of rank r is 1 / (r + 1).
const REGIONS: [u16; 60] = [
    840, 276, 156, 392, 826, 250, 124, 356, 76, 410, 528, 752, 36, 724, 380, 616, 56, 203, 40, 756,
    208, 246, 578, 372, 620, 300, 348, 642, 100, 191, 703, 705, 440, 428, 233, 442, 470, 196, 484,
    32, 152, 170, 604, 710, 566, 818, 404, 360, 458, 702, 764, 704, 608, 784, 682, 376, 792, 804,
    554, 158,
];
const EU: [u16; 27] = [
    40, 56, 100, 191, 196, 203, 208, 233, 246, 250, 276, 300, 348, 372, 380, 428, 440, 442, 470,
    528, 616, 620, 642, 703, 705, 724, 752,
];
const FLAG_TEE: u64 = 1 << 2;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: enough for a reproducible workload, no dependency.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

fn operator(n: usize) -> OperatorId {
    let mut id = [0u8; 20];
    id[..8].copy_from_slice(&(n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    id[12..].copy_from_slice(&(n as u64).to_be_bytes());
    OperatorId(id)
}

/// Where node `i`'s figures come from, drawn from its own generator so that the figures
/// themselves (and so the workload) are those of the runs before provenance existed: hardware
/// attested (30%), benchmarked (40%) or only claimed (30%); reputation always from chain
/// outcomes; latency measured (95%) or not yet; green energy and price only claimed (the
/// protocol has no checker for them).
fn provenance(i: usize) -> Checks {
    let mut rng = Rng((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let hardware = match rng.below(100) {
        0..30 => Provenance::Verified(Verified::Attested),
        30..70 => Provenance::Verified(Verified::Benchmarked),
        _ => Provenance::Claimed,
    };
    let latency = if rng.chance(95) {
        Provenance::Verified(Verified::Measured)
    } else {
        Provenance::Claimed
    };
    Checks {
        hardware,
        reputation: Provenance::Verified(Verified::OnChain),
        latency,
        ..Checks::CLAIMED
    }
}

fn nodes(n: usize, rng: &mut Rng) -> Vec<(OperatorId, NodeView)> {
    let harmonic: f64 = (1..=REGIONS.len()).map(|r| 1.0 / r as f64).sum();
    (0..n)
        .map(|i| {
            let mut u = (rng.below(1 << 30) as f64 / (1u64 << 30) as f64) * harmonic;
            let mut region = REGIONS[REGIONS.len() - 1];
            for (rank, code) in REGIONS.iter().enumerate() {
                u -= 1.0 / (rank + 1) as f64;
                if u <= 0.0 {
                    region = *code;
                    break;
                }
            }
            let gpu = match rng.below(100) {
                0..70 => 0,
                70..80 => 8 * 1024,
                80..88 => 16 * 1024,
                88..95 => 24 * 1024,
                95..98 => 48 * 1024,
                _ => 80 * 1024,
            };
            let cpu = rng.pick(&[4u32, 8, 16, 32, 64, 128]);
            let memory = u64::from(cpu) * 1024 * rng.pick(&[2u64, 4, 8]);
            let mut caps = 0u64;
            for (bit, percent) in [(0, 80), (1, 30), (2, 10), (3, 5)] {
                if rng.chance(percent) {
                    caps |= 1 << bit;
                }
            }
            let view = NodeView {
                cpu_cores: cpu,
                memory_mib: memory,
                gpu_memory_mib: gpu,
                region: Region(region),
                capabilities: caps,
                stake: u128::from(100 + rng.below(9_900)) * 10u128.pow(18),
                reputation_permille: 300 + rng.below(701) as u16,
                capacity: rng.pick(&[1u32, 2, 4, 8, 16]),
                latency_ms: 5 + rng.below(296) as u32,
                green_energy_pct: rng.below(101) as u8,
                price_per_megafuel: u128::from(200_000_000 + rng.below(1_800_000_000)),
                live: !rng.chance(5),
                provenance: provenance(i),
            };
            (operator(i), view)
        })
        .collect()
}

/// Task classes of the mix, for the per-class latency table.
const CLASSES: [&str; 7] = [
    "generic k=1",
    "k=3 distinct regions, rep>=600",
    "GPU>=16GiB",
    "EU only, k=2",
    "one small country + GPU>=8GiB",
    "TEE flag + stake>=5000",
    "64 cores + 256GiB",
];

fn task(rng: &mut Rng) -> (usize, TaskNeeds) {
    let base = TaskNeeds {
        min_cpu_cores: 2,
        min_memory_mib: 2048,
        min_gpu_memory_mib: 0,
        allowed_regions: None,
        required_capabilities: 0,
        min_stake: 100 * 10u128.pow(18),
        min_reputation_permille: 0,
        replication: 1,
        distinct_regions: false,
        backups: true,
    };
    let roll = rng.below(100);
    let class = match roll {
        0..40 => 0,
        40..60 => 1,
        60..75 => 2,
        75..85 => 3,
        85..90 => 4,
        90..95 => 5,
        _ => 6,
    };
    let needs = match roll {
        0..40 => base,
        40..60 => TaskNeeds {
            replication: 3,
            distinct_regions: true,
            min_reputation_permille: 600,
            ..base
        },
        60..75 => TaskNeeds {
            min_gpu_memory_mib: 16 * 1024,
            ..base
        },
        75..85 => TaskNeeds {
            allowed_regions: Some(EU.iter().map(|c| Region(*c)).collect()),
            replication: 2,
            ..base
        },
        85..90 => TaskNeeds {
            // One mid-sized country (rank 20 to 39) and a GPU: a selective task.
            allowed_regions: Some(
                [Region(REGIONS[20 + rng.below(20) as usize])]
                    .into_iter()
                    .collect::<RegionSet>(),
            ),
            min_gpu_memory_mib: 8 * 1024,
            backups: false,
            ..base
        },
        90..95 => TaskNeeds {
            required_capabilities: FLAG_TEE,
            min_stake: 5_000 * 10u128.pow(18),
            ..base
        },
        _ => TaskNeeds {
            min_cpu_cores: 64,
            min_memory_mib: 256 * 1024,
            backups: false,
            ..base
        },
    };
    (class, needs)
}

/// A scheduler filled with `views` and brought to the steady state of outstanding work.
struct World {
    scheduler: Scheduler,
    queue: VecDeque<AllocationId>,
    window: usize,
}

fn world(views: &[(OperatorId, NodeView)], rng: &mut Rng) -> World {
    let mut scheduler = Scheduler::new(Policy::default()).expect("default policy");
    for (id, view) in views {
        scheduler.join(*id, view.clone()).expect("valid node");
    }
    let capacity: u64 = views
        .iter()
        .filter(|(_, v)| v.live)
        .map(|(_, v)| u64::from(v.capacity))
        .sum();
    // Mean primaries per task in the mix: 0.4 + 0.6 + 0.15 + 0.2 + 0.05 + 0.05 + 0.05 = 1.5.
    let window = (capacity as f64 * UTILISATION / 1.5) as usize;
    let mut queue = VecDeque::with_capacity(window + 1);
    while queue.len() < window {
        match scheduler.allocate(&task(rng).1) {
            Ok(a) => queue.push_back(a.id),
            Err(AllocError::NoFeasibleSet { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    World {
        scheduler,
        queue,
        window,
    }
}

#[derive(Default)]
struct Run {
    /// Wall clock per allocation.
    latencies: Vec<Duration>,
    /// This thread's CPU time per allocation (excludes time preempted).
    cpu: Vec<Duration>,
    picks: Vec<Result<Allocation, AllocError>>,
    received: HashMap<OperatorId, u32>,
    over_capacity: usize,
    failed: usize,
}

fn run(w: &mut World, tasks: &[(usize, TaskNeeds)], naive: bool) -> Run {
    let mut out = Run::default();
    for (_, needs) in tasks {
        if w.queue.len() >= w.window
            && let Some(old) = w.queue.pop_front()
        {
            w.scheduler.release(old).expect("outstanding");
        }
        let cpu = ThreadTime::now();
        let start = Instant::now();
        let result = if naive {
            w.scheduler.allocate_naive(black_box(needs))
        } else {
            w.scheduler.allocate(black_box(needs))
        };
        out.latencies.push(start.elapsed());
        out.cpu.push(cpu.elapsed());
        match &result {
            Ok(a) => {
                for assignment in &a.assignments {
                    *out.received.entry(assignment.primary).or_default() += 1;
                    let n = w.scheduler.node(assignment.primary).expect("picked");
                    if n.load > n.view.capacity {
                        out.over_capacity += 1;
                    }
                }
                w.queue.push_back(a.id);
            }
            Err(_) => out.failed += 1,
        }
        out.picks.push(result.map(|a| Allocation {
            id: AllocationId(0),
            ..a
        }));
    }
    out
}

/// From an empty network, places a burst of tasks (a tenth of the live capacity, no
/// releases) and reports how the load landed: nodes used, the busiest node's load and its
/// capacity, and the nodes at or over capacity.
fn burst(
    views: &[(OperatorId, NodeView)],
    policy: Policy,
    seed: u64,
) -> (usize, u32, u32, usize, usize) {
    let mut scheduler = Scheduler::new(policy).expect("policy");
    for (id, view) in views {
        scheduler.join(*id, view.clone()).expect("valid node");
    }
    let capacity: u64 = views
        .iter()
        .filter(|(_, v)| v.live)
        .map(|(_, v)| u64::from(v.capacity))
        .sum();
    let mut rng = Rng(seed);
    for _ in 0..(capacity as f64 * 0.1 / 1.5) as usize {
        let _ = scheduler.allocate(&task(&mut rng).1);
    }
    let used = scheduler.nodes().filter(|n| n.load > 0).count();
    let busiest = scheduler
        .nodes()
        .max_by_key(|n| (n.load, std::cmp::Reverse(n.view.capacity)))
        .map(|n| (n.load, n.view.capacity))
        .unwrap_or((0, 0));
    let full = scheduler
        .nodes()
        .filter(|n| n.load > 0 && n.load >= n.view.capacity)
        .count();
    let over = scheduler
        .nodes()
        .filter(|n| n.load > n.view.capacity)
        .count();
    (used, busiest.0, busiest.1, full, over)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Net bytes held: stats_alloc already adds a realloc's growth to `bytes_allocated` and its
/// shrinkage to `bytes_deallocated` (`bytes_reallocated` repeats the same delta), so the
/// difference of the two is the whole story.
fn net(change: &stats_alloc::Stats) -> isize {
    change.bytes_allocated as isize - change.bytes_deallocated as isize
}

fn sorted(v: &[Duration]) -> Vec<Duration> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// One row of the latency table for one clock.
fn latency_row(n: usize, fast: &[Duration], naive: &[Duration], tail: &str) -> String {
    let (f, s) = (sorted(fast), sorted(naive));
    let (f50, f99) = (percentile(&f, 0.50), percentile(&f, 0.99));
    let (s50, s99) = (percentile(&s, 0.50), percentile(&s, 0.99));
    format!(
        "| {n} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0}x | {:.0}x |{tail}",
        micros(f50),
        micros(f99),
        micros(s50),
        micros(s99),
        s50.as_secs_f64() / f50.as_secs_f64(),
        s99.as_secs_f64() / f99.as_secs_f64(),
    )
}

fn main() {
    let mut wall_rows = Vec::new();
    let mut cpu_rows = Vec::new();
    let mut spread_rows = Vec::new();
    let mut memory_rows = Vec::new();
    let mut class_rows = Vec::new();
    let mut burst_rows = Vec::new();
    for (size_index, &n) in SIZES.iter().enumerate() {
        let mut rng = Rng(0x5eed_0000 + n as u64);
        let views = nodes(n, &mut rng);
        let fill_seed = rng.next();
        let task_seed = rng.next();

        // Memory: registry view + index, then with the steady state of allocations.
        let before = AllocRegion::new(GLOBAL);
        let mut fast = world(&views, &mut Rng(fill_seed));
        let with_work = net(&before.change());
        let empty_region = AllocRegion::new(GLOBAL);
        let mut empty = Scheduler::new(Policy::default()).expect("policy");
        for (id, view) in &views {
            empty.join(*id, view.clone()).expect("valid");
        }
        let registry_only = net(&empty_region.change());
        drop(empty);
        memory_rows.push((n, registry_only, with_work, fast.queue.len()));

        let mut naive = world(&views, &mut Rng(fill_seed));
        let mut task_rng = Rng(task_seed);
        let tasks: Vec<(usize, TaskNeeds)> =
            (0..FAST_SAMPLES).map(|_| task(&mut task_rng)).collect();
        let naive_count = NAIVE_SAMPLES[size_index];

        let fast_run = run(&mut fast, &tasks, false);
        let naive_run = run(&mut naive, &tasks[..naive_count], true);

        let identical = fast_run.picks[..naive_count]
            .iter()
            .zip(&naive_run.picks)
            .filter(|(a, b)| a == b)
            .count();

        wall_rows.push(latency_row(
            n,
            &fast_run.latencies,
            &naive_run.latencies,
            &format!(
                " {identical}/{naive_count} | {}/{} |",
                fast_run.failed, FAST_SAMPLES
            ),
        ));
        cpu_rows.push(latency_row(n, &fast_run.cpu, &naive_run.cpu, ""));

        for (class, name) in CLASSES.iter().enumerate() {
            let of_class = |times: &[Duration], count: usize| {
                let v: Vec<Duration> = tasks[..count]
                    .iter()
                    .zip(times)
                    .filter(|((c, _), _)| *c == class)
                    .map(|(_, d)| *d)
                    .collect();
                sorted(&v)
            };
            let f = of_class(&fast_run.cpu, FAST_SAMPLES);
            let fw = of_class(&fast_run.latencies, FAST_SAMPLES);
            let s = of_class(&naive_run.cpu, naive_count);
            if f.is_empty() || s.is_empty() {
                continue;
            }
            class_rows.push(format!(
                "| {n} | {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {:.1} |",
                f.len(),
                micros(percentile(&f, 0.5)),
                micros(percentile(&f, 0.99)),
                micros(f[f.len() - 1]),
                micros(percentile(&fw, 0.99)),
                s.len(),
                micros(percentile(&s, 0.5)),
                micros(percentile(&s, 0.99)),
            ));
        }

        // Load awareness: the same burst with the default policy and with no load penalty.
        for (label, penalty) in [("0.8 (default)", 0.8), ("0 (peer)", 0.0)] {
            let mut policy = Policy::default();
            policy.scoring.load_penalty = penalty;
            let (used, load, cap, full, over) = burst(&views, policy, task_seed ^ 0xb0b);
            burst_rows.push(format!(
                "| {n} | {label} | {used} | {load}/{cap} | {full} | {over} |"
            ));
        }

        // Load spread of the fast path over its measured window.
        let capacity_of: HashMap<OperatorId, u32> =
            views.iter().map(|(id, v)| (*id, v.capacity)).collect();
        let live_capacity: u64 = views
            .iter()
            .filter(|(_, v)| v.live)
            .map(|(_, v)| u64::from(v.capacity))
            .sum();
        let total: u64 = fast_run.received.values().map(|c| u64::from(*c)).sum();
        let (top_id, top) = fast_run
            .received
            .iter()
            .max_by_key(|(id, c)| (**c, std::cmp::Reverse(**id)))
            .map(|(id, c)| (*id, *c))
            .unwrap_or((OperatorId::default(), 0));
        let worst_vs_fair = fast_run
            .received
            .iter()
            .map(|(id, c)| {
                let fair = total as f64 * f64::from(capacity_of[id]) / live_capacity as f64;
                f64::from(*c) / fair
            })
            .fold(0.0, f64::max);
        let peak_utilisation = fast
            .scheduler
            .nodes()
            .filter(|x| x.view.capacity > 0)
            .map(|x| f64::from(x.load) / f64::from(x.view.capacity))
            .fold(0.0, f64::max);
        spread_rows.push((
            n,
            total,
            fast_run.received.len(),
            top,
            capacity_of[&top_id],
            worst_vs_fair,
            peak_utilisation,
            fast_run.over_capacity + naive_run.over_capacity,
        ));
    }

    println!("Wall clock per allocation:");
    println!(
        "| nodes | fast p50 µs | fast p99 µs | naive p50 µs | naive p99 µs | p50 speedup | p99 speedup | identical picks | infeasible tasks |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in wall_rows {
        println!("{row}");
    }
    println!();
    println!("Thread CPU time per allocation (excludes time preempted by other processes):");
    println!(
        "| nodes | fast p50 µs | fast p99 µs | naive p50 µs | naive p99 µs | p50 speedup | p99 speedup |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for row in cpu_rows {
        println!("{row}");
    }

    println!();
    println!("Per task class (thread CPU time, except the wall p99 column):");
    println!(
        "| nodes | task class | fast n | fast p50 µs | fast p99 µs | fast max µs | fast wall p99 µs | naive n | naive p50 µs | naive p99 µs |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in class_rows {
        println!("{row}");
    }

    println!();
    println!("Load spread of the fast path over its measured window:");
    println!(
        "| nodes | primaries placed | nodes used | most to one node (its capacity) | largest received / capacity-fair share | peak load/capacity | over capacity |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for (n, total, used, top, cap, vs_fair, peak, over) in spread_rows {
        println!(
            "| {n} | {total} | {used} | {top} ({cap}) = {:.3}% | {vs_fair:.1}x | {peak:.2} | {over} |",
            100.0 * f64::from(top) / total as f64
        );
    }

    println!();
    println!("Burst from an empty network (a tenth of live capacity, no releases):");
    println!(
        "| nodes | load_penalty | nodes used | busiest node load/capacity | nodes full | over capacity |"
    );
    println!("|---:|---|---:|---:|---:|---:|");
    for row in burst_rows {
        println!("{row}");
    }

    println!();
    println!("Memory (net bytes held, counted by the global allocator):");
    println!(
        "| nodes | registry view + index | + steady-state allocations | allocations outstanding |"
    );
    println!("|---:|---:|---:|---:|");
    for (n, registry, with_work, outstanding) in memory_rows {
        println!(
            "| {n} | {:.1} MiB | {:.1} MiB | {outstanding} |",
            mib(registry),
            mib(with_work)
        );
    }
}
