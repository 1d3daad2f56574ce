//! What can go wrong while driving the benchmark.

use verity_settlement::TaskId;

/// An error of the benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The embedded devchain did not start.
    #[error("starting the devchain: {0}")]
    Devchain(#[from] verity_devchain::Error),
    /// A contract call or read failed (the settlement error names the call and decodes reverts).
    #[error(transparent)]
    Settlement(#[from] verity_settlement::Error),
    /// A raw JSON-RPC call (time control, mining) failed.
    #[error("{method}: {reason}")]
    Rpc {
        /// The JSON-RPC method.
        method: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A call the attack relies on the contracts refusing went through, or was refused for
    /// another reason: the measured fact the row reports would be false.
    #[error("{call} on task {task:?}: expected revert {expected}, got {got}")]
    UnexpectedOutcome {
        /// The call.
        call: &'static str,
        /// The task, if any.
        task: Option<TaskId>,
        /// The custom error the contracts should have raised.
        expected: &'static str,
        /// What happened instead.
        got: String,
    },
    /// A dispute's committee draw did not complete within the bounded number of draws.
    #[error("the committee of task {task} was not complete after {draws} draws")]
    CommitteeIncomplete {
        /// The disputed task.
        task: TaskId,
        /// Draw calls made.
        draws: u32,
    },
    /// No task id with the wanted watchtower sampling turned up within the bound.
    #[error("no task with sampled = {sampled} within {tries} tasks")]
    NoSuchTask {
        /// The sampling decision looked for.
        sampled: bool,
        /// Tasks created.
        tries: u32,
    },
    /// An audit rate the market has no collateral floor for (0, or above 10 000 bps).
    #[error("no collateral floor at an audit rate of {audit_bps} bps")]
    NoFloor {
        /// The rate.
        audit_bps: u16,
    },
    /// A balance did not fit the signed 128-bit accounting.
    #[error("balance of {what} does not fit in i128")]
    Overflow {
        /// Whose balance.
        what: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
