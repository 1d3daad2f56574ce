//! The whole coordinator (`service::start`: store, indexer, assigner, API) against the
//! devchain: a client creates an optimistic and a replicated task; the coordinator assigns
//! both on chain; the operators (scripted here with the settlement client, signing heartbeats
//! that go through the coordinator's HTTP API) do their part; the coordinator's database ends
//! with both tasks finalized, the winners' outcomes and earnings, and `/metrics` counts the
//! assignments.

use std::time::Duration;

use alloy::primitives::{B256, U256, keccak256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use verity_coordinator::{
    CoordinatorConfig,
    clock::unix_now,
    service,
    store::{OutcomeKind, Store, TaskStatus},
};
use verity_primitives::heartbeat::{Heartbeat, domain};
use verity_settlement::{Mode, TaskId};

use crate::devnet::Net;

/// A minimal HTTP/1.1 exchange (the test crate has no HTTP client): status and body.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

async fn beat_all(net: &Net, addr: std::net::SocketAddr, seq: u64) {
    for (i, op) in net.operators.iter().enumerate() {
        let hb = Heartbeat {
            operator: *op,
            seq,
            timestamp: unix_now(),
            cpuCores: 8,
            memoryMb: 16_384,
            gpuMemoryMb: 0,
            loadPermille: 0,
            freeSlots: 4,
            pricePerMegafuel: U256::from(1_000u64),
            region: 276,
            greenEnergyPct: 50,
            capabilities: 1,
        };
        let signed = hb
            .sign(
                &net.signer_key(i),
                &domain(net.s.chain_id(), net.s.deployment().registry),
            )
            .unwrap();
        let (status, body) = http(
            addr,
            "POST",
            "/v1/heartbeats",
            &serde_json::to_string(&signed).unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
}

async fn wait_for(store: &dyn Store, id: TaskId, status: TaskStatus) {
    for _ in 0..300 {
        if store.task(id).await.unwrap().map(|t| t.status) == Some(status) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "task {id} never reached {status:?}: {:?}",
        store.task(id).await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordinator_assigns_and_indexes_an_optimistic_and_a_replicated_task_to_the_end() {
    let net = Net::new(4).await;
    let dir = tempfile::tempdir().unwrap();
    let deployment = dir.path().join("deployment.json");
    std::fs::write(
        &deployment,
        serde_json::to_string(net.s.deployment()).unwrap(),
    )
    .unwrap();
    let key = dir.path().join("coordinator.key");
    verity_config_files::keys::save(&key, &net.keys[1]).unwrap();
    let mut cfg = CoordinatorConfig::default();
    cfg.database.url = format!("sqlite://{}", dir.path().join("c.db").display());
    cfg.chain.rpc_url = net._chain.url.clone();
    cfg.chain.deployment = deployment.display().to_string();
    cfg.chain.coordinator_key = key.display().to_string();
    cfg.api.listen = "127.0.0.1:0".into();
    cfg.indexer.confirmations = 0;
    cfg.indexer.poll_ms = 50;
    cfg.assigner.interval_ms = 100;
    cfg.validate().unwrap();

    let cancel = CancellationToken::new();
    let running = service::start(cfg, cancel.clone()).await.unwrap();
    let addr = running.api_addr;
    let store = running.store.clone();
    // Nodes are known once the indexer has the registrations; then their heartbeats count.
    for _ in 0..300 {
        if store.node(net.operators[3]).await.unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    beat_all(&net, addr, 1).await;

    let opt = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    let rep = net.create(&net.s, net.client, Mode::Replicated, 30).await;
    wait_for(store.as_ref(), opt, TaskStatus::Assigned).await;
    wait_for(store.as_ref(), rep, TaskStatus::Assigned).await;
    assert_eq!(
        net.s.task(opt).await.unwrap().assigner,
        net.coordinator,
        "assigned by this coordinator"
    );

    // The operators work: the optimistic holder submits; the replicated seats agree.
    let holder = net.s.operators_of(opt).await.unwrap()[0];
    net.s
        .submit_result(holder, opt, keccak256("result"))
        .await
        .unwrap();
    let seats = net.s.operators_of(rep).await.unwrap();
    assert_eq!(seats.len(), 3);
    let digest = keccak256("agreed");
    for (i, op) in seats.iter().enumerate() {
        let salt = B256::repeat_byte(i as u8 + 1);
        net.s
            .commit(*op, rep, net.commitment(rep, *op, digest, salt))
            .await
            .unwrap();
    }
    for (i, op) in seats.iter().enumerate() {
        net.s
            .reveal(*op, rep, digest, B256::repeat_byte(i as u8 + 1))
            .await
            .unwrap();
    }
    net.s.finalize(net.client, rep).await.unwrap();
    net.advance(121).await;
    net.s.finalize(net.client, opt).await.unwrap();

    wait_for(store.as_ref(), rep, TaskStatus::Finalized).await;
    wait_for(store.as_ref(), opt, TaskStatus::Finalized).await;
    let mut winners = seats.clone();
    winners.push(holder);
    for op in &winners {
        let outcomes = store.outcomes(*op, 0).await.unwrap();
        assert!(
            outcomes.iter().all(|o| o.kind == OutcomeKind::Completed),
            "{outcomes:?}"
        );
        assert_eq!(
            store.node(*op).await.unwrap().unwrap().earnings,
            net.s.market_balance(*op).await.unwrap(),
            "earnings of {op}"
        );
    }
    let total: usize = {
        let mut n = 0;
        for op in &net.operators {
            n += store.outcomes(*op, 0).await.unwrap().len();
        }
        n
    };
    assert_eq!(
        total, 4,
        "three replicas and one optimistic holder completed"
    );

    let (status, metrics) = http(addr, "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("verity_coordinator_assignments_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("verity_coordinator_indexed_block"),
        "{metrics}"
    );

    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(10), running.wait())
        .await
        .expect("graceful shutdown")
        .unwrap();
}
