//! The gateway client against our gateway and against lying ones, over real loopback sockets.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use bytes::Bytes;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpListener,
};
use verity_store::{
    BlobStore, Cid, DiskStore, GatewayClient, GatewayOptions, Limits, MemoryStore, StoreError,
};

use crate::support::{Gateway, spawn_router};

fn capped(url: &str, max_blob_bytes: u64) -> GatewayClient {
    GatewayClient::with_options(
        url,
        GatewayOptions {
            max_blob_bytes,
            timeout: Duration::from_secs(10),
            ..GatewayOptions::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn upload_then_fetch_through_our_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DiskStore::open(dir.path(), Limits::default()).unwrap());
    let gateway = Gateway::start(store.clone()).await;
    let client = GatewayClient::new(&gateway.url).unwrap();

    let blob = Bytes::from((0..100_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
    let cid = client.upload(blob.clone()).await.unwrap();
    assert_eq!(cid, Cid::of(&blob));
    assert!(store.has(&cid).await.unwrap());
    assert!(client.has(&cid).await.unwrap());
    assert_eq!(client.fetch(&cid).await.unwrap(), blob);

    let unknown = Cid::of(b"unknown");
    assert!(!client.has(&unknown).await.unwrap());
    let err = client.fetch(&unknown).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { cid } if cid == unknown),
        "{err}"
    );

    gateway.stop().await;
}

#[tokio::test]
async fn head_over_a_socket_reports_the_length() {
    let store = Arc::new(MemoryStore::default());
    let cid = store.put(Bytes::from_static(b"hello world")).await.unwrap();
    let gateway = Gateway::start(store).await;
    let resp = reqwest::Client::new()
        .head(format!("{}/ipfs/{cid}?format=raw", gateway.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_LENGTH], "11");
    assert_eq!(resp.headers()[header::ETAG], format!("\"{cid}.raw\""));
    assert!(resp.bytes().await.unwrap().is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn a_gateway_returning_wrong_bytes_is_a_mismatch() {
    let url =
        spawn_router(Router::new().route("/ipfs/{cid}", get(|| async { "hello world!" }))).await;
    let cid = Cid::of(b"hello world");
    let err = GatewayClient::new(&url)
        .unwrap()
        .fetch(&cid)
        .await
        .unwrap_err();
    match &err {
        StoreError::Mismatch {
            cid: c,
            gateway,
            actual,
        } => {
            assert_eq!(*c, cid);
            assert_eq!(*gateway, url);
            assert_eq!(*actual, Cid::of(b"hello world!"));
        }
        other => panic!("expected Mismatch, got {other}"),
    }
    assert!(err.is_integrity_failure());
}

#[tokio::test]
async fn a_gateway_declaring_too_many_bytes_is_cut_off() {
    let url =
        spawn_router(Router::new().route("/ipfs/{cid}", get(|| async { vec![0u8; 2 << 20] })))
            .await;
    let cid = Cid::of(b"small");
    let err = capped(&url, 1 << 20).fetch(&cid).await.unwrap_err();
    assert!(
        matches!(err, StoreError::TooLarge { cid: Some(c), size, limit } if c == cid && size == 2 << 20 && limit == 1 << 20),
        "{err}"
    );
}

/// A raw HTTP/1.1 server that answers one request with an endless chunked body (bounded at
/// 64 MiB so the test always ends). The client must stop reading at its cap.
#[tokio::test]
async fn a_gateway_streaming_without_end_is_cut_off_at_the_cap() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut req = [0u8; 4096];
        let _ = sock.read(&mut req).await.unwrap();
        sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.ipld.raw\r\ntransfer-encoding: chunked\r\n\r\n")
            .await
            .unwrap();
        let chunk = vec![b'x'; 64 << 10];
        let mut sent = 0usize;
        for _ in 0..1024 {
            let head = format!("{:x}\r\n", chunk.len());
            let ok = sock.write_all(head.as_bytes()).await.is_ok()
                && sock.write_all(&chunk).await.is_ok()
                && sock.write_all(b"\r\n").await.is_ok();
            if !ok {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let limit = 1 << 20;
    let err = capped(&url, limit).fetch(&Cid::of(b"x")).await.unwrap_err();
    match err {
        StoreError::TooLarge { size, limit: l, .. } => {
            assert_eq!(l, limit);
            assert!(size > limit && size <= limit + (64 << 10), "{size}");
        }
        other => panic!("expected TooLarge, got {other}"),
    }
    let sent = server.await.unwrap();
    assert!(
        sent < 64 << 20,
        "the client stopped reading; the server sent {sent} bytes"
    );
}

#[tokio::test]
async fn a_failing_gateway_is_a_gateway_error() {
    let url = spawn_router(Router::new().route(
        "/ipfs/{cid}",
        get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "try later") }),
    ))
    .await;
    let err = GatewayClient::new(&url)
        .unwrap()
        .fetch(&Cid::of(b"x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Gateway { status: 503, message, .. } if message == "try later"),
        "{err}"
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn an_upload_named_by_another_cid_is_rejected() {
    let url = spawn_router(Router::new().route(
        "/ipfs",
        post(|| async {
            (
                StatusCode::CREATED,
                Json(serde_json::json!({ "cid": Cid::of(b"something else") })),
            )
                .into_response()
        }),
    ))
    .await;
    let err = GatewayClient::new(&url)
        .unwrap()
        .upload(Bytes::from_static(b"mine"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::UploadMismatch { expected, got, .. }
            if *expected == Cid::of(b"mine") && *got == Cid::of(b"something else").to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn upload_over_the_server_cap_reports_the_servers_message() {
    let store = Arc::new(MemoryStore::new(Limits::per_blob(8)));
    let gateway = Gateway::start(store).await;
    let err = GatewayClient::new(&gateway.url)
        .unwrap()
        .upload(Bytes::from_static(b"123456789"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Gateway { status: 413, message, .. } if message.contains("V-STO-002")),
        "{err}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn unreachable_gateway_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = GatewayClient::new(&url)
        .unwrap()
        .fetch(&Cid::of(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Transport { .. }), "{err}");
    assert!(err.is_transient());
}

#[test]
fn unusable_urls_are_rejected_up_front() {
    for url in [
        "https://ipfs.io",
        "ftp://example.org",
        "not a url",
        "http://127.0.0.1:8080/?x=1",
    ] {
        let err = GatewayClient::new(url).unwrap_err();
        assert!(
            matches!(err, StoreError::BadGatewayUrl { .. }),
            "{url}: {err}"
        );
    }
    let client = GatewayClient::new("http://127.0.0.1:8080/prefix/").unwrap();
    let cid = Cid::of(b"");
    assert_eq!(
        client.block_url(&cid),
        format!("http://127.0.0.1:8080/prefix/ipfs/{cid}?format=raw")
    );
}

#[tokio::test]
async fn uploads_past_axums_default_body_limit_work_up_to_our_cap() {
    // axum's default extractor limit is 2 MiB; ours is the store's blob cap.
    let store = Arc::new(MemoryStore::new(Limits::per_blob(5 << 20)));
    let gateway = Gateway::start(store).await;
    let client = capped(&gateway.url, 8 << 20);
    let blob = Bytes::from(vec![42u8; 5 << 20]);
    let cid = client.upload(blob.clone()).await.unwrap();
    assert_eq!(client.fetch(&cid).await.unwrap(), blob);
    let err = client
        .upload(Bytes::from(vec![1u8; (5 << 20) + 1]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Gateway { status: 413, .. }),
        "{err}"
    );
    gateway.stop().await;
}
