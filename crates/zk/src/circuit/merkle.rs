//! Registry membership in R1CS: `Poseidon(Ax, Ay)` up the path, one swap constraint and one
//! booleanity constraint per level plus the Poseidon(2) hash.

use ark_bn254::Fr;

use super::builder::{Builder, Expr, Result};
use super::curve::EdPoint;
use super::poseidon;
use crate::registry::MerklePath;

/// Enforces (when `enabled` is 1) that the key is a leaf of the tree with root `root`.
pub(crate) fn membership(
    b: &Builder,
    key: &EdPoint,
    path: &MerklePath,
    root: &Expr,
    enabled: &Expr,
) -> Result<()> {
    let mut cur = poseidon::hash(b, &[&key.x, &key.y])?;
    for (level, sibling) in path.siblings.iter().enumerate() {
        let is_right = b.boolean((path.index >> level) & 1 == 1)?;
        let sib = b.witness(*sibling)?;
        // left = cur + is_right·(sib − cur); right = cur + sib − left = sib − is_right·(sib − cur)
        let delta = b.mul(&is_right, &sib.sub(&cur))?;
        let left = cur.add(&delta);
        let right = sib.sub(&delta);
        cur = poseidon::hash(b, &[&left, &right])?;
    }
    b.enforce(enabled, &cur.sub(root), &Expr::constant(Fr::from(0u64)))
}
