//! Liveness from missed heartbeats: a pure function of the last heartbeat's arrival, the clock
//! and the policy.
//!
//! Arrival time (the coordinator's clock when it accepted the heartbeat) is used, not the
//! time the node claims to have sent it: a node cannot keep itself alive by claiming a later
//! timestamp.

use serde::{Deserialize, Serialize};

/// How often nodes send heartbeats and how many may go missing before a node is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivenessPolicy {
    /// Expected seconds between heartbeats (at least 1).
    pub interval_secs: u64,
    /// Heartbeats that may be missed before the node counts as down.
    pub allowed_misses: u64,
}

impl Default for LivenessPolicy {
    fn default() -> Self {
        Self {
            interval_secs: 10,
            allowed_misses: 3,
        }
    }
}

/// What the coordinator believes about a node's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Liveness {
    /// No heartbeat ever accepted.
    Unknown,
    /// The last heartbeat is within one interval.
    Live,
    /// Some heartbeats missed, no more than allowed.
    Late {
        /// Intervals elapsed without a heartbeat.
        missed: u64,
    },
    /// More heartbeats missed than allowed: not to be assigned work, and its seats fail over.
    Down {
        /// Intervals elapsed without a heartbeat.
        missed: u64,
    },
}

impl Liveness {
    /// Whether the node may be given new work.
    pub fn is_available(self) -> bool {
        matches!(self, Liveness::Live | Liveness::Late { .. })
    }
}

/// Whole intervals elapsed since `last_seen` (0 if the clock reads earlier than `last_seen`).
pub fn missed_heartbeats(last_seen: u64, now: u64, policy: LivenessPolicy) -> u64 {
    now.saturating_sub(last_seen) / policy.interval_secs.max(1)
}

/// The liveness of a node last heard from at `last_seen` (unix seconds, arrival time).
pub fn liveness(last_seen: Option<u64>, now: u64, policy: LivenessPolicy) -> Liveness {
    let Some(last) = last_seen else {
        return Liveness::Unknown;
    };
    match missed_heartbeats(last, now, policy) {
        0 => Liveness::Live,
        m if m <= policy.allowed_misses => Liveness::Late { missed: m },
        m => Liveness::Down { missed: m },
    }
}

/// The first unix second at which a node last heard from at `last_seen` counts as down.
/// `None` if that moment is beyond `u64` seconds.
pub fn down_at(last_seen: u64, policy: LivenessPolicy) -> Option<u64> {
    policy
        .allowed_misses
        .checked_add(1)?
        .checked_mul(policy.interval_secs.max(1))?
        .checked_add(last_seen)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn boundaries_with_the_default_policy() {
        let p = LivenessPolicy::default(); // 10 s, 3 misses
        assert_eq!(liveness(None, 1_000, p), Liveness::Unknown);
        assert_eq!(liveness(Some(1_000), 1_009, p), Liveness::Live);
        assert_eq!(
            liveness(Some(1_000), 1_010, p),
            Liveness::Late { missed: 1 }
        );
        assert_eq!(
            liveness(Some(1_000), 1_039, p),
            Liveness::Late { missed: 3 }
        );
        assert_eq!(
            liveness(Some(1_000), 1_040, p),
            Liveness::Down { missed: 4 }
        );
        assert_eq!(down_at(1_000, p), Some(1_040));
        // A clock behind the heartbeat does not count as missing anything.
        assert_eq!(liveness(Some(1_000), 900, p), Liveness::Live);
    }

    proptest! {
        #[test]
        fn down_exactly_from_down_at_and_forever_after(
            last in 0u64..1 << 40,
            interval in 1u64..100_000,
            allowed in 0u64..1_000,
            dt in 0u64..1 << 30,
            later in 0u64..1 << 30,
        ) {
            let p = LivenessPolicy { interval_secs: interval, allowed_misses: allowed };
            let now = last + dt;
            let down = down_at(last, p).unwrap();
            let state = liveness(Some(last), now, p);
            prop_assert_eq!(matches!(state, Liveness::Down { .. }), now >= down);
            prop_assert_eq!(state.is_available(), now < down);
            // Without a new heartbeat, time only makes things worse.
            let next = liveness(Some(last), now + later, p);
            prop_assert!(missed_heartbeats(last, now + later, p) >= missed_heartbeats(last, now, p));
            if !state.is_available() {
                prop_assert!(!next.is_available());
            }
        }

        #[test]
        fn a_newer_heartbeat_never_makes_a_node_less_live(
            last in 0u64..1 << 40,
            newer in 0u64..1 << 20,
            dt in 0u64..1 << 30,
            interval in 1u64..10_000,
            allowed in 0u64..100,
        ) {
            let p = LivenessPolicy { interval_secs: interval, allowed_misses: allowed };
            let now = last + newer + dt;
            prop_assert!(
                missed_heartbeats(last + newer, now, p) <= missed_heartbeats(last, now, p)
            );
        }
    }
}
