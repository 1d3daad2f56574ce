//! Issue 21, receipts reach the client: a node's signed execution log for its seat is stored
//! and served per seat at `GET /v1/tasks/{id}/logs`; a log from anyone else, for another
//! task, or edited in transit is refused with its code and nothing is stored.

use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
};
use axum::http::StatusCode;
use verity_coordinator::store::{AssignmentStatus, Change, Store};
use verity_primitives::{
    digest::sha256,
    heartbeat,
    task_log::{ExecutionLog, LogFailure, SignedTaskLog},
};

use crate::{
    api_world::{code, get, node, seat, send, tokens, world},
    heartbeat::{NOW, chain},
    support::{TestDb, block, log, operator},
};

/// Operator 7 registers with `key` as its node key and takes seat 3 of task 2 (assigned).
async fn seat_operator_7(store: &impl Store, key: &PrivateKeySigner) {
    let mut n = node(7, 1_000, tokens(0));
    n.signer = key.address();
    let b = block(5, 0);
    store
        .apply_block(
            b,
            &[
                log(b, 0, "OperatorRegistered", vec![Change::Node(n)]),
                log(
                    b,
                    1,
                    "TaskAssigned",
                    vec![seat(2, 3, 7, None, AssignmentStatus::Active, NOW - 10)],
                ),
            ],
            64,
        )
        .await
        .unwrap();
}

fn out_of_fuel(task: u64, op: Address) -> ExecutionLog {
    ExecutionLog {
        task_id: U256::from(task),
        operator: op,
        result_digest: None,
        fuel_used: Some(10_000_000),
        wall_time_us: 48_210,
        compile_time_us: 1_730,
        cache_hit: false,
        failure: Some(LogFailure {
            code: "V-EXE-006".into(),
            deterministic: true,
            message: "[V-EXE-006] out of fuel (limit 10000000)".into(),
        }),
    }
}

fn signed(l: &ExecutionLog, key: &PrivateKeySigner) -> SignedTaskLog {
    let c = chain();
    l.sign(key, &heartbeat::domain(c.chain_id, c.registry))
        .unwrap()
}

async fn post(
    app: &axum::Router,
    task: u64,
    body: &SignedTaskLog,
) -> (StatusCode, serde_json::Value) {
    let (status, _, bytes) = send(
        app,
        "POST",
        &format!("/v1/tasks/{task}/logs"),
        Some(("application/json", serde_json::to_vec(body).unwrap())),
    )
    .await;
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn issue_21_a_seat_log_signed_by_its_node_is_served_per_seat_and_forgeries_are_refused() {
    let db = TestDb::sqlite();
    let w = world(&db, NOW).await;
    let k = PrivateKeySigner::random();
    seat_operator_7(&w.store, &k).await;
    let me = operator(7);

    // Before any report: the seats, no logs.
    let (s, v) = get(&w.app, "/v1/tasks/2/logs").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["taskId"], "2");
    assert_eq!(v["status"], "assigned");
    assert_eq!(v["logs"], serde_json::json!([]));
    let ops: Vec<Address> = serde_json::from_value(v["operators"].clone()).unwrap();
    assert_eq!(ops, vec![operator(1), operator(2), operator(4), me]);

    // Refused, each with its code, and nothing stored.
    let failing = out_of_fuel(2, me);
    let other_key = PrivateKeySigner::random();
    let (s, v) = post(&w.app, 2, &signed(&failing, &other_key)).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "V-CL-003"), "{v}");
    let (s, v) = post(&w.app, 5, &signed(&out_of_fuel(5, me), &k)).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "V-CL-004"), "{v}");
    let (s, v) = post(&w.app, 2, &signed(&out_of_fuel(2, operator(9)), &k)).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "V-CL-002"), "{v}");
    let mut edited = signed(&failing, &k);
    edited.log = edited.log.replace("10000000,", "1,");
    let (s, v) = post(&w.app, 2, &edited).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "V-LOG-002"), "{v}");
    let (s, v) = post(&w.app, 3, &signed(&failing, &k)).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "V-API-009"), "{v}");
    assert!(w.store.task_logs(U256::from(2)).await.unwrap().is_empty());

    // The node's own report is stored and served with every field.
    let report = signed(&failing, &k);
    let (s, v) = post(&w.app, 2, &report).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let digest = sha256(report.log.as_bytes());
    assert_eq!(digest, sha256(&failing.to_bytes()));
    assert_eq!(v["logDigest"], format!("{digest:#x}"));
    let (s, v) = get(&w.app, "/v1/tasks/2/logs").await;
    assert_eq!(s, StatusCode::OK);
    let logs = v["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "{v}");
    let l = &logs[0];
    assert_eq!(
        l["operator"].as_str().unwrap().parse::<Address>().unwrap(),
        me
    );
    assert_eq!(l["logDigest"], format!("{digest:#x}"));
    assert_eq!(
        l["logCid"],
        verity_store::Cid::from_digest(digest.0).to_string()
    );
    assert_eq!(l["receivedAt"], NOW);
    assert_eq!(l["resultDigest"], serde_json::Value::Null);
    assert_eq!(l["fuelUsed"], 10_000_000);
    assert_eq!(l["wallTimeUs"], 48_210);
    assert_eq!(l["compileTimeUs"], 1_730);
    assert_eq!(l["cacheHit"], false);
    assert_eq!(
        l["failure"],
        serde_json::json!({"code": "V-EXE-006", "deterministic": true,
            "message": "[V-EXE-006] out of fuel (limit 10000000)"})
    );

    // The answer fits the OpenAPI document.
    crate::api_openapi::conforms(&w, &crate::api_openapi::doc(), "GET", "/v1/tasks/2/logs").await;

    // A later report for the same seat (a re-run after a restart) replaces it.
    let ok = ExecutionLog {
        result_digest: Some(B256::repeat_byte(0x5a)),
        fuel_used: Some(4_321),
        failure: None,
        cache_hit: true,
        compile_time_us: 0,
        ..failing
    };
    let (s, _) = post(&w.app, 2, &signed(&ok, &k)).await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = get(&w.app, "/v1/tasks/2/logs").await;
    let logs = v["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "{v}");
    assert_eq!(logs[0]["fuelUsed"], 4_321);
    assert_eq!(logs[0]["failure"], serde_json::Value::Null);
    assert_eq!(
        logs[0]["resultDigest"],
        format!("{:#x}", B256::repeat_byte(0x5a))
    );

    // An unknown task is a 404 with its code.
    let (s, v) = get(&w.app, "/v1/tasks/99/logs").await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "V-API-010"));
}
