//! An in-memory store: the stand-in for tests and for components that need no persistence.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use bytes::Bytes;

use crate::{BlobStore, BoxFuture, Cid, Limits, Result, StoreError};

/// Blobs in a hash map, with the same caps and the same verification as [`DiskStore`](crate::DiskStore).
#[derive(Debug, Default)]
pub struct MemoryStore {
    limits: Limits,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    blobs: HashMap<Cid, Bytes>,
    used: u64,
}

impl MemoryStore {
    /// An empty store with the given caps.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            inner: Mutex::default(),
        }
    }

    /// The caps.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Total bytes stored.
    pub fn used_bytes(&self) -> u64 {
        self.lock().used
    }

    /// Number of blobs stored.
    pub fn len(&self) -> usize {
        self.lock().blobs.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map half-updated (every update is a
        // single insert/remove plus a counter), so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn put_now(&self, bytes: Bytes) -> Result<Cid> {
        let size = bytes.len() as u64;
        if size > self.limits.max_blob_bytes {
            return Err(StoreError::TooLarge {
                cid: None,
                size,
                limit: self.limits.max_blob_bytes,
            });
        }
        let cid = Cid::of(&bytes);
        let mut inner = self.lock();
        if inner.blobs.contains_key(&cid) {
            return Ok(cid);
        }
        if let Some(limit) = self.limits.max_total_bytes
            && inner.used.saturating_add(size) > limit
        {
            return Err(StoreError::Full {
                cid,
                needed: size,
                used: inner.used,
                limit,
            });
        }
        inner.used += size;
        inner.blobs.insert(cid, bytes);
        tracing::debug!(target: "store::memory", %cid, size, "stored");
        Ok(cid)
    }

    fn get_now(&self, cid: &Cid) -> Result<Bytes> {
        let bytes = self
            .lock()
            .blobs
            .get(cid)
            .cloned()
            .ok_or(StoreError::NotFound { cid: *cid })?;
        // Memory cannot be tampered with from outside, but the rule is "verified before use,
        // always", and the cost is one hash.
        cid.verify(&bytes).map_err(|m| StoreError::Corrupt {
            cid: *cid,
            path: "(memory)".into(),
            actual: m.actual,
        })?;
        Ok(bytes)
    }
}

impl BlobStore for MemoryStore {
    fn put(&self, bytes: Bytes) -> BoxFuture<'_, Result<Cid>> {
        Box::pin(async move { self.put_now(bytes) })
    }

    fn get(&self, cid: &Cid) -> BoxFuture<'_, Result<Bytes>> {
        let cid = *cid;
        Box::pin(async move { self.get_now(&cid) })
    }

    fn has(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>> {
        let cid = *cid;
        Box::pin(async move { Ok(self.lock().blobs.contains_key(&cid)) })
    }

    fn delete(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>> {
        let cid = *cid;
        Box::pin(async move {
            let mut inner = self.lock();
            let removed = inner.blobs.remove(&cid);
            if let Some(bytes) = &removed {
                inner.used -= bytes.len() as u64;
            }
            Ok(removed.is_some())
        })
    }

    fn size(&self, cid: &Cid) -> BoxFuture<'_, Result<Option<u64>>> {
        let cid = *cid;
        Box::pin(async move { Ok(self.lock().blobs.get(&cid).map(|b| b.len() as u64)) })
    }

    fn max_blob_bytes(&self) -> u64 {
        self.limits.max_blob_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn caps_are_enforced_and_duplicates_cost_nothing() {
        let store = MemoryStore::new(Limits::per_blob(4).with_total(6));
        let a = store.put(Bytes::from_static(b"aaaa")).await.unwrap();
        assert_eq!(store.put(Bytes::from_static(b"aaaa")).await.unwrap(), a);
        assert_eq!(store.used_bytes(), 4);
        assert!(matches!(
            store.put(Bytes::from_static(b"bbbbb")).await,
            Err(StoreError::TooLarge {
                size: 5,
                limit: 4,
                ..
            })
        ));
        assert!(matches!(
            store.put(Bytes::from_static(b"ccc")).await,
            Err(StoreError::Full {
                needed: 3,
                used: 4,
                limit: 6,
                ..
            })
        ));
        assert!(store.delete(&a).await.unwrap());
        assert_eq!(store.used_bytes(), 0);
        store.put(Bytes::from_static(b"ccc")).await.unwrap();
    }
}
