//! Our gateway's routes, called in process with `oneshot`.

use std::sync::Arc;

use axum::{
    Router,
    body::{Body, to_bytes},
    http::{Method, Request, StatusCode, header},
};
use bytes::Bytes;
use serde_json::Value;
use tower::ServiceExt as _;
use verity_store::{BlobStore, Cid, DiskStore, Limits, MemoryStore, RAW_MEDIA_TYPE, app};

const HELLO: &str = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

async fn hello_store() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new(Limits::per_blob(1024)));
    store.put(Bytes::from_static(b"hello world")).await.unwrap();
    store
}

async fn call(app: Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Bytes) {
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, headers, body)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn error_code(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    assert!(v["error"]["message"].is_string(), "{v}");
    v["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn get_raw_block_with_trustless_headers() {
    let app = app(hello_store().await);
    let (status, headers, body) = call(app, get(&format!("/ipfs/{HELLO}?format=raw"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"hello world");
    assert_eq!(headers[header::CONTENT_TYPE], RAW_MEDIA_TYPE);
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=29030400, immutable"
    );
    assert_eq!(headers[header::ETAG], format!("\"{HELLO}.raw\""));
    assert_eq!(headers[header::CONTENT_LENGTH], "11");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"{HELLO}.bin\"")
    );
    assert_eq!(headers["x-ipfs-path"], format!("/ipfs/{HELLO}"));
}

#[tokio::test]
async fn accept_header_selects_raw_too() {
    let app = app(hello_store().await);
    let req = Request::get(format!("/ipfs/{HELLO}"))
        .header(header::ACCEPT, RAW_MEDIA_TYPE)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = call(app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"hello world");
}

#[tokio::test]
async fn head_has_headers_and_no_body() {
    let app = app(hello_store().await);
    let req = Request::head(format!("/ipfs/{HELLO}?format=raw"))
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = call(app.clone(), req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    assert_eq!(headers[header::CONTENT_LENGTH], "11");
    assert_eq!(headers[header::CONTENT_TYPE], RAW_MEDIA_TYPE);
    assert_eq!(headers[header::ETAG], format!("\"{HELLO}.raw\""));

    let unknown = Cid::of(b"nobody stored this");
    let req = Request::head(format!("/ipfs/{unknown}?format=raw"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(app, req).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn if_none_match_gives_304() {
    let app = app(hello_store().await);
    let req = Request::get(format!("/ipfs/{HELLO}?format=raw"))
        .header(header::IF_NONE_MATCH, format!("\"{HELLO}.raw\""))
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = call(app, req).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(headers[header::ETAG], format!("\"{HELLO}.raw\""));
}

#[tokio::test]
async fn malformed_cids_are_400() {
    let app = app(hello_store().await);
    for (path, code) in [
        ("/ipfs/not-a-cid?format=raw", "V-CID-001"),
        (
            "/ipfs/QmaozNR7DZHQK1ZcU9p7QdrshMvXqWK6gpu5rmrkPdT3L4?format=raw",
            "V-CID-002",
        ),
        (
            "/ipfs/bafybeifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e?format=raw",
            "V-CID-003",
        ),
    ] {
        let (status, headers, body) = call(app.clone(), get(path)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(error_code(&body), code, "{path}");
    }
}

#[tokio::test]
async fn missing_format_is_400() {
    let (status, _, body) = call(app(hello_store().await), get(&format!("/ipfs/{HELLO}"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "V-STO-020");
}

#[tokio::test]
async fn unknown_cid_is_404() {
    let unknown = Cid::of(b"nobody stored this");
    let (status, _, body) = call(
        app(hello_store().await),
        get(&format!("/ipfs/{unknown}?format=raw")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "V-STO-001");
}

#[tokio::test]
async fn car_only_is_406() {
    let app = app(hello_store().await);
    let (status, _, body) = call(app.clone(), get(&format!("/ipfs/{HELLO}?format=car"))).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(error_code(&body), "V-STO-021");

    let req = Request::get(format!("/ipfs/{HELLO}"))
        .header(header::ACCEPT, "application/vnd.ipld.car")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = call(app, req).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(error_code(&body), "V-STO-021");
}

#[tokio::test]
async fn upload_returns_the_cid() {
    let store = Arc::new(MemoryStore::new(Limits::per_blob(1024)));
    let req = Request::post("/ipfs")
        .body(Body::from("hello world"))
        .unwrap();
    let (status, headers, body) = call(app(store.clone()), req).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers[header::LOCATION], format!("/ipfs/{HELLO}"));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v, serde_json::json!({ "cid": HELLO }));
    assert!(store.has(&HELLO.parse().unwrap()).await.unwrap());
}

#[tokio::test]
async fn upload_over_the_cap_is_413() {
    let store = Arc::new(MemoryStore::new(Limits::per_blob(16)));
    let req = Request::post("/ipfs")
        .body(Body::from(vec![1u8; 17]))
        .unwrap();
    let (status, _, body) = call(app(store.clone()), req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body), "V-STO-002");
    assert!(store.is_empty());

    // Exactly at the cap is fine.
    let req = Request::post("/ipfs")
        .body(Body::from(vec![1u8; 16]))
        .unwrap();
    assert_eq!(call(app(store), req).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn full_store_is_507() {
    let store = Arc::new(MemoryStore::new(Limits::per_blob(16).with_total(16)));
    store.put(Bytes::from(vec![0u8; 10])).await.unwrap();
    let req = Request::post("/ipfs")
        .body(Body::from(vec![1u8; 10]))
        .unwrap();
    let (status, _, body) = call(app(store), req).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE);
    assert_eq!(error_code(&body), "V-STO-003");
}

#[tokio::test]
async fn corrupt_blob_is_500_and_its_bytes_never_leave() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DiskStore::open(dir.path(), Limits::default()).unwrap());
    let cid = store.put(Bytes::from_static(b"genuine")).await.unwrap();
    std::fs::write(store.path_of(&cid), b"TAMPERED").unwrap();
    let (status, _, body) = call(app(store), get(&format!("/ipfs/{cid}?format=raw"))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_code(&body), "V-STO-004");
    assert!(!String::from_utf8_lossy(&body).contains("TAMPERED"));
}

#[tokio::test]
async fn unknown_routes_are_json_404() {
    let app = app(hello_store().await);
    let (status, _, body) = call(app.clone(), get("/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "V-STO-022");
    // Paths under a raw block are not supported by trustless gateways.
    let (status, _, _) = call(app.clone(), get(&format!("/ipfs/{HELLO}/a?format=raw"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let req = Request::builder()
        .method(Method::DELETE)
        .uri(format!("/ipfs/{HELLO}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(app, req).await.0, StatusCode::METHOD_NOT_ALLOWED);
}
