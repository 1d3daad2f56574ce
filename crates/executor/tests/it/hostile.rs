//! Every hostile program ends in its exact typed error, and the executor stays usable.

use verity_executor::{ExecError, Executor, ExecutorConfig, GuestTrap, Phase, TaskLimits};

use crate::support::{error_of, executor, limits, run, wat};

/// After a hostile program, the same executor still runs a normal one.
pub(crate) fn still_healthy(executor: &Executor) {
    let out = executor
        .execute(&wat("echo"), b"still here", &limits())
        .expect("echo after a hostile program");
    assert_eq!(out.output, b"still here");
}

#[test]
fn invalid_bytes_are_an_invalid_module() {
    for bytes in [&b""[..], b"not wasm at all", b"\0asm\x01\0\0\0\x01"] {
        assert!(
            matches!(error_of(bytes, b""), ExecError::InvalidModule { .. }),
            "{bytes:?}"
        );
    }
}

#[test]
fn a_module_over_the_size_limit_is_refused_before_compiling() {
    let config = ExecutorConfig {
        max_module_bytes: 64 << 10,
        ..ExecutorConfig::default()
    };
    let executor = Executor::new(config).unwrap();
    let big = wat::parse_str(format!(
        r#"(module (memory (export "memory") 2) (data (i32.const 0) "{}") (func (export "run")))"#,
        "x".repeat(100 << 10)
    ))
    .unwrap();
    let error = executor.execute(&big, b"", &limits()).unwrap_err();
    assert_eq!(
        error,
        ExecError::ModuleTooLarge {
            len: big.len(),
            max: 64 << 10
        }
    );
    still_healthy(&executor);
}

#[test]
fn a_huge_data_segment_larger_than_memory_traps_at_instantiation() {
    // 8 MiB of data into a one-page memory: within the module size limit, but it cannot fit.
    let big = wat::parse_str(format!(
        r#"(module (memory (export "memory") 1) (data (i32.const 0) "{}") (func (export "run")))"#,
        "x".repeat(8 << 20)
    ))
    .unwrap();
    assert_eq!(
        error_of(&big, b""),
        ExecError::Trap {
            phase: Phase::Instantiate,
            trap: GuestTrap::MemoryOutOfBounds
        }
    );
}

#[test]
fn a_data_segment_far_out_of_bounds_traps_at_instantiation() {
    assert_eq!(
        error_of(&wat("data_segment_out_of_bounds"), b""),
        ExecError::Trap {
            phase: Phase::Instantiate,
            trap: GuestTrap::MemoryOutOfBounds
        }
    );
}

#[test]
fn a_data_segment_needing_memory_over_the_limit_is_a_memory_limit() {
    // Declares 16 MiB to hold its data; the task allows 4 MiB.
    let module = wat::parse_str(
        r#"(module (memory (export "memory") 256) (data (i32.const 0xf00000) "x") (func (export "run")))"#,
    )
    .unwrap();
    assert_eq!(
        error_of(&module, b""),
        ExecError::MemoryLimit {
            phase: Phase::Instantiate,
            requested: 256 * 65536,
            max: 4 << 20
        }
    );
}

#[test]
fn clock_randomness_and_filesystem_imports_are_forbidden() {
    for (program, module, name) in [
        ("wasi_clock", "wasi_snapshot_preview1", "clock_time_get"),
        ("wasi_random", "wasi_snapshot_preview1", "random_get"),
        ("wasi_fd_write", "wasi_snapshot_preview1", "fd_write"),
        ("unknown_verity_import", "verity", "now"),
        ("imported_memory", "env", "memory"),
    ] {
        let executor = executor();
        assert_eq!(
            executor.prepare(&wat(program)).unwrap_err(),
            ExecError::ForbiddenImport {
                module: module.into(),
                name: name.into()
            },
            "{program}"
        );
    }
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let executor = executor();
    let error = executor
        .execute(&wat("infinite_loop"), b"", &limits())
        .unwrap_err();
    assert_eq!(error, ExecError::OutOfFuel { limit: 200_000_000 });
    assert!(error.is_deterministic());
    still_healthy(&executor);
}

#[test]
fn a_start_function_that_never_returns_runs_out_of_fuel() {
    assert_eq!(
        error_of(&wat("start_never_returns"), b""),
        ExecError::OutOfFuel { limit: 200_000_000 }
    );
}

#[test]
fn the_watchdog_stops_a_start_function_that_fuel_would_not() {
    let executor = Executor::new(ExecutorConfig {
        wall_time_limit_ms: 200,
        max_task_fuel: u64::MAX,
        ..ExecutorConfig::default()
    })
    .unwrap();
    let limits = TaskLimits {
        fuel: 1 << 62,
        ..limits()
    };
    let error = executor
        .execute(&wat("start_never_returns"), b"", &limits)
        .unwrap_err();
    assert_eq!(
        error,
        ExecError::Timeout {
            phase: Phase::Instantiate,
            limit_ms: 200
        }
    );
    assert!(!error.is_deterministic());
    // That the call returned at all shows the host is not hung; how fast is not a test.
    still_healthy(&executor);
}

#[test]
fn a_memory_bomb_stops_at_the_task_limit() {
    let executor = executor();
    let error = executor
        .execute(&wat("memory_bomb"), b"", &limits())
        .unwrap_err();
    // 1 page, then +16 pages per step: 65 pages is over 4 MiB (64 pages); 65 = 1 + 4 * 16.
    assert_eq!(
        error,
        ExecError::MemoryLimit {
            phase: Phase::Run,
            requested: 65 * 65536,
            max: 4 << 20
        }
    );
    still_healthy(&executor);
}

#[test]
fn a_huge_initial_memory_is_refused_at_instantiation() {
    assert_eq!(
        error_of(&wat("huge_initial_memory"), b""),
        ExecError::MemoryLimit {
            phase: Phase::Instantiate,
            requested: 60000 * 65536,
            max: 4 << 20
        }
    );
}

#[test]
fn deep_recursion_is_a_stack_overflow() {
    let executor = executor();
    let error = executor
        .execute(&wat("deep_recursion"), b"", &limits())
        .unwrap_err();
    assert_eq!(error, ExecError::StackOverflow { phase: Phase::Run });
    still_healthy(&executor);
}

#[test]
fn oversized_output_is_refused() {
    assert_eq!(
        error_of(&wat("oversized_output"), b""),
        ExecError::OutputTooLarge {
            len: 2 << 20,
            max: 1 << 20
        }
    );
}

#[test]
fn nan_results_are_canonical() {
    let out = run(&wat("nan"), b"").unwrap().output;
    let f32_at = |at: usize| u32::from_le_bytes(out[at..at + 4].try_into().unwrap());
    let f64_at = |at: usize| u64::from_le_bytes(out[at..at + 8].try_into().unwrap());
    const F32_NAN: u32 = 0x7fc0_0000;
    const F64_NAN: u64 = 0x7ff8_0000_0000_0000;
    assert_eq!(f32_at(0), F32_NAN, "f32 0/0");
    assert_eq!(f64_at(4), F64_NAN, "f64 0/0");
    assert_eq!(f32_at(12), F32_NAN, "signalling NaN with payload + 1");
    assert_eq!(f64_at(16), F64_NAN, "sqrt(-1)");
    assert_eq!(f32_at(24), F32_NAN, "f32x4 0/0");
    assert_eq!(f32_at(28), F32_NAN, "min(NaN with payload, 1)");
}

#[test]
fn relaxed_simd_and_shared_memory_are_rejected() {
    for program in ["relaxed_simd", "shared_memory"] {
        let error = error_of(&wat(program), b"");
        assert!(
            matches!(error, ExecError::InvalidModule { .. }),
            "{program}: {error}"
        );
    }
}

#[test]
fn a_guest_trap_is_typed() {
    assert_eq!(
        error_of(&wat("divide_by_zero"), b""),
        ExecError::Trap {
            phase: Phase::Run,
            trap: GuestTrap::IntegerDivisionByZero
        }
    );
}

#[test]
fn limits_over_the_node_maximum_are_rejected_without_running() {
    let executor = executor();
    let over = [
        TaskLimits {
            max_memory_bytes: 2 << 30,
            ..limits()
        },
        TaskLimits {
            fuel: ExecutorConfig::default().max_task_fuel + 1,
            ..limits()
        },
        TaskLimits {
            max_output_bytes: 1 << 40,
            ..limits()
        },
    ];
    for limits in over {
        let error = executor.execute(&wat("echo"), b"", &limits).unwrap_err();
        assert!(matches!(error, ExecError::LimitsRejected { .. }), "{error}");
        assert!(!error.is_deterministic());
    }
}

#[test]
fn without_the_watchdog_fuel_still_stops_a_start_function() {
    let executor = Executor::new(ExecutorConfig {
        wall_clock_watchdog: false,
        ..ExecutorConfig::default()
    })
    .unwrap();
    assert_eq!(
        executor
            .execute(&wat("start_never_returns"), b"", &limits())
            .unwrap_err(),
        ExecError::OutOfFuel { limit: 200_000_000 }
    );
    still_healthy(&executor);
}

#[test]
fn hostile_errors_are_identical_on_every_run_and_carry_their_code() {
    let cases = [
        ("infinite_loop", "V-EXE-006"),
        ("start_never_returns", "V-EXE-006"),
        ("memory_bomb", "V-EXE-007"),
        ("huge_initial_memory", "V-EXE-007"),
        ("deep_recursion", "V-EXE-009"),
        ("oversized_output", "V-EXE-010"),
        ("write_twice", "V-EXE-011"),
        ("divide_by_zero", "V-EXE-012"),
        ("data_segment_out_of_bounds", "V-EXE-012"),
        ("wasi_clock", "V-EXE-003"),
        ("missing_run", "V-EXE-005"),
        ("relaxed_simd", "V-EXE-002"),
    ];
    for (program, code) in cases {
        let bytes = wat(program);
        let first = error_of(&bytes, b"input");
        // A fresh executor (cold cache) and a warm one give the same error and message.
        let warm = executor();
        let second = warm.execute(&bytes, b"input", &limits()).unwrap_err();
        let third = warm.execute(&bytes, b"input", &limits()).unwrap_err();
        assert_eq!(first, second, "{program}");
        assert_eq!(second, third, "{program}");
        assert_eq!(first.to_string(), third.to_string(), "{program}");
        assert_eq!(first.code(), code, "{program}");
        assert!(
            first.to_string().starts_with(&format!("[{code}]")),
            "{first}"
        );
        assert!(first.is_deterministic(), "{program}");
    }
}

#[test]
fn a_table_over_the_task_limit_is_a_table_limit() {
    let declared = wat::parse_str(
        r#"(module (memory (export "memory") 1) (table 5000 funcref) (func (export "run")))"#,
    )
    .unwrap();
    assert_eq!(
        error_of(&declared, b""),
        ExecError::TableLimit {
            phase: Phase::Instantiate,
            requested: 5000,
            max: 1000
        }
    );
    let grown = wat::parse_str(
        r#"(module (memory (export "memory") 1) (table 1 funcref)
             (func (export "run") (drop (table.grow (ref.null func) (i32.const 2000)))))"#,
    )
    .unwrap();
    assert_eq!(
        error_of(&grown, b""),
        ExecError::TableLimit {
            phase: Phase::Run,
            requested: 2001,
            max: 1000
        }
    );
}

#[test]
fn more_than_one_table_fails_instantiation() {
    let module = wat::parse_str(
        r#"(module (memory (export "memory") 1) (table 1 funcref) (table 1 funcref) (func (export "run")))"#,
    )
    .unwrap();
    let error = error_of(&module, b"");
    assert!(matches!(error, ExecError::Instantiation { .. }), "{error}");
    assert_eq!(error, error_of(&module, b""));
}
