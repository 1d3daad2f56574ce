//! The reference int8 inference against onnxruntime's own outputs, bit for bit.

use crate::fixture::{TINY, model, vectors};
use verity_zkml::Layer;

#[test]
fn reference_inference_equals_onnxruntime_on_every_committed_vector() {
    for name in TINY {
        let m = model(name);
        let v = vectors(name);
        assert_eq!(
            m.approximate_scales, 0,
            "{name}: the test models use exact scales"
        );
        assert_eq!(m.input_shape, v.input_shape, "{name}");
        assert_eq!(m.params(), v.params, "{name}");
        assert!(v.cases.len() >= 8, "{name}: vectors present");
        for (i, case) in v.cases.iter().enumerate() {
            let out = m.infer(&case.input).expect("infer");
            assert_eq!(out, case.output, "{name} case {i}");
        }
    }
}

#[test]
fn committed_models_exercise_every_supported_layer_kind() {
    let kinds = |name: &str| -> Vec<&'static str> {
        model(name)
            .layers
            .iter()
            .map(|l| match l {
                Layer::Dense(_) => "dense",
                Layer::Conv(_) => "conv",
                Layer::MaxPool(_) => "maxpool",
                Layer::Relu => "relu",
                Layer::Reshape(_) => "reshape",
            })
            .collect()
    };
    assert_eq!(kinds("mlp_tiny"), ["dense", "dense"]);
    assert_eq!(kinds("cnn_tiny"), ["conv", "maxpool", "reshape", "dense"]);
}
