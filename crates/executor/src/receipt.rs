//! What an execution returns: the output, a receipt replicas can compare, and timings.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Digest, EngineIdentity, TaskLimits};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timings {
    /// Whether the compiled module came from the cache.
    pub cache_hit: bool,
    /// Hashing the module and, on a cache miss, compiling and checking it.
    pub load: Duration,
    /// Creating the instance: memory, tables, segments, and the start function if any.
    pub instantiate: Duration,
    /// The call to `run`.
    pub run: Duration,
}
