//! The contracts' enums. The JSON ABI encodes them as `uint8`; these give them names back.

use std::fmt;

/// A `uint8` that is not a variant of the named enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{value} is not a valid {kind}")]
pub struct UnknownVariant {
    /// The enum's name.
    pub kind: &'static str,
    /// The value received.
    pub value: u8,
}

macro_rules! contract_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vdoc])* $variant = $value),+
        }

        impl TryFrom<u8> for $name {
            type Error = UnknownVariant;
            fn try_from(value: u8) -> Result<Self, Self::Error> {
                match value {
                    $($value => Ok(Self::$variant),)+
                    _ => Err(UnknownVariant { kind: stringify!($name), value }),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(v: $name) -> u8 {
                v as u8
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

contract_enum!(
    /// `TaskMarket.Mode`: how a task's result is verified.
    Mode {
        /// k-of-n replication with commit-reveal.
        Replicated = 0,
        /// One operator, a challenge window, committee-decided disputes.
        Optimistic = 1,
        /// One operator and a proof checked by a registered verifier.
        ZkProof = 2,
    }
);

contract_enum!(
    /// `TaskMarket.Status`: where a task is in its lifecycle.
    Status {
        /// No such task.
        None = 0,
        /// Funded, waiting for assignment.
        Open = 1,
        /// Operators assigned and holding collateral.
        Assigned = 2,
        /// Optimistic result posted; challenge window running.
        Submitted = 3,
        /// Optimistic result challenged; committee deciding.
        Challenged = 4,
        /// Paid out.
        Finalized = 5,
        /// Bounty returned to the client.
        Refunded = 6,
    }
);

contract_enum!(
    /// `TaskMarket.Seat`: one assigned operator's progress on one task.
    Seat {
        /// Not assigned.
        None = 0,
        /// Assigned, nothing sent yet.
        Assigned = 1,
        /// Commitment recorded.
        Committed = 2,
        /// Commitment opened.
        Revealed = 3,
        /// Gave the seat back.
        Declined = 4,
    }
);

impl Status {
    /// Finalized or Refunded: nothing can change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Finalized | Status::Refunded)
    }
}

contract_enum!(
    /// `DisputeCourt.Phase`: where a dispute's case is.
    CasePhase {
        /// No case.
        None = 0,
        /// Committee being drawn.
        Drawing = 1,
        /// Members commit, then reveal, their digests.
        Voting = 2,
        /// The committee did not decide; the arbiter may, until its deadline.
        Escalated = 3,
        /// A verdict is in; the market has not settled the task yet.
        Decided = 4,
        /// Settled.
        Closed = 5,
    }
);

contract_enum!(
    /// `DisputeCourt.Verdict`: what a dispute decided.
    Verdict {
        /// Not decided yet.
        Pending = 0,
        /// The operator's result stands.
        Upheld = 1,
        /// The operator's result was wrong.
        Overturned = 2,
        /// Nobody decided: nobody is slashed.
        Neutral = 3,
    }
);
