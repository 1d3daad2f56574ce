//! Following the chain into the coordinator's store: the settlement crate's event stream
//! ([`verity_settlement::events`], the one chain-reading path) asked one stateless step at a
//! time over the store's recent blocks.
//!
//! Each [`step`] reads where the store stands ([`Store::recent_blocks`]) and hands it to
//! [`events::step`], which compares it with the chain and says what to do next: undo blocks the
//! chain no longer has (a reorganization), process the next chunk of confirmed blocks, or
//! nothing. The coordinator keeps no follower state of its own, so one that stops at any point
//! resumes from the store, and a range replayed after a crash is deduplicated by the store's
//! `(block hash, log index)` key. How reorgs are detected is described in
//! [`verity_settlement::events`].

use verity_settlement::events;
pub use verity_settlement::events::{
    ChainBlock, Header, LogSource, RpcLogSource, Step, StreamConfig, StreamError,
};

use crate::store::{Store, StoreError};

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// Reading the chain failed (or it moved, or reorganized deeper than the kept blocks).
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// The store failed.
    #[error("[V-CF-002] store: {0}")]
    Store(#[from] StoreError),
}

impl FollowError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            FollowError::Stream(e) => e.is_transient(),
            FollowError::Store(e) => e.is_transient(),
        }
    }
}

/// Result with [`FollowError`].
pub type Result<T, E = FollowError> = std::result::Result<T, E>;

/// Compares the store with the chain and returns the next [`Step`].
pub async fn step(store: &dyn Store, chain: &dyn LogSource, cfg: &StreamConfig) -> Result<Step> {
    let recent = store.recent_blocks().await?;
    Ok(events::step(&recent, chain, cfg).await?)
}
