//! Groth16 setup, proving and verification for one circuit shape, and the key artifacts.
//!
//! Keys come from [`setup_deterministic`]: a setup whose toxic waste is derived from a public
//! seed. That is INSECURE FOR PRODUCTION (anyone can recompute the trapdoor and forge proofs)
//! and exists so that devnets, tests and the committed Solidity verifier are reproducible;
//! production keys come from the phase-2 ceremony ([`crate::ceremony`], `verity zk ceremony`)
//! and are loaded from files with [`Keys::load`]; [`crate::origin`] refuses keys with public
//! toxic waste off the devnet.

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, ProvingKey, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use ark_std::rand::{SeedableRng, rngs::StdRng};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::circuit::{SensorCircuit, Shape};
use crate::error::{Error, Result};
use crate::prover::{self, R1cs};
use crate::statement::PublicInputs;

/// The seed of the devnet keys (public, hence insecure).
pub const DEVNET_SEED: u64 = 0x7665_7269_7479_7a6b; // "verityzk"

/// A proving key and its verifying key for one shape.
#[derive(Clone, Debug)]
pub struct Keys {
    /// The shape they were made for.
    pub shape: Shape,
    /// Groth16 proving key.
    pub pk: ProvingKey<Bn254>,
    /// Groth16 verifying key.
    pub vk: VerifyingKey<Bn254>,
    /// The shape's constraint matrices, built on first use (see [`Keys::r1cs`]).
    r1cs: OnceLock<Arc<R1cs>>,
}

fn ser<T: CanonicalSerialize>(what: &'static str, t: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    t.serialize_compressed(&mut out)
        .map_err(|source| Error::Serialization { what, source })?;
    Ok(out)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Keys from a seeded RNG: reproducible, INSECURE FOR PRODUCTION (see the module docs).
pub fn setup_deterministic(shape: Shape, seed: u64) -> Result<Keys> {
    let mut rng = StdRng::seed_from_u64(seed ^ (shape.slots as u64) << 32 ^ shape.depth as u64);
    let (pk, vk) = Groth16::<Bn254>::circuit_specific_setup(SensorCircuit::blank(shape), &mut rng)
        .map_err(|source| Error::Synthesis {
            stage: "setup",
            source,
        })?;
    tracing::info!(target: "zk::keys", slots = shape.slots, depth = shape.depth, "groth16 setup done");
    Ok(Keys::new(shape, pk, vk))
}

impl Keys {
    /// Keys for `shape` (the proving key must have been made for it).
    pub fn new(shape: Shape, pk: ProvingKey<Bn254>, vk: VerifyingKey<Bn254>) -> Self {
        Self {
            shape,
            pk,
            vk,
            r1cs: OnceLock::new(),
        }
    }

    /// The constraint matrices of this shape, built once (a setup-mode synthesis; seconds at
    /// N = 64) and reused by every [`Keys::prove`].
    pub fn r1cs(&self) -> Result<Arc<R1cs>> {
        if let Some(cached) = self.r1cs.get() {
            if cached.shape() == self.shape {
                return Ok(cached.clone());
            }
            // `shape` was changed after the first proof: fresh matrices, not cached.
            return Ok(Arc::new(R1cs::of(self.shape)?));
        }
        let built = Arc::new(R1cs::of(self.shape)?);
        Ok(self.r1cs.get_or_init(|| built).clone())
    }

    /// Serialized (compressed) proving key.
    pub fn proving_key_bytes(&self) -> Result<Vec<u8>> {
        ser("proving key", &self.pk)
    }

    /// Serialized (compressed) verifying key.
    pub fn verifying_key_bytes(&self) -> Result<Vec<u8>> {
        ser("verifying key", &self.vk)
    }

    /// Loads keys from their serialized forms.
    pub fn from_bytes(shape: Shape, pk: &[u8], vk: &[u8]) -> Result<Self> {
        let pk = ProvingKey::deserialize_compressed(pk).map_err(|source| Error::Serialization {
            what: "proving key",
            source,
        })?;
        let vk =
            VerifyingKey::deserialize_compressed(vk).map_err(|source| Error::Serialization {
                what: "verifying key",
                source,
            })?;
        Ok(Self::new(shape, pk, vk))
    }

    /// The final key of a ceremony.
    pub fn from_ceremony(ceremony: &crate::ceremony::Ceremony) -> Self {
        Self::new(
            ceremony.shape(),
            ceremony.key.clone(),
            ceremony.key.vk.clone(),
        )
    }

    /// Loads keys from their files (compressed arkworks serialization, as [`Keys::save`]
    /// writes them).
    pub fn load(shape: Shape, pk: &Path, vk: &Path) -> Result<Self> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| Error::Io {
                action: "reading",
                path: p.to_path_buf(),
                source,
            })
        };
        Self::from_bytes(shape, &read(pk)?, &read(vk)?)
    }

    /// Writes the proving and verifying key files.
    pub fn save(&self, pk: &Path, vk: &Path) -> Result<()> {
        for (path, bytes) in [
            (pk, self.proving_key_bytes()?),
            (vk, self.verifying_key_bytes()?),
        ] {
            std::fs::write(path, bytes).map_err(|source| Error::Io {
                action: "writing",
                path: path.to_path_buf(),
                source,
            })?;
        }
        Ok(())
    }

    /// Proves a witness. The witness is checked against the shape's constraint matrices first
    /// and the proof is verified before it is returned, so an unsatisfied witness (bad
    /// signature, unregistered device, wrong aggregate) is an error, never a bad proof.
    pub fn prove(&self, circuit: SensorCircuit) -> Result<Proof<Bn254>> {
        let r1cs = self.r1cs()?;
        let public = circuit.public_inputs();
        let z = prover::assignment(circuit)?;
        // arkworks does not report an unsatisfied witness (it emits a proof that fails to
        // verify), so check first and name the failing constraint.
        r1cs.check(&z)?;
        let proof = prover::prove(&self.pk, &r1cs, &z, &mut StdRng::from_entropy())?;
        if !verify(&self.vk, &public, &proof)? {
            return Err(Error::Unsatisfied(
                "proof of this witness does not verify".into(),
            ));
        }
        Ok(proof)
    }
}

/// The file names of a shape's keys in a key directory: `sensor-n{N}-d{D}.pk` and `.vk`.
pub fn file_names(shape: Shape) -> (String, String) {
    let stem = format!("sensor-n{}-d{}", shape.slots, shape.depth);
    (format!("{stem}.pk"), format!("{stem}.vk"))
}

/// The shape a key file name `sensor-n{N}-d{D}.pk` / `.vk` is for.
pub fn shape_of_file_name(name: &str) -> Option<Shape> {
    let stem = name.strip_prefix("sensor-n")?;
    let stem = stem
        .strip_suffix(".vk")
        .or_else(|| stem.strip_suffix(".pk"))?;
    let (n, d) = stem.split_once("-d")?;
    Some(Shape {
        slots: n.parse().ok()?,
        depth: d.parse().ok()?,
    })
}

/// Reads a verifying key file (compressed arkworks serialization).
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey<Bn254>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        action: "reading",
        path: path.to_path_buf(),
        source,
    })?;
    VerifyingKey::deserialize_compressed(&bytes[..]).map_err(|source| Error::Serialization {
        what: "verifying key",
        source,
    })
}

/// Verifies a proof against public inputs natively.
pub fn verify(
    vk: &VerifyingKey<Bn254>,
    public: &PublicInputs,
    proof: &Proof<Bn254>,
) -> Result<bool> {
    let pvk: PreparedVerifyingKey<Bn254> = ark_groth16::prepare_verifying_key(vk);
    verify_prepared(&pvk, &public.to_vec(), proof)
}

/// Verifies with a prepared key and raw inputs.
pub fn verify_prepared(
    pvk: &PreparedVerifyingKey<Bn254>,
    inputs: &[Fr],
    proof: &Proof<Bn254>,
) -> Result<bool> {
    Groth16::<Bn254>::verify_with_processed_vk(pvk, inputs, proof).map_err(|source| {
        Error::Synthesis {
            stage: "verify",
            source,
        }
    })
}
