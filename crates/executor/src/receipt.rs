//! What an execution returns: the output, a receipt replicas can compare, and timings; and the
//! task log a node keeps for the client, success or failure.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Digest, EngineIdentity, ExecError, TaskLimits};

/// A finished execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// The bytes the guest passed to `write_output` (empty if it never called it).
    pub output: Vec<u8>,
    /// Everything about the result that must be identical on every machine.
    pub receipt: Receipt,
    /// How long the phases took on this machine. Not part of the receipt.
    pub timings: Timings,
}

/// The deterministic record of an execution: for the same module, input, limits and engine
/// identity, every machine produces the same receipt, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Receipt {
    /// SHA-256 of the module bytes.
    pub module_digest: Digest,
    /// SHA-256 of the output: the result replicas commit to.
    pub result_digest: Digest,
    /// Length of the output in bytes.
    pub output_len: u64,
    /// Fuel consumed, including instantiation and host calls.
    pub fuel_used: u64,
    /// The limits the execution ran under.
    pub limits: TaskLimits,
    /// Engine version and deterministic configuration.
    pub engine: EngineIdentity,
}

/// Wall-clock times of the phases of one execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Whether the compiled module came from the cache.
    pub cache_hit: bool,
    /// Hashing the module and, on a cache miss, compiling and checking it.
    pub load: Duration,
    /// Of `load`, compiling, checking and linking the module; zero on a cache hit.
    pub compile: Duration,
    /// Creating the instance: memory, tables, segments, and the start function if any.
    pub instantiate: Duration,
    /// The call to `run`.
    pub run: Duration,
}

/// What a node can tell the client about one execution attempt, whether it produced a result
/// or not: serialisable, for the task's log. Only `receipt`, `fuel_used` and a deterministic
/// `failure` are the same on every replica; the times are this node's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLog {
    /// The receipt, when the execution produced a result.
    pub receipt: Option<Receipt>,
    /// Why there is no result, when there is none.
    pub failure: Option<Failure>,
    /// Fuel consumed, including instantiation and host calls; also for a run that failed once
    /// it had started. `None` when it never started (limits refused, module not loaded, or
    /// instantiation priced over the fuel limit).
    pub fuel_used: Option<u64>,
    /// Wall-clock time of the whole attempt on this node.
    pub wall_time: Duration,
    /// The phases, as far as the attempt got (`compile` is zero on a cache hit).
    pub timings: Timings,
}

/// A failed execution, as the task log reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The stable error code, e.g. `V-EXE-006`.
    pub code: String,
    /// Whether every correct replica reaches the same failure ([`ExecError::is_deterministic`]):
    /// a verdict about the program rather than a fact about this node.
    pub deterministic: bool,
    /// The error's message (with its code).
    pub message: String,
}

impl From<&ExecError> for Failure {
    fn from(error: &ExecError) -> Self {
        Self {
            code: error.code().to_string(),
            deterministic: error.is_deterministic(),
            message: error.to_string(),
        }
    }
}

impl TaskLog {
    pub(crate) fn of(
        result: &Result<Execution, ExecError>,
        fuel_used: Option<u64>,
        timings: Timings,
        wall_time: Duration,
    ) -> Self {
        let (receipt, failure) = match result {
            Ok(execution) => (Some(execution.receipt.clone()), None),
            Err(error) => (None, Some(Failure::from(error))),
        };
        Self {
            receipt,
            failure,
            fuel_used,
            wall_time,
            timings,
        }
    }
}
