//! Proving ZkProof tasks (issue 6): find the task's input blob, check it against the task,
//! build the witness and prove with the keys of its circuit size.
//!
//! The task's `inputDigest` is the Poseidon digest of the query (what the verifier consumes),
//! not a content address; the client names the input blob by appending its sha2-256 to the
//! `createTask` calldata ([`verity_zk::input::calldata_suffix`]), so the prover reads it from
//! the transaction that emitted `TaskCreated` and fetches the blob from the store, which checks
//! the bytes against that digest.
//!
//! Keys come from the deterministic devnet setup (INSECURE FOR PRODUCTION; see
//! `verity_zk::keys`) and are made once per circuit size and kept in memory: a setup at N = 16
//! takes seconds, proving is what a task pays for.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use alloy::{
    consensus::Transaction as _,
    primitives::{B256, Bytes, U256},
    providers::Provider,
    sol_types::SolEvent,
};
use tracing::info;
use verity_contracts::TaskMarket;
use verity_settlement::{
    Settlement,
    events::{DEFAULT_CHUNK_BLOCKS, history},
};
use verity_zk::{
    Shape,
    input::{ProvingInput, input_digest_from_calldata},
    keys::{DEVNET_SEED, Keys, setup_deterministic},
    solidity::encode_proof,
    statement::field_to_word,
};

use crate::NodeError;

/// Why a task cannot be proved.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The task or its input is wrong: no proof can exist, the node hands the seat back.
    #[error("[V-PROVE-001] {0}")]
    Unprovable(String),
    /// Key generation or the prover itself failed (a bug or a broken host).
    #[error("[V-PROVE-002] {0}")]
    Internal(String),
}

/// A proof ready to submit.
#[derive(Debug, Clone)]
pub struct Proved {
    /// `Poseidon(count, sum, min, max)`: the task's result digest.
    pub result: B256,
    /// The encoded Groth16 proof (256 bytes, as the Solidity verifier takes it).
    pub proof: Bytes,
    /// How many readings were accepted.
    pub accepted: u64,
}

/// Groth16 keys per circuit shape, made on first use and kept.
#[derive(Debug, Default)]
pub struct Prover {
    keys: Mutex<HashMap<Shape, Arc<Keys>>>,
}

impl Prover {
    /// A prover with no keys made yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The keys of `shape`: from the cache, else from the deterministic setup (blocking).
    pub fn keys(&self, shape: Shape) -> Result<Arc<Keys>, ProveError> {
        let cached = self
            .keys
            .lock()
            .map_err(|_| ProveError::Internal("key cache poisoned".into()))?
            .get(&shape)
            .cloned();
        if let Some(k) = cached {
            return Ok(k);
        }
        let started = std::time::Instant::now();
        let keys = Arc::new(
            setup_deterministic(shape, DEVNET_SEED)
                .map_err(|e| ProveError::Internal(format!("setup N={}: {e}", shape.slots)))?,
        );
        info!(target: "node::prover", slots = shape.slots, depth = shape.depth, seconds = started.elapsed().as_secs_f64(), "proving key made");
        self.keys
            .lock()
            .map_err(|_| ProveError::Internal("key cache poisoned".into()))?
            .insert(shape, keys.clone());
        Ok(keys)
    }

    /// Proves `input` for a task with `program` / `input_digest` on chain, bound to `binding`
    /// (blocking: run it on a blocking thread).
    pub fn prove(
        &self,
        input: &ProvingInput,
        program: B256,
        input_digest: B256,
        binding: B256,
    ) -> Result<Proved, ProveError> {
        let query_digest = B256::from(field_to_word(input.query.digest()));
        if query_digest != input_digest {
            return Err(ProveError::Unprovable(format!(
                "the input's query digest {query_digest} is not the task's inputDigest {input_digest}"
            )));
        }
        let circuit = input
            .witness(binding.0)
            .map_err(|e| ProveError::Unprovable(e.to_string()))?;
        let keys = self.keys(input.shape)?;
        let ours = verity_zk::market::program_digest(&keys)
            .map_err(|e| ProveError::Internal(e.to_string()))?;
        if ours != program {
            return Err(ProveError::Unprovable(format!(
                "the task's programDigest {program} is not the verifying key of N={} depth {} ({ours})",
                input.shape.slots, input.shape.depth
            )));
        }
        let accepted = circuit.claimed.count;
        let result = B256::from(field_to_word(circuit.public_inputs().result_digest));
        let proof = keys.prove(circuit).map_err(|e| match e {
            verity_zk::Error::Unsatisfied(_) => ProveError::Unprovable(e.to_string()),
            e => ProveError::Internal(e.to_string()),
        })?;
        Ok(Proved {
            result,
            proof: Bytes::from(encode_proof(&proof)),
            accepted,
        })
    }
}

/// The sha2-256 of the task's input blob, as the client appended it to its `createTask`
/// calldata; `None` if the creating transaction carries none.
pub async fn input_blob_digest(s: &Settlement, task: U256) -> Result<Option<B256>, NodeError> {
    let rec = s.task_record(task).await?;
    let source = s
        .market_logs()
        .events(vec![TaskMarket::TaskCreated::SIGNATURE_HASH])
        .topic1(B256::from(task));
    let logs = history(
        &source,
        rec.created_block,
        rec.created_block,
        DEFAULT_CHUNK_BLOCKS,
    )
    .await
    .map_err(|e| NodeError::Chain(format!("TaskCreated of task {task}: {e}")))?;
    let Some(hash) = logs.first().and_then(|l| l.transaction_hash) else {
        return Ok(None);
    };
    let tx = s
        .provider()
        .get_transaction_by_hash(hash)
        .await
        .map_err(|e| NodeError::Chain(format!("transaction {hash} of task {task}: {e}")))?
        .ok_or_else(|| NodeError::Chain(format!("transaction {hash} of task {task} not found")))?;
    Ok(input_digest_from_calldata(tx.input()).map(B256::from))
}
