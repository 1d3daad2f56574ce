//! Hardware classes the coordinator has checked: from a verified TEE quote, or from a
//! benchmark task whose result it checked. Until one of these, a node's hardware is only its
//! word and ranks as the policy's floor class (see `verity_scheduler::Claims`).
//!
//! **Attestation.** A quote proves what software ran, not how many cores the machine has. The
//! measured software inside the TEE (a TDX guest sees its vCPUs and memory) states the class,
//! and binds the statement in the quote's report data:
//!
//! ```text
//! report_data[0..32]  = keccak256("verity/hardware-class/v1" || operator || cpu_cores (u32 BE)
//!                                  || memory_mib (u64 BE) || gpu_memory_mib (u64 BE))
//! report_data[32..64] = nonce (the coordinator's freshness challenge)
//! ```
//!
//! so a quote cannot be replayed for another operator, another class or an old challenge. The
//! caller verifies the quote first (`verity_tee::verify_quote`, which applies the measurement
//! allow-lists and TCB policy); [`attested`] checks the binding, refuses the insecure devnet
//! stand-in on any chain but 31337, and keeps the class until the quote's collateral expires
//! or [`ATTESTATION_TTL_SECS`] passes, whichever is first (continuous attestation).
//!
//! **Benchmark.** The coordinator gives the node a deterministic task sized for the class it
//! claims, whose result digest the coordinator knows (it ran it, or it is a published vector),
//! and a deadline on the coordinator's clock; [`benchmarked`] accepts the class only for the
//! right digest in time. Issuing benchmark tasks is not wired into the assigner yet: this is
//! the check they feed.
//!
//! [`HardwareChecks`] keeps the latest checked class per operator for the registry view.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use alloy::primitives::{Address, B256, keccak256};
use serde::Serialize;
use verity_scheduler::Verified;
use verity_tee::{DEVNET_CHAIN_ID, TeeKind, VerifiedQuote};

/// Domain separator of the hardware statement.
pub const HARDWARE_BINDING_DOMAIN: &[u8] = b"verity/hardware-class/v1";

/// Longest an attested class is kept without a fresh quote, seconds (one day).
pub const ATTESTATION_TTL_SECS: u64 = 24 * 3600;

/// Longest a benchmarked class is kept without a fresh benchmark, seconds (seven days).
pub const BENCHMARK_TTL_SECS: u64 = 7 * 24 * 3600;

/// The hardware a node offers: what the scheduler's performance term and hardware minimums
/// read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HardwareClass {
    /// Logical CPU cores.
    pub cpu_cores: u32,
    /// Memory, MiB.
    pub memory_mib: u64,
    /// GPU memory, MiB (0: none).
    pub gpu_memory_mib: u64,
}

/// A class the coordinator checked, how, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckedHardware {
    /// The class.
    pub class: HardwareClass,
    /// Attested or Benchmarked.
    pub how: Verified,
    /// Unix seconds after which the check no longer counts.
    pub valid_until: u64,
}

impl CheckedHardware {
    /// Whether the check still counts at `now`.
    pub fn is_valid_at(&self, now: u64) -> bool {
        now <= self.valid_until
    }
}

verity_primitives::coded_error! {
    /// Why a hardware check was refused.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    pub enum HardwareCheckError {
        /// The quote's report data does not commit to this operator, class and nonce.
        #[error("[V-CHW-001] the quote for {operator} does not bind the hardware class it claims (report data {found}, expected {expected})")]
        NotBound {
            /// Operator.
            operator: Address,
            /// What the report data should be.
            expected: String,
            /// What it is.
            found: String,
        },
        /// The insecure devnet stand-in on a chain other than the devnet's.
        #[error("[V-CHW-002] a devnet (insecure) quote is accepted only on chain {DEVNET_CHAIN_ID}, not {chain_id}")]
        DevnetQuoteOffDevnet {
            /// This coordinator's chain.
            chain_id: u64,
        },
        /// The collateral the quote was verified with has expired.
        #[error("[V-CHW-003] the quote's collateral expired at {expired_at}, now {now}")]
        CollateralExpired {
            /// When.
            expired_at: u64,
            /// Coordinator clock.
            now: u64,
        },
        /// The benchmark result is not the expected digest.
        #[error("[V-CHW-004] benchmark result of {operator} is {found}, expected {expected}")]
        WrongBenchmarkResult {
            /// Operator.
            operator: Address,
            /// The known digest.
            expected: B256,
            /// The node's.
            found: B256,
        },
        /// The benchmark result came after its deadline.
        #[error("[V-CHW-005] benchmark result of {operator} came at {answered_at}, deadline {deadline}")]
        BenchmarkLate {
            /// Operator.
            operator: Address,
            /// Coordinator clock when it arrived.
            answered_at: u64,
            /// Deadline.
            deadline: u64,
        },
    }
}

/// The report data a TEE must put in its quote to state `class` for `operator` under `nonce`.
pub fn hardware_report_data(operator: Address, class: HardwareClass, nonce: B256) -> [u8; 64] {
    let mut statement = Vec::with_capacity(HARDWARE_BINDING_DOMAIN.len() + 20 + 4 + 8 + 8);
    statement.extend_from_slice(HARDWARE_BINDING_DOMAIN);
    statement.extend_from_slice(operator.as_slice());
    statement.extend_from_slice(&class.cpu_cores.to_be_bytes());
    statement.extend_from_slice(&class.memory_mib.to_be_bytes());
    statement.extend_from_slice(&class.gpu_memory_mib.to_be_bytes());
    let mut out = [0; 64];
    out[..32].copy_from_slice(keccak256(&statement).as_slice());
    out[32..].copy_from_slice(nonce.as_slice());
    out
}

/// The hook for attestation: `quote` has passed `verity_tee::verify_quote` under the
/// network's TEE policy; this checks it states `class` for `operator` under the coordinator's
/// `nonce`, on `chain_id`, at `now`.
pub fn attested(
    quote: &VerifiedQuote,
    operator: Address,
    class: HardwareClass,
    nonce: B256,
    chain_id: u64,
    now: u64,
) -> Result<CheckedHardware, HardwareCheckError> {
    if quote.tee == TeeKind::DevnetInsecure && chain_id != DEVNET_CHAIN_ID {
        return Err(HardwareCheckError::DevnetQuoteOffDevnet { chain_id });
    }
    let expected = hardware_report_data(operator, class, nonce);
    if quote.report_data != expected {
        return Err(HardwareCheckError::NotBound {
            operator,
            expected: alloy::hex::encode(expected),
            found: alloy::hex::encode(quote.report_data),
        });
    }
    let ttl_end = now.saturating_add(ATTESTATION_TTL_SECS);
    let valid_until = match quote.collateral_expires_at {
        Some(expired_at) if expired_at < now => {
            return Err(HardwareCheckError::CollateralExpired { expired_at, now });
        }
        Some(expires) => expires.min(ttl_end),
        None => ttl_end,
    };
    Ok(CheckedHardware {
        class,
        how: Verified::Attested,
        valid_until,
    })
}

/// A benchmark the coordinator gave a node, and the node's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchmarkRun {
    /// The class the benchmark is sized for (the node's claim).
    pub class: HardwareClass,
    /// The result digest the coordinator knows.
    pub expected: B256,
    /// The digest the node returned.
    pub found: B256,
    /// Coordinator clock by which a machine of the class finishes (unix seconds).
    pub deadline: u64,
    /// Coordinator clock when the answer arrived.
    pub answered_at: u64,
}

/// The check of a benchmark result: the class counts if the digest is right and on time.
pub fn benchmarked(
    operator: Address,
    run: &BenchmarkRun,
) -> Result<CheckedHardware, HardwareCheckError> {
    if run.found != run.expected {
        return Err(HardwareCheckError::WrongBenchmarkResult {
            operator,
            expected: run.expected,
            found: run.found,
        });
    }
    if run.answered_at > run.deadline {
        return Err(HardwareCheckError::BenchmarkLate {
            operator,
            answered_at: run.answered_at,
            deadline: run.deadline,
        });
    }
    Ok(CheckedHardware {
        class: run.class,
        how: Verified::Benchmarked,
        valid_until: run.answered_at.saturating_add(BENCHMARK_TTL_SECS),
    })
}

/// The latest checked class of each operator (in memory: rebuilt by re-attesting).
#[derive(Debug, Default)]
pub struct HardwareChecks {
    checked: Mutex<HashMap<Address, CheckedHardware>>,
}

impl HardwareChecks {
    /// Records a passed check (replacing the previous one).
    pub fn record(&self, operator: Address, check: CheckedHardware) {
        self.checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(operator, check);
    }

    /// The check of `operator` that still counts at `now`, if any.
    pub fn current(&self, operator: Address, now: u64) -> Option<CheckedHardware> {
        self.checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&operator)
            .copied()
            .filter(|c| c.is_valid_at(now))
    }
}
