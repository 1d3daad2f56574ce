//! BabyJubJub gadgets. Twisted Edwards formulas (complete) where inputs are arbitrary; the
//! Montgomery form (3–5 constraints per operation instead of 5–6) for the long variable-base
//! ladder, where the scalar recoding below rules out the exceptional cases.

use ark_bn254::Fr;
use ark_ff::{Field, One};

use super::builder::{Builder, Expr, Result};
use crate::babyjubjub::{coeff_a, coeff_d, montgomery_a};

/// An affine twisted Edwards point in the circuit.
#[derive(Clone, Debug)]
pub(crate) struct EdPoint {
    pub(crate) x: Expr,
    pub(crate) y: Expr,
}

/// An affine Montgomery point in the circuit (`v² = u³ + A·u² + u`).
#[derive(Clone, Debug)]
pub(crate) struct MontPoint {
    pub(crate) u: Expr,
    pub(crate) v: Expr,
}

fn one() -> Expr {
    Expr::constant(Fr::one())
}

/// Complete Edwards addition, 6 constraints.
pub(crate) fn ed_add(b: &Builder, p: &EdPoint, q: &EdPoint) -> Result<EdPoint> {
    let (a, d) = (coeff_a(), coeff_d());
    let beta = b.mul(&p.x, &q.y)?;
    let gamma = b.mul(&p.y, &q.x)?;
    let tau = b.mul(&p.y.sub(&p.x.scale(a)), &q.x.add(&q.y))?;
    let delta = b.mul(&beta, &gamma)?;
    let x = b.div(&beta.add(&gamma), &one().add(&delta.scale(d)))?;
    let y = b.div(
        &tau.add(&beta.scale(a)).sub(&gamma),
        &one().sub(&delta.scale(d)),
    )?;
    Ok(EdPoint { x, y })
}

/// Edwards doubling, 5 constraints (denominators simplified with the curve equation).
pub(crate) fn ed_double(b: &Builder, p: &EdPoint) -> Result<EdPoint> {
    let a = coeff_a();
    let xx = b.mul(&p.x, &p.x)?;
    let yy = b.mul(&p.y, &p.y)?;
    let xy = b.mul(&p.x, &p.y)?;
    let axx_yy = xx.scale(a).add(&yy);
    let x = b.div(&xy.scale(Fr::from(2u64)), &axx_yy)?;
    let y = b.div(
        &yy.sub(&xx.scale(a)),
        &Expr::constant(Fr::from(2u64)).sub(&axx_yy),
    )?;
    Ok(EdPoint { x, y })
}

/// Edwards to Montgomery, 2 constraints: `u·(1 − y) = 1 + y`, `v·x = u`.
pub(crate) fn to_montgomery(b: &Builder, p: &EdPoint) -> Result<MontPoint> {
    let u = b.div(&one().add(&p.y), &one().sub(&p.y))?;
    let v = b.div(&u, &p.x)?;
    Ok(MontPoint { u, v })
}

/// Montgomery to Edwards, 2 constraints: `x·v = u`, `y·(u + 1) = u − 1`.
pub(crate) fn to_edwards(b: &Builder, p: &MontPoint) -> Result<EdPoint> {
    let x = b.div(&p.u, &p.v)?;
    let y = b.div(&p.u.add_const(-Fr::one()), &p.u.add_const(Fr::one()))?;
    Ok(EdPoint { x, y })
}

/// Montgomery doubling, 4 constraints (`P` must not have order 2).
pub(crate) fn mont_double(b: &Builder, p: &MontPoint) -> Result<MontPoint> {
    let ma = montgomery_a();
    let uu = b.mul(&p.u, &p.u)?;
    let num = uu
        .scale(Fr::from(3u64))
        .add(&p.u.scale(ma + ma))
        .add_const(Fr::one());
    let lambda = b.div(&num, &p.v.scale(Fr::from(2u64)))?;
    mont_finish(b, &lambda, &p.u, &p.u, &p.v)
}

/// Given the slope through `P` and `Q`, the point `P + Q` (2 constraints).
fn mont_finish(b: &Builder, lambda: &Expr, up: &Expr, uq: &Expr, vp: &Expr) -> Result<MontPoint> {
    let ma = montgomery_a();
    let u_val = lambda.val.square() - ma - up.val - uq.val;
    let u = b.witness(u_val)?;
    b.enforce(lambda, lambda, &u.add_const(ma).add(up).add(uq))?;
    let v = b.witness(lambda.val * (up.val - u_val) - vp.val)?;
    b.enforce(lambda, &up.sub(&u), &v.add(vp))?;
    Ok(MontPoint { u, v })
}

/// `2·P + Q` as `(P + Q) + P` without computing the middle point's `v` (5 constraints).
/// Incomplete: requires `P ≠ ±Q` and `P + Q ≠ ±P`; the caller guarantees both.
pub(crate) fn mont_double_add(b: &Builder, p: &MontPoint, q: &MontPoint) -> Result<MontPoint> {
    let ma = montgomery_a();
    let l1 = b.div(&q.v.sub(&p.v), &q.u.sub(&p.u))?;
    let ur_val = l1.val.square() - ma - p.u.val - q.u.val;
    let ur = b.witness(ur_val)?;
    b.enforce(&l1, &l1, &ur.add_const(ma).add(&p.u).add(&q.u))?;
    // λ2 = 2·v_P / (u_P − u_R) − λ1
    let l2_plus_l1 = b.div(&p.v.scale(Fr::from(2u64)), &p.u.sub(&ur))?;
    let l2 = l2_plus_l1.sub(&l1);
    mont_finish(b, &l2, &p.u, &ur, &p.v)
}
