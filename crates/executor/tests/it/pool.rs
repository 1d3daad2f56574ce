//! The pooling allocator changes no result: tasks beyond the slots wait rather than fail, a
//! table grown past its pooled slot still fails on the task limit, and tasks asking for more
//! table elements than the node grants are refused up front.

use std::sync::Arc;
use std::thread;

use verity_executor::{ExecError, Executor, ExecutorConfig, ModuleBudget, Phase, TaskLimits};

use crate::support::{Rng, guest, limits};

#[test]
fn more_tasks_than_slots_wait_for_a_slot_and_all_finish() {
    let executor = Arc::new(
        Executor::new(ExecutorConfig {
            max_concurrent_executions: 2,
            ..ExecutorConfig::default()
        })
        .unwrap(),
    );
    let program = Arc::new(guest("branchy"));
    let input = Arc::new(Rng::new(11).bytes(4096));
    let expected = executor.execute(&program, &input, &limits()).unwrap();
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let (executor, program, input) = (
                Arc::clone(&executor),
                Arc::clone(&program),
                Arc::clone(&input),
            );
            thread::spawn(move || {
                (0..5)
                    .map(|_| executor.execute(&program, &input, &limits()))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for handle in handles {
        for execution in handle.join().unwrap() {
            assert_eq!(execution.unwrap().receipt, expected.receipt);
        }
    }
}

#[test]
fn zero_slots_is_a_configuration_error() {
    let error = Executor::new(ExecutorConfig {
        max_concurrent_executions: 0,
        ..ExecutorConfig::default()
    })
    .unwrap_err();
    assert!(matches!(error, ExecError::Engine { .. }), "{error}");
}

#[test]
fn a_task_asking_for_more_table_elements_than_the_node_grants_is_refused() {
    let executor = Executor::new(ExecutorConfig::default()).unwrap();
    let too_many = TaskLimits {
        max_table_elements: ExecutorConfig::default().max_task_table_elements + 1,
        ..limits()
    };
    let error = executor
        .execute(&guest("branchy"), b"", &too_many)
        .unwrap_err();
    assert!(matches!(error, ExecError::LimitsRejected { .. }), "{error}");
}

/// With the budget's and the node's table sizes equal, a table's pooled slot is exactly the
/// task's limit; growing past it must be the task's `TableLimit`, as without a pool, not the
/// -1 of a table at its declared maximum.
#[test]
fn growing_a_table_past_its_pooled_slot_is_the_task_limit() {
    let executor = Executor::new(ExecutorConfig {
        max_task_table_elements: 100,
        module_budget: ModuleBudget {
            max_table_elements: 100,
            ..ModuleBudget::default()
        },
        ..ExecutorConfig::default()
    })
    .unwrap();
    let limits = TaskLimits {
        max_table_elements: 100,
        ..limits()
    };
    let grown = wat::parse_str(
        r#"(module (memory (export "memory") 1) (table 1 funcref)
             (func (export "run") (drop (table.grow (ref.null func) (i32.const 200)))))"#,
    )
    .unwrap();
    assert_eq!(
        executor.execute(&grown, b"", &limits).unwrap_err(),
        ExecError::TableLimit {
            phase: Phase::Run,
            requested: 201,
            max: 100
        }
    );
    // Within the declared maximum and the task limit, growth succeeds; past the declared
    // maximum it is the spec's -1, written out here as the output.
    let declared = wat::parse_str(
        r#"(module (import "verity" "write_output" (func $w (param i32 i32)))
             (memory (export "memory") 1) (table 1 10 funcref)
             (func (export "run")
               (i32.store (i32.const 0) (table.grow (ref.null func) (i32.const 5)))
               (i32.store (i32.const 4) (table.grow (ref.null func) (i32.const 50)))
               (call $w (i32.const 0) (i32.const 8))))"#,
    )
    .unwrap();
    let out = executor.execute(&declared, b"", &limits).unwrap().output;
    assert_eq!(out[..4], 1i32.to_le_bytes());
    assert_eq!(out[4..], (-1i32).to_le_bytes());
}
