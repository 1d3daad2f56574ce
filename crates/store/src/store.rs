//! The seam every component uses: an async, object-safe blob store.

use std::{fmt, future::Future, pin::Pin, sync::Arc};

use bytes::Bytes;

use crate::{Cid, Result};

/// A boxed, `Send` future, so [`BlobStore`] can be used as `Arc<dyn BlobStore>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Content-addressed blob storage.
///
/// Every implementation verifies bytes against their CID on the way out: `get` never returns
/// bytes that do not hash to the CID asked for.
pub trait BlobStore: fmt::Debug + Send + Sync + 'static {
    /// Stores `bytes` and returns their CID. Storing the same bytes twice, even concurrently,
    /// stores them once. Fails with [`StoreError::TooLarge`](crate::StoreError::TooLarge) over
    /// the per-blob cap and [`StoreError::Full`](crate::StoreError::Full) over the total cap.
    fn put(&self, bytes: Bytes) -> BoxFuture<'_, Result<Cid>>;

    /// The bytes of `cid`, verified against it.
    fn get(&self, cid: &Cid) -> BoxFuture<'_, Result<Bytes>>;

    /// Whether the blob is stored here (without reading or verifying it).
    fn has(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>>;

    /// Removes the blob; `true` if it was there.
    fn delete(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>>;

    /// The stored size of the blob in bytes, `None` if it is not stored here.
    fn size(&self, cid: &Cid) -> BoxFuture<'_, Result<Option<u64>>>;

    /// The largest blob [`put`](Self::put) accepts.
    fn max_blob_bytes(&self) -> u64;
}

impl<T: BlobStore + ?Sized> BlobStore for Arc<T> {
    fn put(&self, bytes: Bytes) -> BoxFuture<'_, Result<Cid>> {
        (**self).put(bytes)
    }
    fn get(&self, cid: &Cid) -> BoxFuture<'_, Result<Bytes>> {
        (**self).get(cid)
    }
    fn has(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>> {
        (**self).has(cid)
    }
    fn delete(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>> {
        (**self).delete(cid)
    }
    fn size(&self, cid: &Cid) -> BoxFuture<'_, Result<Option<u64>>> {
        (**self).size(cid)
    }
    fn max_blob_bytes(&self) -> u64 {
        (**self).max_blob_bytes()
    }
}
