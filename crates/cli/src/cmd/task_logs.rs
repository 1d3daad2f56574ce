//! `verity task logs TASK`: each seat's execution receipt (fuel used, wall time, compile time,
//! the failure's code and message), as the nodes reported them to the coordinator.

use alloy::primitives::{Address, B256, U256};
use clap::Args;
use serde::Deserialize;

use super::OutputArgs;

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Task id.
    id: U256,
    /// The coordinator's API (`verity devnet` serves it on port 8700).
    #[arg(
        long,
        env = "VERITY_COORDINATOR_URL",
        default_value = "http://127.0.0.1:8700"
    )]
    coordinator: String,
    #[command(flatten)]
    output: OutputArgs,
}

/// Why the receipts could not be shown.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LogsError {
    /// The coordinator did not answer.
    #[error("[V-CLI-101] the coordinator at {url} is unreachable: {reason}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// Why.
        reason: String,
    },
    /// The coordinator has not indexed the task.
    #[error(
        "[V-CLI-102] the coordinator knows no task {0} (a task appears once its creation is indexed)"
    )]
    NoSuchTask(U256),
    /// The task exists, but no node has reported a receipt.
    #[error(
        "[V-CLI-103] no execution receipt for task {task} yet (status {status}; seats: {seats}): a node reports its receipt once it has run the task"
    )]
    NoReceiptYet {
        /// The task.
        task: U256,
        /// Its status.
        status: String,
        /// Its seats, comma separated (or "none assigned").
        seats: String,
    },
    /// The coordinator answered with an error.
    #[error("[V-CLI-104] the coordinator refused: {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The API's code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The answer did not parse.
    #[error("[V-CLI-105] unexpected answer from the coordinator: {0}")]
    Malformed(String),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskLogs {
    status: String,
    operators: Vec<Address>,
    logs: Vec<SeatLog>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SeatLog {
    operator: Address,
    log_cid: String,
    result_digest: Option<B256>,
    fuel_used: Option<u64>,
    wall_time_us: u64,
    compile_time_us: u64,
    cache_hit: bool,
    failure: Option<Failure>,
}

#[derive(Debug, Deserialize)]
struct Failure {
    code: String,
    deterministic: bool,
    message: String,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// The task's receipts as the coordinator serves them: the raw JSON and its typed reading.
async fn fetch(base: &str, id: U256) -> Result<(serde_json::Value, TaskLogs), LogsError> {
    let url = format!("{}/v1/tasks/{id}/logs", base.trim_end_matches('/'));
    let unreachable = |e: reqwest::Error| LogsError::Unreachable {
        url: url.clone(),
        reason: e.to_string(),
    };
    let resp = reqwest::get(&url).await.map_err(unreachable)?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(unreachable)?;
    if !status.is_success() {
        let err: ErrorBody = serde_json::from_slice(&body)
            .map_err(|e| LogsError::Malformed(format!("{status}: {e}")))?;
        if err.error.code == "V-API-010" {
            return Err(LogsError::NoSuchTask(id));
        }
        return Err(LogsError::Api {
            status: status.as_u16(),
            code: err.error.code,
            message: err.error.message,
        });
    }
    let raw: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| LogsError::Malformed(e.to_string()))?;
    let logs: TaskLogs =
        serde_json::from_value(raw.clone()).map_err(|e| LogsError::Malformed(e.to_string()))?;
    if logs.logs.is_empty() {
        return Err(LogsError::NoReceiptYet {
            task: id,
            status: logs.status,
            seats: if logs.operators.is_empty() {
                "none assigned".into()
            } else {
                logs.operators
                    .iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        });
    }
    Ok((raw, logs))
}

fn ms(us: u64) -> String {
    format!("{}.{:03} ms", us / 1_000, us % 1_000)
}

fn human(id: U256, t: &TaskLogs) -> String {
    let mut out = format!(
        "task {id} ({}): {} of {} seats reported\n",
        t.status,
        t.logs.len(),
        t.operators.len()
    );
    for l in &t.logs {
        let fuel = l
            .fuel_used
            .map_or_else(|| "not started".to_owned(), |f| f.to_string());
        out.push_str(&format!(
            "{}  fuel {fuel}  wall {}  compile {}{}\n",
            l.operator,
            ms(l.wall_time_us),
            ms(l.compile_time_us),
            if l.cache_hit { " (cached)" } else { "" },
        ));
        match (&l.failure, l.result_digest) {
            (Some(f), _) => out.push_str(&format!(
                "  failed {} ({}): {}\n",
                f.code,
                if f.deterministic {
                    "deterministic: the program's verdict"
                } else {
                    "this node's: it declined the seat"
                },
                f.message
            )),
            (None, Some(d)) => out.push_str(&format!("  result {d}\n")),
            (None, None) => {}
        }
        out.push_str(&format!("  receipt blob {}\n", l.log_cid));
    }
    let missing: Vec<String> = t
        .operators
        .iter()
        .filter(|o| !t.logs.iter().any(|l| l.operator == **o))
        .map(|o| o.to_string())
        .collect();
    if !missing.is_empty() {
        out.push_str(&format!("no receipt yet from {}\n", missing.join(", ")));
    }
    out
}

pub(crate) async fn run(a: LogsArgs) -> eyre::Result<()> {
    let (raw, logs) = fetch(&a.coordinator, a.id).await?;
    if a.output.json {
        println!("{raw}");
    } else {
        print!("{}", human(a.id, &logs));
    }
    Ok(())
}
