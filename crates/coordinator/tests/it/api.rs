//! `POST /v1/heartbeats` through the router (no socket), and once over a real loopback
//! listener. The read endpoints are in `api_endpoints`.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use tower::ServiceExt;
use verity_coordinator::{
    api::{self, ApiMetrics, ApiState},
    clock::ManualClock,
    config::HeartbeatConfig,
    heartbeat::HeartbeatIntake,
};

use crate::{
    api_world,
    heartbeat::{NOW, setup, signed},
    support::{TestDb, key, operator},
};

/// The API over the heartbeat fixture's database, with its intake.
async fn state_with(db: &TestDb, intake: HeartbeatIntake) -> ApiState {
    let store = db.open().await;
    let mut state = api_world::state(&store, ManualClock::new(NOW), Arc::new(ApiMetrics::new()));
    state.intake = Arc::new(intake);
    state
}

async fn call(
    app: &Router,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::post("/v1/heartbeats");
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("non-JSON body for {status}: {e}: {bytes:?}"));
    (status, json)
}

fn code(v: &serde_json::Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {v}"))
}

const JSON: Option<&str> = Some("application/json");

#[tokio::test]
async fn every_outcome_of_post_heartbeats_has_its_status_and_json_body() {
    let db = TestDb::sqlite();
    let k = key();
    let (store, intake, _clock) = setup(&db, &k).await;
    let max = HeartbeatConfig::default().max_body_bytes;
    let app = api::app(state_with(&db, intake).await, max);
    let body = |seq, ts| serde_json::to_vec(&signed(1, seq, ts, &k)).unwrap();

    let (s, v) = call(&app, JSON, body(5, NOW)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["seq"], 5);
    assert_eq!(store.heartbeat(operator(1)).await.unwrap().unwrap().seq, 5);
    let (s, _) = call(&app, Some("application/json; charset=utf-8"), body(6, NOW)).await;
    assert_eq!(s, StatusCode::OK);

    let (s, v) = call(&app, JSON, body(6, NOW)).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "V-CH-006"));
    let (s, v) = call(&app, JSON, body(7, NOW - 3_600)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "V-CH-007")
    );
    let (s, v) = call(&app, JSON, body(7, NOW + 3_600)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "V-CH-008")
    );
    let other = serde_json::to_vec(&signed(1, 7, NOW, &key())).unwrap();
    let (s, v) = call(&app, JSON, other).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "V-CH-005"));
    let unknown = serde_json::to_vec(&signed(9, 1, NOW, &k)).unwrap();
    let (s, v) = call(&app, JSON, unknown).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "V-CH-001"));
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown operator")
    );
    let gone = serde_json::to_vec(&signed(2, 1, NOW, &k)).unwrap();
    let (s, v) = call(&app, JSON, gone).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "V-CH-002"));

    // Bad input never reaches the verifier.
    let good: serde_json::Value = serde_json::from_slice(&body(7, NOW)).unwrap();
    let (s, v) = call(&app, None, body(7, NOW)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "V-API-001")
    );
    let (s, v) = call(&app, Some("text/plain"), body(7, NOW)).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "V-API-001")
    );
    let (s, v) = call(&app, JSON, b"{\"heartbeat\":".to_vec()).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "V-API-004"));
    let mut trailing = body(7, NOW);
    trailing.extend_from_slice(b" {}");
    let (s, v) = call(&app, JSON, trailing).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "V-API-004"));
    let mut extra = good.clone();
    extra["heartbeat"]["bonus"] = serde_json::json!(1);
    let (s, v) = call(&app, JSON, serde_json::to_vec(&extra).unwrap()).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "V-API-005"));
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("heartbeat.bonus"),
        "{v}"
    );
    let mut overflow = serde_json::to_string(&good).unwrap();
    let seq = format!("\"seq\":{}", good["heartbeat"]["seq"]);
    assert!(overflow.contains(&seq));
    overflow = overflow.replace(&seq, "\"seq\":18446744073709551616");
    let (s, v) = call(&app, JSON, overflow.into_bytes()).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "V-API-004"));
    let mut missing = good.clone();
    missing["heartbeat"]
        .as_object_mut()
        .unwrap()
        .remove("timestamp");
    let (s, v) = call(&app, JSON, serde_json::to_vec(&missing).unwrap()).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "V-API-004"));
    let mut huge = good.clone();
    huge["padding"] = serde_json::json!("x".repeat(max));
    let (s, v) = call(&app, JSON, serde_json::to_vec(&huge).unwrap()).await;
    assert_eq!((s, code(&v)), (StatusCode::PAYLOAD_TOO_LARGE, "V-API-002"));

    // After all that, the stored heartbeat is still the last good one.
    assert_eq!(store.heartbeat(operator(1)).await.unwrap().unwrap().seq, 6);
}

#[tokio::test]
async fn a_heartbeat_over_a_real_loopback_socket_is_accepted() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let db = TestDb::sqlite();
    let k = key();
    let (store, intake, _clock) = setup(&db, &k).await;
    let app = api::app(
        state_with(&db, intake).await,
        HeartbeatConfig::default().max_body_bytes,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, app, async {
        let _ = stopped.await;
    }));

    let body = serde_json::to_vec(&signed(1, 77, NOW, &k)).unwrap();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/heartbeats HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body).await.unwrap();
    let mut resp = String::new();
    conn.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"seq\":77"), "{resp}");
    assert_eq!(store.heartbeat(operator(1)).await.unwrap().unwrap().seq, 77);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// Issue 20: the heartbeat's answer carries a probe; echoing it through the router counts one
/// round trip, and a second echo of the same nonce is refused with its code.
#[tokio::test]
async fn post_heartbeats_echo_counts_the_probe_once() {
    let db = TestDb::sqlite();
    let k = key();
    let (_store, intake, _clock) = setup(&db, &k).await;
    let app = api::app(
        state_with(&db, intake).await,
        HeartbeatConfig::default().max_body_bytes,
    );
    let (s, v) = call(
        &app,
        JSON,
        serde_json::to_vec(&signed(1, 5, NOW, &k)).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let probe = v["probe"].as_str().expect("a probe nonce").to_owned();
    assert_eq!(probe.len(), 66, "{probe}");
    let echo = |nonce: &str| {
        let body = serde_json::json!({ "operator": operator(1), "nonce": nonce });
        let req = Request::post("/v1/heartbeats/echo")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap();
        let app = app.clone();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(),
            )
        }
    };
    let (s, v) = echo(&probe).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["operator"], serde_json::json!(operator(1)));
    assert!(
        v["rtt_ms"].is_u64() && v["latency_ms"] == v["rtt_ms"],
        "{v}"
    );
    let (s, v) = echo(&probe).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "V-CLAT-001"));
}
