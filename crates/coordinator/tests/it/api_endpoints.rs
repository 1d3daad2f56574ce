//! Every read endpoint against the realistic fixture, and every kind of bad input, on SQLite
//! and PostgreSQL.

use alloy::primitives::U256;
use axum::http::StatusCode;
use serde_json::{Value, json};
use verity_coordinator::{
    api::codes,
    reputation::{self, Outcome, ReputationPolicy},
    store::Store,
};

use crate::{
    api_world::{LAST_BLOCK, MARKET, expect_error, get, result_digest, send, world},
    both_backends,
    heartbeat::NOW,
    support::{TestDb, operator},
};

fn ids(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

async fn stats_count_the_fixture_exactly(db: TestDb) {
    let w = world(&db, NOW).await;
    let (s, v) = get(&w.app, "/v1/stats").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["chainId"], 31337);
    assert_eq!(v["market"], format!("{MARKET:#x}"));
    // Registered: operators 1-5; live or late: 1 (now), 2 (25 s), 4 (3 s); 3 is down.
    assert_eq!(
        (v["nodesLive"].as_u64(), v["nodesTotal"].as_u64()),
        (Some(3), Some(5))
    );
    assert_eq!(v["queueLength"], 1);
    assert_eq!(v["tasksTotal"], 8);
    assert_eq!(v["tasksRunning"], 3);
    assert_eq!(v["tasksFinalized"], 3);
    assert_eq!(v["tasksRefunded"], 1);
    assert_eq!(v["slashes"], 2);
    // Latencies 900, 1200, 1800, 2500, 3100, 4000: nearest rank p50 = 3rd, p99 = 6th.
    assert_eq!(v["latencyP50Ms"], 1_800);
    assert_eq!(v["latencyP99Ms"], 4_000);
    assert_eq!(v["latencySamples"], 6);
    // Tasks 5 and 8 settled in the last 10 minutes (task 7 long before): 2 / 10 min.
    assert_eq!(v["throughputPerMin"].as_f64(), Some(0.2));
    assert_eq!(v["indexedBlock"], LAST_BLOCK);
    assert_eq!(v["now"], w.now);
}

async fn task_pages_go_both_ways_with_cursors_and_filters(db: TestDb) {
    let w = world(&db, NOW).await;
    let (s, all) = get(&w.app, "/v1/tasks").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids(&all), (1..=8).collect::<Vec<_>>());
    assert_eq!(all["next"], Value::Null);

    let (_, p1) = get(&w.app, "/v1/tasks?limit=3").await;
    assert_eq!((ids(&p1), &p1["next"]), (vec![1, 2, 3], &json!("3")));
    let (_, p2) = get(&w.app, "/v1/tasks?limit=3&after=3").await;
    assert_eq!(ids(&p2), vec![4, 5, 6]);
    let (_, p3) = get(&w.app, "/v1/tasks?limit=3&after=6").await;
    assert_eq!((ids(&p3), &p3["next"]), (vec![7, 8], &Value::Null));

    let (_, d1) = get(&w.app, "/v1/tasks?limit=3&order=desc").await;
    assert_eq!((ids(&d1), &d1["next"]), (vec![8, 7, 6], &json!("6")));
    let (_, d2) = get(&w.app, "/v1/tasks?order=desc&after=6&limit=100").await;
    assert_eq!(ids(&d2), vec![5, 4, 3, 2, 1]);

    let (_, fin) = get(&w.app, "/v1/tasks?status=finalized").await;
    assert_eq!(ids(&fin), vec![5, 7, 8]);
    let (_, fin) = get(&w.app, "/v1/tasks?status=finalized&order=desc&after=8").await;
    assert_eq!(ids(&fin), vec![7, 5]);

    // The list row: seat holders, outcome, latency, result CID, failovers.
    let t8 = &all["items"][7];
    assert_eq!(t8["status"], "finalized");
    assert_eq!(t8["verification"], "verified");
    assert_eq!(
        t8["operators"],
        json!([format!("{:#x}", operator(2)), format!("{:#x}", operator(1))])
    );
    assert_eq!(t8["reassignments"], 1);
    assert_eq!(t8["latencyMs"], 4_000);
    assert_eq!(t8["bounty"], "40000000000000000000");
    assert_eq!(t8["resultDigest"], format!("{:#x}", result_digest(8)));
    let cid = t8["resultCid"].as_str().unwrap();
    assert!(cid.starts_with("bafkrei"), "{cid}");
    let states: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["verification"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "pending",
            "pending",
            "challenge_window",
            "disputed",
            "verified",
            "refunded",
            "verified",
            "verified"
        ]
    );
}

async fn a_task_shows_seats_backups_reassignments_outcomes_and_result(db: TestDb) {
    let w = world(&db, NOW).await;
    let (s, t) = get(&w.app, "/v1/tasks/8").await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["id"], "8");
    assert_eq!(t["mode"], "replicated");
    assert_eq!(t["assignments"].as_array().unwrap().len(), 2);
    assert_eq!(t["assignments"][0]["backup"], format!("{:#x}", operator(1)));
    assert_eq!(t["assignments"][1]["backup"], Value::Null);
    assert_eq!(
        t["assignments"][1]["operator"],
        format!("{:#x}", operator(1))
    );
    let moved = &t["reassignmentHistory"][0];
    assert_eq!(
        (
            &moved["from"],
            &moved["to"],
            &moved["reason"],
            &moved["round"]
        ),
        (
            &json!(format!("{:#x}", operator(3))),
            &json!(format!("{:#x}", operator(1))),
            &json!("missed_heartbeats"),
            &json!(1)
        )
    );
    assert_eq!(t["outcomes"][0]["kind"], "completed");
    assert_eq!(t["outcomes"][0]["latencyMs"], 4_000);
    assert_eq!(t["settleSecs"], NOW - 300 - (NOW - 3_000 + 200));
    assert_eq!(t["request"]["minStake"], "1000");
    assert!(t["programCid"].as_str().unwrap().starts_with("bafkrei"));

    let (s, r) = get(&w.app, "/v1/tasks/8/result").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["resultDigest"], format!("{:#x}", result_digest(8)));
    assert_eq!(r["resultCid"], t["resultCid"]);

    // The refunded task: timed-out seat, failed outcome, no result.
    let (_, t6) = get(&w.app, "/v1/tasks/6").await;
    assert_eq!(t6["verification"], "refunded");
    assert_eq!(t6["assignments"][0]["status"], "timed_out");
    assert_eq!(t6["outcomes"][0]["kind"], "failed");
    assert_eq!(t6["resultCid"], Value::Null);
}

async fn nodes_join_chain_heartbeats_and_reputation(db: TestDb) {
    let w = world(&db, NOW).await;
    let (s, page) = get(&w.app, "/v1/nodes").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    let statuses: Vec<&str> = items
        .iter()
        .map(|n| n["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["live", "late", "down", "jailed", "unknown", "deregistered"]
    );
    assert_eq!(items[1]["liveness"], json!({"state": "late", "missed": 2}));
    assert_eq!(items[0]["earnings"], "12500000000000000000");
    assert_eq!(items[0]["stake"], "10000000000000000000000");
    assert_eq!(items[0]["tasksCompleted"], 42);
    assert_eq!(items[0]["lastHeartbeat"], NOW);
    assert_eq!(items[4]["lastHeartbeat"], Value::Null);
    assert_eq!(items[3]["timesSlashed"], 1);
    assert_eq!(items[0]["capabilities"], "0x5");
    // Reputation is the decayed score of each node's own outcomes.
    let policy = ReputationPolicy::default();
    for (i, n) in items.iter().enumerate() {
        let outcomes: Vec<Outcome> = w
            .store
            .outcomes(operator(i as u8 + 1), 0)
            .await
            .unwrap()
            .iter()
            .map(Outcome::from)
            .collect();
        let want = reputation::score(&outcomes, NOW, &policy);
        assert_eq!(n["reputation"].as_f64(), Some(want), "node {}", i + 1);
    }
    let rep = |i: usize| items[i]["reputation"].as_f64().unwrap();
    assert!(rep(0) > rep(4), "good history beats no history");
    assert!(rep(3) < rep(4), "a fresh slashing scores below no history");

    // Pages by address, both ways.
    let (_, p) = get(&w.app, "/v1/nodes?limit=2&order=desc").await;
    let ops: Vec<&str> = p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["operator"].as_str().unwrap())
        .collect();
    let six = format!("{:#x}", operator(6));
    let five = format!("{:#x}", operator(5));
    assert_eq!(ops, [six.as_str(), five.as_str()]);
    assert_eq!(p["next"], five);
    let (_, p) = get(
        &w.app,
        &format!("/v1/nodes?limit=2&order=desc&after={five}"),
    )
    .await;
    assert_eq!(p["items"][0]["operator"], format!("{:#x}", operator(4)));

    // One node: the spec from its signed heartbeat, active seats.
    let (s, n) = get(&w.app, &format!("/v1/nodes/{:#x}", operator(1))).await;
    assert_eq!(s, StatusCode::OK, "{n}");
    assert_eq!(n["spec"]["cpuCores"], 16);
    assert_eq!(n["spec"]["gpuMemoryMb"], 24_576);
    assert_eq!(n["spec"]["pricePerMegafuel"], "1000");
    assert_eq!(n["spec"]["greenEnergyPct"], 80);
    assert_eq!(n["activeSeats"], 1);
    assert_eq!(n["reputation"], items[0]["reputation"]);
    let (_, n5) = get(&w.app, &format!("/v1/nodes/{:#x}", operator(5))).await;
    assert_eq!(
        (&n5["spec"], &n5["status"]),
        (&Value::Null, &json!("unknown"))
    );
    // A valid EIP-55 (mixed-case) address parses; this one is simply unknown.
    let checksummed = operator(0xab).to_checksum(None);
    let (s, v) = get(&w.app, &format!("/v1/nodes/{checksummed}")).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some(codes::NODE_NOT_FOUND))
    );
}

async fn bad_input_gets_a_typed_400_or_404_and_changes_nothing(db: TestDb) {
    let w = world(&db, NOW).await;
    let app = &w.app;
    use StatusCode as S;
    for (uri, status, want) in [
        (
            "/v1/tasks?limit=101",
            S::BAD_REQUEST,
            codes::LIMIT_TOO_LARGE,
        ),
        (
            "/v1/tasks?limit=18446744073709551616",
            S::BAD_REQUEST,
            codes::LIMIT_TOO_LARGE,
        ),
        (
            "/v1/nodes?limit=1000",
            S::BAD_REQUEST,
            codes::LIMIT_TOO_LARGE,
        ),
        ("/v1/tasks?limit=0", S::BAD_REQUEST, codes::BAD_PARAM),
        ("/v1/tasks?limit=-5", S::BAD_REQUEST, codes::BAD_PARAM),
        (
            "/v1/tasks?limit=5&limit=6",
            S::BAD_REQUEST,
            codes::BAD_PARAM,
        ),
        ("/v1/tasks?order=sideways", S::BAD_REQUEST, codes::BAD_PARAM),
        ("/v1/tasks?status=lost", S::BAD_REQUEST, codes::BAD_PARAM),
        ("/v1/tasks?after=0x08", S::BAD_REQUEST, codes::BAD_PARAM),
        ("/v1/nodes?after=12", S::BAD_REQUEST, codes::BAD_PARAM),
        ("/v1/tasks?page=2", S::BAD_REQUEST, codes::UNKNOWN_PARAM),
        (
            "/v1/nodes?status=live",
            S::BAD_REQUEST,
            codes::UNKNOWN_PARAM,
        ),
        ("/v1/stats?verbose=1", S::BAD_REQUEST, codes::UNKNOWN_PARAM),
        ("/v1/tasks/8?x=1", S::BAD_REQUEST, codes::UNKNOWN_PARAM),
        ("/v1/tasks/abc", S::BAD_REQUEST, codes::BAD_PATH),
        ("/v1/tasks/-1", S::BAD_REQUEST, codes::BAD_PATH),
        (
            "/v1/tasks/115792089237316195423570985008687907853269984665640564039457584007913129639936",
            S::BAD_REQUEST,
            codes::BAD_PATH,
        ),
        ("/v1/nodes/0x1234", S::BAD_REQUEST, codes::BAD_PATH),
        ("/v1/nodes/not-an-address", S::BAD_REQUEST, codes::BAD_PATH),
        // Mixed case with a wrong EIP-55 checksum.
        (
            "/v1/nodes/0x70997970C51812dc3A010C7d01b50e0d17dc79c8",
            S::BAD_REQUEST,
            codes::BAD_PATH,
        ),
        ("/v1/tasks/99", S::NOT_FOUND, codes::TASK_NOT_FOUND),
        ("/v1/tasks/99/result", S::NOT_FOUND, codes::TASK_NOT_FOUND),
        (
            "/v1/tasks/115792089237316195423570985008687907853269984665640564039457584007913129639935",
            S::NOT_FOUND,
            codes::TASK_NOT_FOUND,
        ),
        (
            "/v1/nodes/0x9999999999999999999999999999999999999999",
            S::NOT_FOUND,
            codes::NODE_NOT_FOUND,
        ),
        ("/v1/nothing", S::NOT_FOUND, codes::NO_ROUTE),
        // Wrong state: no agreed result yet.
        ("/v1/tasks/1/result", S::CONFLICT, codes::NO_RESULT_YET),
        ("/v1/tasks/2/result", S::CONFLICT, codes::NO_RESULT_YET),
    ] {
        expect_error(app, uri, status, want).await;
    }

    // Tasks are created on chain, never here: 405 with the reason, and nothing is stored.
    let body = serde_json::to_vec(&json!({"program": "bafy", "bounty": "1"})).unwrap();
    let (s, _, b) = send(app, "POST", "/v1/tasks", Some(("application/json", body))).await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (S::METHOD_NOT_ALLOWED, Some(codes::CREATE_ON_CHAIN))
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("on chain"));
    let (s, _, b) = send(app, "DELETE", "/v1/tasks/8", None).await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (S::METHOD_NOT_ALLOWED, Some(codes::METHOD_NOT_ALLOWED))
    );
    let (s, _, b) = send(app, "PUT", "/v1/heartbeats", None).await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (S::METHOD_NOT_ALLOWED, Some(codes::METHOD_NOT_ALLOWED))
    );

    let page = w
        .state
        .views
        .task_page(verity_coordinator::store::TaskQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 8);
    assert!(w.store.task(U256::from(9)).await.unwrap().is_none());
}

async fn metrics_count_requests_by_route_and_include_the_indexers(db: TestDb) {
    let w = world(&db, NOW).await;
    for _ in 0..3 {
        assert_eq!(get(&w.app, "/v1/tasks").await.0, StatusCode::OK);
    }
    assert_eq!(get(&w.app, "/v1/tasks/99").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&w.app, "/v1/tasks/98").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&w.app, "/v1/nope").await.0, StatusCode::NOT_FOUND);
    w.coordinator_metrics.indexer_lag_blocks.set(5);
    w.coordinator_metrics.failover("heartbeat_missed");
    let (s, ct, body) = send(&w.app, "GET", "/metrics", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let text = String::from_utf8(body).unwrap();
    for line in [
        r#"verity_coordinator_http_requests_total{route="/v1/tasks",method="GET",status="200"} 3"#,
        r#"verity_coordinator_http_requests_total{route="/v1/tasks/{id}",method="GET",status="404"} 2"#,
        r#"verity_coordinator_http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
        r#"verity_coordinator_http_request_duration_seconds_count{route="/v1/tasks"} 3"#,
        "verity_coordinator_indexer_lag_blocks 5",
        r#"verity_coordinator_failovers_total{reason="heartbeat_missed"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

both_backends!(
    stats_count_the_fixture_exactly,
    task_pages_go_both_ways_with_cursors_and_filters,
    a_task_shows_seats_backups_reassignments_outcomes_and_result,
    nodes_join_chain_heartbeats_and_reputation,
    bad_input_gets_a_typed_400_or_404_and_changes_nothing,
    metrics_count_requests_by_route_and_include_the_indexers,
);

#[tokio::test]
async fn an_empty_network_answers_nulls_not_errors() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let state = crate::api_world::state(
        &store,
        verity_coordinator::clock::ManualClock::new(NOW),
        std::sync::Arc::new(verity_coordinator::api::ApiMetrics::new()),
    );
    let app = verity_coordinator::api::app(state, 16 * 1024);
    let (s, v) = get(&app, "/v1/stats").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            &v["nodesTotal"],
            &v["latencyP50Ms"],
            &v["indexedBlock"],
            &v["throughputPerMin"]
        ),
        (&json!(0), &Value::Null, &Value::Null, &json!(0.0))
    );
    let (_, t) = get(&app, "/v1/tasks?order=desc").await;
    assert_eq!(t, json!({"items": [], "next": null}));
    let (_, n) = get(&app, "/v1/nodes").await;
    assert_eq!(n, json!({"items": [], "next": null}));
}

/// Without a browser: the page is served with its headers, and every URL it polls answers.
#[tokio::test]
async fn the_dashboard_page_is_served_and_everything_it_polls_answers() {
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;

    let db = TestDb::sqlite();
    let w = world(&db, NOW).await;
    for path in ["/", "/dashboard"] {
        let resp = w
            .app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let h = resp.headers();
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("connect-src 'self'") && csp.contains("default-src 'none'"));
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(body, verity_coordinator::api::DASHBOARD_HTML.as_bytes());
    }
    let page = verity_coordinator::api::DASHBOARD_HTML;
    for polled in [
        "/v1/stats",
        "/v1/nodes?limit=100",
        "/v1/tasks?limit=50&order=desc",
    ] {
        assert!(
            page.contains(&format!("\"{polled}\"")),
            "page polls {polled}"
        );
        let (s, v) = get(&w.app, polled).await;
        assert_eq!(s, StatusCode::OK, "{polled}: {v}");
    }
    // No external assets: it must work on an air-gapped devnet.
    assert!(!page.contains("http://") && !page.contains("https://"));
}
