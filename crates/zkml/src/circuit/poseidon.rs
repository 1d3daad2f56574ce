//! Poseidon in R1CS (three constraints per S-box), equal to `verity_zk::poseidon::hash`.
//!
//! Hand-written because verity-zk's gadget is crate-private; it walks the same rounds with the
//! same constants (`verity_zk::poseidon::params`).

use ark_bn254::Fr;
use ark_ff::Zero;
use ark_relations::gr1cs::LinearCombination;
use verity_zk::poseidon::{self, ROUNDS_F};

use super::builder::{Builder, Expr, Result};

fn pow5(b: &Builder, x: &Expr) -> Result<Expr> {
    let x2 = b.mul(x, x)?;
    let x4 = b.mul(&x2, &x2)?;
    b.mul(&x4, x)
}

fn compact(mut e: Expr) -> Expr {
    let mut lc = LinearCombination(std::mem::take(&mut e.lc));
    lc.compactify();
    e.lc = lc.0;
    e
}

/// Constrains and returns `Poseidon(inputs)` (1 to 16 inputs).
pub(crate) fn hash(b: &Builder, inputs: &[Expr]) -> Result<Expr> {
    let p = poseidon::params(inputs.len());
    let t = p.t;
    let mut state: Vec<Expr> = Vec::with_capacity(t);
    state.push(Expr::constant(Fr::zero()));
    state.extend(inputs.iter().cloned());
    for r in 0..ROUNDS_F + p.rounds_p {
        let consts = &p.constants[r * t..(r + 1) * t];
        let full = r < ROUNDS_F / 2 || r >= ROUNDS_F / 2 + p.rounds_p;
        for (i, s) in state.iter_mut().enumerate() {
            let with_c = s.add_const(consts[i]);
            *s = if full || i == 0 {
                pow5(b, &compact(with_c))?
            } else {
                with_c
            };
        }
        state = p
            .mds
            .iter()
            .map(|row| {
                let terms: Vec<(Fr, &Expr)> = row.iter().copied().zip(state.iter()).collect();
                compact(Expr::sum(&terms))
            })
            .collect();
    }
    Ok(state.swap_remove(0))
}

/// The in-circuit [`crate::digest::digest`] of byte variables `v = x + 128` (each already
/// constrained to `[0, 255]`, so the packing is injective).
pub(crate) fn digest(b: &Builder, bytes: &[Expr]) -> Result<Expr> {
    use crate::digest::{PACK, RATE};
    let mut base = Vec::with_capacity(PACK);
    let mut pow = Fr::from(1u64);
    for _ in 0..PACK {
        base.push(pow);
        pow *= Fr::from(256u64);
    }
    let packed: Vec<Expr> = bytes
        .chunks(PACK)
        .map(|chunk| {
            let terms: Vec<(Fr, &Expr)> = base.iter().copied().zip(chunk.iter()).collect();
            Expr::sum(&terms)
        })
        .collect();
    let mut acc = Expr::constant(Fr::from(bytes.len() as u64));
    for chunk in packed.chunks(RATE) {
        let mut ins = Vec::with_capacity(chunk.len() + 1);
        ins.push(acc);
        ins.extend_from_slice(chunk);
        acc = hash(b, &ins)?;
    }
    Ok(acc)
}
