//! The committed tiny models and their onnxruntime test vectors
//! (`bench/zkml/make_models.py OUT --tiny`).

use std::path::PathBuf;

use serde::Deserialize;
use verity_zkml::Model;

pub(crate) const TINY: &[&str] = &["mlp_tiny", "cnn_tiny"];

#[derive(Debug, Deserialize)]
pub(crate) struct Case {
    pub(crate) input: Vec<i8>,
    pub(crate) output: Vec<i8>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Vectors {
    pub(crate) params: usize,
    pub(crate) input_shape: Vec<usize>,
    pub(crate) cases: Vec<Case>,
}

pub(crate) fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

pub(crate) fn onnx_bytes(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(format!("{name}.onnx"))).expect("committed model")
}

pub(crate) fn model(name: &str) -> Model {
    verity_zkml::import(&onnx_bytes(name)).expect("import")
}

pub(crate) fn vectors(name: &str) -> Vectors {
    let text = std::fs::read_to_string(dir().join(format!("{name}.json"))).expect("vectors");
    serde_json::from_str(&text).expect("vectors json")
}
