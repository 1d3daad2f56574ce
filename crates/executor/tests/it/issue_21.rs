//! Issue 21, "A hostile program can never hurt an honest operator": compile bombs are refused
//! by the static budget before compiling, host calls and instantiation pay for what they cost
//! and cannot dodge the wall-clock watchdog, and `memory.grow` is priced.
//!
//! The bombs are emitted as bytes here (a million nested blocks would take the WAT parser
//! longer than the check takes).

use std::time::Duration;

use proptest::prelude::*;
use verity_executor::{
    BudgetMeasure, ExecError, Executor, ExecutorConfig, ModuleBudget, Phase, TaskLimits,
};

use crate::hostile::still_healthy;
use crate::support::{error_of, executor, guest, limits, wat};

/// A module `run` + `memory` module with `functions` functions of type `() -> ()`, each with
/// `locals` i32 locals and a body of `depth` nested blocks, and `extra_exports` more exports
/// of function 0.
fn module(functions: u32, locals: u32, depth: u32, extra_exports: u32) -> Vec<u8> {
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    // type 0: () -> ()
    section(&mut out, 1, |s| s.extend([1, 0x60, 0, 0]));
    section(&mut out, 3, |s| {
        leb(s, functions.into());
        for _ in 0..functions {
            s.push(0);
        }
    });
    // memory 0: 1 page
    section(&mut out, 5, |s| s.extend([1, 0, 1]));
    section(&mut out, 7, |s| {
        leb(s, u64::from(extra_exports) + 2);
        name(s, "memory");
        s.extend([2, 0]);
        name(s, "run");
        s.extend([0, 0]);
        for i in 0..extra_exports {
            name(s, &format!("e{i}"));
            s.extend([0, 0]);
        }
    });
    section(&mut out, 10, |s| {
        leb(s, functions.into());
        let mut body = Vec::new();
        if locals == 0 {
            body.push(0);
        } else {
            body.push(1);
            leb(&mut body, locals.into());
            body.push(0x7f);
        }
        for _ in 0..depth {
            body.extend([0x02, 0x40]); // block (empty type)
        }
        body.extend(std::iter::repeat_n(0x0b, depth as usize)); // end of each block
        body.push(0x0b); // end of the function
        for _ in 0..functions {
            leb(s, body.len() as u64);
            s.extend(&body);
        }
    });
    out
}

fn leb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn name(out: &mut Vec<u8>, name: &str) {
    leb(out, name.len() as u64);
    out.extend(name.as_bytes());
}

fn section(out: &mut Vec<u8>, id: u8, fill: impl FnOnce(&mut Vec<u8>)) {
    let mut body = Vec::new();
    fill(&mut body);
    out.push(id);
    leb(out, body.len() as u64);
    out.extend(body);
}

fn over_budget(measure: BudgetMeasure, found: u64, max: u64) -> ExecError {
    ExecError::OverBudget {
        measure,
        found,
        max,
    }
}

/// An executor whose watchdog fires after 200 ms and that grants all the fuel a task asks.
fn short_wall_clock() -> (Executor, TaskLimits) {
    let executor = Executor::new(ExecutorConfig {
        wall_time_limit_ms: 200,
        max_task_fuel: u64::MAX,
        ..ExecutorConfig::default()
    })
    .unwrap();
    let limits = TaskLimits {
        fuel: 1 << 50,
        ..limits()
    };
    (executor, limits)
}

#[test]
fn the_bytes_emitted_here_are_a_valid_guest() {
    let out = executor()
        .execute(&module(3, 2, 2, 1), b"", &limits())
        .unwrap();
    assert!(out.output.is_empty());
}

#[test]
fn the_example_guests_are_within_the_budget() {
    for name in ["sha256", "matmul", "sort", "sensor_aggregate"] {
        ModuleBudget::default()
            .check(&guest(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn issue_21_many_functions_are_refused_before_compiling() {
    let executor = executor();
    let error = executor
        .execute(&module(100_000, 0, 0, 0), b"", &limits())
        .unwrap_err();
    assert_eq!(
        error,
        over_budget(BudgetMeasure::Functions, 100_000, 20_000)
    );
    assert!(error.is_deterministic());
    assert_eq!(error.code(), "V-EXE-018");
    still_healthy(&executor);
}

#[test]
fn issue_21_the_800_kb_locals_bomb_is_refused_before_compiling() {
    // The issue's bomb: 100,000 empty functions of 50,000 locals (compiled for over 500 s).
    assert_eq!(
        error_of(&module(100_000, 50_000, 0, 0), b""),
        over_budget(BudgetMeasure::Functions, 100_000, 20_000)
    );
}

#[test]
fn issue_21_many_locals_in_one_function_are_refused() {
    assert_eq!(
        error_of(&module(2, 50_000, 0, 0), b""),
        over_budget(
            BudgetMeasure::LocalsInFunction { function: 0 },
            50_000,
            10_000
        )
    );
}

#[test]
fn issue_21_many_locals_spread_over_functions_are_refused() {
    // 9,000 locals each is within the per-function limit; 200 of them are 1.8 million.
    assert_eq!(
        error_of(&module(200, 9_000, 0, 0), b""),
        over_budget(BudgetMeasure::TotalLocals, 1_008_000, 1_000_000)
    );
}

#[test]
fn issue_21_deep_nesting_is_refused() {
    let executor = executor();
    // 3 MB: the issue's million nested blocks, one function over the body size limit.
    let error = executor
        .execute(&module(1, 0, 1_000_000, 0), b"", &limits())
        .unwrap_err();
    assert_eq!(
        error,
        over_budget(
            BudgetMeasure::FunctionBodyBytes { function: 0 },
            3_000_002,
            1 << 20
        )
    );
    // 60 KB of 20,000 nested blocks, which the old code compiled (and kept) without complaint:
    // the reader stops at the first block past the limit.
    assert_eq!(
        executor.prepare(&module(1, 0, 20_000, 0)).unwrap_err(),
        over_budget(BudgetMeasure::NestingDepth { function: 0 }, 1_001, 1_000)
    );
    still_healthy(&executor);
}

#[test]
fn issue_21_an_export_flood_is_refused() {
    assert_eq!(
        error_of(&module(1, 0, 0, 100_000), b""),
        over_budget(BudgetMeasure::Exports, 100_002, 1_000)
    );
}

#[test]
fn issue_21_byte_at_a_time_host_calls_end_at_the_wall_clock_limit() {
    // Reads the input one byte at a time, forever: every call sets the store's fuel, which
    // restarted the countdown to the watchdog's next check, so it ran 604 s against 30 s.
    let program = wat::parse_str(
        r#"(module
             (import "verity" "input_len" (func $input_len (result i32)))
             (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
             (memory (export "memory") 1)
             (func (export "run") (local $at i32)
               (loop $forever
                 (drop (call $read_input (i32.const 0) (local.get $at) (i32.const 1)))
                 (local.set $at (i32.rem_u (i32.add (local.get $at) (i32.const 1))
                                           (call $input_len)))
                 (br $forever))))"#,
    )
    .unwrap();
    let (executor, limits) = short_wall_clock();
    let error = executor
        .execute(&program, b"0123456789", &limits)
        .unwrap_err();
    assert_eq!(
        error,
        ExecError::Timeout {
            phase: Phase::Run,
            limit_ms: 200
        }
    );
    assert!(!error.is_deterministic());
    still_healthy(&executor);
}

#[test]
fn issue_21_a_start_function_looping_on_host_calls_ends_at_the_wall_clock_limit() {
    let program = wat::parse_str(
        r#"(module
             (import "verity" "input_len" (func $input_len (result i32)))
             (memory (export "memory") 1)
             (func $start (loop $forever (drop (call $input_len)) (br $forever)))
             (start $start)
             (func (export "run")))"#,
    )
    .unwrap();
    let (executor, limits) = short_wall_clock();
    assert_eq!(
        executor.execute(&program, b"", &limits).unwrap_err(),
        ExecError::Timeout {
            phase: Phase::Instantiate,
            limit_ms: 200
        }
    );
    still_healthy(&executor);
}

/// A guest that calls `input_len` as many times as the input's first 4 bytes say.
fn host_call_counter() -> Vec<u8> {
    wat::parse_str(
        r#"(module
             (import "verity" "input_len" (func $input_len (result i32)))
             (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
             (memory (export "memory") 1)
             (func (export "run") (local $n i32)
               (drop (call $read_input (i32.const 0) (i32.const 0) (i32.const 4)))
               (local.set $n (i32.load (i32.const 0)))
               (block $done
                 (loop $next
                   (br_if $done (i32.eqz (local.get $n)))
                   (drop (call $input_len))
                   (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                   (br $next)))))"#,
    )
    .unwrap()
}

/// A guest that runs `memory.grow 0` as many times as the input's first 4 bytes say.
fn grow_zero_counter() -> Vec<u8> {
    wat::parse_str(
        r#"(module
             (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
             (memory (export "memory") 1)
             (func (export "run") (local $n i32)
               (drop (call $read_input (i32.const 0) (i32.const 0) (i32.const 4)))
               (local.set $n (i32.load (i32.const 0)))
               (block $done
                 (loop $next
                   (br_if $done (i32.eqz (local.get $n)))
                   (drop (memory.grow (i32.const 0)))
                   (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                   (br $next)))))"#,
    )
    .unwrap()
}

/// Fuel of one iteration of the counting loops above, without their body.
const LOOP_FUEL: u64 = 8;

fn fuel_for(program: &[u8], count: u32) -> u64 {
    executor()
        .execute(program, &count.to_le_bytes(), &limits())
        .unwrap()
        .receipt
        .fuel_used
}

#[test]
fn issue_21_a_host_call_costs_what_it_takes() {
    let program = host_call_counter();
    // Per iteration: the host call (250), the `call` instruction (1), and the loop's 8
    // (local.get, i32.eqz, br_if, local.get, i32.const, i32.sub, local.set, br; drop is free).
    // It was 1 + 1 + 8 before issue 21.
    let per_iteration = (fuel_for(&program, 2000) - fuel_for(&program, 1000)) / 1000;
    assert_eq!(per_iteration, 250 + 1 + LOOP_FUEL);
}

#[test]
fn issue_21_memory_grow_costs_255_fuel() {
    let program = grow_zero_counter();
    let per_iteration = (fuel_for(&program, 2000) - fuel_for(&program, 1000)) / 1000;
    // memory.grow 0 (255; it was 1), its i32.const (1), and the loop's 8.
    assert_eq!(per_iteration, 255 + 1 + LOOP_FUEL);
}

#[test]
fn issue_21_a_grow_zero_loop_runs_out_of_fuel_at_the_default_limits() {
    let program = wat::parse_str(
        r#"(module (memory (export "memory") 1)
             (func (export "run") (loop $forever (drop (memory.grow (i32.const 0))) (br $forever))))"#,
    )
    .unwrap();
    let defaults = TaskLimits::default();
    let error = executor().execute(&program, b"", &defaults).unwrap_err();
    // Not the 30 s default wall-clock limit: 1e10 fuel is under 40 million grows.
    assert_eq!(
        error,
        ExecError::OutOfFuel {
            limit: defaults.fuel
        }
    );
}

#[test]
fn issue_21_data_segments_are_paid_for_before_instantiation() {
    // 1 MiB of data: copying it is instantiation work, charged before any of it is done.
    let program = wat::parse_str(format!(
        r#"(module (memory (export "memory") 16) (data (i32.const 0) "{}") (func (export "run")))"#,
        "x".repeat(1 << 20)
    ))
    .unwrap();
    let executor = executor();
    let used = executor
        .execute(&program, b"", &limits())
        .unwrap()
        .receipt
        .fuel_used;
    assert!(used > 1 << 20, "{used}");
    let short = TaskLimits {
        fuel: 1 << 20,
        ..limits()
    };
    assert_eq!(
        executor.execute(&program, b"", &short).unwrap_err(),
        ExecError::OutOfFuel { limit: 1 << 20 }
    );
}

#[test]
fn compiling_past_the_deadline_is_a_host_side_compile_timeout() {
    let executor = executor();
    // Thousands of functions take milliseconds to compile; the deadline is zero.
    let program = module(5_000, 10, 10, 0);
    let error = executor
        .prepare_within(&program, Duration::ZERO)
        .unwrap_err();
    assert_eq!(error, ExecError::CompileTimeout { limit_ms: 0 });
    assert!(!error.is_deterministic());
    assert_eq!(error.code(), "V-EXE-019");
    // The budget is checked first, on the caller's thread, and is a verdict however short
    // the deadline.
    assert_eq!(
        executor
            .prepare_within(&module(100_000, 0, 0, 0), Duration::ZERO)
            .unwrap_err(),
        over_budget(BudgetMeasure::Functions, 100_000, 20_000)
    );
    // A generous deadline compiles (or finds the background compilation's result).
    assert!(
        executor
            .prepare_within(&program, Duration::from_secs(600))
            .is_ok()
    );
    still_healthy(&executor);
}

#[test]
fn a_cache_smaller_than_a_module_keeps_nothing() {
    let tiny = Executor::new(ExecutorConfig {
        module_cache_bytes: 1024,
        ..ExecutorConfig::default()
    })
    .unwrap();
    let program = wat("echo");
    tiny.execute(&program, b"a", &limits()).unwrap();
    assert!(
        !tiny
            .execute(&program, b"a", &limits())
            .unwrap()
            .timings
            .cache_hit
    );
    let default = executor();
    default.execute(&program, b"a", &limits()).unwrap();
    assert!(
        default
            .execute(&program, b"a", &limits())
            .unwrap()
            .timings
            .cache_hit
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_budget_verdict_is_the_same_every_time_and_small_modules_pass(
        functions in 0u32..40,
        locals in 0u32..200,
        depth in 0u32..40,
        exports in 0u32..40,
    ) {
        let bytes = module(functions, locals, depth, exports);
        let budget = ModuleBudget::default();
        let first = budget.check(&bytes);
        prop_assert_eq!(&first, &budget.check(&bytes));
        prop_assert!(first.is_ok(), "{:?}", first);

        // At the module's own nesting depth it passes; one below, it is refused (if it has
        // a function to measure).
        let exact = ModuleBudget { max_nesting_depth: depth, ..budget };
        prop_assert!(exact.check(&bytes).is_ok());
        if functions > 0 && depth > 0 {
            let tight = ModuleBudget { max_nesting_depth: depth - 1, ..budget };
            prop_assert_eq!(
                tight.check(&bytes).unwrap_err(),
                over_budget(BudgetMeasure::NestingDepth { function: 0 }, u64::from(depth), u64::from(depth - 1))
            );
        }
    }
}

/// A loop of `count` (the input's first 4 bytes) iterations around `body`.
fn counted_loop(body: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
             (import "verity" "input_len" (func $input_len (result i32)))
             (import "verity" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
             (memory (export "memory") 2)
             (table 1 funcref)
             (func (export "run") (local $n i32) (local $x i32)
               (drop (call $read_input (i32.const 0) (i32.const 0) (i32.const 4)))
               (local.set $n (i32.load (i32.const 0)))
               (block $done
                 (loop $next
                   (br_if $done (i32.eqz (local.get $n)))
                   {body}
                   (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                   (br $next)))))"#
    ))
    .unwrap()
}

/// Measures what the fuel prices in `src/fuel.rs` are calibrated against. Not a test: run with
/// `cargo test -p verity-executor --test it -- --ignored calibrate --nocapture`.
#[test]
#[ignore]
fn calibrate_fuel_prices() {
    let executor = Executor::new(ExecutorConfig {
        max_task_fuel: u64::MAX,
        ..ExecutorConfig::default()
    })
    .unwrap();
    let limits = TaskLimits {
        fuel: 1 << 40,
        ..TaskLimits::default()
    };
    let count = 2_000_000u32;
    let mut input = count.to_le_bytes().to_vec();
    input.resize(65_536, 7);
    // Best of 5 runs: ns per iteration, fuel per iteration.
    let time = |body: &str| {
        let program = counted_loop(body);
        (0..5)
            .map(|_| {
                let out = executor.execute(&program, &input, &limits).unwrap();
                (
                    out.timings.run.as_nanos() as f64 / f64::from(count),
                    out.receipt.fuel_used as f64 / f64::from(count),
                )
            })
            .fold((f64::MAX, 0.0), |(t, _), (t2, f)| (t.min(t2), f))
    };
    let (base_ns, base_fuel) = time("");
    let arith = "(local.set $x (i32.add (i32.mul (local.get $x) (i32.const 3)) (local.get $n)))";
    let (arith_ns, arith_fuel) = time(&format!("{arith}{arith}{arith}{arith}{arith}"));
    let ns_per_fuel = (arith_ns - base_ns) / (arith_fuel - base_fuel);
    println!("empty loop: {base_ns:.2} ns, {base_fuel} fuel per iteration");
    println!("guest arithmetic: {ns_per_fuel:.3} ns per fuel");
    let sha = guest("sha256");
    let data = vec![7u8; 4 << 20];
    let sha_ns_per_fuel = (0..5)
        .map(|_| {
            let out = executor.execute(&sha, &data, &limits).unwrap();
            out.timings.run.as_nanos() as f64 / out.receipt.fuel_used as f64
        })
        .fold(f64::MAX, f64::min);
    println!("sha256 guest (C, clang -O2) on 4 MiB: {sha_ns_per_fuel:.3} ns per fuel");
    for (name, body) in [
        ("input_len", "(drop (call $input_len))"),
        (
            "read_input 1 byte",
            "(drop (call $read_input (i32.const 8) (i32.const 0) (i32.const 1)))",
        ),
        (
            "read_input 64 KiB",
            "(drop (call $read_input (i32.const 8) (i32.const 0) (i32.const 65536)))",
        ),
        ("memory.grow 0", "(drop (memory.grow (i32.const 0)))"),
        (
            "memory.fill 0 bytes",
            "(memory.fill (i32.const 0) (i32.const 0) (i32.const 0))",
        ),
        (
            "memory.copy 0 bytes",
            "(memory.copy (i32.const 0) (i32.const 8) (i32.const 0))",
        ),
        (
            "table.grow 0",
            "(drop (table.grow (ref.null func) (i32.const 0)))",
        ),
        ("table.size", "(drop (table.size))"),
    ] {
        let (ns, fuel) = time(body);
        let extra_ns = ns - base_ns;
        println!(
            "{name}: {extra_ns:.1} ns = {:.0} fuel at guest speed; charged {:.0}",
            extra_ns / ns_per_fuel,
            fuel - base_fuel
        );
    }
    let noop =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "run")))"#).unwrap();
    let best = (0..50)
        .map(|_| {
            let out = executor.execute(&noop, b"", &limits).unwrap();
            out.timings.instantiate.as_nanos() as f64
        })
        .fold(f64::MAX, f64::min);
    println!(
        "instantiating a one-page no-op module: {best:.0} ns = {:.0} fuel",
        best / ns_per_fuel
    );
}
