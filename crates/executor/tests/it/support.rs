//! Shared helpers: the executor under test, the guest programs, deterministic test data.

use std::path::PathBuf;

use verity_executor::{ExecError, Execution, Executor, ExecutorConfig, TaskLimits};

fn guests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../guests")
}

/// A WAT program from `guests/wat/<name>.wat`, assembled.
pub(crate) fn wat(name: &str) -> Vec<u8> {
    let path = guests_dir().join("wat").join(format!("{name}.wat"));
    wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A C guest built by `scripts/build-guests.sh` into `guests/out/<name>.wasm`.
pub(crate) fn guest(name: &str) -> Vec<u8> {
    let path = guests_dir().join("out").join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: the C guests are not built; run scripts/build-guests.sh",
            path.display()
        )
    })
}

pub(crate) fn executor() -> Executor {
    Executor::new(ExecutorConfig::default()).expect("executor")
}

/// Limits small enough that hostile programs end quickly.
pub(crate) fn limits() -> TaskLimits {
    TaskLimits {
        fuel: 200_000_000,
        max_memory_bytes: 4 << 20,
        max_table_elements: 1000,
        max_output_bytes: 1 << 20,
    }
}

pub(crate) fn run(program: &[u8], input: &[u8]) -> Result<Execution, ExecError> {
    executor().execute(program, input, &limits())
}

/// The error `program` ends with; panics if it succeeds.
pub(crate) fn error_of(program: &[u8], input: &[u8]) -> ExecError {
    match run(program, input) {
        Ok(execution) => panic!("expected an error, got {:?}", execution.receipt),
        Err(error) => error,
    }
}

/// xorshift64: reproducible test data without a dependency.
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
