//! Latency as the coordinator measures it: a nonce it issues, echoed by the node, timed on
//! the coordinator's own clock.
//!
//! When the intake accepts a signed heartbeat it issues a fresh random nonce in its answer
//! ([`LatencyProbes::issue`]); the node posts the nonce straight back
//! (`POST /v1/heartbeats/echo`), and the time from issuing to the echo's arrival, read on the
//! coordinator's [`Stopwatch`], is one round-trip sample ([`LatencyProbes::echo`]). The node's
//! own timestamps play no part, so a node whose clock runs ahead (or lies) cannot make itself
//! look fast: the only way to a low figure is to answer quickly.
//!
//! The echo is not signed: the nonce is 32 random bytes handed only to the sender of a
//! heartbeat whose signature the intake just verified, it is good for one echo, and it expires
//! after [`PROBE_TTL_MS`]. Whoever can read that answer could relay the echo anyway, signed or
//! not. A node can only be slower than it is (by delaying its echo), never faster.
//!
//! The figure is the median of the last [`SAMPLES`] round trips, so one slow or lucky sample
//! does not move it. Measurements live in memory: after a restart a node's latency is
//! unmeasured (and so counts as the floor in ranking) until its next echo.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use alloy::primitives::{Address, B256};

/// How long an issued nonce may be echoed, milliseconds. A later echo is refused, not counted.
pub const PROBE_TTL_MS: u64 = 30_000;

/// Round trips kept per node; the figure is their median.
pub const SAMPLES: usize = 5;

/// A coordinator-local millisecond clock for timing round trips (monotonic in production).
pub trait Stopwatch: fmt::Debug + Send + Sync + 'static {
    /// Milliseconds since an arbitrary fixed origin; never decreases.
    fn now_ms(&self) -> u64;
}

/// The process's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicStopwatch(Instant);

impl Default for MonotonicStopwatch {
    fn default() -> Self {
        Self(Instant::now())
    }
}

impl Stopwatch for MonotonicStopwatch {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A stopwatch that only moves when told to (tests). Clones share the time.
#[derive(Debug, Clone, Default)]
pub struct ManualStopwatch(Arc<AtomicU64>);

impl ManualStopwatch {
    /// Moves the time forward by `ms`.
    pub fn advance_ms(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Stopwatch for ManualStopwatch {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

verity_primitives::coded_error! {
    /// Why an echo was not counted.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum EchoError {
        /// No nonce is outstanding for this operator (never issued, already echoed, or
        /// replaced by a newer heartbeat's).
        #[error("[V-CLAT-001] no latency probe is outstanding for {0}")]
        NoProbe(Address),
        /// The nonce is not the one issued.
        #[error("[V-CLAT-002] latency echo from {0} carries a nonce that was not issued to it")]
        WrongNonce(Address),
        /// The echo came after [`PROBE_TTL_MS`].
        #[error("[V-CLAT-003] latency echo from {operator} came {after_ms} ms after the probe (limit {PROBE_TTL_MS} ms)")]
        Expired {
            /// Operator.
            operator: Address,
            /// Milliseconds since the nonce was issued.
            after_ms: u64,
        },
    }
}

#[derive(Debug, Default)]
struct NodeProbe {
    /// The nonce outstanding and when it was issued.
    outstanding: Option<(B256, u64)>,
    /// The last round trips, oldest first.
    samples: Vec<u32>,
}

/// Issues nonces, times echoes, and keeps each node's measured latency.
#[derive(Debug)]
pub struct LatencyProbes {
    stopwatch: Arc<dyn Stopwatch>,
    nodes: Mutex<HashMap<Address, NodeProbe>>,
}

impl Default for LatencyProbes {
    fn default() -> Self {
        Self::new(Arc::new(MonotonicStopwatch::default()))
    }
}

impl LatencyProbes {
    /// Probes timed by `stopwatch`.
    pub fn new(stopwatch: Arc<dyn Stopwatch>) -> Self {
        Self {
            stopwatch,
            nodes: Mutex::new(HashMap::new()),
        }
    }

    fn nodes(&self) -> std::sync::MutexGuard<'_, HashMap<Address, NodeProbe>> {
        // A panic while holding the lock leaves the map consistent (every write is one
        // assignment), so a poisoned lock is still usable.
        self.nodes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A fresh nonce for `operator` (replacing any outstanding one), timed from now.
    pub fn issue(&self, operator: Address) -> B256 {
        let nonce = B256::from(rand::random::<[u8; 32]>());
        let now = self.stopwatch.now_ms();
        self.nodes().entry(operator).or_default().outstanding = Some((nonce, now));
        nonce
    }

    /// Counts an echo of `nonce` from `operator`: the round trip in milliseconds, on the
    /// coordinator's clock. The nonce is spent whether or not the echo counts.
    pub fn echo(&self, operator: Address, nonce: B256) -> Result<u32, EchoError> {
        let now = self.stopwatch.now_ms();
        let mut nodes = self.nodes();
        let node = nodes
            .get_mut(&operator)
            .ok_or(EchoError::NoProbe(operator))?;
        let (issued, at) = node.outstanding.ok_or(EchoError::NoProbe(operator))?;
        if issued != nonce {
            // A wrong guess does not spend the real nonce: the node can still answer.
            return Err(EchoError::WrongNonce(operator));
        }
        node.outstanding = None;
        let after_ms = now.saturating_sub(at);
        if after_ms > PROBE_TTL_MS {
            return Err(EchoError::Expired { operator, after_ms });
        }
        let rtt = u32::try_from(after_ms).unwrap_or(u32::MAX);
        if node.samples.len() == SAMPLES {
            node.samples.remove(0);
        }
        node.samples.push(rtt);
        Ok(rtt)
    }

    /// The measured latency of `operator` (the median of its last round trips, the upper one
    /// of an even count), or `None` if no echo has counted yet.
    pub fn latency_ms(&self, operator: Address) -> Option<u32> {
        let nodes = self.nodes();
        let samples = &nodes.get(&operator)?.samples;
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.clone();
        sorted.sort_unstable();
        Some(sorted[sorted.len() / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probes() -> (LatencyProbes, ManualStopwatch) {
        let watch = ManualStopwatch::default();
        (LatencyProbes::new(Arc::new(watch.clone())), watch)
    }

    #[test]
    fn the_round_trip_is_timed_on_the_coordinators_clock() {
        let (p, watch) = probes();
        let op = Address::repeat_byte(1);
        assert_eq!(p.latency_ms(op), None);
        let nonce = p.issue(op);
        watch.advance_ms(42);
        assert_eq!(p.echo(op, nonce), Ok(42));
        assert_eq!(p.latency_ms(op), Some(42));
        // Spent: a second echo of the same nonce is refused.
        assert_eq!(p.echo(op, nonce), Err(EchoError::NoProbe(op)));
    }

    #[test]
    fn wrong_late_and_unknown_echoes_are_refused_and_not_counted() {
        let (p, watch) = probes();
        let op = Address::repeat_byte(1);
        assert_eq!(p.echo(op, B256::ZERO), Err(EchoError::NoProbe(op)));
        let nonce = p.issue(op);
        assert_eq!(p.echo(op, B256::ZERO), Err(EchoError::WrongNonce(op)));
        // Another operator cannot answer for it.
        let other = Address::repeat_byte(2);
        assert_eq!(p.echo(other, nonce), Err(EchoError::NoProbe(other)));
        watch.advance_ms(PROBE_TTL_MS + 1);
        assert_eq!(
            p.echo(op, nonce),
            Err(EchoError::Expired {
                operator: op,
                after_ms: PROBE_TTL_MS + 1
            })
        );
        assert_eq!(p.latency_ms(op), None);
        // A newer heartbeat's nonce replaces the older one.
        let old = p.issue(op);
        let new = p.issue(op);
        assert_eq!(p.echo(op, old), Err(EchoError::WrongNonce(op)));
        assert_eq!(p.echo(op, new), Ok(0));
    }

    #[test]
    fn the_figure_is_the_median_of_the_last_samples() {
        let (p, watch) = probes();
        let op = Address::repeat_byte(1);
        for rtt in [10, 500, 12, 11, 9_000, 13] {
            let nonce = p.issue(op);
            watch.advance_ms(rtt);
            p.echo(op, nonce).unwrap();
        }
        // The last five: 500, 12, 11, 9000, 13 -> sorted 11, 12, 13, 500, 9000.
        assert_eq!(p.latency_ms(op), Some(13));
        for e in [
            EchoError::NoProbe(op),
            EchoError::WrongNonce(op),
            EchoError::Expired {
                operator: op,
                after_ms: 1,
            },
        ] {
            assert!(e.to_string().starts_with(&format!("[{}] ", e.code())));
        }
    }
}
