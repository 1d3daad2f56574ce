//! The wall-clock backstop behind fuel, at no cost in the compiled code.
//!
//! Execution runs as a wasmtime async call on its own fiber stack. The store yields back to
//! us every `watchdog_check_fuel` units of fuel (wasmtime's `fuel_async_yield_interval`): the
//! yield happens in the out-of-fuel path that fuel metering already has, so guest code carries
//! no extra check (an epoch deadline would add one at every loop back-edge and function entry;
//! see BENCHMARKS.md). At each yield [`drive`] compares the clock with the deadline and, once it
//! has passed, drops the call, which wasmtime unwinds safely. Fuel stops every well-formed
//! runaway program first and deterministically; the watchdog is for a task whose fuel limit is
//! too generous for this machine, and it is a host-side error, never a result.
//!
//! There is no runtime: we poll the future ourselves with a no-op waker. Our host functions
//! are synchronous, so the only reason the call is ever pending is a fuel yield, after which
//! it is ready to be polled again at once.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// The wall-clock deadline passed before the call finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeadlinePassed;

/// Polls `call` to completion, or gives up at the first yield after `deadline` (never, when
/// `deadline` is `None`). Giving up drops the call.
pub(crate) fn drive<F: Future>(
    call: F,
    deadline: Option<Instant>,
) -> Result<F::Output, DeadlinePassed> {
    let mut call = pin!(call);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = call.as_mut().poll(&mut cx) {
            return Ok(out);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(DeadlinePassed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Pending `n` times, then ready with the number of polls it took.
    struct YieldN {
        left: u32,
        polls: u32,
    }

    impl Future for YieldN {
        type Output = u32;
        fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
            self.polls += 1;
            if self.left == 0 {
                Poll::Ready(self.polls)
            } else {
                self.left -= 1;
                Poll::Pending
            }
        }
    }

    #[test]
    fn drives_a_yielding_future_to_completion_without_a_deadline() {
        assert_eq!(drive(YieldN { left: 5, polls: 0 }, None), Ok(6));
    }

    #[test]
    fn a_passed_deadline_stops_at_the_first_yield_but_not_before_completion() {
        let past = Some(Instant::now() - Duration::from_millis(1));
        assert_eq!(
            drive(YieldN { left: 3, polls: 0 }, past),
            Err(DeadlinePassed)
        );
        // A call that never yields completes even past its deadline: the check is at yields.
        assert_eq!(drive(YieldN { left: 0, polls: 0 }, past), Ok(1));
    }
}
