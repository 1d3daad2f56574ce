//! The sensor-aggregate circuit: N reading slots, each with a signature check, a registry
//! membership proof, and range/window filters; the aggregate of the accepted readings; three
//! public inputs `[inputDigest, resultDigest, binding]`.

mod builder;
mod curve;
mod eddsa;
mod merkle;
mod poseidon;

use ark_bn254::Fr;
use ark_ff::{Field, One, PrimeField, Zero};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, SynthesisError,
};

use crate::babyjubjub::Point;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::registry::{MerklePath, Registry};
use crate::statement::{Aggregate, PublicInputs, Query, SignedReading, message};
use builder::{Builder, Expr, from_bits};
use curve::EdPoint;

/// Width of values, timestamps and query bounds.
const WORD_BITS: usize = 32;

/// The size of a circuit: reading slots and registry depth. Keys are per shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Reading slots N.
    pub slots: usize,
    /// Registry tree depth.
    pub depth: usize,
}

/// One reading slot of the witness.
#[derive(Clone, Debug)]
pub struct Slot {
    /// Whether the slot holds a reading (unused slots are padding and count nothing).
    pub present: bool,
    /// The reading.
    pub reading: SignedReading,
    /// The signature's `S` as an integer (normally `reading.signature.s`; tests tamper it).
    pub s: Fr,
    /// The device's registry path.
    pub path: MerklePath,
}

/// The full witness and public values of one proof.
#[derive(Clone, Debug)]
pub struct SensorCircuit {
    /// The shape the keys were made for.
    pub shape: Shape,
    /// The query.
    pub query: Query,
    /// Exactly `shape.slots` slots.
    pub slots: Vec<Slot>,
    /// The aggregate the prover claims (the circuit recomputes count and sum and checks min and
    /// max; a wrong claim leaves the circuit unsatisfied).
    pub claimed: Aggregate,
    /// The binding public input.
    pub binding: Fr,
}

fn padding_slot(depth: usize) -> Slot {
    let reading = Device::from_seed(u64::MAX).sign(0, 0);
    Slot {
        present: false,
        s: l_to_fr(reading.signature.s),
        reading,
        path: MerklePath {
            index: 0,
            siblings: vec![Fr::zero(); depth],
        },
    }
}

fn l_to_fr(x: ark_ed_on_bn254::Fr) -> Fr {
    use ark_ff::BigInteger;
    Fr::from_le_bytes_mod_order(&x.into_bigint().to_bytes_le())
}

impl SensorCircuit {
    /// A witness with every slot empty: what key generation synthesizes.
    pub fn blank(shape: Shape) -> Self {
        Self {
            shape,
            query: Query {
                registry_root: Fr::zero(),
                window_start: 0,
                window_end: 0,
                range_min: 0,
                range_max: 0,
            },
            slots: vec![padding_slot(shape.depth); shape.slots],
            claimed: Aggregate::default(),
            binding: Fr::zero(),
        }
    }

    /// The honest witness for `readings` (each from a device in `registry`) under `query`,
    /// bound to `binding`. Readings from unknown devices get an empty path (the proof then
    /// fails, which the tamper tests rely on).
    pub fn new(
        shape: Shape,
        registry: &Registry,
        query: Query,
        readings: &[SignedReading],
        binding: [u8; 32],
    ) -> Result<Self> {
        if readings.len() > shape.slots {
            return Err(Error::TooManyReadings {
                given: readings.len(),
                slots: shape.slots,
            });
        }
        if registry.depth() != shape.depth {
            return Err(Error::PathLength {
                slot: 0,
                got: registry.depth(),
                want: shape.depth,
            });
        }
        let mut slots: Vec<Slot> = readings
            .iter()
            .map(|r| {
                let path = match registry.index_of(&r.device) {
                    Some(i) => registry.path(i)?,
                    None => MerklePath {
                        index: 0,
                        siblings: vec![Fr::zero(); shape.depth],
                    },
                };
                Ok(Slot {
                    present: true,
                    reading: *r,
                    s: l_to_fr(r.signature.s),
                    path,
                })
            })
            .collect::<Result<_>>()?;
        slots.resize(shape.slots, padding_slot(shape.depth));
        let claimed = Aggregate::of(&query, readings.iter().map(|r| (r.value, r.timestamp)));
        Ok(Self {
            shape,
            query,
            slots,
            claimed,
            binding: crate::statement::binding_to_field(binding),
        })
    }

    /// The public inputs this witness proves.
    pub fn public_inputs(&self) -> PublicInputs {
        PublicInputs {
            input_digest: self.query.digest(),
            result_digest: self.claimed.digest(),
            binding: self.binding,
        }
    }

    /// Synthesizes the witness and reports the first unsatisfied constraint, if any.
    pub fn check(&self) -> Result<()> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        self.clone()
            .generate_constraints(cs.clone())
            .map_err(|source| Error::Synthesis {
                stage: "prove",
                source,
            })?;
        match cs.which_is_unsatisfied() {
            Ok(None) => Ok(()),
            Ok(Some(name)) => Err(Error::Unsatisfied(name)),
            Err(source) => Err(Error::Synthesis {
                stage: "prove",
                source,
            }),
        }
    }

    /// The number of R1CS constraints of a shape.
    pub fn constraint_count(shape: Shape) -> Result<usize> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_mode(ark_relations::gr1cs::SynthesisMode::Setup);
        Self::blank(shape)
            .generate_constraints(cs.clone())
            .map_err(|source| Error::Synthesis {
                stage: "setup",
                source,
            })?;
        Ok(cs.num_constraints())
    }

    fn validate(&self) -> std::result::Result<(), SynthesisError> {
        let ok = self.slots.len() == self.shape.slots
            && self
                .slots
                .iter()
                .all(|s| s.path.siblings.len() == self.shape.depth);
        if ok {
            Ok(())
        } else {
            Err(SynthesisError::Unsatisfiable)
        }
    }
}

/// `x ≥ y` for 32-bit `x, y`: the top bit of `x − y + 2³²` (34 constraints).
fn greater_or_equal(b: &Builder, x: &Expr, y: &Expr) -> std::result::Result<Expr, SynthesisError> {
    let shifted = x.sub(y).add_const(Fr::from(1u64 << WORD_BITS));
    let bits = b.alloc_bits(shifted.val, WORD_BITS + 1)?;
    b.enforce_equal(&from_bits(&bits), &shifted)?;
    Ok(bits[WORD_BITS].clone())
}

fn word(b: &Builder, v: u32) -> std::result::Result<Expr, SynthesisError> {
    Ok(from_bits(&b.alloc_bits(Fr::from(v), WORD_BITS)?))
}

fn point(b: &Builder, p: &Point) -> std::result::Result<EdPoint, SynthesisError> {
    Ok(EdPoint {
        x: b.witness(p.x)?,
        y: b.witness(p.y)?,
    })
}

impl ConstraintSynthesizer<Fr> for SensorCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> ark_relations::gr1cs::Result<()> {
        self.validate()?;
        let b = Builder::new(cs);
        let public = self.public_inputs();
        let input_digest = b.input(public.input_digest)?;
        let result_digest = b.input(public.result_digest)?;
        let binding = b.input(public.binding)?;
        // Ties the binding into a constraint of its own (ark-groth16 already adds one row per
        // public input; this keeps the binding bound under any R1CS-to-QAP reduction).
        b.mul(&binding, &binding)?;

        let q = &self.query;
        let root = b.witness(q.registry_root)?;
        let (t_lo, t_hi) = (word(&b, q.window_start)?, word(&b, q.window_end)?);
        let (v_lo, v_hi) = (word(&b, q.range_min)?, word(&b, q.range_max)?);
        let digest = poseidon::hash(&b, &[&root, &t_lo, &t_hi, &v_lo, &v_hi])?;
        b.enforce_equal(&digest, &input_digest)?;

        let min = b.witness(Fr::from(self.claimed.min))?;
        let max = b.witness(Fr::from(self.claimed.max))?;
        let mut count = Expr::zero();
        let mut sum = Expr::zero();
        let mut sel_min_total = Expr::zero();
        let mut sel_max_total = Expr::zero();
        let one = Expr::constant(Fr::one());
        let zero = Expr::zero();
        let mut min_taken = false;
        let mut max_taken = false;

        for slot in &self.slots {
            let r = &slot.reading;
            let present = b.boolean(slot.present)?;
            let value = word(&b, r.value)?;
            let timestamp = word(&b, r.timestamp)?;
            let msg = value.add(&timestamp.scale(Fr::from(1u64 << WORD_BITS)));
            debug_assert_eq!(msg.val, message(r.value, r.timestamp));
            let a = point(&b, &r.device)?;
            let r8 = point(&b, &r.signature.r8)?;
            eddsa::verify(
                &b,
                &eddsa::SigInputs {
                    a: &a,
                    r8: &r8,
                    s: slot.s,
                    msg: &msg,
                    enabled: &present,
                },
            )?;
            merkle::membership(&b, &a, &slot.path, &root, &present)?;

            let in_range = b.mul(
                &greater_or_equal(&b, &value, &v_lo)?,
                &greater_or_equal(&b, &v_hi, &value)?,
            )?;
            let in_window = b.mul(
                &greater_or_equal(&b, &timestamp, &t_lo)?,
                &greater_or_equal(&b, &t_hi, &timestamp)?,
            )?;
            let accepted = b.mul(&b.mul(&present, &in_range)?, &in_window)?;
            count = count.add(&accepted);
            sum = sum.add(&b.mul(&accepted, &value)?);

            // Every accepted value lies in [min, max] ...
            let above_min = b.mul(&accepted, &value.sub(&min))?;
            b.alloc_bits(above_min.val, WORD_BITS)
                .and_then(|bits| b.enforce_equal(&from_bits(&bits), &above_min))?;
            let below_max = b.mul(&accepted, &max.sub(&value))?;
            b.alloc_bits(below_max.val, WORD_BITS)
                .and_then(|bits| b.enforce_equal(&from_bits(&bits), &below_max))?;
            // ... and min and max are each attained by one selected accepted reading.
            let is_accepted = accepted.val.is_one();
            let pick_min = is_accepted && !min_taken && r.value == self.claimed.min;
            let pick_max = is_accepted && !max_taken && r.value == self.claimed.max;
            min_taken |= pick_min;
            max_taken |= pick_max;
            for (pick, bound, total) in [
                (pick_min, &min, &mut sel_min_total),
                (pick_max, &max, &mut sel_max_total),
            ] {
                let sel = b.boolean(pick)?;
                b.enforce(&sel, &one.sub(&accepted), &zero)?;
                b.enforce(&sel, &value.sub(bound), &zero)?;
                *total = total.add(&sel);
            }
        }

        // nonzero = [count ≠ 0]; with no accepted reading, min = max = 0 and nothing selected.
        let inv = b.witness(count.val.inverse().unwrap_or_else(Fr::zero))?;
        let nonzero = b.mul(&count, &inv)?;
        b.enforce(&count, &one.sub(&nonzero), &zero)?;
        b.enforce_equal(&sel_min_total, &nonzero)?;
        b.enforce_equal(&sel_max_total, &nonzero)?;
        b.enforce(&min, &one.sub(&nonzero), &zero)?;
        b.enforce(&max, &one.sub(&nonzero), &zero)?;

        let result = poseidon::hash(&b, &[&count, &sum, &min, &max])?;
        b.enforce_equal(&result, &result_digest)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn honest_witness_satisfies_and_tampering_does_not() {
        let shape = Shape { slots: 3, depth: 4 };
        let mut reg = Registry::new(shape.depth).expect("depth");
        let devices: Vec<Device> = (0..2).map(Device::from_seed).collect();
        for d in &devices {
            reg.register(d.public_key()).expect("register");
        }
        let query = Query::new(reg.root(), (100, 200), (10, 50)).expect("query");
        let readings = [devices[0].sign(20, 150), devices[1].sign(60, 150)];
        let c = SensorCircuit::new(shape, &reg, query, &readings, [7; 32]).expect("witness");
        assert_eq!(
            c.claimed,
            Aggregate {
                count: 1,
                sum: 20,
                min: 20,
                max: 20
            }
        );
        c.check().expect("honest witness satisfies");

        let mut bad = c.clone();
        bad.slots[0].reading.value = 21;
        assert!(bad.check().is_err(), "changed value breaks the signature");

        let mut counted = c.clone();
        counted.claimed = Aggregate {
            count: 2,
            sum: 80,
            min: 20,
            max: 60,
        };
        assert!(
            counted.check().is_err(),
            "out-of-range reading cannot be counted"
        );
    }
}
