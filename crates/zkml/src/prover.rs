//! Groth16 keys, proving from cached constraint matrices, and verification.
//!
//! The same scheme as verity-zk's prover (whose `R1cs` is tied to the sensor circuit's shape):
//! the matrices are built once per model from the setup-mode synthesis, each proof synthesizes
//! values only (no linear combinations, see [`crate::circuit`]), checks `A·z ∘ B·z = C·z`, and
//! sums the QAP quotient and the assignment with verity-zk's MSM.

use std::sync::Arc;

use ark_bn254::{Bn254, Fr, G1Projective};
use ark_ec::CurveGroup;
use ark_ff::{BigInt, PrimeField, UniformRand, Zero};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, ProvingKey, VerifyingKey};
use ark_poly::GeneralEvaluationDomain;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, R1CS_PREDICATE_LABEL,
    SynthesisError, SynthesisMode,
};
use ark_snark::SNARK;
use ark_std::rand::{CryptoRng, Rng, SeedableRng, rngs::StdRng};
use verity_zk::msm::msm;

use crate::circuit::InferenceCircuit;
use crate::digest::public_inputs;
use crate::error::{Error, Result};
use crate::model::Model;

fn synthesis(stage: &'static str) -> impl Fn(SynthesisError) -> Error {
    move |source| Error::Synthesis { stage, source }
}

/// The constraint matrices of one model.
#[derive(Clone)]
pub struct R1cs {
    matrices: Vec<Matrix<Fr>>,
    num_instance: usize,
    num_witness: usize,
}

impl std::fmt::Debug for R1cs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("R1cs")
            .field("constraints", &self.num_constraints())
            .field("variables", &self.num_variables())
            .field("nonzero", &self.nonzero())
            .finish()
    }
}

impl R1cs {
    /// The matrices of `model` (setup-mode synthesis, as the key generator runs it).
    pub fn of(model: &Arc<Model>) -> Result<Self> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        InferenceCircuit::blank(model.clone())
            .generate_constraints(cs.clone())
            .map_err(synthesis("setup"))?;
        cs.finalize();
        let mut all = cs.to_matrices().map_err(synthesis("setup"))?;
        let matrices = all
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or_else(|| synthesis("setup")(SynthesisError::PredicateNotFound))?;
        Ok(Self {
            matrices,
            num_instance: cs.num_instance_variables(),
            num_witness: cs.num_witness_variables(),
        })
    }

    /// Number of constraints.
    pub fn num_constraints(&self) -> usize {
        self.matrices[0].len()
    }

    /// Length of `z = [1, public inputs, witness]`.
    pub fn num_variables(&self) -> usize {
        self.num_instance + self.num_witness
    }

    /// Non-zero entries of A, B and C together.
    pub fn nonzero(&self) -> usize {
        self.matrices.iter().flatten().map(Vec::len).sum()
    }

    /// Checks `A·z ∘ B·z = C·z`, naming the first unsatisfied row.
    pub fn check(&self, z: &[Fr]) -> Result<()> {
        if z.len() != self.num_variables() {
            return Err(Error::WrongCircuit {
                keys: self.num_variables(),
                assignment: z.len(),
            });
        }
        let dot = |row: &[(Fr, usize)]| -> Fr { row.iter().map(|(c, i)| *c * z[*i]).sum() };
        let [a, b, c] = [&self.matrices[0], &self.matrices[1], &self.matrices[2]];
        match (0..a.len()).find(|&i| dot(&a[i]) * dot(&b[i]) != dot(&c[i])) {
            None => Ok(()),
            Some(row) => Err(Error::Unsatisfied(format!(
                "{R1CS_PREDICATE_LABEL} - {row}"
            ))),
        }
    }
}

/// The full assignment of `circuit` (a synthesis that records no constraint).
pub fn assignment(circuit: InferenceCircuit) -> Result<Vec<Fr>> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    circuit
        .generate_constraints(cs.clone())
        .map_err(synthesis("prove"))?;
    let inner = cs
        .borrow()
        .ok_or_else(|| synthesis("prove")(SynthesisError::MissingCS))?;
    let instance = inner.instance_assignment().map_err(synthesis("prove"))?;
    let witness = inner.witness_assignment().map_err(synthesis("prove"))?;
    Ok([instance, witness].concat())
}

/// Keys and matrices for one model.
#[derive(Clone, Debug)]
pub struct Keys {
    /// The model (its weights are constants of the circuit the keys are for).
    pub model: Arc<Model>,
    /// Groth16 proving key.
    pub pk: ProvingKey<Bn254>,
    /// Groth16 verifying key.
    pub vk: VerifyingKey<Bn254>,
    /// The constraint matrices.
    pub r1cs: R1cs,
}

/// A proved inference: the output and the proof.
#[derive(Clone, Debug)]
pub struct Proved {
    /// The model's output on the input.
    pub output: Vec<i8>,
    /// The Groth16 proof of `[digest(input), digest(output)]`.
    pub proof: Proof<Bn254>,
}

impl Keys {
    /// A Groth16 setup with toxic waste from `rng`.
    pub fn setup<R: Rng + CryptoRng>(model: Arc<Model>, rng: &mut R) -> Result<Self> {
        let (pk, vk) =
            Groth16::<Bn254>::circuit_specific_setup(InferenceCircuit::blank(model.clone()), rng)
                .map_err(synthesis("setup"))?;
        let r1cs = R1cs::of(&model)?;
        tracing::info!(target: "zkml::prover", ?r1cs, model = %model.name, "groth16 setup done");
        Ok(Self {
            model,
            pk,
            vk,
            r1cs,
        })
    }

    /// A setup from a public seed: reproducible, INSECURE FOR PRODUCTION (anyone can recompute
    /// the trapdoor); for tests, benchmarks and devnets.
    pub fn setup_deterministic(model: Arc<Model>, seed: u64) -> Result<Self> {
        Self::setup(model, &mut StdRng::seed_from_u64(seed))
    }

    /// Runs the model on `input` and proves the inference.
    pub fn prove<R: Rng>(&self, input: &[i8], rng: &mut R) -> Result<Proved> {
        let output = self.model.infer(input)?;
        let z = assignment(InferenceCircuit::new(self.model.clone(), input.to_vec())?)?;
        self.r1cs.check(&z)?;
        let proof = prove_assignment(&self.pk, &self.r1cs, &z, rng)?;
        Ok(Proved { output, proof })
    }

    /// Verifies natively that `input` gives `output` under the keys' model.
    pub fn verify(&self, input: &[i8], output: &[i8], proof: &Proof<Bn254>) -> Result<bool> {
        verify(
            &ark_groth16::prepare_verifying_key(&self.vk),
            input,
            output,
            proof,
        )
    }
}

/// Verifies a proof of `input ↦ output` against a prepared verifying key.
pub fn verify(
    pvk: &PreparedVerifyingKey<Bn254>,
    input: &[i8],
    output: &[i8],
    proof: &Proof<Bn254>,
) -> Result<bool> {
    let public = public_inputs(input, output);
    Groth16::<Bn254>::verify_with_processed_vk(pvk, &public, proof).map_err(synthesis("verify"))
}

/// A Groth16 proof of the (satisfying) assignment `z`.
pub fn prove_assignment<R: Rng>(
    pk: &ProvingKey<Bn254>,
    r1cs: &R1cs,
    z: &[Fr],
    rng: &mut R,
) -> Result<Proof<Bn254>> {
    if z.len() != r1cs.num_variables() || pk.a_query.len() != r1cs.num_variables() {
        return Err(Error::WrongCircuit {
            keys: pk.a_query.len(),
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
    let bigints = |v: &[Fr]| -> Vec<BigInt<4>> { v.iter().map(|x| x.into_bigint()).collect() };
    let h_acc = msm(&pk.h_query, &bigints(&h));
    let l_acc = msm(&pk.l_query, &bigints(&z[r1cs.num_instance..]));
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
    Ok(Proof {
        a: g_a.into_affine(),
        b: g2_b.into_affine(),
        c: g_c.into_affine(),
    })
}
