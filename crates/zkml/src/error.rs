//! Typed errors of the zkML path.

/// Everything that can go wrong importing a model, running it, or proving and verifying an
/// inference.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not an ONNX protobuf.
    #[error("malformed ONNX: {0}")]
    MalformedOnnx(#[from] prost::DecodeError),
    /// A well-formed ONNX model this importer cannot represent (a missing graph or tensor, a
    /// weight that is not a constant, a graph that is not a chain, an attribute out of range).
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// An operator (or an attribute of one) outside the supported set, named.
    #[error("unsupported operator {op} (node {node:?}){detail}")]
    UnsupportedOperator {
        /// The ONNX `op_type`.
        op: String,
        /// The node's name (may be empty).
        node: String,
        /// What about it is unsupported, if not the operator itself (starts with ": ").
        detail: String,
    },
    /// An input of the wrong length for the model.
    #[error("wrong input shape: the model takes {expected:?} ({} values), got {got} values", expected.iter().product::<usize>())]
    InputShape {
        /// The model's input shape.
        expected: Vec<usize>,
        /// The number of values given.
        got: usize,
    },
    /// An output of the wrong length for the model (a claimed inference result).
    #[error("wrong output length: the model gives {expected} values, got {got}")]
    OutputShape {
        /// The model's output length.
        expected: usize,
        /// The number of values given.
        got: usize,
    },
    /// Constraint synthesis, setup or proving failed inside arkworks.
    #[error("{stage}: {source}")]
    Synthesis {
        /// Which step.
        stage: &'static str,
        /// The arkworks error.
        #[source]
        source: ark_relations::gr1cs::SynthesisError,
    },
    /// The witness does not satisfy the constraints (row named as `R1CS - <row>`).
    #[error("unsatisfied constraint {0}")]
    Unsatisfied(String),
    /// Keys or assignment made for another model.
    #[error("keys of {keys} variables, assignment of {assignment}")]
    WrongCircuit {
        /// Variables the keys were made for.
        keys: usize,
        /// Length of the assignment.
        assignment: usize,
    },
    /// (De)serialization of a key or proof.
    #[error("serializing {what}: {source}")]
    Serialization {
        /// What was being (de)serialized.
        what: &'static str,
        /// The arkworks error.
        #[source]
        source: ark_serialize::SerializationError,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidModel(msg.into())
}
