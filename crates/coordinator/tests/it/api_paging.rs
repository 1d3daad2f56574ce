//! Walking every page, in both orders, with and without a status filter, returns exactly the
//! filtered, sorted set of tasks and nodes, once each, on SQLite and PostgreSQL. Ids cross
//! hex-digit and byte boundaries (the store keys tasks by 0x-padded hex text).

use std::sync::Arc;

use alloy::primitives::{Address, U256};
use axum::{Router, http::StatusCode};
use verity_coordinator::{
    api::{self, ApiMetrics},
    clock::ManualClock,
    store::{Change, NodeRecord, Store, TaskMode, TaskRecord, TaskStatus},
};

use crate::{
    api_world::{get, state},
    both_backends,
    heartbeat::NOW,
    support::{TestDb, block, log},
};

const STATUSES: [TaskStatus; 6] = [
    TaskStatus::Open,
    TaskStatus::Assigned,
    TaskStatus::Submitted,
    TaskStatus::Challenged,
    TaskStatus::Finalized,
    TaskStatus::Refunded,
];

/// Follows `next` from `first` until the last page; at most `max_pages` requests.
async fn walk(app: &Router, base: &str, max_pages: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut uri = base.to_owned();
    for _ in 0..max_pages {
        let (s, page) = get(app, &uri).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {page}");
        for item in page["items"].as_array().unwrap() {
            let key = item
                .get("id")
                .or_else(|| item.get("operator"))
                .and_then(|v| v.as_str())
                .unwrap();
            out.push(key.to_owned());
        }
        match page["next"].as_str() {
            Some(next) => uri = format!("{base}&after={next}"),
            None => return out,
        }
    }
    panic!("{base}: more than {max_pages} pages");
}

async fn every_page_walk_returns_the_filtered_sorted_set_once(db: TestDb) {
    let store = db.open().await;
    // A fixed xorshift sequence: the same history every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // Ids 1..=300 with gaps, plus two beyond 64 bits.
    let mut ids: Vec<U256> = (1..=300u64)
        .filter(|_| next() % 5 != 0)
        .map(U256::from)
        .collect();
    ids.push(U256::from(u64::MAX) + U256::from(5));
    ids.push(U256::MAX);
    let mut tasks = Vec::new();
    for id in &ids {
        tasks.push(TaskRecord {
            id: *id,
            client: Address::repeat_byte(0xc1),
            mode: TaskMode::Optimistic,
            status: STATUSES[(next() % STATUSES.len() as u64) as usize],
            program_digest: Default::default(),
            input_digest: Default::default(),
            replication: 1,
            bounty: U256::from(1u64),
            request: serde_json::json!({}),
            result_digest: None,
            created_at: NOW,
            settled_at: None,
        });
    }
    let b = block(1, 0);
    let logs: Vec<_> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| log(b, i as u64, "TaskCreated", vec![Change::Task(t.clone())]))
        .collect();
    store.apply_block(b, &logs, 64).await.unwrap();
    let nodes: Vec<_> = (0..130u8)
        .map(|i| {
            let mut a = [0u8; 20];
            a[0] = i.wrapping_mul(37);
            a[19] = i;
            NodeRecord {
                operator: Address::from(a),
                signer: Address::from(a),
                hardware_hash: Default::default(),
                metadata_cid: String::new(),
                region: 0,
                capabilities: 0,
                stake: U256::ZERO,
                locked: U256::ZERO,
                jailed_until: 0,
                tasks_completed: 0,
                tasks_failed: 0,
                times_slashed: 0,
                registered: true,
                earnings: U256::ZERO,
            }
        })
        .collect();
    let b2 = block(2, 0);
    let logs: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            log(
                b2,
                i as u64,
                "OperatorRegistered",
                vec![Change::Node(n.clone())],
            )
        })
        .collect();
    store.apply_block(b2, &logs, 64).await.unwrap();

    let app = api::app(
        state(&store, ManualClock::new(NOW), Arc::new(ApiMetrics::new())),
        16 * 1024,
    );
    for status in std::iter::once(None).chain(STATUSES.map(Some)) {
        let mut want: Vec<U256> = tasks
            .iter()
            .filter(|t| status.is_none_or(|s| t.status == s))
            .map(|t| t.id)
            .collect();
        want.sort();
        let filter = status.map_or(String::new(), |s| format!("&status={}", s.as_str()));
        for limit in [1, 7, 100] {
            if limit == 1 && status.is_none() {
                continue; // one request per task adds nothing the filtered walks do not cover
            }
            let asc = walk(&app, &format!("/v1/tasks?limit={limit}{filter}"), 400).await;
            let want_asc: Vec<String> = want.iter().map(U256::to_string).collect();
            assert_eq!(asc, want_asc, "asc, limit {limit}, status {status:?}");
            let desc = walk(
                &app,
                &format!("/v1/tasks?limit={limit}&order=desc{filter}"),
                400,
            )
            .await;
            let want_desc: Vec<String> = want.iter().rev().map(U256::to_string).collect();
            assert_eq!(desc, want_desc, "desc, limit {limit}, status {status:?}");
        }
    }
    let mut want: Vec<String> = nodes.iter().map(|n| format!("{:#x}", n.operator)).collect();
    want.sort();
    for limit in [1, 9, 100] {
        assert_eq!(
            walk(&app, &format!("/v1/nodes?limit={limit}"), 200).await,
            want
        );
        let mut desc = walk(&app, &format!("/v1/nodes?limit={limit}&order=desc"), 200).await;
        desc.reverse();
        assert_eq!(desc, want);
    }
}

both_backends!(every_page_walk_returns_the_filtered_sorted_set_once);
