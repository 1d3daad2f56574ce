//! ZkProof tasks over signed sensor readings (issue 6): the requester publishes the circuit's
//! verifying key (the task's program: its sha2-256 is the `programDigest` the verifier adapter
//! requires) and the input blob (query, registry, signed readings), and opens the task with
//! `inputDigest` = the query's Poseidon digest, naming the input blob in a calldata suffix
//! that proving nodes read (see `verity_zk::input`).

use alloy::primitives::{B256, Bytes, U256};
use verity_settlement::{Mode, TaskRequest};
use verity_zk::input::ProvingInput;
use verity_zk::statement::field_to_word;

use crate::{Result, SdkError};

/// A ZkProof task to submit. Deadlines are relative (seconds after submission, chain time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkTaskSpec {
    /// The statement's input: shape, query, registry, readings.
    pub input: ProvingInput,
    /// The circuit's verifying key bytes (published as the program).
    pub verifying_key: Bytes,
    /// The registered verifier of this circuit.
    pub verifier_id: B256,
    /// Reward escrowed now, fees included, token wei.
    pub bounty: U256,
    /// Collateral locked from the prover, token wei.
    pub collateral: U256,
    /// Seconds the coordinator has to assign.
    pub assign_within: u64,
    /// Seconds after the assignment deadline to submit the proof.
    pub prove_within: u64,
}

impl ZkTaskSpec {
    /// A task for `input` with the devnet keys of its shape (N = 16/64/256, depth 10) and the
    /// verifier id `verity_zk::market::verifier_id` gives; 10 tokens bounty, 5 collateral,
    /// 60 s to assign, 600 s to prove (proving N = 16 takes seconds to a minute on a loaded
    /// 2-core machine, plus the one-time key setup).
    pub fn devnet(input: ProvingInput) -> Result<Self> {
        let vk = verity_zk::market::devnet_verifying_key(input.shape).ok_or_else(|| {
            SdkError::InvalidSpec {
                field: "input.shape",
                reason: format!(
                    "no devnet keys for N={} depth {} (N=16/64/256, depth 10)",
                    input.shape.slots, input.shape.depth
                ),
            }
        })?;
        let ten = U256::from(10u64).pow(U256::from(18u64)) * U256::from(10u64);
        Ok(Self {
            verifier_id: verity_zk::market::verifier_id(input.shape),
            input,
            verifying_key: Bytes::from_static(vk),
            bounty: ten,
            collateral: ten / U256::from(2u64),
            assign_within: 60,
            prove_within: 600,
        })
    }

    /// Checks what the market and the prover would reject, so a bad task costs no gas: a bad
    /// signature, an unregistered device, a registry that is not the query's, too many
    /// readings, a zero bounty or window.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: String| Err(SdkError::InvalidSpec { field, reason });
        if let Err(e) = self.input.check() {
            return bad("input", e.to_string());
        }
        if self.verifying_key.is_empty() {
            return bad("verifying_key", "empty".into());
        }
        if self.verifier_id.is_zero() {
            return bad("verifier_id", "zk tasks name a registered verifier".into());
        }
        if self.bounty.is_zero() {
            return bad("bounty", "must be positive".into());
        }
        if self.assign_within == 0 || self.prove_within == 0 {
            return bad(
                "windows",
                "assign and prove windows must be positive".into(),
            );
        }
        Ok(())
    }

    /// The market request submitted at chain time `now`.
    pub fn request(&self, now: u64) -> Result<TaskRequest> {
        self.validate()?;
        let (assign_deadline, commit_deadline) = crate::spec::deadlines(
            now,
            ("assign_within", self.assign_within),
            ("prove_within", self.prove_within),
        )?;
        Ok(TaskRequest {
            mode: Mode::ZkProof,
            replication: 1,
            quorum: 1,
            program_digest: verity_store::Cid::of(&self.verifying_key).digest().into(),
            input_digest: field_to_word(self.input.query.digest()).into(),
            bounty: self.bounty,
            collateral: self.collateral,
            assign_deadline,
            commit_deadline,
            reveal_deadline: 0,
            challenge_window: 0,
            verifier_id: self.verifier_id,
            audit_bps: 0,
        })
    }
}
