//! The executor: loads (and caches) programs, runs them under task limits, and turns every
//! failure into a typed [`ExecError`].

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::{Engine, InstancePre, Linker, Module, Store, Trap};

use crate::abi::{self, ENTRY};
use crate::cache::LruCache;
use crate::determinism::{self, EngineIdentity};
use crate::host::HostState;
use crate::watchdog::{self, DeadlinePassed};
use crate::{
    Digest, ExecError, Execution, ExecutorConfig, GuestTrap, Phase, Receipt, Result, TaskLimits,
    Timings,
};

/// Largest input the ABI can describe (`input_len` returns an i32).
const MAX_INPUT_BYTES: u64 = i32::MAX as u64;
/// Largest linear memory a 32-bit module can have.
const WASM32_MAX_MEMORY_BYTES: u64 = 1 << 32;

/// A compiled module that passed the ABI checks, ready to instantiate.
#[derive(Clone)]
struct Program {
    digest: Digest,
    pre: InstancePre<HostState>,
}

/// Runs WebAssembly programs deterministically. Cheap to share: `execute` takes `&self` and may
/// be called from many threads at once.
pub struct Executor {
    engine: Engine,
    linker: Linker<HostState>,
    config: ExecutorConfig,
    identity: EngineIdentity,
    cache: Mutex<LruCache<Arc<Program>>>,
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("identity", &self.identity)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// Builds the engine.
    pub fn new(config: ExecutorConfig) -> Result<Self> {
        let engine_error = |reason: String| ExecError::Engine { reason };
        if config.max_task_memory_bytes > WASM32_MAX_MEMORY_BYTES {
            return Err(engine_error(format!(
                "max_task_memory_bytes {} is over the 4 GiB a 32-bit memory can have",
                config.max_task_memory_bytes
            )));
        }
        if config.watchdog_check_fuel == 0 {
            return Err(engine_error("watchdog_check_fuel must be positive".into()));
        }
        let engine = Engine::new(&determinism::engine_config(&config))
            .map_err(|e| engine_error(format!("engine configuration: {e}")))?;
        let linker = abi::linker(&engine).map_err(|e| engine_error(format!("linker: {e}")))?;
        let identity = EngineIdentity::of(&config);
        tracing::debug!(target: "executor", %identity, "executor ready");
        Ok(Self {
            cache: Mutex::new(LruCache::new(config.module_cache_capacity)),
            engine,
            linker,
            config,
            identity,
        })
    }

    /// The engine and deterministic configuration this executor's receipts carry.
    pub fn identity(&self) -> &EngineIdentity {
        &self.identity
    }

    /// The canonical text of every result-affecting setting; its SHA-256 is
    /// `identity().config_digest`.
    pub fn describe_config(&self) -> String {
        determinism::describe(&self.config)
    }

    /// The configuration this executor was built with.
    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    /// Compiles and checks a module without running it (and caches it). Returns its digest.
    pub fn prepare(&self, module_bytes: &[u8]) -> Result<Digest> {
        self.program(module_bytes)
            .map(|(program, _)| program.digest)
    }

    /// Runs `module_bytes` on `input` under `limits`.
    ///
    /// Instantiates the module (memory, segments, start function), calls its `run` export, and
    /// returns the output with its [`Receipt`]. Every way this can fail is an [`ExecError`].
    pub fn execute(
        &self,
        module_bytes: &[u8],
        input: &[u8],
        limits: &TaskLimits,
    ) -> Result<Execution, ExecError> {
        self.check_limits(limits)?;
        let input_len = input.len() as u64;
        if input_len > MAX_INPUT_BYTES {
            return Err(ExecError::InputTooLarge {
                len: input_len,
                max: MAX_INPUT_BYTES,
            });
        }

        let started = Instant::now();
        let (program, cache_hit) = self.program(module_bytes)?;
        let load = started.elapsed();

        let mut store = Store::new(&self.engine, HostState::new(input, limits));
        store.limiter(|host| &mut host.limiter);
        store.set_fuel(limits.fuel).map_err(|e| ExecError::Engine {
            reason: format!("set fuel: {e}"),
        })?;
        let deadline = if self.config.wall_clock_watchdog {
            store
                .fuel_async_yield_interval(Some(self.config.watchdog_check_fuel))
                .map_err(|e| ExecError::Engine {
                    reason: format!("fuel yield interval: {e}"),
                })?;
            Some(Instant::now() + Duration::from_millis(self.config.wall_time_limit_ms))
        } else {
            None
        };

        let started = Instant::now();
        let instance = watchdog::drive(program.pre.instantiate_async(&mut store), deadline)
            .map_err(|DeadlinePassed| self.timeout(Phase::Instantiate))?
            .map_err(|e| self.classify(e, Phase::Instantiate, &mut store, limits))?;
        let instantiate = started.elapsed();

        store.data_mut().limiter.phase = Phase::Run;
        let run = instance
            .get_typed_func::<(), ()>(&mut store, ENTRY)
            .map_err(|e| ExecError::Engine {
                reason: format!("entry point: {e}"),
            })?;
        let started = Instant::now();
        watchdog::drive(run.call_async(&mut store, ()), deadline)
            .map_err(|DeadlinePassed| self.timeout(Phase::Run))?
            .map_err(|e| self.classify(e, Phase::Run, &mut store, limits))?;
        let run_time = started.elapsed();

        let left = store.get_fuel().map_err(|e| ExecError::Engine {
            reason: format!("get fuel: {e}"),
        })?;
        let output = store.into_data().output.unwrap_or_default();
        let receipt = Receipt {
            module_digest: program.digest,
            result_digest: Digest::of(&output),
            output_len: output.len() as u64,
            fuel_used: limits.fuel - left,
            limits: *limits,
            engine: self.identity.clone(),
        };
        tracing::debug!(
            target: "executor",
            module = %receipt.module_digest,
            result = %receipt.result_digest,
            fuel_used = receipt.fuel_used,
            cache_hit,
            "executed"
        );
        Ok(Execution {
            output,
            receipt,
            timings: Timings {
                cache_hit,
                load,
                instantiate,
                run: run_time,
            },
        })
    }

    fn check_limits(&self, limits: &TaskLimits) -> Result<()> {
        let reject = |what: &str, asked: u64, max: u64| {
            Err(ExecError::LimitsRejected {
                reason: format!("{what} {asked} is over this node's maximum {max}"),
            })
        };
        if limits.fuel > self.config.max_task_fuel {
            return reject("fuel", limits.fuel, self.config.max_task_fuel);
        }
        if limits.max_memory_bytes > self.config.max_task_memory_bytes {
            return reject(
                "max_memory_bytes",
                limits.max_memory_bytes,
                self.config.max_task_memory_bytes,
            );
        }
        if limits.max_output_bytes > self.config.max_task_output_bytes {
            return reject(
                "max_output_bytes",
                limits.max_output_bytes,
                self.config.max_task_output_bytes,
            );
        }
        Ok(())
    }

    /// The checked, compiled program for `bytes`, from the cache when possible.
    fn program(&self, bytes: &[u8]) -> Result<(Arc<Program>, bool)> {
        if bytes.len() > self.config.max_module_bytes {
            return Err(ExecError::ModuleTooLarge {
                len: bytes.len(),
                max: self.config.max_module_bytes,
            });
        }
        let digest = Digest::of(bytes);
        if let Some(program) = self.lock_cache().get(&digest) {
            return Ok((program, true));
        }
        // Compile outside the lock; two threads racing on one module both compile it once.
        let module = Module::new(&self.engine, bytes).map_err(|e| ExecError::InvalidModule {
            reason: one_line(&format!("{e:#}")),
        })?;
        abi::check_module(&module)?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| ExecError::Engine {
                reason: format!("link: {e}"),
            })?;
        let program = Arc::new(Program { digest, pre });
        self.lock_cache().insert(digest, Arc::clone(&program));
        tracing::debug!(target: "executor", module = %digest, len = bytes.len(), "compiled");
        Ok((program, false))
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, LruCache<Arc<Program>>> {
        // The cache holds no invariant a panic could break halfway.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Turns an engine error into the typed error behind it.
    fn classify(
        &self,
        error: wasmtime::Error,
        phase: Phase,
        store: &mut Store<HostState>,
        limits: &TaskLimits,
    ) -> ExecError {
        if let Some(violation) = store.data_mut().take_violation() {
            return violation;
        }
        let Some(trap) = error.downcast_ref::<Trap>() else {
            return match phase {
                Phase::Instantiate => ExecError::Instantiation {
                    reason: one_line(&format!("{error:#}")),
                },
                Phase::Run => {
                    tracing::warn!(target: "executor", error = %format!("{error:#}"), "engine failure");
                    ExecError::Engine {
                        reason: format!("{error:#}"),
                    }
                }
            };
        };
        let guest = |trap| ExecError::Trap { phase, trap };
        match *trap {
            Trap::OutOfFuel => ExecError::OutOfFuel { limit: limits.fuel },
            Trap::StackOverflow => ExecError::StackOverflow { phase },
            Trap::UnreachableCodeReached => guest(GuestTrap::Unreachable),
            Trap::MemoryOutOfBounds => guest(GuestTrap::MemoryOutOfBounds),
            Trap::TableOutOfBounds => guest(GuestTrap::TableOutOfBounds),
            Trap::IndirectCallToNull => guest(GuestTrap::IndirectCallToNull),
            Trap::BadSignature => guest(GuestTrap::BadSignature),
            Trap::IntegerOverflow => guest(GuestTrap::IntegerOverflow),
            Trap::IntegerDivisionByZero => guest(GuestTrap::IntegerDivisionByZero),
            Trap::BadConversionToInteger => guest(GuestTrap::BadConversionToInteger),
            other => guest(GuestTrap::Other(format!("{other:?}"))),
        }
    }
}

impl Executor {
    fn timeout(&self, phase: Phase) -> ExecError {
        tracing::warn!(target: "executor", %phase, "wall-clock watchdog fired");
        ExecError::Timeout {
            phase,
            limit_ms: self.config.wall_time_limit_ms,
        }
    }
}

/// Engine messages can span lines (pretty-printed byte arrays); errors are one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
