//! The C guests produce exactly what their native Rust kernels produce on the same input.

use sha2::{Digest as _, Sha256};
use verity_executor::native::{branchy, lookup, matmul, sensor, sha256, sort};
use verity_executor::{ExecError, GuestTrap, Phase, TaskLimits};

use crate::support::{Rng, executor, guest, limits};

fn big_limits() -> TaskLimits {
    TaskLimits {
        fuel: 10_000_000_000,
        max_memory_bytes: 64 << 20,
        max_output_bytes: 8 << 20,
        ..limits()
    }
}

/// A batch with readings in, before, after the window and in and out of the value range.
pub(crate) fn sensor_batch(rng: &mut Rng, count: usize) -> sensor::Batch {
    let (window_start, window_end) = (1_700_000_000_000, 1_700_000_600_000);
    let readings = (0..count)
        .map(|_| sensor::Reading {
            sensor_id: rng.next_u32() % 64,
            // -1500..1500 against an accepted range of -1000..=1000.
            value: (rng.next_u32() % 3000) as i32 - 1500,
            // From 60 s before the window to 60 s after it.
            timestamp: window_start - 60_000 + rng.next_u64() % 720_000,
        })
        .collect();
    sensor::Batch {
        window_start,
        window_end,
        min_value: -1000,
        max_value: 1000,
        readings,
    }
}

#[test]
fn sha256_guest_equals_the_sha2_crate_and_the_native_kernel() {
    let executor = executor();
    let program = guest("sha256");
    let mut rng = Rng::new(3);
    for len in [0, 1, 55, 56, 64, 65_536, 65_600, (1 << 20) + 13] {
        let input = rng.bytes(len);
        let out = executor.execute(&program, &input, &big_limits()).unwrap();
        let expected: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(out.output, expected, "length {len}");
        assert_eq!(sha256::run(&input), expected, "length {len}");
    }
}

#[test]
fn matmul_guest_equals_the_native_kernel() {
    let executor = executor();
    let program = guest("matmul");
    let mut rng = Rng::new(4);
    for n in [1u32, 2, 7, 64, 100] {
        let nn = (n * n) as usize;
        let a: Vec<i32> = (0..nn).map(|_| rng.next_u32() as i32).collect();
        let b: Vec<i32> = (0..nn).map(|_| rng.next_u32() as i32).collect();
        let input = matmul::encode(n, &a, &b);
        let out = executor.execute(&program, &input, &big_limits()).unwrap();
        assert_eq!(Some(out.output), matmul::run(&input), "n = {n}");
    }
}

#[test]
fn matmul_guest_traps_on_malformed_input_where_the_native_kernel_refuses() {
    let executor = executor();
    let program = guest("matmul");
    for input in [
        vec![],
        0u32.to_le_bytes().to_vec(),
        matmul::encode(2, &[1; 4], &[1; 3]),
    ] {
        assert_eq!(matmul::run(&input), None);
        assert_eq!(
            executor.execute(&program, &input, &limits()).unwrap_err(),
            ExecError::Trap {
                phase: Phase::Run,
                trap: GuestTrap::Unreachable
            }
        );
    }
}

#[test]
fn sort_guest_equals_the_native_kernel_and_the_standard_sort() {
    let executor = executor();
    let program = guest("sort");
    let mut rng = Rng::new(5);
    for n in [0usize, 1, 2, 1000, 100_000] {
        let values: Vec<u32> = (0..n).map(|_| rng.next_u32()).collect();
        let input = sort::encode(&values);
        let out = executor.execute(&program, &input, &big_limits()).unwrap();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        assert_eq!(out.output, sort::encode(&sorted), "n = {n}");
        assert_eq!(Some(out.output), sort::run(&input), "n = {n}");
    }
    assert_eq!(
        executor
            .execute(&program, &[1, 2, 3], &limits())
            .unwrap_err(),
        ExecError::Trap {
            phase: Phase::Run,
            trap: GuestTrap::Unreachable
        }
    );
}

#[test]
fn sensor_guest_equals_the_native_kernel() {
    let executor = executor();
    let program = guest("sensor_aggregate");
    let mut rng = Rng::new(6);
    for count in [0, 1, 10, 4096, 4097, 50_000] {
        let input = sensor_batch(&mut rng, count).encode();
        let out = executor.execute(&program, &input, &big_limits()).unwrap();
        assert_eq!(out.output, sensor::run(&input), "count = {count}");
        let report = sensor::Report::decode(&out.output).unwrap();
        assert_eq!(report.status, sensor::Status::Ok);
        assert_eq!(
            u64::from(report.accepted + report.rejected_range + report.rejected_window),
            count as u64
        );
        if count >= 1000 {
            assert!(report.accepted > 0 && report.rejected_range > 0 && report.rejected_window > 0);
        }
    }
}

#[test]
fn sensor_guest_reports_malformed_batches_like_the_native_kernel() {
    let executor = executor();
    let program = guest("sensor_aggregate");
    let good = sensor_batch(&mut Rng::new(8), 3);
    let mut bad_magic = good.encode();
    bad_magic[3] = b'2';
    let mut truncated = good.encode();
    truncated.truncate(truncated.len() - 1);
    let inverted = sensor::Batch {
        min_value: 5,
        max_value: -5,
        ..good.clone()
    }
    .encode();
    for (input, status) in [
        (b"VSA".to_vec(), sensor::Status::BadHeader),
        (bad_magic, sensor::Status::BadHeader),
        (truncated, sensor::Status::BadLength),
        (inverted, sensor::Status::BadBounds),
    ] {
        let out = executor.execute(&program, &input, &limits()).unwrap();
        assert_eq!(out.output, sensor::run(&input));
        assert_eq!(sensor::Report::decode(&out.output).unwrap().status, status);
    }
}

#[test]
fn lookup_guest_equals_the_native_kernel() {
    let executor = executor();
    let program = guest("lookup");
    for (seed, k, steps) in [
        (1, 0, 0),
        (2, 0, 5),
        (3, 4, 16),
        (4, 12, 10_000),
        (5, 20, 100_000),
    ] {
        let input = lookup::encode(seed, k, steps);
        let out = executor.execute(&program, &input, &big_limits()).unwrap();
        assert_eq!(
            Some(out.output),
            lookup::run(&input),
            "k = {k}, steps = {steps}"
        );
    }
}

#[test]
fn lookup_guest_traps_where_the_native_kernel_refuses() {
    let executor = executor();
    let program = guest("lookup");
    for input in [
        vec![0; 15],
        vec![0; 17],
        lookup::encode(1, lookup::MAX_LOG2_ENTRIES + 1, 1),
    ] {
        assert_eq!(lookup::run(&input), None);
        assert_eq!(
            executor.execute(&program, &input, &limits()).unwrap_err(),
            ExecError::Trap {
                phase: Phase::Run,
                trap: GuestTrap::Unreachable
            }
        );
    }
}

#[test]
fn branchy_guest_equals_the_native_kernel_on_every_byte_class() {
    let executor = executor();
    let program = guest("branchy");
    let mut rng = Rng::new(9);
    let every_byte: Vec<u8> = (0..=255).collect();
    for input in [
        vec![],
        every_byte.clone(),
        every_byte.iter().rev().copied().collect(),
        rng.bytes(257),
        rng.bytes(1 << 20),
    ] {
        let out = executor.execute(&program, &input, &big_limits()).unwrap();
        assert_eq!(out.output, branchy::run(&input), "length {}", input.len());
    }
}

#[test]
fn c_guests_import_only_the_verity_abi() {
    let executor = executor();
    for name in [
        "sha256",
        "matmul",
        "sort",
        "sensor_aggregate",
        "lookup",
        "branchy",
    ] {
        executor
            .prepare(&guest(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
