//! Where a node's execution logs go: every task it runs, success or failure, leaves an
//! [`ExecutionLog`] (fuel used, wall and compile time, the failure's code and message). The
//! worker stores its bytes as a blob (its digest is the log's id) and hands it to a
//! [`LogSink`]: [`CoordinatorLogs`] reports it, signed with the node key, to the coordinator,
//! which serves it to the client at `GET /v1/tasks/{id}/logs`; [`MemoryLogs`] keeps it for
//! tests; [`NoLogs`] drops it (a node without a coordinator).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
    sol_types::Eip712Domain,
};
use tracing::{debug, warn};
use verity_executor::{ExecError, Failure, TaskLog};
use verity_primitives::task_log::{ExecutionLog, LogFailure};

/// How many times a report the coordinator could not take yet (its indexer behind ours, the
/// coordinator restarting) is tried, with [`RETRY_PAUSE`] between tries.
pub const REPORT_ATTEMPTS: u32 = 20;
/// The pause between two tries of a report.
pub const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Receives each execution log (after its blob is stored). Must not block: a sink that sends
/// over the network does so in the background.
pub trait LogSink: Send + Sync + std::fmt::Debug + 'static {
    /// Takes the log of one attempt.
    fn report(&self, log: ExecutionLog);
}

/// Drops every log.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLogs;

impl LogSink for NoLogs {
    fn report(&self, _log: ExecutionLog) {}
}

/// Keeps every log in memory, in order (tests).
#[derive(Debug, Clone, Default)]
pub struct MemoryLogs {
    logs: Arc<Mutex<Vec<ExecutionLog>>>,
}

impl MemoryLogs {
    /// The logs received so far.
    pub fn logs(&self) -> Vec<ExecutionLog> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl LogSink for MemoryLogs {
    fn report(&self, log: ExecutionLog) {
        self.logs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(log);
    }
}

/// Reports each log to a coordinator's `POST /v1/tasks/{id}/logs`, signed with the node key.
#[derive(Debug, Clone)]
pub struct CoordinatorLogs {
    base: String,
    key: PrivateKeySigner,
    domain: Eip712Domain,
    http: reqwest::Client,
}

impl CoordinatorLogs {
    /// Reports to the coordinator at `base_url`, signing with `key` on `domain` (the
    /// heartbeat's: chain id and registry).
    pub fn new(base_url: &str, key: PrivateKeySigner, domain: Eip712Domain) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            key,
            domain,
            http: reqwest::Client::new(),
        }
    }

    async fn send(self, log: ExecutionLog) {
        let signed = match log.sign(&self.key, &self.domain) {
            Ok(s) => s,
            Err(e) => {
                warn!(target: "node::task_logs", task = %log.task_id, error = %e, "could not sign the task log");
                return;
            }
        };
        let url = format!("{}/v1/tasks/{}/logs", self.base, log.task_id);
        for attempt in 1..=REPORT_ATTEMPTS {
            match self.http.post(&url).json(&signed).send().await {
                Ok(r) if r.status().is_success() => {
                    debug!(target: "node::task_logs", task = %log.task_id, digest = %signed.posted.logDigest, "task log reported");
                    return;
                }
                // Refused for good (malformed, wrong key): retrying changes nothing.
                Ok(r) if r.status().is_client_error() && r.status().as_u16() != 403 => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    warn!(target: "node::task_logs", task = %log.task_id, %status, body, "task log refused");
                    return;
                }
                // 403 (our seat not indexed yet), 5xx, or unreachable: try again.
                Ok(r) => {
                    debug!(target: "node::task_logs", task = %log.task_id, status = %r.status(), attempt, "task log not taken yet")
                }
                Err(e) => {
                    debug!(target: "node::task_logs", task = %log.task_id, error = %e, attempt, "task log not delivered")
                }
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        warn!(target: "node::task_logs", task = %log.task_id, attempts = REPORT_ATTEMPTS, "gave up reporting the task log");
    }
}

impl LogSink for CoordinatorLogs {
    fn report(&self, log: ExecutionLog) {
        tokio::spawn(self.clone().send(log));
    }
}

fn failure(f: &Failure) -> LogFailure {
    LogFailure {
        code: f.code.clone(),
        deterministic: f.deterministic,
        message: f.message.clone(),
    }
}

/// The client's view of the executor's log of task `task` run by `operator`. `compiled` is
/// the compile step the node ran before it (its time, and whether it found the module cached):
/// the run itself then finds the module cached, so the compile time is that step's.
pub fn execution_log(
    task: U256,
    operator: Address,
    log: &TaskLog,
    compiled: Option<(Duration, bool)>,
) -> ExecutionLog {
    let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let (compile, cache_hit) = match compiled {
        Some((d, cached)) => (d + log.timings.compile, cached && log.timings.cache_hit),
        None => (log.timings.compile, log.timings.cache_hit),
    };
    ExecutionLog {
        task_id: task,
        operator,
        result_digest: log.receipt.as_ref().map(|r| B256::from(r.result_digest.0)),
        fuel_used: log.fuel_used,
        wall_time_us: micros(log.wall_time + compile.saturating_sub(log.timings.compile)),
        compile_time_us: micros(compile),
        cache_hit,
        failure: log.failure.as_ref().map(failure),
    }
}

/// The log of an attempt that ended before the run: compiling failed or ran out of time after
/// `spent` (all of it compiling).
pub fn compile_failure_log(
    task: U256,
    operator: Address,
    error: &ExecError,
    spent: Duration,
) -> ExecutionLog {
    let spent_us = spent.as_micros().try_into().unwrap_or(u64::MAX);
    ExecutionLog {
        task_id: task,
        operator,
        result_digest: None,
        fuel_used: None,
        wall_time_us: spent_us,
        compile_time_us: spent_us,
        cache_hit: false,
        failure: Some(failure(&Failure::from(error))),
    }
}
