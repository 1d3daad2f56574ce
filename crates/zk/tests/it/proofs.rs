use verity_zk::keys::{self, DEVNET_SEED, setup_deterministic};
use verity_zk::statement::{Aggregate, PublicInputs, field_from_word};
use verity_zk::{Error, SensorCircuit};

use crate::fixture::{readings, shape, world};

const BINDING: [u8; 32] = [0xAB; 32];

#[test]
fn n16_valid_proof_verifies_and_each_tampering_fails() {
    let w = world();
    let rs = readings(&w, 12);
    let keys = setup_deterministic(shape(16), DEVNET_SEED).expect("setup");
    let honest =
        SensorCircuit::new(shape(16), &w.registry, w.query, &rs, BINDING).expect("witness");
    let expected = Aggregate::of(&w.query, rs.iter().map(|r| (r.value, r.timestamp)));
    assert_eq!(honest.claimed, expected);
    assert_eq!(expected.count, 10, "two of twelve readings are excluded");
    let public = honest.public_inputs();
    assert_eq!(public, PublicInputs::new(&w.query, &expected, BINDING));
    let proof = keys.prove(honest.clone()).expect("prove");
    assert!(keys::verify(&keys.vk, &public, &proof).expect("verify"));

    // Swapped task binding / another operator's binding: same proof, other binding.
    let other = PublicInputs::new(&w.query, &expected, [0xCD; 32]);
    assert!(!keys::verify(&keys.vk, &other, &proof).expect("verify"));
    // Wrong aggregate claimed at verification.
    let wrong = Aggregate {
        sum: expected.sum + 1,
        ..expected
    };
    let wrong_pub = PublicInputs::new(&w.query, &wrong, BINDING);
    assert!(!keys::verify(&keys.vk, &wrong_pub, &proof).expect("verify"));

    // Witness tampering: each fails to prove.
    let mut bad_sig = honest.clone();
    bad_sig.slots[0].reading.value += 1;
    assert!(
        matches!(keys.prove(bad_sig), Err(Error::Unsatisfied(_))),
        "bad signature"
    );

    let stranger = verity_zk::device::Device::from_seed(999).sign(20, 1500);
    let mut rs2 = rs.clone();
    rs2[3] = stranger;
    let unregistered =
        SensorCircuit::new(shape(16), &w.registry, w.query, &rs2, BINDING).expect("witness");
    assert!(
        matches!(keys.prove(unregistered), Err(Error::Unsatisfied(_))),
        "unregistered"
    );

    let mut counted = honest.clone();
    counted.claimed = Aggregate {
        count: expected.count + 1,
        sum: expected.sum + 500,
        max: 500,
        ..expected
    };
    assert!(
        matches!(keys.prove(counted), Err(Error::Unsatisfied(_))),
        "out-of-range counted"
    );

    let mut counted_window = honest.clone();
    counted_window.claimed = Aggregate {
        count: expected.count + 1,
        sum: expected.sum + 50,
        ..expected
    };
    assert!(counted_window.check().is_err(), "out-of-window counted");

    let mut wrong_agg = honest.clone();
    wrong_agg.claimed = Aggregate {
        min: expected.min + 1,
        ..expected
    };
    assert!(wrong_agg.check().is_err(), "wrong min");

    let mut big_s = honest.clone();
    big_s.slots[0].s += ark_bn254::Fr::from_le_bytes_mod_order_helper();
    assert!(big_s.check().is_err(), "S + l is rejected");
}

trait LAsFr {
    fn from_le_bytes_mod_order_helper() -> Self;
}

impl LAsFr for ark_bn254::Fr {
    /// The subgroup order ℓ as a BN254 scalar.
    fn from_le_bytes_mod_order_helper() -> Self {
        use ark_ff::PrimeField;
        ark_bn254::Fr::from_bigint(ark_ed_on_bn254::Fr::MODULUS).expect("l < r")
    }
}

#[test]
fn public_words_at_or_above_the_modulus_are_rejected() {
    let r_be: [u8; 32] = {
        use ark_ff::{BigInteger, PrimeField};
        let mut w = [0u8; 32];
        w.copy_from_slice(&ark_bn254::Fr::MODULUS.to_bytes_be());
        w
    };
    assert!(matches!(
        field_from_word(r_be, 1),
        Err(Error::PublicInputOutOfField { index: 1 })
    ));
    let mut below = r_be;
    below[31] -= 1;
    assert!(field_from_word(below, 0).is_ok());
}
