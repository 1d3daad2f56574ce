//! Proving from constraint matrices built once per shape.
//!
//! `Groth16::prove` synthesizes the circuit with every constraint and rebuilds the R1CS
//! matrices on each call, and the witness check ([`SensorCircuit::check`]) did the same a second
//! time. The matrices depend only on the [`Shape`] (the gadgets allocate and constrain the same
//! way whatever the witness), so [`R1cs::of`] builds them once, from the same setup-mode
//! synthesis the key generator runs. A proof then needs:
//!
//! 1. the witness values alone ([`assignment`]: synthesis in
//!    `SynthesisMode::Prove { construct_matrices: false }`, where ark-relations records no
//!    constraint and the circuit's builder builds no linear combination);
//! 2. a sparse check `A·z ∘ B·z = C·z` over the cached matrices ([`R1cs::check`]), which names
//!    the first failing row exactly as `ConstraintSystem::which_is_unsatisfied` does without a
//!    tracing `ConstraintLayer` (`R1CS - <row>`);
//! 3. the QAP witness map and the MSMs ([`prove`]: what
//!    `Groth16::create_proof_with_reduction_and_matrices` computes, with `r` and `s` drawn as
//!    `Groth16::prove` draws them, so a seeded RNG gives the very same proof, but with our own
//!    MSM, see [`assemble`]).

use ark_bn254::{Bn254, Fr, G1Projective};
use ark_ec::CurveGroup;
use ark_ff::{BigInt, One, PrimeField, UniformRand, Zero};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_groth16::{Proof, ProvingKey};
use ark_poly::GeneralEvaluationDomain;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, R1CS_PREDICATE_LABEL,
    SynthesisError, SynthesisMode,
};
use ark_std::rand::Rng;

use crate::circuit::{SensorCircuit, Shape};
use crate::error::{Error, Result};
use crate::msm::msm;

/// The R1CS matrices of one shape, and its variable counts.
#[derive(Clone)]
pub struct R1cs {
    shape: Shape,
    /// `[A, B, C]`, one row per constraint, each row `(coefficient, variable index)` over
    /// `z = [1, public inputs, witness]`.
    matrices: Vec<Matrix<Fr>>,
    num_instance: usize,
    num_witness: usize,
}

impl std::fmt::Debug for R1cs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("R1cs")
            .field("shape", &self.shape)
            .field("constraints", &self.num_constraints())
            .field("instance", &self.num_instance)
            .field("witness", &self.num_witness)
            .field("nonzero", &self.nonzero())
            .finish()
    }
}

fn synthesis(stage: &'static str) -> impl Fn(SynthesisError) -> Error {
    move |source| Error::Synthesis { stage, source }
}

impl R1cs {
    /// The matrices of `shape`, from the synthesis `Groth16` key generation runs (setup mode,
    /// constraint-count goal, linear combinations inlined).
    pub fn of(shape: Shape) -> Result<Self> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        SensorCircuit::blank(shape)
            .generate_constraints(cs.clone())
            .map_err(synthesis("setup"))?;
        cs.finalize();
        let mut all = cs.to_matrices().map_err(synthesis("setup"))?;
        let matrices = all.remove(R1CS_PREDICATE_LABEL).ok_or(Error::Synthesis {
            stage: "setup",
            source: SynthesisError::PredicateNotFound,
        })?;
        if matrices.len() != 3 {
            return Err(Error::Synthesis {
                stage: "setup",
                source: SynthesisError::Unsatisfiable,
            });
        }
        let r1cs = Self {
            shape,
            matrices,
            num_instance: cs.num_instance_variables(),
            num_witness: cs.num_witness_variables(),
        };
        tracing::debug!(target: "zk::prover", ?r1cs, "constraint matrices built");
        Ok(r1cs)
    }

    /// The shape these matrices are of.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Number of constraints (rows).
    pub fn num_constraints(&self) -> usize {
        self.matrices[0].len()
    }

    /// Length of a full assignment `z = [1, public inputs, witness]`.
    pub fn num_variables(&self) -> usize {
        self.num_instance + self.num_witness
    }

    /// Number of instance variables (the constant one and the public inputs).
    pub fn num_instance(&self) -> usize {
        self.num_instance
    }

    /// `[A, B, C]`, one row per constraint, each row `(coefficient, variable index)` over
    /// `z = [1, public inputs, witness]`.
    pub fn matrices(&self) -> &[Matrix<Fr>] {
        &self.matrices
    }

    /// Non-zero entries of A, B and C together.
    pub fn nonzero(&self) -> usize {
        self.matrices.iter().flatten().map(Vec::len).sum()
    }

    /// Checks `A·z ∘ B·z = C·z` row by row. An assignment of the wrong length is
    /// [`Error::WrongShape`]; an unsatisfied row is [`Error::Unsatisfied`] named `R1CS - <row>`
    /// (the name `SensorCircuit::check` gives the same row).
    pub fn check(&self, z: &[Fr]) -> Result<()> {
        if z.len() != self.num_variables() {
            return Err(Error::WrongShape {
                keys: self.shape,
                variables: self.num_variables(),
                assignment: z.len(),
            });
        }
        let dot = |row: &[(Fr, usize)]| -> Fr {
            row.iter()
                .map(|(c, i)| if c.is_one() { z[*i] } else { *c * z[*i] })
                .sum()
        };
        let [a, b, c] = [&self.matrices[0], &self.matrices[1], &self.matrices[2]];
        match (0..a.len()).find(|&i| dot(&a[i]) * dot(&b[i]) != dot(&c[i])) {
            None => Ok(()),
            Some(row) => Err(Error::Unsatisfied(format!(
                "{R1CS_PREDICATE_LABEL} - {row}"
            ))),
        }
    }
}

/// The full assignment `z = [1, public inputs, witness]` of a circuit, from a synthesis that
/// records no constraint.
pub fn assignment(circuit: SensorCircuit) -> Result<Vec<Fr>> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    circuit
        .generate_constraints(cs.clone())
        .map_err(synthesis("prove"))?;
    let inner = cs.borrow().ok_or(Error::Synthesis {
        stage: "prove",
        source: SynthesisError::MissingCS,
    })?;
    let instance = inner.instance_assignment().map_err(synthesis("prove"))?;
    let witness = inner.witness_assignment().map_err(synthesis("prove"))?;
    let mut z = Vec::with_capacity(instance.len() + witness.len());
    z.extend_from_slice(instance);
    z.extend_from_slice(witness);
    Ok(z)
}

/// A Groth16 proof of the assignment `z` (which [`R1cs::check`] should have accepted: an
/// unsatisfied one yields a proof that does not verify). `r` and `s` are drawn from `rng` in the
/// order `Groth16::prove` draws them.
pub fn prove<R: Rng>(
    pk: &ProvingKey<Bn254>,
    r1cs: &R1cs,
    z: &[Fr],
    rng: &mut R,
) -> Result<Proof<Bn254>> {
    if z.len() != r1cs.num_variables() || pk.a_query.len() != r1cs.num_variables() {
        return Err(Error::WrongShape {
            keys: r1cs.shape,
            variables: r1cs.num_variables(),
            assignment: z.len(),
        });
    }
    let r = Fr::rand(rng);
    let s = Fr::rand(rng);
    let h = LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        &r1cs.matrices,
        r1cs.num_instance,
        r1cs.num_constraints(),
        z,
    )
    .map_err(synthesis("prove"))?;
    Ok(assemble(pk, r, s, &h, z, r1cs.num_instance))
}

/// The proof from the QAP quotient `h` and the assignment: the sums
/// `Groth16::create_proof_with_reduction_and_matrices` computes, with [`crate::msm::msm`]
/// (affine batch accumulation) for its five MSMs. That MSM also leaves out identity bases,
/// which ark-ec's does not: a third of the full-width witness values occur in no row of B, so
/// their B query points are the identity. Every sum, and so the proof, is unchanged.
fn assemble(
    pk: &ProvingKey<Bn254>,
    r: Fr,
    s: Fr,
    h: &[Fr],
    z: &[Fr],
    num_instance: usize,
) -> Proof<Bn254> {
    let bigints = |v: &[Fr]| -> Vec<BigInt<4>> { v.iter().map(|x| x.into_bigint()).collect() };
    let h_acc = msm(&pk.h_query, &bigints(h));
    let l_acc = msm(&pk.l_query, &bigints(&z[num_instance..]));
    // z[0] is the constant one, whose query point is added as is.
    let rest = bigints(&z[1..]);
    let g_a = pk.delta_g1 * r + pk.a_query[0] + msm(&pk.a_query[1..], &rest) + pk.vk.alpha_g1;
    let g1_b = if r.is_zero() {
        G1Projective::zero()
    } else {
        pk.delta_g1 * s + pk.b_g1_query[0] + msm(&pk.b_g1_query[1..], &rest) + pk.beta_g1
    };
    let g2_b =
        pk.vk.delta_g2 * s + pk.b_g2_query[0] + msm(&pk.b_g2_query[1..], &rest) + pk.vk.beta_g2;
    let g_c = g_a * s + g1_b * r - pk.delta_g1 * (r * s) + l_acc + h_acc;
    Proof {
        a: g_a.into_affine(),
        b: g2_b.into_affine(),
        c: g_c.into_affine(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;
    use crate::keys::{DEVNET_SEED, setup_deterministic, verify};
    use crate::registry::Registry;
    use crate::statement::{Aggregate, Query};
    use ark_groth16::Groth16;
    use ark_std::rand::{SeedableRng, rngs::StdRng};

    const SHAPE: Shape = Shape { slots: 3, depth: 3 };

    /// The readings of the tests: accepted, out of range, out of window; the third one signed
    /// by `third` (a registered device unless the caller says otherwise).
    fn circuit(third: Device) -> SensorCircuit {
        let mut reg = Registry::new(SHAPE.depth).expect("depth");
        let devices: Vec<Device> = (0..2).map(Device::from_seed).collect();
        for d in &devices {
            reg.register(d.public_key()).expect("register");
        }
        let query = Query::new(reg.root(), (100, 200), (10, 50)).expect("query");
        let readings = [
            devices[0].sign(20, 150),
            devices[1].sign(60, 150),
            third.sign(30, 250),
        ];
        SensorCircuit::new(SHAPE, &reg, query, &readings, [7; 32]).expect("witness")
    }

    fn honest() -> SensorCircuit {
        circuit(Device::from_seed(1))
    }

    /// Witness tamperings (as in the tests of `SensorCircuit::check`), by name.
    fn tamperings(c: &SensorCircuit) -> Vec<(&'static str, SensorCircuit)> {
        let mut out = Vec::new();
        let mut t = c.clone();
        t.slots[0].reading.value += 1;
        out.push(("bad signature", t));
        let mut t = circuit(Device::from_seed(999));
        t.claimed = c.claimed;
        out.push(("unregistered device", t));
        let mut t = c.clone();
        t.claimed = Aggregate {
            count: 2,
            sum: 80,
            min: 20,
            max: 60,
        };
        out.push(("out-of-range reading counted", t));
        let mut t = c.clone();
        t.claimed = Aggregate {
            count: 2,
            sum: 50,
            min: 20,
            max: 30,
        };
        out.push(("out-of-window reading counted", t));
        let mut t = c.clone();
        t.claimed.min += 1;
        out.push(("wrong min", t));
        let mut t = c.clone();
        t.claimed.sum += 1;
        out.push(("wrong sum", t));
        let mut t = c.clone();
        t.slots[0].s += Fr::from_bigint(ark_ed_on_bn254::Fr::MODULUS).expect("l < r");
        out.push(("S + l", t));
        out
    }

    #[test]
    fn cached_matrices_are_the_matrices_groth16_prove_builds() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: true,
            generate_lc_assignments: false,
        });
        honest()
            .generate_constraints(cs.clone())
            .expect("synthesis");
        cs.finalize();
        let proving = cs.to_matrices().expect("matrices")[R1CS_PREDICATE_LABEL].clone();
        let r1cs = R1cs::of(SHAPE).expect("r1cs");
        assert_eq!(r1cs.matrices, proving);
        assert_eq!(
            r1cs.num_constraints(),
            SensorCircuit::constraint_count(SHAPE).expect("count")
        );
        assert_eq!(r1cs.num_instance, 4, "one and three public inputs");
        assert_eq!(
            r1cs.num_variables(),
            cs.num_instance_variables() + cs.num_witness_variables()
        );
    }

    #[test]
    fn witness_only_synthesis_gives_the_full_synthesis_assignment() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        honest()
            .generate_constraints(cs.clone())
            .expect("synthesis");
        let full = [
            cs.instance_assignment().expect("instance"),
            cs.witness_assignment().expect("witness"),
        ]
        .concat();
        assert_eq!(assignment(honest()).expect("assignment"), full);
    }

    #[test]
    fn fast_check_rejects_each_tampering_the_named_check_rejects_at_the_same_row() {
        let r1cs = R1cs::of(SHAPE).expect("r1cs");
        let c = honest();
        c.check().expect("named check accepts the honest witness");
        r1cs.check(&assignment(c.clone()).expect("z"))
            .expect("fast check accepts the honest witness");
        for (what, t) in tamperings(&c) {
            let named = match t.check() {
                Err(Error::Unsatisfied(name)) => name,
                other => panic!("{what}: named check gave {other:?}"),
            };
            let fast = match r1cs.check(&assignment(t).expect("z")) {
                Err(Error::Unsatisfied(name)) => name,
                other => panic!("{what}: fast check gave {other:?}"),
            };
            assert_eq!(fast, named, "{what}");
        }
    }

    #[test]
    fn proof_from_cached_matrices_is_groth16_proves_and_verifies() {
        let keys = setup_deterministic(SHAPE, DEVNET_SEED).expect("setup");
        let c = honest();
        let public = c.public_inputs();
        let r1cs = keys.r1cs().expect("r1cs");
        let z = assignment(c.clone()).expect("z");
        r1cs.check(&z).expect("satisfied");
        let ours = prove(&keys.pk, &r1cs, &z, &mut StdRng::seed_from_u64(5)).expect("prove");
        let theirs = Groth16::<Bn254>::create_random_proof_with_reduction(
            c.clone(),
            &keys.pk,
            &mut StdRng::seed_from_u64(5),
        )
        .expect("groth16 prove");
        assert_eq!(ours, theirs);
        assert!(verify(&keys.vk, &public, &ours).expect("verify"));
        // Through Keys::prove (fresh randomness, self-verified).
        let proof = keys.prove(c).expect("keys prove");
        assert!(verify(&keys.vk, &public, &proof).expect("verify"));

        // An unsatisfied witness is a typed error naming the row, never a proof.
        for (what, t) in tamperings(&honest()) {
            match keys.prove(t) {
                Err(Error::Unsatisfied(name)) => {
                    assert!(name.starts_with("R1CS - "), "{what}: {name}")
                }
                other => panic!("{what}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_assignment_or_key_of_another_shape_is_a_typed_error() {
        let r1cs = R1cs::of(SHAPE).expect("r1cs");
        let other = Shape { slots: 2, depth: 3 };
        let z = assignment(SensorCircuit::blank(other)).expect("z");
        assert!(matches!(
            r1cs.check(&z),
            Err(Error::WrongShape { keys, assignment, .. }) if keys == SHAPE && assignment == z.len()
        ));
        let small = setup_deterministic(other, DEVNET_SEED).expect("setup");
        let z = assignment(honest()).expect("z");
        assert!(matches!(
            prove(&small.pk, &r1cs, &z, &mut StdRng::seed_from_u64(1)),
            Err(Error::WrongShape { .. })
        ));
        assert!(matches!(
            small.prove(honest()),
            Err(Error::WrongShape { .. })
        ));
    }
}
