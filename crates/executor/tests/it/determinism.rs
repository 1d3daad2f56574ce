//! The same module, input and limits give byte-identical output and receipt every time.

use std::sync::Arc;
use std::thread;

use verity_executor::{Digest, ExecError, Executor, ExecutorConfig, Receipt, TaskLimits};

use crate::support::{Rng, executor, guest, limits, wat};

fn fuel_meter_input(count: u32) -> Vec<u8> {
    count.to_le_bytes().to_vec()
}

#[test]
fn repeated_runs_give_identical_output_and_receipt() {
    let program = guest("sha256");
    let input = Rng::new(1).bytes(100_000);
    let cold = executor().execute(&program, &input, &limits()).unwrap();
    assert!(!cold.timings.cache_hit);
    let warm_executor = executor();
    for _ in 0..5 {
        let warm = warm_executor.execute(&program, &input, &limits()).unwrap();
        assert_eq!(warm.output, cold.output);
        assert_eq!(warm.receipt, cold.receipt);
    }
    assert!(
        warm_executor
            .execute(&program, &input, &limits())
            .unwrap()
            .timings
            .cache_hit
    );
}

#[test]
fn runs_on_many_threads_agree() {
    let executor = Arc::new(executor());
    let program = Arc::new(guest("sensor_aggregate"));
    let input = Arc::new(crate::guests::sensor_batch(&mut Rng::new(7), 20_000).encode());
    let expected = executor.execute(&program, &input, &limits()).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (executor, program, input) = (
                Arc::clone(&executor),
                Arc::clone(&program),
                Arc::clone(&input),
            );
            thread::spawn(move || {
                (0..3)
                    .map(|_| executor.execute(&program, &input, &limits()).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for handle in handles {
        for execution in handle.join().unwrap() {
            assert_eq!(execution.output, expected.output);
            assert_eq!(execution.receipt, expected.receipt);
        }
    }
}

#[test]
fn the_receipt_describes_the_run() {
    let executor = executor();
    let program = wat("echo");
    let execution = executor.execute(&program, b"hello", &limits()).unwrap();
    let receipt = &execution.receipt;
    assert_eq!(receipt.module_digest, Digest::of(&program));
    assert_eq!(receipt.result_digest, Digest::of(b"hello"));
    assert_eq!(receipt.output_len, 5);
    assert_eq!(receipt.limits, limits());
    assert_eq!(&receipt.engine, executor.identity());
    assert_eq!(
        receipt.engine.config_digest,
        Digest::of(executor.describe_config().as_bytes())
    );
    assert!(
        receipt
            .engine
            .to_string()
            .starts_with("wasmtime-48.0.8+cfg.")
    );
    let json = serde_json::to_string(receipt).unwrap();
    assert_eq!(serde_json::from_str::<Receipt>(&json).unwrap(), *receipt);
}

#[test]
fn fuel_is_exact_the_limit_that_suffices_and_one_less() {
    let executor = executor();
    let program = wat("fuel_meter");
    let input = fuel_meter_input(10_000);
    let used = executor
        .execute(&program, &input, &limits())
        .unwrap()
        .receipt
        .fuel_used;
    let exact = TaskLimits {
        fuel: used,
        ..limits()
    };
    assert_eq!(
        executor
            .execute(&program, &input, &exact)
            .unwrap()
            .receipt
            .fuel_used,
        used
    );
    let short = TaskLimits {
        fuel: used - 1,
        ..limits()
    };
    assert_eq!(
        executor.execute(&program, &input, &short).unwrap_err(),
        ExecError::OutOfFuel { limit: used - 1 }
    );
}

#[test]
fn fuel_grows_linearly_with_work() {
    let executor = executor();
    let program = wat("fuel_meter");
    let fuel = |count| {
        executor
            .execute(&program, &fuel_meter_input(count), &limits())
            .unwrap()
            .receipt
            .fuel_used
    };
    let (a, b, c) = (fuel(1000), fuel(2000), fuel(3000));
    assert!(a < b);
    assert_eq!(b - a, c - b);
}

#[test]
fn identity_ignores_node_only_settings_and_tracks_the_stack_limit() {
    let base = executor();
    let other_node = Executor::new(ExecutorConfig {
        module_cache_bytes: 0,
        wall_time_limit_ms: 5,
        ..ExecutorConfig::default()
    })
    .unwrap();
    assert_eq!(base.identity(), other_node.identity());
    let bigger_stack = Executor::new(ExecutorConfig {
        max_wasm_stack_bytes: 1 << 20,
        ..ExecutorConfig::default()
    })
    .unwrap();
    assert_ne!(base.identity(), bigger_stack.identity());
}

#[test]
fn the_watchdog_changes_no_result() {
    let without = Executor::new(ExecutorConfig {
        wall_clock_watchdog: false,
        ..ExecutorConfig::default()
    })
    .unwrap();
    assert_eq!(without.identity(), executor().identity());
    let program = guest("matmul");
    let input = verity_executor::native::matmul::encode(3, &[1, 2, 3, 4, 5, 6, 7, 8, 9], &[9; 9]);
    assert_eq!(
        without
            .execute(&program, &input, &limits())
            .unwrap()
            .receipt,
        executor()
            .execute(&program, &input, &limits())
            .unwrap()
            .receipt
    );
}

#[test]
fn a_disabled_cache_still_gives_the_same_receipt() {
    let uncached = Executor::new(ExecutorConfig {
        module_cache_bytes: 0,
        ..ExecutorConfig::default()
    })
    .unwrap();
    let program = guest("sort");
    let input = verity_executor::native::sort::encode(&[5, 3, 9, 1]);
    let a = uncached.execute(&program, &input, &limits()).unwrap();
    let b = uncached.execute(&program, &input, &limits()).unwrap();
    assert!(!b.timings.cache_hit);
    assert_eq!(a.receipt, b.receipt);
    assert_eq!(
        a.receipt,
        executor()
            .execute(&program, &input, &limits())
            .unwrap()
            .receipt
    );
}
