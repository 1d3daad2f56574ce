//! The executor: loads (and caches) programs, runs them under task limits, and turns every
//! failure into a typed [`ExecError`].

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use wasmtime::{Engine, InstancePre, Linker, Module, Store, Trap};

use crate::abi::{self, ENTRY};
use crate::cache::LruCache;
use crate::determinism::{self, EngineIdentity};
use crate::fuel;
use crate::host::{HostState, Watchdog};
use crate::pool::{Gate, WASM32_MAX_MEMORY_BYTES};
use crate::watchdog::{self, DeadlinePassed};
use crate::{
    Digest, ExecError, Execution, ExecutorConfig, GuestTrap, ModuleProfile, Phase, Receipt, Result,
    TaskLimits, TaskLog, Timings,
};

/// Largest input the ABI can describe (`input_len` returns an i32).
const MAX_INPUT_BYTES: u64 = i32::MAX as u64;

/// Compilations that ran past their deadline and are still running. While this many are,
/// compiling another module is refused with `CompilerBusy`: a node that gives up on a slow
/// compilation must not start a second one beside it on the same cores, then a third.
const MAX_OVERDUE_COMPILATIONS: usize = 2;
/// Stack of the compiler thread (compilation of a large function recurses).
const COMPILER_STACK_BYTES: usize = 8 << 20;

/// A compiled module that passed the budget and the ABI checks, ready to instantiate.
#[derive(Clone)]
struct Program {
    digest: Digest,
    profile: ModuleProfile,
    pre: InstancePre<HostState>,
    /// How long compiling, checking and linking took.
    compile_time: Duration,
}

/// What the executor and its compiler threads share.
struct Shared {
    engine: Engine,
    linker: Linker<HostState>,
    config: ExecutorConfig,
    cache: Mutex<LruCache<Arc<Program>>>,
    /// Compilations still running after their caller gave up on them.
    overdue: AtomicUsize,
    /// One pass per pre-allocated instance slot.
    gate: Gate,
}

/// Runs WebAssembly programs deterministically. Cheap to share: `execute` takes `&self` and may
/// be called from many threads at once.
pub struct Executor {
    shared: Arc<Shared>,
    identity: EngineIdentity,
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("identity", &self.identity)
            .field("config", &self.shared.config)
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
        if config.max_concurrent_executions == 0 {
            return Err(engine_error(
                "max_concurrent_executions must be positive".into(),
            ));
        }
        let engine = Engine::new(&determinism::engine_config(&config))
            .map_err(|e| engine_error(format!("engine configuration: {e}")))?;
        let linker = abi::linker(&engine).map_err(|e| engine_error(format!("linker: {e}")))?;
        let identity = EngineIdentity::of(&config);
        tracing::debug!(target: "executor", %identity, "executor ready");
        Ok(Self {
            shared: Arc::new(Shared {
                cache: Mutex::new(LruCache::new(config.module_cache_bytes)),
                engine,
                linker,
                overdue: AtomicUsize::new(0),
                gate: Gate::new(config.max_concurrent_executions),
                config,
            }),
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
        determinism::describe(&self.shared.config)
    }

    /// The configuration this executor was built with.
    pub fn config(&self) -> &ExecutorConfig {
        &self.shared.config
    }

    /// Checks and compiles a module without running it (and caches it), within the
    /// configured `compile_time_limit_ms`. Returns its digest.
    pub fn prepare(&self, module_bytes: &[u8]) -> Result<Digest> {
        self.prepare_within(module_bytes, self.compile_time_limit())
    }

    /// Checks a module against the size limit and the complexity budget, then compiles it on
    /// a compiler thread and waits at most `limit` for it (a cached module returns at once).
    /// Returns its digest.
    ///
    /// Past `limit` this returns the host-side [`ExecError::CompileTimeout`]: the node should
    /// decline the task with that reason rather than commit to anything. The compilation goes
    /// on in the background and caches its result; while two such compilations are running,
    /// others are refused with [`ExecError::CompilerBusy`]. Budget
    /// and validation failures are deterministic errors, as in [`Executor::execute`].
    pub fn prepare_within(&self, module_bytes: &[u8], limit: Duration) -> Result<Digest> {
        self.program(module_bytes, limit)
            .map(|(program, _)| program.digest)
    }

    /// [`Executor::prepare_within`], also saying whether the module came from the cache (a
    /// node that compiles before running reports the compile time of this step: the run that
    /// follows finds the module cached).
    pub fn prepare_within_cached(
        &self,
        module_bytes: &[u8],
        limit: Duration,
    ) -> Result<(Digest, bool)> {
        self.program(module_bytes, limit)
            .map(|(program, cached)| (program.digest, cached))
    }

    /// Checks `module_bytes` against the size limit and the complexity budget only, without
    /// compiling: the deterministic part of loading, cheap enough to run on every submission.
    pub fn check_budget(&self, module_bytes: &[u8]) -> Result<ModuleProfile> {
        self.check_size(module_bytes)?;
        self.shared.config.module_budget.check(module_bytes)
    }

    fn compile_time_limit(&self) -> Duration {
        Duration::from_millis(self.shared.config.compile_time_limit_ms)
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
        self.run(module_bytes, input, limits, &mut Progress::default())
    }

    /// [`Executor::execute`], and the [`TaskLog`] of the attempt: fuel used (also when it
    /// failed), wall time, compile time and the failure reason, for the client to fetch.
    pub fn execute_logged(
        &self,
        module_bytes: &[u8],
        input: &[u8],
        limits: &TaskLimits,
    ) -> (Result<Execution, ExecError>, TaskLog) {
        let started = Instant::now();
        let mut progress = Progress::default();
        let result = self.run(module_bytes, input, limits, &mut progress);
        let log = TaskLog::of(
            &result,
            progress.fuel_used,
            progress.timings,
            started.elapsed(),
        );
        (result, log)
    }

    /// The execution, recording in `progress` how far it got.
    fn run(
        &self,
        module_bytes: &[u8],
        input: &[u8],
        limits: &TaskLimits,
        progress: &mut Progress,
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
        let (program, cache_hit) = self.program(module_bytes, self.compile_time_limit())?;
        let timings = &mut progress.timings;
        timings.load = started.elapsed();
        timings.cache_hit = cache_hit;
        if !cache_hit {
            timings.compile = program.compile_time;
        }

        // Instantiation's own work (segments, memory, tables) is paid before it starts, so a
        // task whose fuel does not cover it never allocates anything.
        let setup_fuel = fuel::instantiation(&program.profile);
        if setup_fuel > limits.fuel {
            return Err(ExecError::OutOfFuel { limit: limits.fuel });
        }
        // An instance slot, held until the store is gone (locals drop in reverse order). The
        // wall clock starts once the task has its slot.
        let _slot = self.shared.gate.enter();
        let config = &self.shared.config;
        let watchdog = config.wall_clock_watchdog.then(|| Watchdog {
            deadline: Instant::now() + Duration::from_millis(config.wall_time_limit_ms),
            limit_ms: config.wall_time_limit_ms,
        });
        let deadline = watchdog.map(|w| w.deadline);
        let mut store = Store::new(&self.shared.engine, HostState::new(input, limits, watchdog));
        store.limiter(|host| &mut host.limiter);
        store
            .set_fuel(limits.fuel - setup_fuel)
            .map_err(|e| ExecError::Engine {
                reason: format!("set fuel: {e}"),
            })?;
        if watchdog.is_some() {
            store
                .fuel_async_yield_interval(Some(config.watchdog_check_fuel))
                .map_err(|e| ExecError::Engine {
                    reason: format!("fuel yield interval: {e}"),
                })?;
        }

        // From here on a failure has used fuel, which the task log reports.
        let spent = |store: &Store<HostState>| store.get_fuel().ok().map(|left| limits.fuel - left);
        let started = Instant::now();
        let instantiated = watchdog::drive(program.pre.instantiate_async(&mut store), deadline);
        progress.timings.instantiate = started.elapsed();
        let instance = instantiated
            .map_err(|DeadlinePassed| self.timeout(Phase::Instantiate))
            .and_then(|r| r.map_err(|e| self.classify(e, Phase::Instantiate, &mut store, limits)))
            .inspect_err(|_| progress.fuel_used = spent(&store))?;

        store.data_mut().limiter.phase = Phase::Run;
        let run = instance
            .get_typed_func::<(), ()>(&mut store, ENTRY)
            .map_err(|e| ExecError::Engine {
                reason: format!("entry point: {e}"),
            })?;
        let started = Instant::now();
        let ran = watchdog::drive(run.call_async(&mut store, ()), deadline);
        progress.timings.run = started.elapsed();
        ran.map_err(|DeadlinePassed| self.timeout(Phase::Run))
            .and_then(|r| r.map_err(|e| self.classify(e, Phase::Run, &mut store, limits)))
            .inspect_err(|_| progress.fuel_used = spent(&store))?;

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
        progress.fuel_used = Some(receipt.fuel_used);
        Ok(Execution {
            output,
            receipt,
            timings: progress.timings,
        })
    }

    fn check_limits(&self, limits: &TaskLimits) -> Result<()> {
        let reject = |what: &str, asked: u64, max: u64| {
            Err(ExecError::LimitsRejected {
                reason: format!("{what} {asked} is over this node's maximum {max}"),
            })
        };
        let config = &self.shared.config;
        if limits.fuel > config.max_task_fuel {
            return reject("fuel", limits.fuel, config.max_task_fuel);
        }
        if limits.max_memory_bytes > config.max_task_memory_bytes {
            return reject(
                "max_memory_bytes",
                limits.max_memory_bytes,
                config.max_task_memory_bytes,
            );
        }
        if limits.max_output_bytes > config.max_task_output_bytes {
            return reject(
                "max_output_bytes",
                limits.max_output_bytes,
                config.max_task_output_bytes,
            );
        }
        if limits.max_table_elements > config.max_task_table_elements {
            return reject(
                "max_table_elements",
                limits.max_table_elements,
                config.max_task_table_elements,
            );
        }
        Ok(())
    }

    fn check_size(&self, bytes: &[u8]) -> Result<()> {
        let max = self.shared.config.max_module_bytes;
        if bytes.len() > max {
            return Err(ExecError::ModuleTooLarge {
                len: bytes.len(),
                max,
            });
        }
        Ok(())
    }

    /// The checked, compiled program for `bytes`, from the cache when possible; compiled on a
    /// compiler thread waited on for at most `limit` otherwise.
    fn program(&self, bytes: &[u8], limit: Duration) -> Result<(Arc<Program>, bool)> {
        self.check_size(bytes)?;
        let digest = Digest::of(bytes);
        if let Some(program) = self.shared.lock_cache().get(&digest) {
            return Ok((program, true));
        }
        // The budget first, on this thread: it is deterministic and takes milliseconds.
        let profile = self.shared.config.module_budget.check(bytes)?;
        let running = self.shared.overdue.load(Ordering::SeqCst);
        if running >= MAX_OVERDUE_COMPILATIONS {
            return Err(ExecError::CompilerBusy { running });
        }
        // Two threads racing on one module both compile it once.
        let (done, result) = mpsc::sync_channel(1);
        let state = Arc::new(AtomicU8::new(RUNNING));
        let (shared, owned, thread_state) =
            (Arc::clone(&self.shared), bytes.to_vec(), Arc::clone(&state));
        thread::Builder::new()
            .name("verity-compile".into())
            .stack_size(COMPILER_STACK_BYTES)
            .spawn(move || {
                // A panic in the compiler still reaches the bookkeeping below.
                let program = panic::catch_unwind(AssertUnwindSafe(|| {
                    shared.compile(&owned, digest, profile)
                }))
                .unwrap_or_else(|_| {
                    Err(ExecError::Engine {
                        reason: "the compiler panicked".into(),
                    })
                });
                if thread_state.swap(FINISHED, Ordering::SeqCst) == ABANDONED {
                    shared.overdue.fetch_sub(1, Ordering::SeqCst);
                }
                // The caller may have given up and dropped the receiver.
                let _ = done.send(program);
            })
            .map_err(|e| ExecError::Engine {
                reason: format!("compiler thread: {e}"),
            })?;
        let gone = || ExecError::Engine {
            reason: "compiler thread ended without a result".into(),
        };
        match result.recv_timeout(limit) {
            Ok(program) => program.map(|program| (program, false)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(gone()),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Counted before the state changes so the thread never decrements first.
                self.shared.overdue.fetch_add(1, Ordering::SeqCst);
                if state
                    .compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
                    tracing::warn!(target: "executor", module = %digest, limit_ms, "compilation over its time limit");
                    return Err(ExecError::CompileTimeout { limit_ms });
                }
                // It finished just now.
                self.shared.overdue.fetch_sub(1, Ordering::SeqCst);
                match result.recv() {
                    Ok(program) => program.map(|program| (program, false)),
                    Err(mpsc::RecvError) => Err(gone()),
                }
            }
        }
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
            limit_ms: self.shared.config.wall_time_limit_ms,
        }
    }
}

/// How far an execution got: what its task log reports when it fails.
#[derive(Debug, Default)]
struct Progress {
    timings: Timings,
    fuel_used: Option<u64>,
}

/// States of a compilation, shared by its thread and the caller waiting for it.
const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
/// The caller stopped waiting; the thread uncounts itself from `Shared::overdue` when done.
const ABANDONED: u8 = 2;

impl Shared {
    /// Compiles, checks and links `bytes` (on a compiler thread), and caches the program.
    fn compile(
        &self,
        bytes: &[u8],
        digest: Digest,
        profile: ModuleProfile,
    ) -> Result<Arc<Program>> {
        let started = Instant::now();
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
        let weight = cache_weight(&module, bytes);
        let program = Arc::new(Program {
            digest,
            profile,
            pre,
            compile_time: started.elapsed(),
        });
        self.lock_cache()
            .insert(digest, Arc::clone(&program), weight);
        tracing::debug!(
            target: "executor",
            module = %digest,
            len = bytes.len(),
            weight,
            ms = started.elapsed().as_millis() as u64,
            "compiled"
        );
        Ok(program)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, LruCache<Arc<Program>>> {
        // The cache holds no invariant a panic could break halfway.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Estimated memory a cached module holds: its compiled image (code, data segments and
/// serialised metadata), about as much again for the metadata once deserialised (function
/// and export tables), and the wasm bytes it was built from.
fn cache_weight(module: &Module, bytes: &[u8]) -> u64 {
    let image = module.image_range();
    let image_len = (image.end as usize).saturating_sub(image.start as usize) as u64;
    image_len
        .saturating_mul(2)
        .saturating_add(bytes.len() as u64)
}

/// Engine messages can span lines (pretty-printed byte arrays); errors are one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
