//! The engine configuration that makes execution deterministic, and its identity.
//!
//! Every setting that can change a program's result is listed here once: [`engine_config`]
//! applies it and [`describe`] writes it into the text whose SHA-256 is the
//! [`EngineIdentity`]'s `config_digest`. Two executors with the same identity give the same
//! result for the same module, input and limits.

use std::fmt;

use serde::{Deserialize, Serialize};
use wasmtime::{Config, OptLevel, WasmFeatures};

use crate::{Digest, ExecutorConfig};
use crate::{fuel, pool};

/// The engine this crate is built on; `Cargo.toml` pins it exactly (a test checks the lock).
pub(crate) const ENGINE: &str = "wasmtime-48.0.8";

/// Version of the guest ABI (the `verity` imports and the `run`/`memory` exports).
pub const ABI_VERSION: u32 = 1;

/// Fiber stack reserved for host frames above the wasm stack limit.
const FIBER_HOST_STACK_BYTES: usize = 1 << 20;

/// WebAssembly proposals, on or off. Everything not listed is off.
///
/// On: the stable proposals compilers emit by default (LLVM and rustc targets), and fixed-width
/// SIMD, which is deterministic once NaNs are canonicalized. Off: anything with
/// implementation-defined results (relaxed SIMD), shared memory and threads, and proposals a
/// compute guest does not need (each one more surface to trust).
const FEATURES: &[(&str, WasmFeatures, bool)] = &[
    ("mutable_global", WasmFeatures::MUTABLE_GLOBAL, true),
    (
        "saturating_float_to_int",
        WasmFeatures::SATURATING_FLOAT_TO_INT,
        true,
    ),
    ("sign_extension", WasmFeatures::SIGN_EXTENSION, true),
    ("floats", WasmFeatures::FLOATS, true),
    ("multi_value", WasmFeatures::MULTI_VALUE, true),
    ("bulk_memory", WasmFeatures::BULK_MEMORY, true),
    // Funcref tables only: the `gc` engine feature is compiled out, so no externref heap.
    ("reference_types", WasmFeatures::REFERENCE_TYPES, true),
    ("extended_const", WasmFeatures::EXTENDED_CONST, true),
    ("simd", WasmFeatures::SIMD, true),
    ("relaxed_simd", WasmFeatures::RELAXED_SIMD, false),
    ("threads", WasmFeatures::THREADS, false),
    (
        "shared_everything_threads",
        WasmFeatures::SHARED_EVERYTHING_THREADS,
        false,
    ),
    ("multi_memory", WasmFeatures::MULTI_MEMORY, false),
    ("memory64", WasmFeatures::MEMORY64, false),
    ("custom_page_sizes", WasmFeatures::CUSTOM_PAGE_SIZES, false),
    ("memory_control", WasmFeatures::MEMORY_CONTROL, false),
    ("tail_call", WasmFeatures::TAIL_CALL, false),
    ("exceptions", WasmFeatures::EXCEPTIONS, false),
    ("legacy_exceptions", WasmFeatures::LEGACY_EXCEPTIONS, false),
    (
        "function_references",
        WasmFeatures::FUNCTION_REFERENCES,
        false,
    ),
    ("gc", WasmFeatures::GC, false),
    ("gc_types", WasmFeatures::GC_TYPES, false),
    ("stack_switching", WasmFeatures::STACK_SWITCHING, false),
    ("wide_arithmetic", WasmFeatures::WIDE_ARITHMETIC, false),
    ("component_model", WasmFeatures::COMPONENT_MODEL, false),
];

/// The wasmtime configuration for `config`.
pub(crate) fn engine_config(config: &ExecutorConfig) -> Config {
    let mut c = Config::new();
    for &(_, feature, on) in FEATURES {
        c.wasm_features(feature, on);
    }
    c.relaxed_simd_deterministic(true)
        // NaN results get the canonical bit pattern instead of whatever the CPU produces.
        .cranelift_nan_canonicalization(true)
        .cranelift_opt_level(OptLevel::Speed)
        // Deterministic metering: every operator costs fuel (wasmtime's default table, with
        // calls into the runtime priced by what they cost; see fuel.rs).
        .consume_fuel(true)
        .operator_cost(fuel::operator_cost())
        // Calls run on a fiber so fuel can yield to the wall-clock watchdog (see watchdog.rs).
        // Not in `describe`: it can stop a run (a host-side `Timeout`) but never changes a
        // result. The fiber stack holds the wasm stack plus room for host frames.
        // (With the `async` feature, async calls need no switch in wasmtime 48.)
        .async_stack_size(config.max_wasm_stack_bytes + FIBER_HOST_STACK_BYTES)
        .max_wasm_stack(config.max_wasm_stack_bytes)
        // Traps are reported by kind; a backtrace would only cost time.
        .wasm_backtrace_max_frames(None)
        // Pre-allocated instance slots (see pool.rs). Not in `describe`: the pool is sized so
        // that it changes no result.
        .allocation_strategy(pool::strategy(config))
        // Every memory slot reserves the whole 4 GiB a 32-bit memory can address, so a memory
        // never moves: compiled code may keep its base address in a register across loops and
        // calls instead of reloading it. Not in `describe`: no result depends on it.
        .memory_reservation(pool::WASM32_MAX_MEMORY_BYTES)
        .memory_may_move(false);
    c
}

/// The canonical text of every setting that can change a result.
pub(crate) fn describe(config: &ExecutorConfig) -> String {
    let mut features: Vec<String> = FEATURES
        .iter()
        .map(|&(name, _, on)| format!("{}{name}", if on { "+" } else { "-" }))
        .collect();
    features.sort();
    format!(
        "verity-executor\n\
         engine={ENGINE}\n\
         abi={ABI_VERSION}\n\
         features={}\n\
         nan_canonicalization=on\n\
         relaxed_simd_deterministic=on\n\
         fuel={}\n\
         max_wasm_stack_bytes={}\n\
         max_module_bytes={}\n\
         module_budget={}\n\
         memory_limit=trap\n",
        features.join(","),
        fuel::describe(),
        config.max_wasm_stack_bytes,
        config.max_module_bytes,
        config.module_budget.describe(),
    )
}

/// Which engine and deterministic configuration produced a result. Replicas whose results differ
/// under the same identity disagree for real; under different identities they may simply run
/// different versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EngineIdentity {
    /// Engine name and exact version, e.g. `wasmtime-48.0.8`.
    pub engine: String,
    /// SHA-256 of the canonical description of every result-affecting setting.
    pub config_digest: Digest,
}

impl EngineIdentity {
    pub(crate) fn of(config: &ExecutorConfig) -> Self {
        Self {
            engine: ENGINE.to_string(),
            config_digest: Digest::of(describe(config).as_bytes()),
        }
    }
}

impl fmt::Display for EngineIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}+cfg.{}",
            self.engine,
            &self.config_digest.to_hex()[..16]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_stable_and_tracks_result_affecting_settings() {
        let base = ExecutorConfig::default();
        assert_eq!(EngineIdentity::of(&base), EngineIdentity::of(&base.clone()));

        let node_only = ExecutorConfig {
            module_cache_bytes: 1,
            wall_time_limit_ms: 1,
            compile_time_limit_ms: 1,
            ..base.clone()
        };
        assert_eq!(EngineIdentity::of(&base), EngineIdentity::of(&node_only));

        let stack = ExecutorConfig {
            max_wasm_stack_bytes: 1 << 20,
            ..base.clone()
        };
        assert_ne!(EngineIdentity::of(&base), EngineIdentity::of(&stack));

        let budget = ExecutorConfig {
            module_budget: crate::ModuleBudget {
                max_functions: 1,
                ..crate::ModuleBudget::default()
            },
            ..base.clone()
        };
        assert_ne!(EngineIdentity::of(&base), EngineIdentity::of(&budget));
    }

    #[test]
    fn description_names_the_determinism_settings() {
        let text = describe(&ExecutorConfig::default());
        for needle in [
            "engine=wasmtime-48.0.8",
            "-relaxed_simd",
            "-threads",
            "+simd",
            "nan_canonicalization=on",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }

    #[test]
    fn engine_version_matches_the_lock_file() {
        let lock =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
                .expect("workspace Cargo.lock");
        let version = ENGINE.strip_prefix("wasmtime-").unwrap();
        let entry = format!("name = \"wasmtime\"\nversion = \"{version}\"");
        assert!(
            lock.contains(&entry),
            "Cargo.lock has another wasmtime; update ENGINE"
        );
    }
}
