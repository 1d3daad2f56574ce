//! What an executor grants (node configuration) and what a task asks for (task limits).

use serde::{Deserialize, Serialize};

use crate::ModuleBudget;

/// Configuration of one [`Executor`](crate::Executor), chosen by the node operator.
///
/// `max_module_bytes`, `module_budget` and `max_wasm_stack_bytes` can change a program's result,
/// so they are part of the [`EngineIdentity`](crate::EngineIdentity); the others only affect
/// this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecutorConfig {
    /// Largest module accepted, in bytes.
    pub max_module_bytes: usize,
    /// The static complexity budget every module must meet before it is compiled (see
    /// [`ModuleBudget`]). Part of the protocol: keep the default.
    pub module_budget: ModuleBudget,
    /// Wall-clock limit for compiling one module, in milliseconds, for
    /// [`Executor::execute`](crate::Executor::execute) and
    /// [`Executor::prepare`](crate::Executor::prepare). Compilation runs on its own thread; past
    /// the limit the call returns the host-side `CompileTimeout` while the compilation finishes
    /// in the background (and is cached). The budget keeps compilation to seconds; this is the
    /// backstop for a slow or busy machine.
    pub compile_time_limit_ms: u64,
    /// Native stack available to WebAssembly code, in bytes (wasmtime's `max_wasm_stack`).
    /// The calling thread's stack must be larger than this.
    pub max_wasm_stack_bytes: usize,
    /// Memory the cache of compiled modules may hold, in bytes (estimated per module from its
    /// compiled image and its counts of functions, exports and imports). Modules are keyed by
    /// the SHA-256 of their bytes, least recently used out first. 0 disables the cache (every
    /// execution compiles).
    pub module_cache_bytes: u64,
    /// Whether to run the wall-clock watchdog. It is a backstop for fuel, for tasks whose fuel
    /// limit is generous for this machine: the run yields to the host every
    /// `watchdog_check_fuel` units of fuel and the host checks the clock (no check in the
    /// compiled code; see BENCHMARKS.md). Without it, runs still end: fuel always does, within
    /// `max_task_fuel`. It never changes a result, so it is not part of the engine identity.
    pub wall_clock_watchdog: bool,
    /// Wall-clock limit for one execution, in milliseconds, when the watchdog runs. A run that
    /// hits it ends with the host-side `Timeout` error, never with a result.
    pub wall_time_limit_ms: u64,
    /// Fuel between two clock checks. Smaller reacts sooner (a check costs well under a
    /// microsecond); at roughly 1e9 fuel per second, the default checks every few ms.
    pub watchdog_check_fuel: u64,
    /// Largest `TaskLimits::fuel` this node grants.
    pub max_task_fuel: u64,
    /// Largest `TaskLimits::max_memory_bytes` this node grants.
    pub max_task_memory_bytes: u64,
    /// Largest `TaskLimits::max_output_bytes` this node grants.
    pub max_task_output_bytes: u64,
    /// Largest `TaskLimits::max_table_elements` this node grants (every pre-allocated table
    /// slot holds this many elements, or the budget's `max_table_elements` if larger).
    pub max_task_table_elements: u64,
    /// Executions that can run at once: the number of pre-allocated instance slots (each a
    /// 4 GiB virtual reservation for linear memory, plus a table and a fiber stack). Callers
    /// beyond it wait for a slot. Not part of the engine identity.
    pub max_concurrent_executions: u32,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            max_module_bytes: 16 << 20,
            module_budget: ModuleBudget::default(),
            compile_time_limit_ms: 30_000,
            max_wasm_stack_bytes: 512 << 10,
            module_cache_bytes: 512 << 20,
            wall_clock_watchdog: true,
            wall_time_limit_ms: 30_000,
            watchdog_check_fuel: 5_000_000,
            max_task_fuel: 100_000_000_000,
            max_task_memory_bytes: 1 << 30,
            max_task_output_bytes: 64 << 20,
            max_task_table_elements: 100_000,
            max_concurrent_executions: 16,
        }
    }
}

/// The limits a task sets for one execution: the task's own type (it travels in the task's
/// input envelope), defined once in `verity-primitives` and named here as the executor always
/// named it.
pub use verity_primitives::envelope::ExecLimits as TaskLimits;
