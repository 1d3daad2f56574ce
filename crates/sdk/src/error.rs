//! What can go wrong for a requester.

use verity_settlement::{Status, TaskId};

/// Result with [`SdkError`].
pub type Result<T, E = SdkError> = std::result::Result<T, E>;

/// Every way an SDK call fails. Contract reverts keep their decoded names inside
/// [`SdkError::Chain`].
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The task spec is not something the market would accept; nothing was sent.
    #[error("[V-SDK-001] invalid task spec: {field}: {reason}")]
    InvalidSpec {
        /// The offending field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The chain call failed (a named revert, a transport error, a timeout).
    #[error("[V-SDK-002] {what}: {source}")]
    Chain {
        /// What the SDK was doing.
        what: &'static str,
        /// The settlement error.
        #[source]
        source: verity_settlement::Error,
    },
    /// Uploading to or fetching from the gateway failed (including bytes that do not match
    /// their CID).
    #[error("[V-SDK-003] {what}: {source}")]
    Store {
        /// What the SDK was doing.
        what: &'static str,
        /// The store error.
        #[source]
        source: verity_store::StoreError,
    },
    /// The task has no result to fetch.
    #[error("[V-SDK-004] task {id} has no result: it is {status}")]
    NoResult {
        /// The task.
        id: TaskId,
        /// Its status.
        status: Status,
    },
    /// The task did not reach a final state in time.
    #[error("[V-SDK-005] task {id} still {status} after {waited_secs} s")]
    WaitTimeout {
        /// The task.
        id: TaskId,
        /// Its last status.
        status: Status,
        /// Seconds waited.
        waited_secs: u64,
    },
    /// The market has no such task.
    #[error("[V-SDK-006] no task {0} in this market")]
    UnknownTask(TaskId),
    /// The account cannot pay the bounty, neither from its market balance nor from its
    /// wallet; nothing was sent (no approval is left behind).
    #[error(
        "[V-SDK-007] the bounty is {bounty} (raw units) but the account holds {wallet} in its \
         wallet and {in_market} in the market; nothing was sent"
    )]
    InsufficientFunds {
        /// The bounty.
        bounty: alloy::primitives::U256,
        /// Token balance of the account.
        wallet: alloy::primitives::U256,
        /// Its balance in the market.
        in_market: alloy::primitives::U256,
    },
}

impl SdkError {
    pub(crate) fn chain(what: &'static str) -> impl FnOnce(verity_settlement::Error) -> Self {
        move |source| Self::Chain { what, source }
    }

    pub(crate) fn store(what: &'static str) -> impl FnOnce(verity_store::StoreError) -> Self {
        move |source| Self::Store { what, source }
    }
}
