//! Issue 21, receipts reach the client: the node stores the execution log of every task it
//! runs as a blob and hands it to its log sink (the coordinator in a daemon), for a program
//! that produced a result and for one that ran out of fuel alike.

use std::sync::Arc;

use alloy::primitives::B256;
use verity_executor::TaskLimits;
use verity_node::{
    blobs::{Blobs, sha256},
    db::TaskDb,
    task_logs::MemoryLogs,
    worker::error_digest,
};
use verity_primitives::{
    envelope::{ExecLimits, InputEnvelope},
    task_log::{ExecutionLog, LogFailure},
};
use verity_settlement::{Mode, Status};

use crate::Net;

/// Spins forever: every run ends out of fuel.
const SPIN: &str =
    r#"(module (memory (export "memory") 1) (func (export "run") (loop $l (br $l))))"#;

/// The log's blob is stored under its digest and holds exactly its bytes.
async fn stored(net: &Net, log: &ExecutionLog) {
    let bytes = log.to_bytes();
    let fetched = net.blobs.fetch(sha256(&bytes)).await.unwrap();
    assert_eq!(fetched, bytes);
}

#[tokio::test]
async fn issue_21_the_node_publishes_the_receipt_of_a_successful_and_an_out_of_fuel_run() {
    let net = Net::new().await;
    let op = net.ops[0];
    let sink = MemoryLogs::default();
    let worker = net
        .worker(op, TaskDb::in_memory().await.unwrap())
        .with_logs(Arc::new(sink.clone()));

    // A program that produces its input.
    let req = net.request(Mode::Optimistic, 1).await;
    let (ok_id, _) = net.s.create_task(net.client, &req).await.unwrap();
    net.s.assign(net.owner, ok_id, &[op]).await.unwrap();
    for _ in 0..4 {
        worker.tick().await.unwrap();
    }
    assert_eq!(net.s.task(ok_id).await.unwrap().status, Status::Submitted);

    // A program that spins until its fuel is gone.
    let spin = net.blobs.insert(wat::parse_str(SPIN).unwrap());
    let limits = ExecLimits {
        fuel: 1_000_000,
        max_memory_bytes: 1 << 20,
        max_table_elements: 100,
        max_output_bytes: 1 << 16,
    };
    let input = net.blobs.insert(
        InputEnvelope {
            limits,
            payload: Vec::new(),
        }
        .encode(),
    );
    let mut spin_req = net.request(Mode::Optimistic, 1).await;
    spin_req.program_digest = spin;
    spin_req.input_digest = input;
    let (spin_id, _) = net.s.create_task(net.client, &spin_req).await.unwrap();
    net.s.assign(net.owner, spin_id, &[op]).await.unwrap();
    for _ in 0..4 {
        worker.tick().await.unwrap();
    }
    let spun = net.s.task(spin_id).await.unwrap();
    assert_eq!(spun.status, Status::Submitted);
    assert_eq!(spun.result, error_digest("V-EXE-006"));

    let logs = sink.logs();
    assert_eq!(logs.len(), 2, "one log per execution: {logs:?}");

    // The success: the digest and fuel the executor reports for the same run.
    let expected = net
        .executor
        .execute(
            &wat::parse_str(crate::ECHO).unwrap(),
            b"sensor readings",
            &TaskLimits {
                fuel: 1_000_000,
                max_memory_bytes: 1 << 20,
                max_table_elements: 100,
                max_output_bytes: 1 << 16,
            },
        )
        .unwrap();
    let ok = &logs[0];
    assert_eq!((ok.task_id, ok.operator), (ok_id, op));
    assert_eq!(ok.result_digest, Some(sha256(b"sensor readings")));
    assert_eq!(
        ok.result_digest,
        Some(B256::from(expected.receipt.result_digest.0))
    );
    assert_eq!(ok.fuel_used, Some(expected.receipt.fuel_used));
    assert_eq!(ok.failure, None);
    assert!(!ok.cache_hit && ok.compile_time_us > 0, "{ok:?}");
    assert!(ok.wall_time_us >= ok.compile_time_us, "{ok:?}");
    stored(&net, ok).await;

    // The failure: all the fuel, no result, the deterministic reason with its code.
    let failed = &logs[1];
    assert_eq!((failed.task_id, failed.operator), (spin_id, op));
    assert_eq!(failed.result_digest, None);
    assert_eq!(failed.fuel_used, Some(1_000_000));
    assert_eq!(
        failed.failure,
        Some(LogFailure {
            code: "V-EXE-006".into(),
            deterministic: true,
            message: "[V-EXE-006] out of fuel: the task allows 1000000".into(),
        })
    );
    // A program new to the node: compiled before the run, and the receipt says so.
    assert!(
        !failed.cache_hit && failed.compile_time_us > 0,
        "{failed:?}"
    );
    stored(&net, failed).await;
}
