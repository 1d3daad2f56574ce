//! Heartbeat intake: verify a node's signed heartbeat against the registry view and store it.
//!
//! Checks, in order: the operator is known and registered (from the store's node rows); the
//! fields are in range, the EIP-712 signature recovers the operator's registered signer and
//! `seq` is above the last accepted one (both via
//! [`verity_primitives::heartbeat::SignedHeartbeat::verify`]); the timestamp is no older than
//! `max_age_secs` and no more than `max_future_secs` ahead of the coordinator's clock (two
//! bounds, since lateness in transit and clock skew are different things). The store writes
//! the heartbeat only if its seq is still above the stored one, so two concurrent deliveries
//! cannot both be accepted.
//!
//! The answer to an accepted heartbeat carries a latency probe: a fresh nonce the node echoes
//! at once ([`HeartbeatIntake::echo`], `POST /v1/heartbeats/echo`), timed on the
//! coordinator's clock (see [`crate::latency`]). The heartbeat's own timestamp only bounds
//! its freshness; it is never a latency figure.

use std::sync::Arc;

use alloy::{
    primitives::{Address, B256},
    sol_types::Eip712Domain,
};
use serde::{Deserialize, Serialize};
use verity_primitives::heartbeat::{self, HeartbeatError, SignedHeartbeat};

use crate::{
    clock::Clock,
    config::{ChainConfig, HeartbeatConfig},
    latency::{EchoError, LatencyProbes},
    store::{HeartbeatRecord, Store, StoreError},
};

verity_primitives::coded_error! {
    /// Why a heartbeat was rejected.
    #[derive(Debug, thiserror::Error)]
    pub enum IntakeError {
        /// No node row for this operator.
        #[error("[V-CH-001] unknown operator {0}: not registered on chain (or not indexed yet)")]
        UnknownOperator(Address),
        /// The operator deregistered.
        #[error("[V-CH-002] operator {0} is no longer registered")]
        NotRegistered(Address),
        /// A field is out of range.
        #[error("[V-CH-003] invalid heartbeat field {field}: {reason}")]
        InvalidField {
            /// Field.
            field: &'static str,
            /// Why.
            reason: &'static str,
        },
        /// The signature is malformed.
        #[error("[V-CH-004] malformed heartbeat signature: {0}")]
        BadSignature(String),
        /// Signed by a key other than the registered signer (or for another domain).
        #[error(
            "[V-CH-005] heartbeat for {operator} signed by {recovered}, but its registered signer is {expected}"
        )]
        WrongSigner {
            /// Operator.
            operator: Address,
            /// Registered signer.
            expected: Address,
            /// Recovered signer.
            recovered: Address,
        },
        /// `seq` not above the last accepted one.
        #[error("[V-CH-006] replayed heartbeat from {operator}: seq {seq} <= last accepted {last}")]
        Replayed {
            /// Operator.
            operator: Address,
            /// This seq.
            seq: u64,
            /// The last accepted seq (or a concurrent newer one that won the race).
            last: u64,
        },
        /// Older than `max_age_secs`.
        #[error(
            "[V-CH-007] stale heartbeat from {operator}: sent at {timestamp}, now {now}, max age {max_age}s"
        )]
        Stale {
            /// Operator.
            operator: Address,
            /// Claimed send time.
            timestamp: u64,
            /// Coordinator clock.
            now: u64,
            /// Bound.
            max_age: u64,
        },
        /// More than `max_future_secs` ahead.
        #[error(
            "[V-CH-008] heartbeat from {operator} is from the future: sent at {timestamp}, now {now}, max skew {max_skew}s"
        )]
        FromFuture {
            /// Operator.
            operator: Address,
            /// Claimed send time.
            timestamp: u64,
            /// Coordinator clock.
            now: u64,
            /// Bound.
            max_skew: u64,
        },
        /// The store failed.
        #[error(transparent)]
        #[code("V-CH-009")]
        Store(StoreError),
    }
}

/// What the intake answers for an accepted heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    /// Operator.
    pub operator: Address,
    /// Accepted seq.
    pub seq: u64,
    /// Coordinator clock at acceptance.
    pub received_at: u64,
    /// A latency probe: post it back at once to `/v1/heartbeats/echo`.
    pub probe: B256,
}

/// A node's echo of a latency probe (`POST /v1/heartbeats/echo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Echo {
    /// The operator whose heartbeat received the probe.
    pub operator: Address,
    /// The probe's nonce.
    pub nonce: B256,
}

/// What the intake answers for a counted echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Measured {
    /// Operator.
    pub operator: Address,
    /// This round trip, milliseconds on the coordinator's clock.
    pub rtt_ms: u32,
    /// The latency figure the scheduler now uses (median of recent round trips).
    pub latency_ms: u32,
}

/// Verifies and stores heartbeats.
#[derive(Debug, Clone)]
pub struct HeartbeatIntake {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    domain: Eip712Domain,
    bounds: HeartbeatConfig,
    probes: Arc<LatencyProbes>,
}

impl HeartbeatIntake {
    /// An intake for the deployment `chain`, with `bounds`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        chain: &ChainConfig,
        bounds: HeartbeatConfig,
    ) -> Self {
        Self {
            store,
            clock,
            domain: heartbeat::domain(chain.chain_id, chain.registry),
            bounds,
            probes: Arc::new(LatencyProbes::default()),
        }
    }

    /// The EIP-712 domain node messages are signed on (heartbeats and task logs).
    pub fn domain(&self) -> &Eip712Domain {
        &self.domain
    }

    /// Issues latency probes from `probes` (share them with the registry view, which reads
    /// the measured figures).
    pub fn with_probes(mut self, probes: Arc<LatencyProbes>) -> Self {
        self.probes = probes;
        self
    }

    /// Counts a node's echo of the probe it was given: one round trip on the coordinator's
    /// clock.
    pub fn echo(&self, echo: &Echo) -> Result<Measured, EchoError> {
        let rtt_ms = self.probes.echo(echo.operator, echo.nonce)?;
        let latency_ms = self.probes.latency_ms(echo.operator).unwrap_or(rtt_ms);
        tracing::debug!(target: "coordinator::heartbeat", operator = %echo.operator, rtt_ms, latency_ms, "latency echo counted");
        Ok(Measured {
            operator: echo.operator,
            rtt_ms,
            latency_ms,
        })
    }

    /// Verifies `signed` and stores it as the operator's latest heartbeat.
    pub async fn accept(&self, signed: &SignedHeartbeat) -> Result<Accepted, IntakeError> {
        let hb = &signed.heartbeat;
        let operator = hb.operator;
        let node = self
            .store
            .node(operator)
            .await
            .map_err(IntakeError::Store)?
            .ok_or(IntakeError::UnknownOperator(operator))?;
        if !node.registered {
            return Err(IntakeError::NotRegistered(operator));
        }
        let last = self
            .store
            .heartbeat(operator)
            .await
            .map_err(IntakeError::Store)?
            .map(|h| h.seq);
        let now = self.clock.now();
        // Time is checked below with two separate bounds, so the primitive's symmetric skew
        // check is disabled here.
        signed
            .verify(&self.domain, node.signer, last, now, u64::MAX)
            .map_err(|e| match e {
                HeartbeatError::BadSignature(m) => IntakeError::BadSignature(m),
                HeartbeatError::WrongSigner {
                    operator,
                    expected,
                    recovered,
                } => IntakeError::WrongSigner {
                    operator,
                    expected,
                    recovered,
                },
                HeartbeatError::Replayed { seq, last } => IntakeError::Replayed {
                    operator,
                    seq,
                    last,
                },
                HeartbeatError::Invalid { field, reason } => {
                    IntakeError::InvalidField { field, reason }
                }
                HeartbeatError::Stale {
                    timestamp,
                    now,
                    max_skew,
                } => IntakeError::Stale {
                    operator,
                    timestamp,
                    now,
                    max_age: max_skew,
                },
            })?;
        if hb.timestamp < now.saturating_sub(self.bounds.max_age_secs) {
            return Err(IntakeError::Stale {
                operator,
                timestamp: hb.timestamp,
                now,
                max_age: self.bounds.max_age_secs,
            });
        }
        if hb.timestamp > now.saturating_add(self.bounds.max_future_secs) {
            return Err(IntakeError::FromFuture {
                operator,
                timestamp: hb.timestamp,
                now,
                max_skew: self.bounds.max_future_secs,
            });
        }
        let record = HeartbeatRecord {
            operator,
            seq: hb.seq,
            sent_at: hb.timestamp,
            received_at: now,
            telemetry: serde_json::to_value(signed).expect("heartbeats serialize"),
        };
        match self.store.record_heartbeat(&record).await {
            Ok(()) => {}
            Err(StoreError::StaleHeartbeat { .. }) => {
                let last = self
                    .store
                    .heartbeat(operator)
                    .await
                    .map_err(IntakeError::Store)?
                    .map_or(hb.seq, |h| h.seq);
                return Err(IntakeError::Replayed {
                    operator,
                    seq: hb.seq,
                    last,
                });
            }
            Err(e) => return Err(IntakeError::Store(e)),
        }
        tracing::debug!(target: "coordinator::heartbeat", %operator, seq = hb.seq, "heartbeat accepted");
        Ok(Accepted {
            operator,
            seq: hb.seq,
            received_at: now,
            probe: self.probes.issue(operator),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rejection_answers_the_code_its_message_starts_with() {
        let op = Address::repeat_byte(7);
        for e in [
            IntakeError::UnknownOperator(op),
            IntakeError::NotRegistered(op),
            IntakeError::InvalidField {
                field: "region",
                reason: "too large",
            },
            IntakeError::BadSignature("short".into()),
            IntakeError::Replayed {
                operator: op,
                seq: 1,
                last: 2,
            },
        ] {
            assert!(
                e.to_string().starts_with(&format!("[{}] ", e.code())),
                "{e}"
            );
        }
        let store = IntakeError::Store(StoreError::UnsupportedUrl {
            url: "mysql://x".into(),
        });
        assert_eq!(store.code(), "V-CH-009");
        // Transparent: the store's own message, with its own code.
        assert!(store.to_string().starts_with("[V-CS-001]"), "{store}");
    }
}
