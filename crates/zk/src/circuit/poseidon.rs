//! Poseidon in R1CS: three constraints per S-box (`x², x⁴, x⁵`), round constants and the MDS
//! mix folded into linear combinations, so `Poseidon(n)` costs `3·(8·t + R_P)` constraints,
//! the same as circomlib's template.

use ark_bn254::Fr;
use ark_ff::Zero;

use super::builder::{Builder, Expr, Result};
use crate::poseidon::{self, ROUNDS_F};

fn pow5(b: &Builder, x: &Expr) -> Result<Expr> {
    let x2 = b.mul(x, x)?;
    let x4 = b.mul(&x2, &x2)?;
    b.mul(&x4, x)
}

/// Constrains and returns `Poseidon(inputs)`.
pub(crate) fn hash(b: &Builder, inputs: &[&Expr]) -> Result<Expr> {
    let p = poseidon::params(inputs.len());
    let t = p.t;
    let mut state: Vec<Expr> = Vec::with_capacity(t);
    state.push(Expr::constant(Fr::zero()));
    state.extend(inputs.iter().map(|e| (*e).clone()));
    for r in 0..ROUNDS_F + p.rounds_p {
        let consts = &p.constants[r * t..(r + 1) * t];
        let full = r < ROUNDS_F / 2 || r >= ROUNDS_F / 2 + p.rounds_p;
        for (i, s) in state.iter_mut().enumerate() {
            let with_c = s.add_const(consts[i]);
            *s = if full || i == 0 {
                pow5(b, &with_c)?
            } else {
                with_c
            };
        }
        state = p
            .mds
            .iter()
            .map(|row| {
                let terms: Vec<(Fr, &Expr)> = row.iter().copied().zip(state.iter()).collect();
                Expr::weighted_sum(&terms)
            })
            .collect();
    }
    Ok(state.swap_remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;

    #[test]
    fn gadget_matches_native_for_every_used_arity() {
        for n in [2usize, 4, 5] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let b = Builder::new(cs.clone());
            let vals: Vec<Fr> = (0..n as u64).map(|i| Fr::from(i * 7 + 3)).collect();
            let ins: Vec<Expr> = vals.iter().map(|v| b.witness(*v).expect("alloc")).collect();
            let refs: Vec<&Expr> = ins.iter().collect();
            let out = hash(&b, &refs).expect("hash");
            assert_eq!(out.val, poseidon::hash(&vals), "arity {n}");
            let pinned = b.witness(poseidon::hash(&vals)).expect("alloc");
            b.enforce_equal(&out, &pinned).expect("eq");
            assert!(cs.is_satisfied().expect("sat"), "arity {n}");
            let p = poseidon::params(n);
            assert_eq!(cs.num_constraints(), 3 * (8 * p.t + p.rounds_p) + 1);
        }
    }
}
