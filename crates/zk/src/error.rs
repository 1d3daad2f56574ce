//! Typed errors of the ZK path.

use std::path::PathBuf;

/// Everything that can go wrong building, proving or verifying a sensor-aggregate statement.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Registry depth out of range.
    #[error("registry depth {depth} unsupported (1..={max})")]
    BadDepth {
        /// Requested depth.
        depth: usize,
        /// Largest supported depth.
        max: usize,
    },
    /// A device key that is not a point of BabyJubJub's prime-order subgroup.
    #[error("device key is not a point of the BabyJubJub prime-order subgroup")]
    InvalidDeviceKey,
    /// The registry has no free leaf.
    #[error("device registry is full ({capacity} keys)")]
    RegistryFull {
        /// Number of leaves.
        capacity: u64,
    },
    /// No device at this index.
    #[error("no registered device at index {index}")]
    UnknownDevice {
        /// The index asked for.
        index: u64,
    },
    /// More readings than the circuit has slots.
    #[error("{given} readings do not fit a circuit of {slots} slots")]
    TooManyReadings {
        /// Readings supplied.
        given: usize,
        /// Circuit size N.
        slots: usize,
    },
    /// A reading whose Merkle path has the wrong length.
    #[error("reading {slot}: Merkle path has {got} levels, the circuit has {want}")]
    PathLength {
        /// Slot index.
        slot: usize,
        /// Supplied levels.
        got: usize,
        /// Circuit depth.
        want: usize,
    },
    /// A query whose bounds are inverted.
    #[error("query {what} is empty: {lo} > {hi}")]
    EmptyQuery {
        /// "window" or "range".
        what: &'static str,
        /// Lower bound.
        lo: u32,
        /// Upper bound.
        hi: u32,
    },
    /// The witness does not satisfy the circuit (bad signature, unregistered device, ...).
    #[error("witness does not satisfy the circuit (first failing constraint: {0})")]
    Unsatisfied(String),
    /// A witness, or keys, made for another circuit shape than the constraint matrices.
    #[error(
        "assignment of {assignment} variables (or a proving key) does not fit the shape {keys:?} \
         ({variables} variables)"
    )]
    WrongShape {
        /// The shape of the matrices.
        keys: crate::circuit::Shape,
        /// Variables of that shape.
        variables: usize,
        /// Variables of the assignment given.
        assignment: usize,
    },
    /// Key or proof bytes that do not deserialize.
    #[error("malformed {what}: {source}")]
    Serialization {
        /// What was being read or written.
        what: &'static str,
        /// The arkworks error.
        #[source]
        source: ark_serialize::SerializationError,
    },
    /// Constraint synthesis or proving failed.
    #[error("groth16 {stage} failed: {source}")]
    Synthesis {
        /// "setup", "prove" or "verify".
        stage: &'static str,
        /// The arkworks error.
        #[source]
        source: ark_relations::gr1cs::SynthesisError,
    },
    /// A public input at or above the BN254 scalar field modulus.
    #[error("public input {index} is not below the BN254 scalar field modulus")]
    PublicInputOutOfField {
        /// Position of the input.
        index: usize,
    },
    /// A text field element that is not 64 hex digits of a canonical value.
    #[error("{what}: expected 0x-prefixed 32-byte hex of a value below the modulus")]
    BadHex {
        /// What was parsed.
        what: &'static str,
    },
    /// A task input blob that does not decode or does not describe a provable statement.
    #[error("[V-ZK-001] task input: {0}")]
    BadInput(String),
    /// A reading that can never be proved (bad signature, unregistered device).
    #[error("[V-ZK-002] task input: reading {index}: {reason}")]
    BadReading {
        /// Position in the input's readings.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Deploying or calling a verifier contract failed.
    #[error("[V-ZK-003] chain: {0}")]
    Chain(String),
    /// Reading or writing a key artifact.
    #[error("{action} {path}: {source}")]
    Io {
        /// "reading" or "writing".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An artifact whose hash differs from the one recorded next to it.
    #[error("artifact {path} has hash {actual}, expected {expected}")]
    ArtifactHash {
        /// The file.
        path: PathBuf,
        /// Recorded hash.
        expected: String,
        /// Hash of the bytes on disk.
        actual: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
