//! EdDSA-Poseidon verification in R1CS (circomlib's `EdDSAPoseidonVerifier` statement:
//! `S < subgroup order` and `S·B8 == R8 + 8·h·A` with `h = Poseidon(R8x, R8y, Ax, Ay, M)`),
//! about 3,400 constraints:
//!
//! * `S·B8`: 3-bit windows over precomputed multiples of `B8` (one shared bit product, one
//!   constraint per coordinate per window) summed with complete Edwards additions.
//! * `8·h·A`: a Montgomery-form double-and-add over signed digits `±1`, one `2·P ± T` step
//!   (6 constraints) per bit, with `T = 4·A` and the accumulator starting at `2·T`. With
//!   digits `dᵢ = 2·kᵢ − 1` the ladder yields `(2²⁵¹ + 2k + 1)·T`, so the prover decomposes
//!   `k = h − c₀ (mod ℓ)` with `c₀ = (2²⁵¹ + 1)/2 (mod ℓ)`, which makes the result exactly
//!   `2h·T = 8h·A`. The relation `h + ℓ − c₀ = k + q·ℓ` is checked in the field with `k < 2²⁵¹`
//!   and `q < 16`; as with circomlib's non-strict `Num2Bits(254)` of `h`, this admits `h + j·p`
//!   for a few small `j` as the challenge, each still fixed by the hash.
//!   Accumulator multiples grow as `2ⁱ⁺¹ < ℓ` until the last steps, so the incomplete
//!   formulas' exceptional cases (`Acc = ±T`, `2·Acc = ∓T`) need the hash to hit one of a
//!   handful of values: negligible. This relies on `A` having prime order, which the device
//!   registry guarantees: [`crate::registry::Registry::register`] accepts subgroup points only.

use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::{BigInteger, Field, One, PrimeField};

use super::builder::{Builder, Expr, Result, from_bits};
use super::curve::{
    EdPoint, MontPoint, ed_add, ed_double, mont_double, mont_double_add, to_edwards, to_montgomery,
};
use super::poseidon;
use crate::babyjubjub::Point;

/// Bits of the ladder scalar and of `S` (the subgroup order is below 2^251).
const SCALAR_BITS: usize = 251;

/// Witness for one signature check.
pub(crate) struct SigInputs<'a> {
    pub(crate) a: &'a EdPoint,
    pub(crate) r8: &'a EdPoint,
    /// `S` as an integer (not reduced: an `S ≥ ℓ` must fail the check).
    pub(crate) s: Fr,
    pub(crate) msg: &'a Expr,
    /// 1 to enforce the final equation, 0 to skip it (padding slots).
    pub(crate) enabled: &'a Expr,
}

fn l_as_fr() -> Fr {
    Fr::from_bigint(ark_ed_on_bn254::Fr::MODULUS).expect("l < p")
}

/// `c₀ = (2²⁵¹ + 1) / 2 (mod ℓ)`.
fn ladder_offset() -> ark_ed_on_bn254::Fr {
    let two = ark_ed_on_bn254::Fr::from(2u64);
    (two.pow([SCALAR_BITS as u64]) + ark_ed_on_bn254::Fr::one()) * two.inverse().expect("l odd")
}

fn fr_to_l(x: Fr) -> ark_ed_on_bn254::Fr {
    ark_ed_on_bn254::Fr::from_le_bytes_mod_order(&x.into_bigint().to_bytes_le())
}

fn l_to_fr(x: ark_ed_on_bn254::Fr) -> Fr {
    Fr::from_le_bytes_mod_order(&x.into_bigint().to_bytes_le())
}

/// Precomputed `k·8ʲ·B8` for `k < 8` and every 3-bit window `j`.
fn fixed_base_table() -> &'static Vec<[Point; 8]> {
    static TABLE: OnceLock<Vec<[Point; 8]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut base = Point::base8();
        (0..SCALAR_BITS.div_ceil(3))
            .map(|_| {
                let mut row = [Point::identity(); 8];
                for k in 1..8 {
                    row[k] = row[k - 1].add(&base);
                }
                base = row[7].add(&base);
                row
            })
            .collect()
    })
}

/// Selects `table[b0 + 2·b1 + 4·b2]` (1 constraint per coordinate plus the shared `b0·b1`).
fn lookup(b: &Builder, bits: &[Expr], table: &[Point; 8]) -> Result<EdPoint> {
    let b01 = b.mul(&bits[0], &bits[1])?;
    let coord = |c: [Fr; 8]| -> Result<Expr> {
        let low = Expr::constant(c[0]).add(&Expr::weighted_sum(&[
            (c[1] - c[0], &bits[0]),
            (c[2] - c[0], &bits[1]),
            (c[3] - c[2] - c[1] + c[0], &b01),
        ]));
        if bits.len() == 2 {
            return Ok(low);
        }
        let high = Expr::constant(c[4] - c[0]).add(&Expr::weighted_sum(&[
            (c[5] - c[4] - c[1] + c[0], &bits[0]),
            (c[6] - c[4] - c[2] + c[0], &bits[1]),
            (c[7] - c[6] - c[5] + c[4] - c[3] + c[2] + c[1] - c[0], &b01),
        ]));
        Ok(low.add(&b.mul(&bits[2], &high)?))
    };
    Ok(EdPoint {
        x: coord(table.map(|p| p.x))?,
        y: coord(table.map(|p| p.y))?,
    })
}

/// `S·B8` from the little-endian bits of `S`.
fn fixed_base_mul(b: &Builder, bits: &[Expr]) -> Result<EdPoint> {
    let table = fixed_base_table();
    let mut acc: Option<EdPoint> = None;
    for (j, window) in bits.chunks(3).enumerate() {
        let p = lookup(b, window, &table[j])?;
        acc = Some(match acc {
            None => p,
            Some(acc) => ed_add(b, &acc, &p)?,
        });
    }
    Ok(acc.expect("at least one window"))
}

/// Constrains a circomlib EdDSA-Poseidon signature check.
pub(crate) fn verify(b: &Builder, w: &SigInputs<'_>) -> Result<()> {
    let h = poseidon::hash(b, &[&w.r8.x, &w.r8.y, &w.a.x, &w.a.y, w.msg])?;

    // Ladder scalar k = h − c₀ (mod ℓ), with h + ℓ − c₀ = k + q·ℓ.
    let c0 = ladder_offset();
    let k = fr_to_l(h.val) - c0;
    let lhs_val = h.val + l_as_fr() - l_to_fr(c0);
    let q = (0u64..16)
        .find(|q| l_to_fr(k) + Fr::from(*q) * l_as_fr() == lhs_val)
        .unwrap_or(0);
    let k_bits = b.alloc_bits(l_to_fr(k), SCALAR_BITS)?;
    let q_bits = b.alloc_bits(Fr::from(q), 4)?;
    let rhs = from_bits(&k_bits).add(&from_bits(&q_bits).scale(l_as_fr()));
    b.enforce_equal(&h.add_const(l_as_fr() - l_to_fr(c0)), &rhs)?;

    // T = 4·A in Montgomery form; Acc = 2·T; Acc = 2·Acc ± T per bit, most significant first.
    let t_ed = ed_double(b, &ed_double(b, w.a)?)?;
    let t = to_montgomery(b, &t_ed)?;
    let mut acc = mont_double(b, &t)?;
    for bit in k_bits.iter().rev() {
        let signed = b.mul(bit, &t.v)?;
        let q_pt = MontPoint {
            u: t.u.clone(),
            v: signed.scale(Fr::from(2u64)).sub(&t.v),
        };
        acc = mont_double_add(b, &acc, &q_pt)?;
    }
    let eight_h_a = to_edwards(b, &acc)?;

    // S < ℓ: S and ℓ − 1 − S both fit in 251 bits.
    let s_bits = b.alloc_bits(w.s, SCALAR_BITS)?;
    let rest_bits = b.alloc_bits(l_as_fr() - Fr::one() - w.s, SCALAR_BITS)?;
    b.enforce_equal(
        &from_bits(&s_bits).add(&from_bits(&rest_bits)),
        &Expr::constant(l_as_fr() - Fr::one()),
    )?;
    let left = fixed_base_mul(b, &s_bits)?;

    let right = ed_add(b, w.r8, &eight_h_a)?;
    let zero = Expr::zero();
    b.enforce(w.enabled, &left.x.sub(&right.x), &zero)?;
    b.enforce(w.enabled, &left.y.sub(&right.y), &zero)?;
    Ok(())
}
