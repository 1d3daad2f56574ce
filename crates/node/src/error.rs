//! Node errors, split into what a retry can fix and what stops the node.

use alloy::primitives::U256;

use crate::{blobs::BlobError, db::DbError};

/// What can go wrong in the node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A settlement call failed (transient or a revert).
    #[error(transparent)]
    Settlement(#[from] verity_settlement::Error),
    /// Reading chain data failed.
    #[error("[V-NODE-001] chain: {0}")]
    Chain(String),
    /// The task database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Blob access failed.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// The database lacks something the phase implies.
    #[error("[V-NODE-002] task {task}: no {what} stored for a phase that needs it")]
    Missing {
        /// The task.
        task: U256,
        /// What is missing.
        what: &'static str,
    },
    /// Configuration or keys are unusable.
    #[error("[V-NODE-003] {0}")]
    Setup(String),
    /// A bug or a broken runtime.
    #[error("[V-NODE-004] internal: {0}")]
    Internal(String),
}

impl NodeError {
    /// Errors no retry fixes: the node stops and says why.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            NodeError::Db(_) | NodeError::Setup(_) | NodeError::Internal(_)
        )
    }
}
