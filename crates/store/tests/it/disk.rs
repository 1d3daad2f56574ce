//! The disk backend: roundtrips, tampering, caps, concurrency.

use std::{fs, sync::Arc};

use bytes::Bytes;
use verity_store::{BlobStore, Cid, DiskStore, Limits, StoreError};

fn open(limits: Limits) -> (tempfile::TempDir, DiskStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = DiskStore::open(dir.path(), limits).unwrap();
    (dir, store)
}

/// Every file under `root` (blobs and temp files alike).
fn files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for shard in fs::read_dir(root).unwrap() {
        let shard = shard.unwrap().path();
        if shard.is_dir() {
            out.extend(fs::read_dir(shard).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out
}

#[tokio::test]
async fn roundtrip_has_size_delete() {
    let (_dir, store) = open(Limits::default());
    let cid = store.put(Bytes::from_static(b"hello world")).await.unwrap();
    assert_eq!(cid, Cid::of(b"hello world"));
    assert_eq!(&store.get(&cid).await.unwrap()[..], b"hello world");
    assert!(store.has(&cid).await.unwrap());
    assert_eq!(store.size(&cid).await.unwrap(), Some(11));
    assert_eq!(store.used_bytes(), 11);

    assert!(store.delete(&cid).await.unwrap());
    assert!(!store.delete(&cid).await.unwrap());
    assert!(!store.has(&cid).await.unwrap());
    assert_eq!(store.size(&cid).await.unwrap(), None);
    assert_eq!(store.used_bytes(), 0);
    let err = store.get(&cid).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { cid: c } if c == cid),
        "{err}"
    );
    assert!(err.to_string().starts_with("[V-STO-001]"));
}

#[tokio::test]
async fn empty_blob_roundtrips() {
    let (_dir, store) = open(Limits::default());
    let cid = store.put(Bytes::new()).await.unwrap();
    assert_eq!(
        cid.to_string(),
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    );
    assert!(store.get(&cid).await.unwrap().is_empty());
}

#[tokio::test]
async fn tampered_file_is_corrupt_and_never_returned() {
    let (_dir, store) = open(Limits::default());
    let cid = store
        .put(Bytes::from_static(b"program bytes"))
        .await
        .unwrap();
    let path = store.path_of(&cid);

    fs::write(&path, b"program bytez").unwrap();
    let err = store.get(&cid).await.unwrap_err();
    match &err {
        StoreError::Corrupt {
            cid: c,
            path: p,
            actual,
        } => {
            assert_eq!(*c, cid);
            assert_eq!(*p, path);
            assert_eq!(*actual, Cid::of(b"program bytez"));
        }
        other => panic!("expected Corrupt, got {other}"),
    }
    assert_eq!(err.code(), "V-STO-004");
    assert!(err.is_integrity_failure());

    // Truncated and emptied files are caught the same way.
    fs::write(&path, b"program").unwrap();
    assert!(matches!(
        store.get(&cid).await,
        Err(StoreError::Corrupt { .. })
    ));
    fs::write(&path, b"").unwrap();
    assert!(matches!(
        store.get(&cid).await,
        Err(StoreError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn per_blob_cap() {
    let (dir, store) = open(Limits::per_blob(8));
    store.put(Bytes::from_static(b"12345678")).await.unwrap();
    let err = store
        .put(Bytes::from_static(b"123456789"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooLarge {
                cid: None,
                size: 9,
                limit: 8
            }
        ),
        "{err}"
    );
    assert_eq!(
        files(dir.path()).len(),
        1,
        "nothing written for a rejected blob"
    );
}

#[tokio::test]
async fn a_file_grown_past_the_cap_is_not_read_whole() {
    let (_dir, store) = open(Limits::per_blob(8));
    let cid = store.put(Bytes::from_static(b"1234")).await.unwrap();
    fs::write(store.path_of(&cid), vec![0u8; 1 << 20]).unwrap();
    assert!(matches!(
        store.get(&cid).await,
        Err(StoreError::TooLarge {
            size: 9,
            limit: 8,
            ..
        })
    ));
}

#[tokio::test]
async fn total_cap() {
    let (_dir, store) = open(Limits::per_blob(10).with_total(10));
    let a = store.put(Bytes::from_static(b"aaaaaa")).await.unwrap();
    // The same content again costs nothing.
    store.put(Bytes::from_static(b"aaaaaa")).await.unwrap();
    let err = store.put(Bytes::from_static(b"bbbbbb")).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Full {
                needed: 6,
                used: 6,
                limit: 10,
                ..
            }
        ),
        "{err}"
    );
    store.delete(&a).await.unwrap();
    store.put(Bytes::from_static(b"bbbbbb")).await.unwrap();
    assert_eq!(store.used_bytes(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_of_the_same_content() {
    let (dir, store) = open(Limits::per_blob(1 << 20).with_total(1 << 20));
    let blob = Bytes::from(vec![7u8; 256 << 10]);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (store, blob) = (store.clone(), blob.clone());
        tasks.push(tokio::spawn(async move { store.put(blob).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), Cid::of(&blob));
    }
    assert_eq!(store.used_bytes(), 256 << 10, "counted once");
    assert_eq!(
        files(dir.path()),
        vec![store.path_of(&Cid::of(&blob))],
        "no temp files left"
    );
    assert_eq!(store.get(&Cid::of(&blob)).await.unwrap(), blob);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_never_overshoot_the_total_cap() {
    let (dir, store) = open(Limits::per_blob(100).with_total(350));
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for i in 0..10u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.put(Bytes::from(vec![i; 100])).await
        }));
    }
    let mut stored = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => stored += 1,
            Err(StoreError::Full { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(stored, 3);
    assert_eq!(store.used_bytes(), 300);
    assert_eq!(files(dir.path()).len(), 3);
}

#[tokio::test]
async fn reopening_keeps_blobs_and_usage() {
    let dir = tempfile::tempdir().unwrap();
    let cid = {
        let store = DiskStore::open(dir.path(), Limits::default()).unwrap();
        store.put(Bytes::from_static(b"persisted")).await.unwrap()
    };
    let store = DiskStore::open(dir.path(), Limits::default()).unwrap();
    assert_eq!(store.used_bytes(), 9);
    assert_eq!(&store.get(&cid).await.unwrap()[..], b"persisted");
}
