//! A local store filled from gateways: misses are fetched, verified and cached; liars are skipped.

use std::sync::Arc;

use axum::{Router, routing::get};
use bytes::Bytes;
use verity_store::{
    BlobStore, Cid, DiskStore, FetchingStore, GatewayClient, Limits, MemoryStore, StoreError,
};

use crate::support::{Gateway, spawn_router};

async fn liar() -> GatewayClient {
    let url = spawn_router(Router::new().route("/ipfs/{cid}", get(|| async { "forged" }))).await;
    GatewayClient::new(&url).unwrap()
}

#[tokio::test]
async fn a_miss_is_fetched_verified_and_cached_skipping_a_lying_gateway() {
    let remote = Arc::new(MemoryStore::default());
    let cid = remote.put(Bytes::from_static(b"input data")).await.unwrap();
    let honest = Gateway::start(remote).await;

    let local = Arc::new(MemoryStore::default());
    let store = FetchingStore::new(
        local.clone(),
        vec![liar().await, GatewayClient::new(&honest.url).unwrap()],
    );
    assert!(!store.has(&cid).await.unwrap());
    assert_eq!(&store.get(&cid).await.unwrap()[..], b"input data");
    assert!(local.has(&cid).await.unwrap(), "cached locally");
    honest.stop().await;
    // Served from the cache once the gateway is gone.
    assert_eq!(&store.get(&cid).await.unwrap()[..], b"input data");
}

#[tokio::test]
async fn only_liars_means_unavailable_and_nothing_cached() {
    let local = Arc::new(MemoryStore::default());
    let store = FetchingStore::new(local.clone(), vec![liar().await]);
    let cid = Cid::of(b"input data");
    let err = store.get(&cid).await.unwrap_err();
    match err {
        StoreError::Unavailable {
            cid: c,
            tried: 1,
            last,
        } => {
            assert_eq!(c, cid);
            assert!(matches!(*last, StoreError::Mismatch { .. }), "{last}");
        }
        other => panic!("expected Unavailable, got {other}"),
    }
    assert!(local.is_empty());
}

#[tokio::test]
async fn nobody_has_it_means_not_found() {
    let empty = Gateway::start(Arc::new(MemoryStore::default())).await;
    let store = FetchingStore::new(
        Arc::new(MemoryStore::default()),
        vec![GatewayClient::new(&empty.url).unwrap()],
    );
    let cid = Cid::of(b"nowhere");
    assert!(store.get(&cid).await.unwrap_err().is_not_found());
    let no_gateways = FetchingStore::new(Arc::new(MemoryStore::default()), vec![]);
    assert!(no_gateways.get(&cid).await.unwrap_err().is_not_found());
    empty.stop().await;
}

#[tokio::test]
async fn a_corrupt_local_copy_is_refetched_and_repaired() {
    let remote = Arc::new(MemoryStore::default());
    let cid = remote.put(Bytes::from_static(b"program")).await.unwrap();
    let gateway = Gateway::start(remote).await;

    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(DiskStore::open(dir.path(), Limits::default()).unwrap());
    disk.put(Bytes::from_static(b"program")).await.unwrap();
    std::fs::write(disk.path_of(&cid), b"PROGRAM").unwrap();

    let store = FetchingStore::new(
        disk.clone(),
        vec![GatewayClient::new(&gateway.url).unwrap()],
    );
    assert_eq!(&store.get(&cid).await.unwrap()[..], b"program");
    assert_eq!(
        &disk.get(&cid).await.unwrap()[..],
        b"program",
        "repaired on disk"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn our_gateway_can_front_a_fetching_store() {
    // A gateway whose store falls back to another gateway: a client of the first gets bytes
    // only the second has, still verified end to end.
    let origin_store = Arc::new(MemoryStore::default());
    let cid = origin_store.put(Bytes::from_static(b"deep")).await.unwrap();
    let origin = Gateway::start(origin_store).await;
    let edge = Gateway::start(Arc::new(FetchingStore::new(
        Arc::new(MemoryStore::default()),
        vec![GatewayClient::new(&origin.url).unwrap()],
    )))
    .await;
    let got = GatewayClient::new(&edge.url)
        .unwrap()
        .fetch(&cid)
        .await
        .unwrap();
    assert_eq!(&got[..], b"deep");
    edge.stop().await;
    origin.stop().await;
}
