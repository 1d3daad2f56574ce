//! Issue 19: the phase-2 ceremony on the smallest sensor circuit (N = 16), from an INSECURE
//! initial key (the devnet setup's): three contributions and the
//! beacon verify, the final key proves and verifies natively, and tampering is rejected with
//! its typed error. Also the key policy: keys with public toxic waste are refused off chain
//! 31337.

use ark_bn254::{G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_std::rand::{SeedableRng, rngs::StdRng};
use verity_zk::ceremony::{
    Beacon, Ceremony, CeremonyError, contribute, finalize, secret_rng, verify,
};
use verity_zk::keys::{self, DEVNET_SEED, Keys, setup_deterministic};
use verity_zk::origin::{DEVNET_CHAIN_ID, KeyPolicyError, Origin, check_for_chain, origin};
use verity_zk::statement::PublicInputs;
use verity_zk::{SensorCircuit, Shape};

use crate::fixture::{readings, shape, world};

const BINDING: [u8; 32] = [0x5A; 32];

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("verity-zk-it-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

/// The ceremony on the N = 16 circuit, starting from the devnet setup's key (INSECURE: its
/// phase 1 is the public devnet seed; the ptau → initial-key path is checked point by point on
/// a small circuit in `ceremony::tests`, and at N = 16 its G2 accumulation takes many minutes
/// on this shared machine). Phase 2 does the same work whatever the initial key.
#[test]
fn n16_ceremony_of_three_and_a_beacon_verifies_and_its_key_proves() {
    let dir = tmp("n16");
    let n16 = shape(16);
    let initial = setup_deterministic(n16, DEVNET_SEED).expect("setup").pk;

    let mut c = Ceremony::start(n16, initial.clone());
    let path = dir.join("n16.zkc");
    c.save(&path).expect("save");
    for name in ["alice", "bob", "carol"] {
        let mut loaded = Ceremony::load(&path).expect("load");
        contribute(&mut loaded, name, &mut secret_rng(name.as_bytes())).expect("contribute");
        loaded.save(&path).expect("save");
    }
    c = Ceremony::load(&path).expect("load");
    finalize(
        &mut c,
        Beacon::from_hex("0x0123456789abcdef", 10).expect("beacon"),
    )
    .expect("beacon");
    c.save(&path).expect("save");
    let c = Ceremony::load(&path).expect("load");
    let mut rng = StdRng::seed_from_u64(1);
    let v = verify(&initial, &c, &mut rng).expect("the ceremony verifies");
    assert_eq!(v.contributions.len(), 4);
    assert!(v.finalized);

    // The final key proves, and the proof verifies natively (and not for another binding).
    let keys = Keys::from_ceremony(&c);
    let w = world();
    let rs = readings(&w, 12);
    let circuit = SensorCircuit::new(n16, &w.registry, w.query, &rs, BINDING).expect("witness");
    let public = circuit.public_inputs();
    let proof = keys.prove(circuit).expect("prove with the ceremony key");
    assert!(keys::verify(&keys.vk, &public, &proof).expect("verify"));
    let other = PublicInputs {
        binding: public.binding + verity_zk::Fr::from(1u64),
        ..public
    };
    assert!(!keys::verify(&keys.vk, &other, &proof).expect("verify"));
    // A proof under the initial key does not verify under the final one.
    let initial_keys = Keys::new(n16, initial.clone(), initial.vk.clone());
    let circuit = SensorCircuit::new(n16, &w.registry, w.query, &rs, BINDING).expect("witness");
    let old = initial_keys
        .prove(circuit)
        .expect("prove with the initial key");
    assert!(!keys::verify(&keys.vk, &public, &old).expect("verify"));

    // Tampering, each with its typed error.
    let mut pok = c.clone();
    pok.contributions[0].s_challenge_g2 =
        (pok.contributions[0].s_challenge_g2 + G2Affine::generator()).into_affine();
    assert!(matches!(
        verify(&initial, &pok, &mut rng),
        Err(CeremonyError::ProofOfKnowledge { index: 0, .. })
    ));
    let mut swapped = c.clone();
    swapped.key.h_query.swap(10, 11);
    assert!(matches!(
        verify(&initial, &swapped, &mut rng),
        Err(CeremonyError::QueryMismatch { .. })
    ));
    let mut changed = c.clone();
    changed.key.b_g1_query[5] = (changed.key.b_g1_query[5] + G1Affine::generator()).into_affine();
    assert!(matches!(
        verify(&initial, &changed, &mut rng),
        Err(CeremonyError::ChangedElement {
            which: "b_g1_query"
        })
    ));

    // Its phase 1 is the devnet seed: phase 2 does not make it safe; refused off the devnet.
    assert_eq!(origin(n16, &keys.vk), Origin::DevnetSeed);
    assert!(matches!(
        check_for_chain(n16, &keys.vk, 1),
        Err(KeyPolicyError::InsecureKey {
            chain_id: 1,
            origin: Origin::DevnetSeed,
            ..
        })
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn devnet_seed_keys_are_refused_off_chain_31337() {
    let small = Shape { slots: 1, depth: 2 };
    let devnet = setup_deterministic(small, DEVNET_SEED).expect("setup");
    assert_eq!(origin(small, &devnet.vk), Origin::DevnetSeed);
    assert_eq!(
        check_for_chain(small, &devnet.vk, DEVNET_CHAIN_ID).expect("accepted on the devnet"),
        Origin::DevnetSeed
    );
    for chain in [1u64, 8453, 11155111] {
        let err = check_for_chain(small, &devnet.vk, chain).expect_err("refused");
        assert!(matches!(
            err,
            KeyPolicyError::InsecureKey { chain_id, origin: Origin::DevnetSeed, .. } if chain_id == chain
        ));
        assert_eq!(err.code(), "V-ZKK-001");
    }
    // The committed devnet verifying keys are recognised too.
    for slots in [16, 64, 256] {
        let s = shape(slots);
        let vk: ark_groth16::VerifyingKey<ark_bn254::Bn254> =
            ark_serialize::CanonicalDeserialize::deserialize_compressed(
                verity_zk::market::devnet_verifying_key(s).expect("vk"),
            )
            .expect("vk");
        assert_eq!(origin(s, &vk), Origin::DevnetSeed, "N={slots}");
        assert!(check_for_chain(s, &vk, 10).is_err());
    }
    // A key from another seed is not recognised as insecure (it is, but its seed is not public).
    let other = setup_deterministic(small, DEVNET_SEED ^ 1).expect("setup");
    assert_eq!(origin(small, &other.vk), Origin::NotKnownInsecure);
    assert!(check_for_chain(small, &other.vk, 1).is_ok());
}
