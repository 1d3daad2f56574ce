//! Properties of the sensor circuit over random readings and every kind of tampering.
//!
//! These check the constraint system's own satisfaction check ([`SensorCircuit::check`], the
//! R1CS `which_is_unsatisfied` the prover runs before proving) rather than full Groth16 proofs:
//! 256 proofs per property are far too slow in a debug build, and a witness that satisfies no
//! R1CS has no proof. That a proof of an honest witness verifies, and that a valid proof does not
//! verify against another binding or aggregate, is `proofs::n16_valid_proof_verifies_and_each_tampering_fails`.

use std::sync::LazyLock;

use ark_bn254::Fr;
use proptest::prelude::*;
use verity_zk::statement::{Aggregate, SignedReading};
use verity_zk::{SensorCircuit, Shape};

use crate::fixture::{World, world_of_depth};

/// A small shape keeps 256 cases affordable: every slot and every tree level runs the same
/// constraints, so two slots (one may be excluded, one accepted) and four levels exercise each
/// kind of tampering as well as the devnet shape does.
const SLOTS: usize = 2;
const DEPTH: usize = 4;

/// Built once: registering eight devices is the same every case.
static WORLD: LazyLock<World> = LazyLock::new(|| world_of_depth(DEPTH));

/// Readings from the registered devices, mixing accepted and excluded ones (window
/// [1000, 2000], range [10, 100]).
fn readings(min: usize) -> impl Strategy<Value = Vec<(u32, u32, usize)>> {
    prop::collection::vec((0u32..200, 900u32..2100, 0usize..8), min..=SLOTS)
}

/// One way a prover may lie. The named tamperings of `proofs.rs` (bad signature, unregistered
/// device, out-of-range and out-of-window readings counted, wrong min, `S + ℓ`) and the other
/// witness changes the circuit must equally reject. `slot` picks one of the readings.
#[derive(Clone, Debug)]
enum Tamper {
    /// Claim another count, sum, min or max than the readings give (`field`, nonzero `delta`).
    Claim { field: u8, delta: u32 },
    /// Change a signed reading's value or timestamp after signing.
    BadSignature {
        slot: prop::sample::Index,
        timestamp: bool,
        delta: u32,
    },
    /// Replace a reading by one from a device not in the registry (honest claim over it).
    Unregistered {
        slot: prop::sample::Index,
        value: u32,
        timestamp: u32,
    },
    /// Present another registered device's key (and its valid path) for a reading.
    SwappedSigner {
        slot: prop::sample::Index,
        other: usize,
    },
    /// Count an extra reading whose value is outside the range.
    OutOfRangeCounted {
        value: u32,
        timestamp: u32,
        device: usize,
    },
    /// Count an extra reading whose timestamp is outside the window.
    OutOfWindowCounted {
        value: u32,
        timestamp: u32,
        device: usize,
    },
    /// Use the non-canonical signature scalar `S + ℓ`.
    SPlusL { slot: prop::sample::Index },
    /// Change one sibling of a registry path.
    PathSibling {
        slot: prop::sample::Index,
        level: prop::sample::Index,
    },
    /// Flip one direction bit of a registry path.
    PathIndex {
        slot: prop::sample::Index,
        level: prop::sample::Index,
    },
    /// Prove membership against another registry root.
    RegistryRoot { delta: u64 },
}

fn tamper() -> impl Strategy<Value = Tamper> {
    let slot = any::<prop::sample::Index>;
    prop_oneof![
        (0u8..4, 1u32..=u32::MAX).prop_map(|(field, delta)| Tamper::Claim { field, delta }),
        (slot(), any::<bool>(), 1u32..=u32::MAX).prop_map(|(slot, timestamp, delta)| {
            Tamper::BadSignature {
                slot,
                timestamp,
                delta,
            }
        }),
        (slot(), 0u32..200, 900u32..2100).prop_map(|(slot, value, timestamp)| {
            Tamper::Unregistered {
                slot,
                value,
                timestamp,
            }
        }),
        (slot(), 1usize..8).prop_map(|(slot, other)| Tamper::SwappedSigner { slot, other }),
        (
            prop_oneof![0u32..10, 101u32..=u32::MAX],
            1000u32..=2000,
            0usize..8
        )
            .prop_map(|(value, timestamp, device)| Tamper::OutOfRangeCounted {
                value,
                timestamp,
                device
            }),
        (
            10u32..=100,
            prop_oneof![0u32..1000, 2001u32..=u32::MAX],
            0usize..8
        )
            .prop_map(|(value, timestamp, device)| Tamper::OutOfWindowCounted {
                value,
                timestamp,
                device
            }),
        slot().prop_map(|slot| Tamper::SPlusL { slot }),
        (slot(), any::<prop::sample::Index>())
            .prop_map(|(slot, level)| Tamper::PathSibling { slot, level }),
        (slot(), any::<prop::sample::Index>())
            .prop_map(|(slot, level)| Tamper::PathIndex { slot, level }),
        (1u64..=u64::MAX).prop_map(|delta| Tamper::RegistryRoot { delta }),
    ]
}

fn circuit(w: &World, rs: &[SignedReading]) -> SensorCircuit {
    let shape = Shape {
        slots: SLOTS,
        depth: DEPTH,
    };
    SensorCircuit::new(shape, &w.registry, w.query, rs, [1; 32]).expect("witness")
}

/// The subgroup order ℓ as a BN254 scalar.
fn l_as_fr() -> Fr {
    use ark_ff::PrimeField;
    Fr::from_bigint(ark_ed_on_bn254::Fr::MODULUS).expect("l < r")
}

/// The witness `tamper` makes from the honest readings `rs` (at least one).
fn tampered(w: &World, rs: &[SignedReading], tamper: &Tamper) -> SensorCircuit {
    let n = rs.len();
    let mut c = circuit(w, rs);
    match tamper {
        Tamper::Claim { field, delta } => {
            let a = &mut c.claimed;
            match field {
                0 => a.count = a.count.wrapping_add(u64::from(*delta)),
                1 => a.sum = a.sum.wrapping_add(u64::from(*delta)),
                2 => a.min = a.min.wrapping_add(*delta),
                _ => a.max = a.max.wrapping_add(*delta),
            }
        }
        Tamper::BadSignature {
            slot,
            timestamp,
            delta,
        } => {
            let r = &mut c.slots[slot.index(n)].reading;
            if *timestamp {
                r.timestamp = r.timestamp.wrapping_add(*delta);
            } else {
                r.value = r.value.wrapping_add(*delta);
            }
        }
        Tamper::Unregistered {
            slot,
            value,
            timestamp,
        } => {
            let mut rs = rs.to_vec();
            rs[slot.index(n)] = verity_zk::device::Device::from_seed(999).sign(*value, *timestamp);
            c = circuit(w, &rs);
        }
        Tamper::SwappedSigner { slot, other } => {
            let s = &mut c.slots[slot.index(n)];
            let index = w.registry.index_of(&s.reading.device).expect("registered");
            let other = (index + *other as u64) % w.devices.len() as u64;
            s.reading.device = w.devices[other as usize].public_key();
            s.path = w.registry.path(other).expect("path");
        }
        Tamper::OutOfRangeCounted {
            value,
            timestamp,
            device,
        }
        | Tamper::OutOfWindowCounted {
            value,
            timestamp,
            device,
        } => {
            // The extra reading is honest and present; only the claim counts it.
            let mut rs = rs.to_vec();
            rs.truncate(SLOTS - 1);
            let extra = w.devices[*device].sign(*value, *timestamp);
            rs.push(extra);
            c = circuit(w, &rs);
            let a = &mut c.claimed;
            a.count += 1;
            a.sum += u64::from(*value);
            a.min = if a.count == 1 {
                *value
            } else {
                a.min.min(*value)
            };
            a.max = if a.count == 1 {
                *value
            } else {
                a.max.max(*value)
            };
        }
        Tamper::SPlusL { slot } => c.slots[slot.index(n)].s += l_as_fr(),
        Tamper::PathSibling { slot, level } => {
            let path = &mut c.slots[slot.index(n)].path;
            let level = level.index(path.siblings.len());
            path.siblings[level] += Fr::from(1u64);
        }
        Tamper::PathIndex { slot, level } => {
            let path = &mut c.slots[slot.index(n)].path;
            path.index ^= 1u64 << level.index(path.siblings.len());
        }
        Tamper::RegistryRoot { delta } => c.query.registry_root += Fr::from(*delta),
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// For random mixes of accepted and excluded readings, the honest witness satisfies the
    /// circuit and claims exactly the native aggregate.
    #[test]
    fn circuit_aggregate_equals_native_aggregate(rs in readings(0)) {
        let w = &*WORLD;
        let readings: Vec<_> = rs.iter().map(|(v, t, d)| w.devices[*d].sign(*v, *t)).collect();
        let c = circuit(w, &readings);
        let native = Aggregate::of(&w.query, readings.iter().map(|r| (r.value, r.timestamp)));
        prop_assert_eq!(c.claimed, native);
        prop_assert!(c.check().is_ok());
    }

    /// Every kind of tampering, on random readings, leaves the circuit unsatisfied.
    #[test]
    fn every_tampering_is_rejected(rs in readings(1), tamper in tamper()) {
        let w = &*WORLD;
        let readings: Vec<_> = rs.iter().map(|(v, t, d)| w.devices[*d].sign(*v, *t)).collect();
        let c = tampered(w, &readings, &tamper);
        prop_assert!(c.check().is_err(), "accepted: {:?} on {:?}", tamper, rs);
    }
}
