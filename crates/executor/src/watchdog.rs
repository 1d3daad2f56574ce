//! The wall-clock backstop behind fuel: a thread that advances the engine's epoch.
//!
//! Each store gets a deadline of `limit / tick` epochs; compiled code checks the epoch at
//! function entries and loop back-edges and traps with `Interrupt` once the deadline passes.
//! Fuel stops every well-formed runaway program first and deterministically; the watchdog is
//! for a task whose fuel limit is too generous for this machine, and it is a host-side error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use wasmtime::Engine;

/// Ticks the epoch of one engine until dropped.
#[derive(Debug)]
pub(crate) struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    tick: Duration,
}

impl Watchdog {
    pub(crate) fn start(engine: Engine, tick: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("verity-executor-watchdog".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::park_timeout(tick);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
            tick,
        })
    }

    /// Epochs to allow for `limit`, rounded up, plus one for the tick already under way.
    pub(crate) fn deadline_ticks(&self, limit: Duration) -> u64 {
        let tick = self.tick.as_nanos().max(1);
        u64::try_from(limit.as_nanos().div_ceil(tick))
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            // The thread only sleeps and ticks; it cannot panic in a way worth reporting.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_rounds_up_and_adds_a_tick() {
        let dog = Watchdog::start(Engine::default(), Duration::from_millis(10)).unwrap();
        assert_eq!(dog.deadline_ticks(Duration::from_millis(100)), 11);
        assert_eq!(dog.deadline_ticks(Duration::from_millis(95)), 11);
        assert_eq!(dog.deadline_ticks(Duration::ZERO), 1);
    }
}
