//! Task log intake: a node reports its execution log for a seat it holds (see
//! `verity_primitives::task_log`), and the coordinator keeps it for the client
//! (`GET /v1/tasks/{id}/logs`).
//!
//! Checks, in order: the log is within size, hashes to the signed digest and names the signed
//! task and operator; the operator is registered and the signature recovers its registered node
//! key; the operator holds (or held) a seat of the task as indexed. A report for a seat that is
//! not indexed yet is refused with [`LogIntakeError::NotASeat`], which the node retries. A
//! later report for the same seat replaces the earlier one (a node that re-ran a task after a
//! restart reports its last attempt).

use alloy::{
    primitives::{Address, U256},
    sol_types::Eip712Domain,
};
use verity_primitives::task_log::{SignedTaskLog, TaskLogError};

use crate::{
    clock::Clock,
    store::{Store, StoreError, TaskLogRecord},
};

verity_primitives::coded_error! {
    /// Why a task log report was refused.
    #[derive(Debug, thiserror::Error)]
    pub enum LogIntakeError {
        /// The report itself is malformed (size, digest, content, signature).
        #[error(transparent)]
        #[code("V-CL-001")]
        Log(TaskLogError),
        /// No registered node row for this operator.
        #[error("[V-CL-002] unknown operator {0}: not registered on chain (or not indexed yet)")]
        UnknownOperator(Address),
        /// Signed by a key other than the operator's registered node key.
        #[error(
            "[V-CL-003] task log for {operator} signed by {recovered}, but its registered signer is {expected}"
        )]
        WrongSigner {
            /// Operator.
            operator: Address,
            /// Registered signer.
            expected: Address,
            /// Recovered signer.
            recovered: Address,
        },
        /// The operator holds no seat of the task in the indexed view.
        #[error(
            "[V-CL-004] operator {operator} holds no seat of task {task} (or its assignment is not indexed yet)"
        )]
        NotASeat {
            /// Operator.
            operator: Address,
            /// Task.
            task: U256,
        },
        /// The store failed.
        #[error(transparent)]
        #[code("V-CL-005")]
        Store(StoreError),
    }
}

impl LogIntakeError {
    /// The code an API answer carries: the report's own code for a malformed report.
    pub fn api_code(&self) -> &'static str {
        match self {
            Self::Log(e) => e.code(),
            other => other.code(),
        }
    }
}

/// Verifies `signed` and stores it as the seat's log.
pub async fn accept(
    store: &dyn Store,
    clock: &dyn Clock,
    domain: &Eip712Domain,
    signed: &SignedTaskLog,
) -> Result<TaskLogRecord, LogIntakeError> {
    let (log, recovered) = signed.open(domain).map_err(LogIntakeError::Log)?;
    let operator = log.operator;
    let node = store
        .node(operator)
        .await
        .map_err(LogIntakeError::Store)?
        .filter(|n| n.registered)
        .ok_or(LogIntakeError::UnknownOperator(operator))?;
    if recovered != node.signer {
        return Err(LogIntakeError::WrongSigner {
            operator,
            expected: node.signer,
            recovered,
        });
    }
    let seated = store
        .assignments(log.task_id)
        .await
        .map_err(LogIntakeError::Store)?
        .iter()
        .any(|a| a.operator == operator);
    let moved_from = || async {
        store
            .reassignments(log.task_id)
            .await
            .map(|r| r.iter().any(|m| m.from == operator))
    };
    if !seated && !moved_from().await.map_err(LogIntakeError::Store)? {
        return Err(LogIntakeError::NotASeat {
            operator,
            task: log.task_id,
        });
    }
    let record = TaskLogRecord {
        task_id: log.task_id,
        operator,
        log_digest: signed.posted.logDigest,
        log: signed.log.clone(),
        received_at: clock.now(),
    };
    store
        .record_task_log(&record)
        .await
        .map_err(LogIntakeError::Store)?;
    tracing::debug!(target: "coordinator::task_logs", task = %record.task_id, %operator, digest = %record.log_digest, "task log stored");
    Ok(record)
}
