//! The committed verifier sources must be what the generator makes from the committed keys.

use std::path::PathBuf;

use verity_zk::Shape;
use verity_zk::keys::{Keys, sha256_hex};
use verity_zk::solidity::verifier_source;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Committed verifying keys: (slots, file, contract).
pub(crate) const COMMITTED: &[(usize, &str, &str)] = &[
    (
        16,
        "crates/zk/keys/sensor-n16-d10.vk",
        "SensorGroth16VerifierN16",
    ),
    (
        64,
        "crates/zk/keys/sensor-n64-d10.vk",
        "SensorGroth16VerifierN64",
    ),
    (
        256,
        "crates/zk/keys/sensor-n256-d10.vk",
        "SensorGroth16VerifierN256",
    ),
];

#[test]
fn solidity_verifier_matches_committed_key() {
    for (slots, vk_file, name) in COMMITTED {
        let vk_bytes = std::fs::read(root().join(vk_file)).expect("committed vk");
        let hash = std::fs::read_to_string(root().join(format!("{vk_file}.sha256"))).expect("hash");
        assert_eq!(hash.trim(), sha256_hex(&vk_bytes), "{vk_file} hash");
        use ark_serialize::CanonicalDeserialize;
        let vk =
            ark_groth16::VerifyingKey::<ark_bn254::Bn254>::deserialize_compressed(&vk_bytes[..])
                .expect("vk");
        let _ = Shape {
            slots: *slots,
            depth: crate::fixture::DEPTH,
        };
        let src = verifier_source(name, &vk);
        let path = root().join(format!("contracts/src/zk/{name}.sol"));
        let committed = std::fs::read_to_string(&path).expect("committed verifier");
        assert!(
            committed == src,
            "{} drifted from {vk_file}: regenerate with `cargo run -p verity-zk --example setup`",
            path.display()
        );
        let _ = Keys::from_bytes;
    }
}
