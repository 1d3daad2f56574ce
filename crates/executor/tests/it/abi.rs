//! The guest ABI: the happy path and every misuse.

use verity_executor::{AbiViolation, Digest, ExecError, TaskLimits};

use crate::support::{error_of, executor, limits, run, wat};

#[test]
fn echo_returns_its_input() {
    for input in [&b""[..], b"a", &[7u8; 70_000][..]] {
        let out = run(&wat("echo"), input).unwrap();
        assert_eq!(out.output, input);
        assert_eq!(out.receipt.result_digest, Digest::of(input));
        assert_eq!(out.receipt.output_len, input.len() as u64);
    }
}

#[test]
fn a_guest_that_never_writes_has_empty_output() {
    let module =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "run")))"#).unwrap();
    let out = run(&module, b"ignored").unwrap();
    assert!(out.output.is_empty());
    assert_eq!(out.receipt.result_digest, Digest::of(b""));
}

#[test]
fn reading_past_the_input_is_misuse() {
    assert_eq!(
        error_of(&wat("read_past_input"), b"12345"),
        ExecError::AbiMisuse {
            call: "read_input",
            violation: AbiViolation::InputOutOfBounds {
                offset: 0,
                len: 6,
                input_len: 5
            }
        }
    );
}

#[test]
fn reading_into_memory_the_guest_does_not_have_is_misuse() {
    assert_eq!(
        error_of(&wat("read_to_bad_pointer"), b"ab"),
        ExecError::AbiMisuse {
            call: "read_input",
            violation: AbiViolation::GuestMemoryOutOfBounds {
                ptr: 65535,
                len: 2,
                memory_len: 65536
            }
        }
    );
}

#[test]
fn writing_twice_is_misuse() {
    assert_eq!(
        error_of(&wat("write_twice"), b""),
        ExecError::AbiMisuse {
            call: "write_output",
            violation: AbiViolation::OutputAlreadyWritten
        }
    );
}

#[test]
fn writing_from_outside_memory_is_misuse() {
    assert_eq!(
        error_of(&wat("write_from_bad_pointer"), b""),
        ExecError::AbiMisuse {
            call: "write_output",
            violation: AbiViolation::GuestMemoryOutOfBounds {
                ptr: u32::MAX,
                len: 16,
                memory_len: 65536
            }
        }
    );
}

#[test]
fn output_exactly_at_the_cap_is_allowed_and_one_byte_over_is_not() {
    let executor = executor();
    let capped = TaskLimits {
        max_output_bytes: 100,
        ..limits()
    };
    let at_cap = executor.execute(&wat("echo"), &[1; 100], &capped).unwrap();
    assert_eq!(at_cap.output.len(), 100);
    assert_eq!(
        executor
            .execute(&wat("echo"), &[1; 101], &capped)
            .unwrap_err(),
        ExecError::OutputTooLarge { len: 101, max: 100 }
    );
}

#[test]
fn an_import_with_the_wrong_type_is_named() {
    assert_eq!(
        error_of(&wat("wrong_import_signature"), b""),
        ExecError::ImportSignature {
            name: "read_input".into(),
            expected: "(i32, i32, i32) -> (i32)".into(),
            found: "(i64) -> (i32)".into()
        }
    );
}

#[test]
fn missing_or_mistyped_exports_are_named() {
    let missing = |name: &str, expected: &str| ExecError::MissingExport {
        name: name.into(),
        expected: expected.into(),
    };
    assert_eq!(
        error_of(&wat("missing_run"), b""),
        missing("run", "a function () -> ()")
    );
    assert_eq!(
        error_of(&wat("run_with_params"), b""),
        missing("run", "a function () -> ()")
    );
    assert_eq!(
        error_of(&wat("missing_memory"), b""),
        missing("memory", "an exported linear memory")
    );
}

#[test]
fn growing_past_the_modules_own_maximum_returns_minus_one() {
    let out = run(&wat("grow_past_declared_max"), b"").unwrap();
    assert_eq!(out.output, (-1i32).to_le_bytes());
}

#[test]
fn host_calls_cost_fuel_per_byte() {
    let executor = executor();
    let fuel = |len: usize| {
        executor
            .execute(&wat("echo"), &vec![0; len], &limits())
            .unwrap()
            .receipt
            .fuel_used
    };
    // Same instructions either way; read_input and write_output each copy 1000 more bytes.
    assert_eq!(fuel(2000) - fuel(1000), 2000);
}
