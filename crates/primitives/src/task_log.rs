//! Execution receipts for the client: what one operator's attempt at a task did, success or
//! failure (fuel used, wall time, compile time, the failure's stable code and message).
//!
//! A node writes its [`ExecutionLog`] as canonical JSON ([`ExecutionLog::to_bytes`]), stores
//! those bytes as a content-addressed blob (its sha2-256 is the log's id, `log_digest`), and
//! reports them to the coordinator in a [`SignedTaskLog`]: an EIP-712 message binding the
//! operator, the task and the digest, signed by the node key the operator registered (the
//! heartbeat's domain). The coordinator keeps one log per seat and serves them at
//! `GET /v1/tasks/{id}/logs`; anyone can check a served log against its digest and the blob.
//!
//! Only `result_digest`, `fuel_used` and a deterministic failure are the same on every
//! correct replica; the times are the reporting node's.

use alloy::{
    primitives::{Address, B256, Signature, U256},
    signers::{SignerSync, local::PrivateKeySigner},
    sol,
    sol_types::{Eip712Domain, SolStruct},
};
use serde::{Deserialize, Serialize};

use crate::digest::sha256;

/// Largest encoded log a coordinator accepts (a failure message is at most a few hundred
/// bytes; this leaves room and bounds what a registered node can make it store per seat).
pub const MAX_LOG_BYTES: usize = 16 << 10;

sol! {
    /// The signed part of a task log report.
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    struct TaskLogPosted {
        /// The operator whose seat ran the task.
        address operator;
        /// The task.
        uint256 taskId;
        /// sha2-256 of the log's bytes (the blob that holds them).
        bytes32 logDigest;
    }
}

/// Why an execution produced no result, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogFailure {
    /// The stable error code, e.g. `V-EXE-006`.
    pub code: String,
    /// Whether every correct replica reaches the same failure (a verdict on the program); when
    /// false it is a fact about this node (a timeout, a refused limit) and the node declined.
    pub deterministic: bool,
    /// The error's message, with its code.
    pub message: String,
}

/// One operator's execution attempt at one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionLog {
    /// The task.
    pub task_id: U256,
    /// The operator whose node ran it.
    pub operator: Address,
    /// The digest of the output, when the program produced one.
    pub result_digest: Option<B256>,
    /// Fuel consumed, including instantiation and host calls; `None` when the run never
    /// started (refused limits, a module that did not load).
    pub fuel_used: Option<u64>,
    /// Wall-clock time of the whole attempt on this node, microseconds.
    pub wall_time_us: u64,
    /// Of it, compiling and checking the module, microseconds (0 on a cache hit).
    pub compile_time_us: u64,
    /// Whether the compiled module came from the node's cache.
    pub cache_hit: bool,
    /// Why there is no result, when there is none.
    pub failure: Option<LogFailure>,
}

/// A log as sent to the coordinator: the signed header and the log's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedTaskLog {
    /// What was signed.
    pub posted: TaskLogPosted,
    /// The log, as [`ExecutionLog::to_bytes`] wrote it (UTF-8 JSON).
    pub log: String,
    /// 65-byte secp256k1 signature over the EIP-712 hash of `posted`.
    pub signature: Signature,
}

crate::coded_error! {
    /// Why a task log report is refused.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum TaskLogError {
        /// Over [`MAX_LOG_BYTES`].
        #[error("[V-LOG-001] task log of {size} bytes is over the {max}-byte limit")]
        TooLarge {
            /// Its size.
            size: usize,
            /// The limit.
            max: usize,
        },
        /// The log's bytes do not hash to the signed digest.
        #[error("[V-LOG-002] task log bytes hash to {found}, but the report signs {signed}")]
        DigestMismatch {
            /// sha2-256 of the bytes.
            found: B256,
            /// The signed digest.
            signed: B256,
        },
        /// The log does not parse as an [`ExecutionLog`].
        #[error("[V-LOG-003] malformed task log: {0}")]
        Malformed(String),
        /// The log names another task or operator than the signed header.
        #[error(
            "[V-LOG-004] the log is for task {log_task} of {log_operator}, but the report signs task {task} of {operator}"
        )]
        Mismatch {
            /// Task in the signed header.
            task: U256,
            /// Operator in the signed header.
            operator: Address,
            /// Task in the log.
            log_task: U256,
            /// Operator in the log.
            log_operator: Address,
        },
        /// The signature does not recover.
        #[error("[V-LOG-005] malformed task log signature: {0}")]
        BadSignature(String),
    }
}

impl ExecutionLog {
    /// The canonical bytes: the blob's content and what the digest covers.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising a struct of plain fields cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Signs the log for the coordinator with the node key; also returns the digest (the id of
    /// the blob holding [`ExecutionLog::to_bytes`]).
    pub fn sign(
        &self,
        key: &PrivateKeySigner,
        domain: &Eip712Domain,
    ) -> Result<SignedTaskLog, TaskLogError> {
        let bytes = self.to_bytes();
        let posted = TaskLogPosted {
            operator: self.operator,
            taskId: self.task_id,
            logDigest: sha256(&bytes),
        };
        let signature = key
            .sign_hash_sync(&posted.eip712_signing_hash(domain))
            .map_err(|e| TaskLogError::BadSignature(e.to_string()))?;
        Ok(SignedTaskLog {
            posted,
            log: String::from_utf8(bytes).map_err(|e| TaskLogError::Malformed(e.to_string()))?,
            signature,
        })
    }
}

impl SignedTaskLog {
    /// Checks everything but who signed: size, digest, that the log parses and names the
    /// signed task and operator. Returns the log and the key that signed, for the caller to
    /// compare with the operator's registered signer.
    pub fn open(&self, domain: &Eip712Domain) -> Result<(ExecutionLog, Address), TaskLogError> {
        let bytes = self.log.as_bytes();
        if bytes.len() > MAX_LOG_BYTES {
            return Err(TaskLogError::TooLarge {
                size: bytes.len(),
                max: MAX_LOG_BYTES,
            });
        }
        let found = sha256(bytes);
        if found != self.posted.logDigest {
            return Err(TaskLogError::DigestMismatch {
                found,
                signed: self.posted.logDigest,
            });
        }
        let log: ExecutionLog =
            serde_json::from_slice(bytes).map_err(|e| TaskLogError::Malformed(e.to_string()))?;
        if log.task_id != self.posted.taskId || log.operator != self.posted.operator {
            return Err(TaskLogError::Mismatch {
                task: self.posted.taskId,
                operator: self.posted.operator,
                log_task: log.task_id,
                log_operator: log.operator,
            });
        }
        let signer = self
            .signature
            .recover_address_from_prehash(&self.posted.eip712_signing_hash(domain))
            .map_err(|e| TaskLogError::BadSignature(e.to_string()))?;
        Ok((log, signer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heartbeat::domain;

    fn log() -> ExecutionLog {
        ExecutionLog {
            task_id: U256::from(7),
            operator: Address::repeat_byte(0x11),
            result_digest: None,
            fuel_used: Some(1_000),
            wall_time_us: 1_500,
            compile_time_us: 900,
            cache_hit: false,
            failure: Some(LogFailure {
                code: "V-EXE-006".into(),
                deterministic: true,
                // Built, not written: the code is the executor's to define.
                message: format!("[{}] out of fuel", "V-EXE-006"),
            }),
        }
    }

    #[test]
    fn a_signed_log_opens_to_itself_and_its_signer() {
        let key = PrivateKeySigner::random();
        let d = domain(31337, Address::repeat_byte(0x22));
        let signed = log().sign(&key, &d).unwrap();
        assert_eq!(signed.posted.logDigest, sha256(&log().to_bytes()));
        assert_eq!(signed.open(&d).unwrap(), (log(), key.address()));
        // Another deployment's domain recovers another key.
        let other = domain(1, Address::repeat_byte(0x22));
        assert_ne!(signed.open(&other).unwrap().1, key.address());
    }

    #[test]
    fn edited_bytes_and_borrowed_headers_are_refused() {
        let key = PrivateKeySigner::random();
        let d = domain(31337, Address::repeat_byte(0x22));
        let mut edited = log().sign(&key, &d).unwrap();
        edited.log = edited.log.replace("1000", "1");
        assert!(matches!(
            edited.open(&d),
            Err(TaskLogError::DigestMismatch { .. })
        ));

        let mut other_task = log();
        other_task.task_id = U256::from(8);
        let mut borrowed = log().sign(&key, &d).unwrap();
        borrowed.log = String::from_utf8(other_task.to_bytes()).unwrap();
        borrowed.posted.logDigest = sha256(borrowed.log.as_bytes());
        assert!(matches!(
            borrowed.open(&d),
            Err(TaskLogError::Mismatch { .. })
        ));

        let mut huge = log().sign(&key, &d).unwrap();
        huge.log = "x".repeat(MAX_LOG_BYTES + 1);
        assert!(matches!(huge.open(&d), Err(TaskLogError::TooLarge { .. })));
    }
}
