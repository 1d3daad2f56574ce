//! Proving ZkProof tasks (issue 6): find the task's input blob, check it against the task,
//! build the witness and prove with the keys of its circuit size.
//!
//! The task's `inputDigest` is the Poseidon digest of the query (what the verifier consumes),
//! not a content address; the client names the input blob by appending its sha2-256 to the
//! `createTask` calldata ([`verity_zk::input::calldata_suffix`]), so the prover reads it from
//! the transaction that emitted `TaskCreated` and fetches the blob from the store, which checks
//! the bytes against that digest.
//!
//! Keys come from a [`KeySource`]: key files from the phase-2 ceremony (`verity zk ceremony
//! finalize --keys-dir`), or on the devnet the deterministic devnet setup (INSECURE FOR
//! PRODUCTION; see `verity_zk::keys`). Either is loaded once per circuit size and kept in
//! memory. Keys whose toxic waste is public (the devnet seed's, the insecure test powers of
//! tau's) are refused on any chain but 31337 ([`verity_zk::origin`]).

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
    keys::{
        DEVNET_SEED, Keys, file_names, read_verifying_key, setup_deterministic, shape_of_file_name,
    },
    origin::{DEVNET_CHAIN_ID, check_for_chain},
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

verity_primitives::coded_error! {
    /// Keys a prover refuses to start with.
    #[derive(Debug, thiserror::Error)]
    pub enum KeyError {
        /// The devnet keys (public toxic waste) asked for on a chain that is not the devnet.
        #[error("[V-PROVE-003] chain {chain_id} is not the devnet (31337): the devnet keys' toxic waste is public; set VERITY_ZK_KEYS_DIR to the keys of a ceremony (`verity zk ceremony`)")]
        DevnetKeysOffDevnet {
            /// The chain.
            chain_id: u64,
        },
        /// A key file with public toxic waste (devnet seed, insecure test powers of tau).
        #[error(transparent)]
        #[code("V-PROVE-004")]
        Insecure(#[from] verity_zk::origin::KeyPolicyError),
        /// A key directory or verifying key that cannot be read.
        #[error("[V-PROVE-005] key file {path}: {reason}")]
        Unreadable {
            /// The file or directory.
            path: std::path::PathBuf,
            /// What went wrong.
            reason: String,
        },
    }
}

/// Where a prover's Groth16 keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The deterministic devnet setup (public seed): accepted on chain 31337 only.
    Devnet,
    /// Key files in a directory, `sensor-n{N}-d{D}.pk` and `.vk` (what `verity zk ceremony
    /// finalize --keys-dir` writes).
    Dir(std::path::PathBuf),
}

impl KeySource {
    /// `VERITY_ZK_KEYS_DIR` if set, else the devnet setup.
    pub fn from_env() -> Self {
        match std::env::var_os("VERITY_ZK_KEYS_DIR") {
            Some(dir) if !dir.is_empty() => Self::Dir(dir.into()),
            _ => Self::Devnet,
        }
    }
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

/// Groth16 keys per circuit shape, loaded on first use and kept.
#[derive(Debug)]
pub struct Prover {
    keys: Mutex<HashMap<Shape, Arc<Keys>>>,
    source: KeySource,
    chain_id: u64,
}

impl Default for Prover {
    fn default() -> Self {
        Self::new()
    }
}

impl Prover {
    /// A devnet prover (chain 31337, devnet keys), no keys made yet.
    pub fn new() -> Self {
        Self {
            keys: Mutex::default(),
            source: KeySource::Devnet,
            chain_id: DEVNET_CHAIN_ID,
        }
    }

    /// A prover for `chain_id` with keys from `source`. Off chain 31337 the devnet keys are
    /// refused, and so is every verifying key in the key directory whose toxic waste is public
    /// (the proving keys are loaded, and checked again, on first use).
    pub fn for_chain(chain_id: u64, source: KeySource) -> Result<Self, KeyError> {
        match &source {
            KeySource::Devnet if chain_id != DEVNET_CHAIN_ID => {
                return Err(KeyError::DevnetKeysOffDevnet { chain_id });
            }
            KeySource::Devnet => {}
            KeySource::Dir(dir) => check_dir(dir, chain_id)?,
        }
        Ok(Self {
            keys: Mutex::default(),
            source,
            chain_id,
        })
    }

    fn load(&self, shape: Shape) -> Result<Keys, ProveError> {
        let keys = match &self.source {
            KeySource::Devnet => setup_deterministic(shape, DEVNET_SEED)
                .map_err(|e| ProveError::Internal(format!("setup N={}: {e}", shape.slots)))?,
            KeySource::Dir(dir) => {
                let (pk, vk) = file_names(shape);
                Keys::load(shape, &dir.join(pk), &dir.join(vk))
                    .map_err(|e| ProveError::Internal(e.to_string()))?
            }
        };
        check_for_chain(shape, &keys.vk, self.chain_id)
            .map_err(|e| ProveError::Internal(e.to_string()))?;
        Ok(keys)
    }

    /// The keys of `shape`: from the cache, else from the key source (blocking).
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
        let keys = Arc::new(self.load(shape)?);
        info!(target: "node::prover", slots = shape.slots, depth = shape.depth, source = ?self.source, seconds = started.elapsed().as_secs_f64(), "proving key loaded");
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

/// Checks every `sensor-n{N}-d{D}.vk` in `dir` against the key policy for `chain_id`.
fn check_dir(dir: &std::path::Path, chain_id: u64) -> Result<(), KeyError> {
    let unreadable = |path: &std::path::Path, e: &dyn std::fmt::Display| KeyError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let entries = std::fs::read_dir(dir).map_err(|e| unreadable(dir, &e))?;
    for entry in entries {
        let path = entry.map_err(|e| unreadable(dir, &e))?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let Some(shape) = shape_of_file_name(name).filter(|_| name.ends_with(".vk")) else {
            continue;
        };
        let vk = read_verifying_key(&path).map_err(|e| unreadable(&path, &e))?;
        check_for_chain(shape, &vk, chain_id)?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    const N16: Shape = Shape {
        slots: 16,
        depth: 10,
    };

    fn dir_with_devnet_vk(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("verity-prover-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let vk = verity_zk::market::devnet_verifying_key(N16).expect("committed vk");
        std::fs::write(dir.join(file_names(N16).1), vk).expect("write vk");
        dir
    }

    #[test]
    fn devnet_keys_are_refused_off_chain_31337() {
        assert!(Prover::for_chain(DEVNET_CHAIN_ID, KeySource::Devnet).is_ok());
        for chain in [1u64, 10, 8453] {
            let err = Prover::for_chain(chain, KeySource::Devnet).expect_err("refused");
            assert!(matches!(err, KeyError::DevnetKeysOffDevnet { chain_id } if chain_id == chain));
            assert_eq!(err.code(), "V-PROVE-003");
        }
    }

    #[test]
    fn key_files_derived_from_the_devnet_seed_are_refused_off_chain_31337() {
        let dir = dir_with_devnet_vk("files");
        let err = Prover::for_chain(1, KeySource::Dir(dir.clone())).expect_err("refused");
        assert!(
            matches!(
                &err,
                KeyError::Insecure(verity_zk::origin::KeyPolicyError::InsecureKey {
                    chain_id: 1,
                    slots: 16,
                    origin: verity_zk::origin::Origin::DevnetSeed,
                    ..
                })
            ),
            "{err}"
        );
        assert_eq!(err.code(), "V-PROVE-004");
        assert!(Prover::for_chain(DEVNET_CHAIN_ID, KeySource::Dir(dir.clone())).is_ok());
        // A directory that does not exist is a typed error, not an empty key set.
        let missing = dir.join("missing");
        assert!(matches!(
            Prover::for_chain(1, KeySource::Dir(missing)),
            Err(KeyError::Unreadable { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
