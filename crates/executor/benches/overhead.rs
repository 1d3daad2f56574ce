//! Execution overhead: each example guest under the executor (fuel metering on, NaN
//! canonicalization on, every limit enforced) against the same kernel compiled natively, in the
//! same run, at fixed input sizes. Also times compilation and instantiation on their own, and the
//! fixed cost of a task with a no-op module.
//!
//! Needs the C guests: `scripts/build-guests.sh`, then
//! `cargo bench -p verity-executor --bench overhead`.
//!
//! Kernels come in two groups: compute kernels (the four original ones, plus memory-bound
//! table lookups and data-dependent branching), whose median run ratio is the overhead figure,
//! and tiny workloads, where the fixed per-task cost dominates and the whole `execute()` is
//! what counts.
//!
//! Columns (medians over the kernel's iterations after `WARMUP` runs):
//! - native: the Rust kernel in `verity_executor::native`, input bytes in, output bytes out.
//! - wasm run: the guest's `run` call alone (what fuel metering and the sandbox cost), with
//!   the wall-clock watchdog (the default) and without it (`wall_clock_watchdog: false`).
//! - execute() total: all of `Executor::execute` with a warm module cache: store,
//!   instantiation, input copy, `run`, output copy, SHA-256 of module and output.
//! - compile: hashing, compiling and checking the module (cache disabled).
//! - instantiate: memory, segments and store setup for one execution.
//!
//! Fixed cost: `execute()` of `guests/wat/noop.wat` (empty input, empty output) and of
//! `guests/wat/echo.wat` on 64 bytes (instantiate, copy in, copy out), with the phases.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use verity_executor::native::{branchy, lookup, matmul, sensor, sha256, sort};
use verity_executor::{Executor, ExecutorConfig, TaskLimits};

const WARMUP: usize = 3;
const ITERATIONS: usize = 31;
/// Tiny workloads take microseconds: more runs for the same confidence.
const TINY_ITERATIONS: usize = 301;
const FIXED_COST_ITERATIONS: usize = 2001;
const COMPILE_ITERATIONS: usize = 11;

struct Kernel {
    name: &'static str,
    size: String,
    guest: &'static str,
    input: Vec<u8>,
    native: fn(&[u8]) -> Vec<u8>,
    /// A tiny workload: the per-task cost dominates.
    tiny: bool,
}

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn kernels() -> Vec<Kernel> {
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let sha_input: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();

    let n = 128u32;
    let nn = (n * n) as usize;
    let a: Vec<i32> = (0..nn).map(|_| rng.next() as i32).collect();
    let b: Vec<i32> = (0..nn).map(|_| rng.next() as i32).collect();

    let values: Vec<u32> = (0..1 << 18).map(|_| rng.next() as u32).collect();

    let (start, end) = (1_700_000_000_000u64, 1_700_000_600_000u64);
    let readings = (0..1 << 16)
        .map(|_| sensor::Reading {
            sensor_id: (rng.next() % 64) as u32,
            value: (rng.next() % 3000) as i32 - 1500,
            timestamp: start - 60_000 + rng.next() % 720_000,
        })
        .collect();
    let batch = sensor::Batch {
        window_start: start,
        window_end: end,
        min_value: -1000,
        max_value: 1000,
        readings,
    };

    let lookup_seed = rng.next();
    let branchy_input: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
    let tiny_sha_input: Vec<u8> = (0..64).map(|_| rng.next() as u8).collect();
    let tiny_branchy_input: Vec<u8> = (0..256).map(|_| rng.next() as u8).collect();

    vec![
        Kernel {
            name: "sensor aggregation",
            size: "65,536 readings (1 MiB)".into(),
            guest: "sensor_aggregate",
            input: batch.encode(),
            native: sensor::run,
            tiny: false,
        },
        Kernel {
            name: "sha256",
            size: "1 MiB".into(),
            guest: "sha256",
            input: sha_input,
            native: |input| sha256::run(input).to_vec(),
            tiny: false,
        },
        Kernel {
            name: "matmul i32",
            size: format!("{n}x{n}"),
            guest: "matmul",
            input: matmul::encode(n, &a, &b),
            native: |input| matmul::run(input).expect("valid input"),
            tiny: false,
        },
        Kernel {
            name: "radix sort u32",
            size: "262,144 values (1 MiB)".into(),
            guest: "sort",
            input: sort::encode(&values),
            native: |input| sort::run(input).expect("valid input"),
            tiny: false,
        },
        Kernel {
            name: "table lookups",
            size: "2^20 entries (4 MiB), 2^21 steps".into(),
            guest: "lookup",
            input: lookup::encode(lookup_seed, 20, 1 << 21),
            native: |input| lookup::run(input).expect("valid input"),
            tiny: false,
        },
        Kernel {
            name: "branchy state machine",
            size: "1 MiB".into(),
            guest: "branchy",
            input: branchy_input,
            native: branchy::run,
            tiny: false,
        },
        Kernel {
            name: "tiny: sha256",
            size: "64 B".into(),
            guest: "sha256",
            input: tiny_sha_input,
            native: |input| sha256::run(input).to_vec(),
            tiny: true,
        },
        Kernel {
            name: "tiny: table lookups",
            size: "2^8 entries, 256 steps".into(),
            guest: "lookup",
            input: lookup::encode(lookup_seed, 8, 256),
            native: |input| lookup::run(input).expect("valid input"),
            tiny: true,
        },
        Kernel {
            name: "tiny: branchy state machine",
            size: "256 B".into(),
            guest: "branchy",
            input: tiny_branchy_input,
            native: branchy::run,
            tiny: true,
        },
    ]
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.4}", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn median_of(mut ratios: Vec<f64>) -> f64 {
    ratios.sort_by(f64::total_cmp);
    let mid = ratios.len() / 2;
    if ratios.len().is_multiple_of(2) {
        (ratios[mid - 1] + ratios[mid]) / 2.0
    } else {
        ratios[mid]
    }
}

/// Medians of one kernel under one executor.
struct Measured {
    native: Duration,
    run: Duration,
    total: Duration,
    instantiate: Duration,
    /// Fastest native run, `run` call and `execute()`: background load only ever adds time,
    /// so on a shared machine the best runs are the steadier comparison.
    native_best: Duration,
    run_best: Duration,
    total_best: Duration,
}

fn measure(executor: &Executor, module: &[u8], kernel: &Kernel, limits: &TaskLimits) -> Measured {
    // Native and WebAssembly runs alternate, so background load hits both alike.
    let (mut native, mut total, mut run, mut instantiate) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let iterations = if kernel.tiny {
        TINY_ITERATIONS
    } else {
        ITERATIONS
    };
    for i in 0..WARMUP + iterations {
        let started = Instant::now();
        black_box((kernel.native)(black_box(&kernel.input)));
        let native_elapsed = started.elapsed();

        let started = Instant::now();
        let execution = executor
            .execute(black_box(module), black_box(&kernel.input), limits)
            .expect("guest runs");
        let elapsed = started.elapsed();
        black_box(&execution.output);
        if i >= WARMUP {
            native.push(native_elapsed);
            total.push(elapsed);
            run.push(execution.timings.run);
            instantiate.push(execution.timings.instantiate);
        }
    }
    let best = |samples: &[Duration]| samples.iter().copied().min().unwrap_or_default();
    Measured {
        native_best: best(&native),
        run_best: best(&run),
        total_best: best(&total),
        native: median(native),
        run: median(run),
        total: median(total),
        instantiate: median(instantiate),
    }
}

fn main() {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../guests/out");
    let limits = TaskLimits {
        fuel: 100_000_000_000,
        max_memory_bytes: 64 << 20,
        max_output_bytes: 8 << 20,
        ..TaskLimits::default()
    };
    let watched = Executor::new(ExecutorConfig::default()).expect("executor");
    let fuel_only = Executor::new(ExecutorConfig {
        wall_clock_watchdog: false,
        ..ExecutorConfig::default()
    })
    .expect("executor");
    let uncached = Executor::new(ExecutorConfig {
        module_cache_bytes: 0,
        ..ExecutorConfig::default()
    })
    .expect("executor");

    println!("engine: {}", watched.identity());
    println!(
        "medians of {ITERATIONS} runs ({TINY_ITERATIONS} for tiny workloads) after {WARMUP} warm-up runs; times in ms"
    );
    println!();
    println!(
        "| kernel | size | native | wasm run, fuel + watchdog | ratio | wasm run, fuel only | ratio | execute() total, fuel + watchdog | ratio | best-of ratio, run | best-of ratio, execute() | fuel used | compile | instantiate |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let (mut watched_ratios, mut fuel_ratios, mut total_ratios) =
        (Vec::new(), Vec::new(), Vec::new());
    let (mut original_ratios, mut tiny_total_ratios) = (Vec::new(), Vec::new());
    let (mut best_run_ratios, mut tiny_best_total_ratios) = (Vec::new(), Vec::new());
    for kernel in kernels() {
        let path = out.join(format!("{}.wasm", kernel.guest));
        let module = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}: run scripts/build-guests.sh", path.display()));

        let reference = (kernel.native)(&kernel.input);
        let check = watched
            .execute(&module, &kernel.input, &limits)
            .expect("guest runs");
        assert_eq!(
            check.output, reference,
            "{}: guest and native differ",
            kernel.name
        );
        let unwatched = fuel_only
            .execute(&module, &kernel.input, &limits)
            .expect("guest runs");
        assert_eq!(
            unwatched.receipt, check.receipt,
            "{}: watchdog changed a result",
            kernel.name
        );

        let a = measure(&watched, &module, &kernel, &limits);
        let b = measure(&fuel_only, &module, &kernel, &limits);

        let mut compile = Vec::new();
        for _ in 0..COMPILE_ITERATIONS {
            let started = Instant::now();
            uncached.prepare(black_box(&module)).expect("compiles");
            compile.push(started.elapsed());
        }

        if kernel.tiny {
            tiny_total_ratios.push(ratio(a.total, a.native));
            tiny_best_total_ratios.push(ratio(a.total_best, a.native_best));
        } else {
            best_run_ratios.push(ratio(a.run_best, a.native_best));
            watched_ratios.push(ratio(a.run, a.native));
            fuel_ratios.push(ratio(b.run, b.native));
            total_ratios.push(ratio(a.total, a.native));
            if ORIGINAL.contains(&kernel.guest) {
                original_ratios.push(ratio(a.run, a.native));
            }
        }
        println!(
            "| {} | {} | {} | {} | {:.2}x | {} | {:.2}x | {} | {:.2}x | {:.2}x | {:.2}x | {} | {} | {} |",
            kernel.name,
            kernel.size,
            ms(a.native),
            ms(a.run),
            ratio(a.run, a.native),
            ms(b.run),
            ratio(b.run, b.native),
            ms(a.total),
            ratio(a.total, a.native),
            ratio(a.run_best, a.native_best),
            ratio(a.total_best, a.native_best),
            check.receipt.fuel_used,
            ms(median(compile)),
            ms(a.instantiate),
        );
    }
    println!();
    println!(
        "median ratio over the compute kernels: run, fuel + watchdog {:.2}x; run, fuel only {:.2}x; execute() total {:.2}x",
        median_of(watched_ratios),
        median_of(fuel_ratios),
        median_of(total_ratios)
    );
    println!(
        "median of the best-of ratios over the compute kernels: run, fuel + watchdog {:.2}x",
        median_of(best_run_ratios)
    );
    println!(
        "median ratio over the four original kernels: run, fuel + watchdog {:.2}x",
        median_of(original_ratios)
    );
    println!(
        "median ratio over the tiny workloads: execute() total {:.2}x (best-of {:.2}x)",
        median_of(tiny_total_ratios),
        median_of(tiny_best_total_ratios)
    );
    println!();
    fixed_cost(&watched, &limits);
}

/// The four kernels of the first benchmark, for comparison with earlier results.
const ORIGINAL: [&str; 4] = ["sensor_aggregate", "sha256", "matmul", "sort"];

/// Median, 10th and 90th percentile of `execute()` for a no-op module and for echo on 64
/// bytes, and the median of each phase.
fn fixed_cost(executor: &Executor, limits: &TaskLimits) {
    let wat_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../guests/wat");
    println!(
        "fixed per-task cost, fuel + watchdog, warm module cache; {FIXED_COST_ITERATIONS} runs; times in µs"
    );
    println!();
    println!("| module | input | execute() median | p10 | p90 | load | instantiate | run |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for (name, input) in [("noop", Vec::new()), ("echo", vec![0x5a; 64])] {
        let path = wat_dir.join(format!("{name}.wat"));
        let module = wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (mut total, mut load, mut instantiate, mut run) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..WARMUP + FIXED_COST_ITERATIONS {
            let started = Instant::now();
            let execution = executor
                .execute(black_box(&module), black_box(&input), limits)
                .expect("guest runs");
            let elapsed = started.elapsed();
            assert_eq!(execution.output.len(), if name == "echo" { 64 } else { 0 });
            if i >= WARMUP {
                total.push(elapsed);
                load.push(execution.timings.load);
                instantiate.push(execution.timings.instantiate);
                run.push(execution.timings.run);
            }
        }
        total.sort();
        let at = |q: usize| total[q * (total.len() - 1) / 100];
        println!(
            "| {name} | {} B | {} | {} | {} | {} | {} | {} |",
            input.len(),
            us(at(50)),
            us(at(10)),
            us(at(90)),
            us(median(load)),
            us(median(instantiate)),
            us(median(run)),
        );
    }
}
