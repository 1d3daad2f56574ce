//! The determinism vector: for fixed guests and fixed inputs, the output digest and the fuel
//! used are pinned in `tests/vectors/guests.txt`, so any change to the engine configuration, the
//! fuel prices or the guests' builds that would change a receipt fails here first (a change
//! made on purpose rewrites the file: `VERITY_BLESS_VECTORS=1 cargo test -p verity-executor
//! --test it vectors`, and the diff shows what moved). Every case with a native twin is also
//! checked against it.

use std::fmt::Write as _;
use std::path::PathBuf;

use verity_executor::native::{branchy, lookup, matmul, sensor, sha256, sort};
use verity_executor::{Digest, TaskLimits};

use crate::guests::sensor_batch;
use crate::support::{Rng, executor, guest, limits, wat};

/// One pinned execution: a guest, an input, and what the guest's native twin returns for it
/// (`None` for the WAT programs, which have none).
struct Case {
    name: &'static str,
    module: Vec<u8>,
    input: Vec<u8>,
    native: Option<Vec<u8>>,
}

fn cases() -> Vec<Case> {
    let mut rng = Rng::new(21);
    let mut cases = Vec::new();
    let mut push = |name, module, input: Vec<u8>, native: Option<Vec<u8>>| {
        cases.push(Case {
            name,
            module,
            input,
            native,
        })
    };
    push("noop", wat("noop"), vec![], None);
    let echo = rng.bytes(64);
    push("echo 64 B", wat("echo"), echo.clone(), Some(echo));
    for (name, len) in [("sha256 64 B", 64), ("sha256 64 KiB", 64 << 10)] {
        let input = rng.bytes(len);
        let native = sha256::run(&input).to_vec();
        push(name, guest("sha256"), input, Some(native));
    }
    let n = 32u32;
    let a: Vec<i32> = (0..n * n).map(|_| rng.next_u32() as i32).collect();
    let b: Vec<i32> = (0..n * n).map(|_| rng.next_u32() as i32).collect();
    let input = matmul::encode(n, &a, &b);
    let native = matmul::run(&input);
    push("matmul 32x32", guest("matmul"), input, native);
    let values: Vec<u32> = (0..4096).map(|_| rng.next_u32()).collect();
    let input = sort::encode(&values);
    let native = sort::run(&input);
    push("sort 4096", guest("sort"), input, native);
    let input = sensor_batch(&mut rng, 1024).encode();
    let native = sensor::run(&input);
    push(
        "sensor 1024",
        guest("sensor_aggregate"),
        input,
        Some(native),
    );
    for (name, k, steps) in [
        ("lookup 2^4 x 16", 4, 16),
        ("lookup 2^16 x 100000", 16, 100_000),
    ] {
        let input = lookup::encode(rng.next_u64(), k, steps);
        let native = lookup::run(&input);
        push(name, guest("lookup"), input, native);
    }
    for (name, len) in [("branchy 256 B", 256), ("branchy 64 KiB", 64 << 10)] {
        let input = rng.bytes(len);
        let native = branchy::run(&input);
        push(name, guest("branchy"), input, Some(native));
    }
    cases
}

fn vector_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/guests.txt")
}

/// The file's text for `lines` (one `name | module | output | fuel` line per case).
fn render(lines: &[String]) -> String {
    let mut text = String::from(
        "# Determinism vector: case | module SHA-256 | output SHA-256 | fuel used.\n\
         # Checked by tests/it/vectors.rs; rewritten with VERITY_BLESS_VECTORS=1.\n",
    );
    for line in lines {
        let _ = writeln!(text, "{line}");
    }
    text
}

#[test]
fn pinned_outputs_and_fuel_match_the_vector_file() {
    let executor = executor();
    let limits = TaskLimits {
        fuel: 10_000_000_000,
        max_memory_bytes: 64 << 20,
        ..limits()
    };
    let mut lines = Vec::new();
    for case in cases() {
        let run = executor
            .execute(&case.module, &case.input, &limits)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        if let Some(native) = &case.native {
            assert_eq!(
                &run.output, native,
                "{}: guest and native twin differ",
                case.name
            );
        }
        assert_eq!(run.receipt.result_digest, Digest::of(&run.output));
        lines.push(format!(
            "{} | {} | {} | {}",
            case.name,
            run.receipt.module_digest.to_hex(),
            run.receipt.result_digest.to_hex(),
            run.receipt.fuel_used
        ));
    }
    let expected = render(&lines);
    let path = vector_file();
    if std::env::var_os("VERITY_BLESS_VECTORS").is_some() {
        std::fs::write(&path, &expected).expect("write the vector file");
    }
    let pinned = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (VERITY_BLESS_VECTORS=1 writes it)", path.display()));
    for (want, got) in pinned.lines().zip(expected.lines()) {
        assert_eq!(got, want, "a receipt moved against {}", path.display());
    }
    assert_eq!(
        pinned.lines().count(),
        expected.lines().count(),
        "cases added or removed: bless the vector file"
    );
}
