//! The circuit-specific initial key from phase 1: the standard construction (snarkjs
//! `groth16 setup`), evaluating the QAP polynomials at tau in the exponent through the
//! Lagrange-basis points of the `.ptau` file, with gamma = delta = 1 (phase 2 randomizes delta;
//! gamma stays 1, as in snarkjs):
//!
//! - `a_query[i] = A_i(tau)·G1`, `b_g1_query[i] = B_i(tau)·G1`, `b_g2_query[i] = B_i(tau)·G2`,
//!   where `A_i(tau) = Σ_j A[j][i]·L_j(tau)`;
//! - `gamma_abc_g1[i]` (public) and `l_query[i]` (witness) `= (beta·A_i + alpha·B_i + C_i)(tau)·G1`,
//!   from the alpha- and beta-scaled Lagrange points;
//! - `h_query[i] = tau^i·(tau^n − 1)·G1 = tau^(i+n)·G1 − tau^i·G1`, i < n − 1.
//!
//! The QAP is arkworks' `LibsnarkReduction`, the one the crate's prover uses: domain of size
//! `n = (constraints + public inputs + 1)` rounded up to a power of two, the instance variables
//! copied into the rows after the constraints, H in the coefficient basis. The domain's roots
//! are checked to be the file's before any point is used. Hand-written ceremony logic over
//! arkworks group operations.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInteger, One, PrimeField, Zero};
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, R1CS_PREDICATE_LABEL,
    SynthesisMode,
};
use rayon::prelude::*;

use super::error::{CeremonyError, Result};
use super::phase1::{Ptau, snarkjs_root_of_unity};
use crate::circuit::Shape;

/// A circuit's constraint matrices `[A, B, C]` over `z = [1, public inputs, witness]`.
#[derive(Clone, Debug)]
pub struct Qap {
    /// `[A, B, C]`, one row per constraint.
    pub matrices: Vec<Matrix<Fr>>,
    /// Instance variables (the constant one and the public inputs).
    pub num_instance: usize,
    /// All variables.
    pub num_variables: usize,
}

impl Qap {
    /// The matrices of any circuit, from the setup-mode synthesis the key generator runs.
    pub fn of<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Self> {
        let err = |e: ark_relations::gr1cs::SynthesisError| CeremonyError::Synthesis(e.to_string());
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        circuit.generate_constraints(cs.clone()).map_err(err)?;
        cs.finalize();
        let mut all = cs.to_matrices().map_err(err)?;
        let matrices = all
            .remove(R1CS_PREDICATE_LABEL)
            .filter(|m| m.len() == 3)
            .ok_or_else(|| CeremonyError::Synthesis("no R1CS predicate".into()))?;
        Ok(Self {
            matrices,
            num_instance: cs.num_instance_variables(),
            num_variables: cs.num_instance_variables() + cs.num_witness_variables(),
        })
    }

    /// The matrices of the sensor circuit of `shape`.
    pub fn sensor(shape: Shape) -> Result<Self> {
        let r1cs =
            crate::prover::R1cs::of(shape).map_err(|e| CeremonyError::Synthesis(e.to_string()))?;
        Ok(Self {
            matrices: r1cs.matrices().to_vec(),
            num_instance: r1cs.num_instance(),
            num_variables: r1cs.num_variables(),
        })
    }

    /// Number of constraints.
    pub fn num_constraints(&self) -> usize {
        self.matrices[0].len()
    }

    /// The evaluation domain arkworks' reduction (and so the prover) uses.
    pub fn domain(&self) -> Result<GeneralEvaluationDomain<Fr>> {
        GeneralEvaluationDomain::new(self.num_constraints() + self.num_instance)
            .ok_or_else(|| CeremonyError::Synthesis("circuit too large for BN254's domains".into()))
    }
}

/// One column of a matrix: `(coefficient, row)` pairs.
type Column = Vec<(Fr, usize)>;

fn columns(m: &Matrix<Fr>, num_variables: usize) -> Vec<Column> {
    let mut cols = vec![Vec::new(); num_variables];
    for (row, entries) in m.iter().enumerate() {
        for &(coeff, var) in entries {
            cols[var].push((coeff, row));
        }
    }
    cols
}

/// Columns at least this long are summed with the crate's Pippenger MSM.
const MSM_FROM: usize = 64;

/// `Σ c·bases[row]` over a column: Pippenger for long columns; otherwise one term at a time,
/// with coefficients 1 added as they are and a coefficient taken as `−(−c)` when `−c` is the
/// shorter scalar (R1CS coefficients are mostly ±1 and small constants).
fn combine<P: SWCurveConfig<ScalarField = Fr>>(col: &Column, bases: &[Affine<P>]) -> Projective<P> {
    if col.len() >= MSM_FROM {
        let points: Vec<_> = col.iter().map(|(_, row)| bases[*row]).collect();
        let scalars: Vec<_> = col.iter().map(|(c, _)| c.into_bigint()).collect();
        return crate::msm::msm(&points, &scalars);
    }
    col.iter().fold(Projective::<P>::zero(), |acc, (c, row)| {
        let b = bases[*row];
        if c.is_one() {
            return acc + b;
        }
        let (pos, neg) = (c.into_bigint(), (-*c).into_bigint());
        if neg.num_bits() < pos.num_bits() {
            acc - b.mul_bigint(neg)
        } else {
            acc + b.mul_bigint(pos)
        }
    })
}

/// The initial proving key of `qap` from the powers of tau in `ptau` (see the module docs).
pub fn initial_key(qap: &Qap, ptau: &mut Ptau) -> Result<ProvingKey<Bn254>> {
    let domain = qap.domain()?;
    let n = domain.size();
    let m = n.trailing_zeros();
    if m > ptau.power() {
        return Err(CeremonyError::PtauTooSmall {
            power: ptau.power(),
            needed: m,
        });
    }
    if domain.group_gen() != snarkjs_root_of_unity(m) {
        return Err(CeremonyError::ptau(
            12,
            "the file's roots of unity are not arkworks' domain's",
        ));
    }
    let lag_g1 = ptau.lagrange_g1(m)?;
    let lag_g2 = ptau.lagrange_g2(m)?;
    let alpha_lag = ptau.alpha_lagrange_g1(m)?;
    let beta_lag = ptau.beta_lagrange_g1(m)?;
    let nc = qap.num_constraints();
    let nv = qap.num_variables;
    let mut cols_a = columns(&qap.matrices[0], nv);
    // LibsnarkReduction: instance variable i also sits alone in A at row nc + i.
    for (i, col) in cols_a.iter_mut().enumerate().take(qap.num_instance) {
        col.push((Fr::one(), nc + i));
    }
    let cols_b = columns(&qap.matrices[1], nv);
    let cols_c = columns(&qap.matrices[2], nv);

    let a_query = G1Projective::normalize_batch(
        &cols_a
            .par_iter()
            .map(|c| combine(c, &lag_g1))
            .collect::<Vec<_>>(),
    );
    let b_g1_query = G1Projective::normalize_batch(
        &cols_b
            .par_iter()
            .map(|c| combine(c, &lag_g1))
            .collect::<Vec<_>>(),
    );
    let b_g2_query = G2Projective::normalize_batch(
        &cols_b
            .par_iter()
            .map(|c| combine(c, &lag_g2))
            .collect::<Vec<_>>(),
    );
    let abc = G1Projective::normalize_batch(
        &(0..nv)
            .into_par_iter()
            .map(|i| {
                combine(&cols_a[i], &beta_lag)
                    + combine(&cols_b[i], &alpha_lag)
                    + combine(&cols_c[i], &lag_g1)
            })
            .collect::<Vec<_>>(),
    );
    let tau = ptau.tau_g1(0, 2 * n as u64 - 1)?;
    let h_query = G1Projective::normalize_batch(
        &(0..n - 1)
            .into_par_iter()
            .map(|i| tau[i + n].into_group() - tau[i])
            .collect::<Vec<_>>(),
    );
    let alpha_g1 = ptau.alpha_tau_g1(0, 1)?[0];
    let beta_g1 = ptau.beta_tau_g1(0, 1)?[0];
    let beta_g2 = ptau.beta_g2()?;
    let vk = VerifyingKey {
        alpha_g1,
        beta_g2,
        gamma_g2: G2Affine::generator(),
        delta_g2: G2Affine::generator(),
        gamma_abc_g1: abc[..qap.num_instance].to_vec(),
    };
    tracing::info!(target: "zk::ceremony", constraints = nc, variables = nv, domain = n, "initial key from powers of tau");
    Ok(ProvingKey {
        vk,
        beta_g1,
        delta_g1: G1Affine::generator(),
        a_query,
        b_g1_query,
        b_g2_query,
        h_query,
        l_query: abc[qap.num_instance..].to_vec(),
    })
}

/// The domain size's log2 a circuit needs from phase 1.
pub fn needed_power(qap: &Qap) -> Result<u32> {
    Ok(qap.domain()?.size().trailing_zeros())
}
