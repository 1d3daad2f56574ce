//! The default backend: one file per blob under a root directory.
//!
//! Layout: `<root>/<first two hex digits of the digest>/<64 hex digits of the digest>`. A blob
//! is written to `.<digest>.<pid>.<n>.tmp` in its shard directory, fsynced, renamed over its
//! final name and the directory fsynced, so a crash leaves either the whole blob or none of it
//! (plus perhaps a temp file, removed by the next [`DiskStore::open`]).

use std::{
    collections::HashMap,
    fs::{self, File, OpenOptions},
    io::{self, Read as _, Write as _},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
};

use bytes::Bytes;

use crate::{BlobStore, BoxFuture, Cid, Limits, Result, StoreError};

const TARGET: &str = "store::disk";

/// Distinguishes temp files of concurrent writers in this process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Blobs as files under a root directory, verified on every read.
///
/// One process should own a root at a time: [`DiskStore::open`] removes leftover temp files
/// and the total-size accounting is kept in memory.
#[derive(Debug, Clone)]
pub struct DiskStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    limits: Limits,
    /// Bytes stored plus bytes reserved by puts in flight.
    used: Mutex<u64>,
    /// One writer per CID at a time: a second put of the same bytes waits for the first and
    /// then finds them stored, so it neither writes nor reserves space again.
    writers: Mutex<HashMap<Cid, Arc<Mutex<()>>>>,
}

impl DiskStore {
    /// Opens (creating if needed) the store under `root`, removes temp files left by a crash
    /// and counts the bytes stored. Does blocking I/O: call it at startup.
    pub fn open(root: impl Into<PathBuf>, limits: Limits) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| StoreError::io("creating", &root, e))?;
        let used = scan(&root)?;
        tracing::info!(target: TARGET, root = %root.display(), used, "opened blob store");
        Ok(Self {
            inner: Arc::new(Inner {
                root,
                limits,
                used: Mutex::new(used),
                writers: Mutex::default(),
            }),
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The caps.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// Bytes stored (plus bytes reserved by puts in flight).
    pub fn used_bytes(&self) -> u64 {
        *self.inner.lock_used()
    }

    /// Where the bytes of `cid` live (whether or not they are there).
    pub fn path_of(&self, cid: &Cid) -> PathBuf {
        self.inner.path_of(cid)
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StoreError::Internal(format!("blocking disk task failed: {e}")))?
    }
}

impl BlobStore for DiskStore {
    fn put(&self, bytes: Bytes) -> BoxFuture<'_, Result<Cid>> {
        Box::pin(self.blocking(move |inner| inner.put(&bytes)))
    }

    fn get(&self, cid: &Cid) -> BoxFuture<'_, Result<Bytes>> {
        let cid = *cid;
        Box::pin(self.blocking(move |inner| inner.get(&cid)))
    }

    fn has(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>> {
        let cid = *cid;
        Box::pin(self.blocking(move |inner| Ok(inner.stored_len(&cid)?.is_some())))
    }

    fn delete(&self, cid: &Cid) -> BoxFuture<'_, Result<bool>> {
        let cid = *cid;
        Box::pin(self.blocking(move |inner| inner.delete(&cid)))
    }

    fn size(&self, cid: &Cid) -> BoxFuture<'_, Result<Option<u64>>> {
        let cid = *cid;
        Box::pin(self.blocking(move |inner| inner.stored_len(&cid)))
    }

    fn max_blob_bytes(&self) -> u64 {
        self.inner.limits.max_blob_bytes
    }
}

impl Inner {
    fn lock_used(&self) -> MutexGuard<'_, u64> {
        lock(&self.used)
    }

    fn shard_of(&self, cid: &Cid) -> PathBuf {
        self.root.join(&cid.digest_hex()[..2])
    }

    fn path_of(&self, cid: &Cid) -> PathBuf {
        self.shard_of(cid).join(cid.digest_hex())
    }

    fn stored_len(&self, cid: &Cid) -> Result<Option<u64>> {
        let path = self.path_of(cid);
        match fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io("inspecting", path, e)),
        }
    }

    fn get(&self, cid: &Cid) -> Result<Bytes> {
        let path = self.path_of(cid);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound { cid: *cid });
            }
            Err(e) => return Err(StoreError::io("opening", path, e)),
        };
        let limit = self.limits.max_blob_bytes;
        let mut bytes = Vec::new();
        // Never read more than the cap, whatever the file has become.
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| StoreError::io("reading", &path, e))?;
        if bytes.len() as u64 > limit {
            return Err(StoreError::TooLarge {
                cid: Some(*cid),
                size: bytes.len() as u64,
                limit,
            });
        }
        if let Err(m) = cid.verify(&bytes) {
            tracing::error!(target: TARGET, %cid, path = %path.display(), actual = %m.actual,
                "stored blob is corrupt; refusing to return it");
            return Err(StoreError::Corrupt {
                cid: *cid,
                path,
                actual: m.actual,
            });
        }
        Ok(bytes.into())
    }

    fn put(&self, bytes: &[u8]) -> Result<Cid> {
        let size = bytes.len() as u64;
        let limit = self.limits.max_blob_bytes;
        if size > limit {
            return Err(StoreError::TooLarge {
                cid: None,
                size,
                limit,
            });
        }
        let cid = Cid::of(bytes);
        let slot = lock(&self.writers).entry(cid).or_default().clone();
        let result = {
            let _writer = lock(&slot);
            self.put_exclusive(&cid, bytes)
        };
        let mut writers = lock(&self.writers);
        // Nobody else holds or waits for the slot (clones are only taken under this lock).
        if Arc::strong_count(&slot) == 2 {
            writers.remove(&cid);
        }
        result
    }

    /// `put` while holding the CID's writer slot.
    fn put_exclusive(&self, cid: &Cid, bytes: &[u8]) -> Result<Cid> {
        let cid = *cid;
        let size = bytes.len() as u64;
        // Already stored and intact: nothing to do. A corrupt copy is replaced below.
        match self.get(&cid) {
            Ok(_) => return Ok(cid),
            Err(
                StoreError::NotFound { .. }
                | StoreError::Corrupt { .. }
                | StoreError::TooLarge { .. },
            ) => {}
            Err(e) => return Err(e),
        }
        self.reserve(&cid, size)?;
        self.write(&cid, bytes)?;
        Ok(cid)
    }

    fn reserve(&self, cid: &Cid, size: u64) -> Result<()> {
        let mut used = self.lock_used();
        if let Some(limit) = self.limits.max_total_bytes
            && used.saturating_add(size) > limit
        {
            return Err(StoreError::Full {
                cid: *cid,
                needed: size,
                used: *used,
                limit,
            });
        }
        *used += size;
        Ok(())
    }

    /// Writes the blob atomically. The caller has reserved `bytes.len()`; the reservation is
    /// released if the blob does not reach its final name.
    fn write(&self, cid: &Cid, bytes: &[u8]) -> Result<()> {
        let release = |e: StoreError| {
            let mut used = self.lock_used();
            *used = used.saturating_sub(bytes.len() as u64);
            e
        };
        let shard = self.shard_of(cid);
        if !shard.exists() {
            fs::create_dir_all(&shard)
                .map_err(|e| release(StoreError::io("creating", &shard, e)))?;
            sync_dir(&self.root).map_err(release)?;
        }
        let tmp = shard.join(format!(
            ".{}.{}.{}.tmp",
            cid.digest_hex(),
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        if let Err(e) = write_synced(&tmp, bytes) {
            let _ = fs::remove_file(&tmp);
            return Err(release(e));
        }
        let path = self.path_of(cid);
        {
            // Rename and accounting together, so a replaced (corrupt) copy is uncounted exactly once.
            let mut used = self.lock_used();
            let replaced = fs::metadata(&path).ok().map(|m| m.len());
            if let Err(e) = fs::rename(&tmp, &path) {
                *used = used.saturating_sub(bytes.len() as u64);
                drop(used);
                let _ = fs::remove_file(&tmp);
                return Err(StoreError::io("renaming into", path, e));
            }
            if let Some(old) = replaced {
                *used = used.saturating_sub(old);
            }
        }
        sync_dir(&shard)?;
        tracing::debug!(target: TARGET, %cid, size = bytes.len(), "stored");
        Ok(())
    }

    fn delete(&self, cid: &Cid) -> Result<bool> {
        let path = self.path_of(cid);
        {
            let mut used = self.lock_used();
            let len = match fs::metadata(&path) {
                Ok(m) => m.len(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(StoreError::io("inspecting", path, e)),
            };
            match fs::remove_file(&path) {
                Ok(()) => *used = used.saturating_sub(len),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(StoreError::io("removing", path, e)),
            }
        }
        sync_dir(&self.shard_of(cid))?;
        tracing::debug!(target: TARGET, %cid, "deleted");
        Ok(true)
    }
}

/// Updates under the store's locks are single steps, so a poisoned lock is still consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| StoreError::io("creating", path, e))?;
    file.write_all(bytes)
        .map_err(|e| StoreError::io("writing", path, e))?;
    file.sync_all()
        .map_err(|e| StoreError::io("syncing", path, e))
}

/// Makes a rename or an unlink in `dir` durable.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("syncing directory", dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Sums the sizes of the stored blobs and removes temp files left by a crash.
fn scan(root: &Path) -> Result<u64> {
    let mut used = 0;
    for shard in fs::read_dir(root).map_err(|e| StoreError::io("listing", root, e))? {
        let shard = shard.map_err(|e| StoreError::io("listing", root, e))?;
        let shard_name = shard.file_name();
        let Some(shard_name) = shard_name.to_str() else {
            continue;
        };
        if shard_name.len() != 2 || !is_hex(shard_name) || !shard.path().is_dir() {
            continue;
        }
        let dir = shard.path();
        for entry in fs::read_dir(&dir).map_err(|e| StoreError::io("listing", &dir, e))? {
            let entry = entry.map_err(|e| StoreError::io("listing", &dir, e))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                tracing::warn!(target: TARGET, path = %path.display(), "removing leftover temp file");
                fs::remove_file(&path).map_err(|e| StoreError::io("removing", &path, e))?;
            } else if name.len() == 64 && is_hex(&name) && name.starts_with(shard_name) {
                let meta = entry
                    .metadata()
                    .map_err(|e| StoreError::io("inspecting", &path, e))?;
                used += meta.len();
            } else {
                tracing::warn!(target: TARGET, path = %path.display(), "ignoring stray file");
            }
        }
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn layout_is_sharded_by_digest_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open(dir.path(), Limits::default()).unwrap();
        let cid = store.put(Bytes::from_static(b"hello world")).await.unwrap();
        let path = store.path_of(&cid);
        assert_eq!(
            path,
            dir.path()
                .join("b9")
                .join("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(fs::read(path).unwrap(), b"hello world");
    }

    #[tokio::test]
    async fn reopen_counts_usage_and_sweeps_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open(dir.path(), Limits::default()).unwrap();
        let cid = store.put(Bytes::from_static(b"abc")).await.unwrap();
        let stale = store.path_of(&cid).with_file_name(".stale.1.1.tmp");
        fs::write(&stale, b"half a blob").unwrap();
        drop(store);
        let store = DiskStore::open(dir.path(), Limits::default()).unwrap();
        assert_eq!(store.used_bytes(), 3);
        assert!(!stale.exists());
    }

    #[tokio::test]
    async fn put_replaces_a_corrupt_copy() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open(dir.path(), Limits::default()).unwrap();
        let cid = store.put(Bytes::from_static(b"abc")).await.unwrap();
        fs::write(store.path_of(&cid), b"abd").unwrap();
        assert!(matches!(
            store.get(&cid).await,
            Err(StoreError::Corrupt { .. })
        ));
        store.put(Bytes::from_static(b"abc")).await.unwrap();
        assert_eq!(&store.get(&cid).await.unwrap()[..], b"abc");
        assert_eq!(store.used_bytes(), 3);
    }
}
