//! The task log: what the client can fetch about an execution, result or not.

use std::time::Duration;

use verity_executor::{TaskLimits, TaskLog};

use crate::support::{executor, guest, limits, wat};

#[test]
fn a_result_is_logged_with_its_receipt_fuel_and_compile_time() {
    let executor = executor();
    let program = guest("branchy");
    let (result, log) = executor.execute_logged(&program, b"some input", &limits());
    let execution = result.unwrap();
    assert_eq!(log.receipt.as_ref(), Some(&execution.receipt));
    assert_eq!(log.failure, None);
    assert_eq!(log.fuel_used, Some(execution.receipt.fuel_used));
    assert!(!log.timings.cache_hit);
    assert!(log.timings.compile > Duration::ZERO);

    let (_, again) = executor.execute_logged(&program, b"some input", &limits());
    assert!(again.timings.cache_hit);
    assert_eq!(again.timings.compile, Duration::ZERO);
    assert_eq!(again.receipt, log.receipt);
}

#[test]
fn a_trap_is_logged_with_its_reason_and_the_fuel_it_used() {
    let executor = executor();
    let program = wat("divide_by_zero");
    let (result, log) = executor.execute_logged(&program, b"", &limits());
    let error = result.unwrap_err();
    let failure = log.failure.expect("a failure");
    assert_eq!(failure.code, "V-EXE-012");
    assert!(failure.deterministic);
    assert_eq!(failure.message, error.to_string());
    assert_eq!(log.receipt, None);
    let used = log.fuel_used.expect("fuel of a run that started");
    assert!(used > 0 && used < limits().fuel, "{used}");
    // The fuel of a failure is as deterministic as that of a result.
    let (_, again) = executor.execute_logged(&program, b"", &limits());
    assert_eq!(again.fuel_used, Some(used));
}

#[test]
fn running_out_of_fuel_logs_the_whole_limit() {
    let (_, log) = executor().execute_logged(&wat("infinite_loop"), b"", &limits());
    assert_eq!(log.failure.unwrap().code, "V-EXE-006");
    assert_eq!(log.fuel_used, Some(limits().fuel));
}

#[test]
fn a_refused_task_logs_a_host_side_reason_and_no_fuel() {
    let too_much = TaskLimits {
        fuel: u64::MAX,
        ..limits()
    };
    let (_, log) = executor().execute_logged(&guest("branchy"), b"", &too_much);
    let failure = log.failure.unwrap();
    assert_eq!(failure.code, "V-EXE-016");
    assert!(!failure.deterministic);
    assert_eq!(log.fuel_used, None);
}

#[test]
fn the_log_round_trips_through_json() {
    let executor = executor();
    for (program, input) in [
        (guest("branchy"), b"abc".as_slice()),
        (wat("divide_by_zero"), b""),
    ] {
        let (_, log) = executor.execute_logged(&program, input, &limits());
        let json = serde_json::to_string(&log).unwrap();
        assert_eq!(serde_json::from_str::<TaskLog>(&json).unwrap(), log);
    }
}
