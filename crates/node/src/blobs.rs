//! Where the node gets programs and inputs and puts outputs: content addressed by sha2-256
//! digest (the digest on chain; the IPFS CIDv1 raw form is derived from it). The daemon uses
//! the store crate's gateway client; [`MemoryBlobs`] is the in-memory stand-in for tests.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
};

use alloy::primitives::B256;

/// Blob access errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// No gateway has it.
    #[error("[V-BLOB-001] blob {0} not found")]
    NotFound(B256),
    /// Fetching or storing failed.
    #[error("[V-BLOB-002] blob {digest}: {reason}")]
    Unavailable {
        /// The blob.
        digest: B256,
        /// Why.
        reason: String,
    },
}

/// Content-addressed blob access.
pub trait Blobs: Send + Sync + 'static {
    /// The blob whose sha2-256 is `digest`, verified.
    fn fetch(&self, digest: B256) -> impl Future<Output = Result<Vec<u8>, BlobError>> + Send;
    /// Stores `bytes`; returns their sha2-256.
    fn publish(&self, bytes: Vec<u8>) -> impl Future<Output = Result<B256, BlobError>> + Send;
}

pub use verity_primitives::digest::sha256;

/// In-memory blobs.
#[derive(Debug, Clone, Default)]
pub struct MemoryBlobs {
    inner: Arc<Mutex<HashMap<B256, Vec<u8>>>>,
}

impl MemoryBlobs {
    /// Stores synchronously (test setup).
    pub fn insert(&self, bytes: Vec<u8>) -> B256 {
        let d = sha256(&bytes);
        self.inner.lock().expect("poisoned").insert(d, bytes);
        d
    }

    /// Whether `digest` is held.
    pub fn contains(&self, digest: B256) -> bool {
        self.inner.lock().expect("poisoned").contains_key(&digest)
    }
}

impl Blobs for MemoryBlobs {
    async fn fetch(&self, digest: B256) -> Result<Vec<u8>, BlobError> {
        let bytes = self.inner.lock().expect("poisoned").get(&digest).cloned();
        let bytes = bytes.ok_or(BlobError::NotFound(digest))?;
        if sha256(&bytes) != digest {
            return Err(BlobError::Unavailable {
                digest,
                reason: "content does not match its digest".into(),
            });
        }
        Ok(bytes)
    }

    async fn publish(&self, bytes: Vec<u8>) -> Result<B256, BlobError> {
        Ok(self.insert(bytes))
    }
}
