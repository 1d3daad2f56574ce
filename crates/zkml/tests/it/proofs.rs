//! Groth16 proofs of inference on the committed tiny models: honest proofs verify, tampered
//! outputs, inputs and proofs do not.

use std::sync::Arc;

use ark_std::rand::{SeedableRng, rngs::StdRng};
use verity_zkml::{Error, Keys};

use crate::fixture::{TINY, model, vectors};

#[test]
fn proofs_verify_and_tampering_is_rejected() {
    for name in TINY {
        let m = Arc::new(model(name));
        let keys = Keys::setup_deterministic(m.clone(), 7).expect("setup");
        let v = vectors(name);
        let mut rng = StdRng::seed_from_u64(1);
        for case in v.cases.iter().take(2) {
            let proved = keys.prove(&case.input, &mut rng).expect("prove");
            assert_eq!(proved.output, case.output, "{name}: onnxruntime's output");
            assert!(
                keys.verify(&case.input, &proved.output, &proved.proof)
                    .expect("verify"),
                "{name}: honest proof"
            );
            let mut wrong_out = proved.output.clone();
            wrong_out[0] = wrong_out[0].wrapping_add(1);
            assert!(
                !keys
                    .verify(&case.input, &wrong_out, &proved.proof)
                    .expect("verify"),
                "{name}: tampered output"
            );
            let mut wrong_in = case.input.clone();
            wrong_in[0] = wrong_in[0].wrapping_add(1);
            assert!(
                !keys
                    .verify(&wrong_in, &proved.output, &proved.proof)
                    .expect("verify"),
                "{name}: tampered input"
            );
            let mut bad = proved.proof;
            bad.a = (bad.a + bad.a).into();
            assert!(
                !keys
                    .verify(&case.input, &proved.output, &bad)
                    .expect("verify"),
                "{name}: tampered proof"
            );
        }
    }
}

#[test]
fn proving_a_wrong_input_shape_is_a_typed_error() {
    let m = Arc::new(model("mlp_tiny"));
    let keys = Keys::setup_deterministic(m.clone(), 7).expect("setup");
    let err = keys
        .prove(&[0; 3], &mut StdRng::seed_from_u64(1))
        .expect_err("shape");
    assert!(matches!(err, Error::InputShape { got: 3, .. }), "{err:?}");
}
