//! What a store holds for one execution: the input, the output slot, and the limiter.
//!
//! Host functions and the limiter cannot return a typed error through the engine, so they
//! record it here and return an opaque engine error; [`crate::executor`] reads the record when
//! a call fails and reports that instead of the engine's message.

use std::time::Instant;

use wasmtime::{Error, ResourceLimiter};

use crate::{ExecError, Phase, TaskLimits};

/// Store data for one execution.
#[derive(Debug)]
pub(crate) struct HostState {
    pub(crate) input: Vec<u8>,
    pub(crate) output: Option<Vec<u8>>,
    pub(crate) max_output_bytes: u64,
    pub(crate) fuel_limit: u64,
    pub(crate) limiter: TaskLimiter,
    /// The typed error behind the last failing host call, if any.
    pub(crate) violation: Option<ExecError>,
    /// The wall-clock watchdog's deadline, checked by host calls too (see [`Self::check_clock`]).
    pub(crate) watchdog: Option<Watchdog>,
    /// Host calls since the clock was last read.
    calls_since_clock: u32,
    /// The guest's exported memory, once a host call has looked it up.
    pub(crate) memory: Option<wasmtime::Memory>,
}

/// The wall-clock deadline of one execution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watchdog {
    pub(crate) deadline: Instant,
    pub(crate) limit_ms: u64,
}

/// Host calls between two reads of the clock (one read costs about a quarter of a cheap call).
const CALLS_PER_CLOCK_READ: u32 = 8;
/// A call that copies at least this many bytes reads the clock whatever the count.
const BYTES_PER_CLOCK_READ: u64 = 1 << 16;

impl HostState {
    pub(crate) fn new(input: &[u8], limits: &TaskLimits, watchdog: Option<Watchdog>) -> Self {
        Self {
            input: input.to_vec(),
            output: None,
            max_output_bytes: limits.max_output_bytes,
            fuel_limit: limits.fuel,
            limiter: TaskLimiter::new(limits),
            violation: None,
            watchdog,
            calls_since_clock: 0,
            memory: None,
        }
    }

    /// Ends the call with the host-side `Timeout` once the deadline has passed.
    ///
    /// Host calls must check it themselves: a host call sets the store's fuel, which restarts
    /// the countdown to the next fuel yield, so a guest that calls the host more often than
    /// every `watchdog_check_fuel` units never yields to the watchdog. The clock is read every
    /// [`CALLS_PER_CLOCK_READ`] calls and on every large copy; a timeout never changes a
    /// result, so when it is read does not matter for determinism.
    pub(crate) fn check_clock(&mut self, bytes: u64) -> Result<(), Error> {
        let Some(watchdog) = self.watchdog else {
            return Ok(());
        };
        self.calls_since_clock += 1;
        if self.calls_since_clock < CALLS_PER_CLOCK_READ && bytes < BYTES_PER_CLOCK_READ {
            return Ok(());
        }
        self.calls_since_clock = 0;
        if Instant::now() < watchdog.deadline {
            return Ok(());
        }
        let phase = self.limiter.phase;
        tracing::warn!(target: "executor", %phase, "wall-clock watchdog fired in a host call");
        Err(self.fail(ExecError::Timeout {
            phase,
            limit_ms: watchdog.limit_ms,
        }))
    }

    /// Records `error` and returns the opaque error that makes the engine unwind.
    pub(crate) fn fail(&mut self, error: ExecError) -> Error {
        let message = error.to_string();
        self.violation = Some(error);
        Error::msg(message)
    }

    /// The recorded typed error, from a host call or the limiter, if there is one.
    pub(crate) fn take_violation(&mut self) -> Option<ExecError> {
        self.violation
            .take()
            .or_else(|| self.limiter.violation.take())
    }
}

/// Enforces the task's memory and table limits.
///
/// Growth past a limit the *module* declares (its own maximum, or the 4 GiB of a 32-bit memory)
/// fails as the WebAssembly spec says: `memory.grow` returns -1. Growth past the *task's* limit
/// traps with [`ExecError::MemoryLimit`] or [`ExecError::TableLimit`], also at instantiation
/// when a module declares a larger initial size. Both outcomes are deterministic. A growth that
/// the limits allow but the host cannot satisfy is a host failure ([`ExecError::Engine`]).
#[derive(Debug)]
pub(crate) struct TaskLimiter {
    max_memory_bytes: u64,
    max_table_elements: u64,
    pub(crate) phase: Phase,
    /// Set between an approved `memory_growing` and the growth itself.
    growth_approved: bool,
    /// The table's own declared maximum, recorded when the table is created (the first
    /// `table_growing` call). Later calls report a pooled table's slot size instead, which is
    /// not the module's limit and must not decide a result (see `pool.rs`).
    table_declared_max: Option<Option<usize>>,
    violation: Option<ExecError>,
}

impl TaskLimiter {
    fn new(limits: &TaskLimits) -> Self {
        Self {
            max_memory_bytes: limits.max_memory_bytes,
            max_table_elements: limits.max_table_elements,
            phase: Phase::Instantiate,
            growth_approved: false,
            table_declared_max: None,
            violation: None,
        }
    }

    fn fail(&mut self, error: ExecError) -> Error {
        let message = error.to_string();
        self.violation = Some(error);
        Error::msg(message)
    }
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl ResourceLimiter for TaskLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.growth_approved = false;
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let requested = as_u64(desired);
        if requested > self.max_memory_bytes {
            return Err(self.fail(ExecError::MemoryLimit {
                phase: self.phase,
                requested,
                max: self.max_memory_bytes,
            }));
        }
        self.growth_approved = true;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: Error) -> wasmtime::Result<()> {
        if std::mem::take(&mut self.growth_approved) {
            // Within every limit, yet the host could not provide the memory.
            return Err(self.fail(ExecError::Engine {
                reason: format!("memory growth failed: {error}"),
            }));
        }
        // Past the memory type's own limit: the spec's -1.
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // One table per store (`tables()`), created before any growth.
        let maximum = *self.table_declared_max.get_or_insert(maximum);
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let requested = as_u64(desired);
        if requested > self.max_table_elements {
            return Err(self.fail(ExecError::TableLimit {
                phase: self.phase,
                requested,
                max: self.max_table_elements,
            }));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        1
    }
}
