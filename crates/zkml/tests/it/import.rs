//! Typed import errors: malformed bytes, unsupported operators (named), wrong input shapes.

use crate::fixture::{model, onnx_bytes};
use verity_zkml::{Error, import};

#[test]
fn garbage_bytes_are_malformed_onnx() {
    let err = import(&[0xff, 0xff, 0xff, 0x07, 0x01]).expect_err("garbage");
    assert!(matches!(err, Error::MalformedOnnx(_)), "{err:?}");
    let mut truncated = onnx_bytes("mlp_tiny");
    truncated.truncate(truncated.len() / 2);
    let err = import(&truncated).expect_err("truncated");
    assert!(matches!(err, Error::MalformedOnnx(_)), "{err:?}");
}

#[test]
fn an_empty_message_is_a_model_without_graph() {
    let err = import(&[]).expect_err("empty");
    assert!(
        matches!(err, Error::InvalidModel(ref m) if m.contains("no graph")),
        "{err:?}"
    );
}

/// Replaces every occurrence of `from` by `to` (same length) in the protobuf bytes.
fn patch(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut found = false;
    for i in 0..=out.len() - from.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            found = true;
        }
    }
    assert!(found, "pattern present");
    out
}

#[test]
fn an_unsupported_operator_is_named() {
    // The CNN's MaxPool becomes an AveragePool-like unknown op of the same length: "MaxPoox".
    let bytes = patch(&onnx_bytes("cnn_tiny"), b"MaxPool", b"MaxPoox");
    let err = import(&bytes).expect_err("unsupported");
    match &err {
        Error::UnsupportedOperator { op, .. } => assert_eq!(op, "MaxPoox"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("MaxPoox"), "{err}");
    let bytes = patch(&onnx_bytes("mlp_tiny"), b"QLinearMatMul", b"MatMulInteger");
    match import(&bytes).expect_err("unsupported") {
        Error::UnsupportedOperator { op, .. } => assert_eq!(op, "MatMulInteger"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_input_shape_is_a_typed_error() {
    let m = model("mlp_tiny");
    let n = m.input_len();
    for len in [0, n - 1, n + 1] {
        match m.infer(&vec![0; len]) {
            Err(Error::InputShape { expected, got }) => {
                assert_eq!(expected, m.input_shape);
                assert_eq!(got, len);
            }
            other => panic!("{len}: {other:?}"),
        }
    }
}
