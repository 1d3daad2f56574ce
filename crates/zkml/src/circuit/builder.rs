//! Variables with their values, and R1CS constraints over linear combinations.
//!
//! Hand-written (the same idea as verity-zk's crate-private builder, which this crate cannot
//! import): in setup mode every variable carries its linear combination and `enforce` records
//! a constraint; in witness mode ([`Builder::symbolic`] false) only values are kept, so the
//! million-term linear combinations of a dense layer are never built when proving.

use ark_bn254::Fr;
use ark_ff::{Field, One, Zero};
use ark_relations::gr1cs::{ConstraintSystemRef, LinearCombination, SynthesisError, Variable};

pub(crate) type Result<T> = std::result::Result<T, SynthesisError>;

/// A linear combination and its value under the witness.
#[derive(Clone, Debug)]
pub(crate) struct Expr {
    pub(crate) lc: Vec<(Fr, Variable)>,
    pub(crate) val: Fr,
}

impl Expr {
    pub(crate) fn constant(c: Fr) -> Self {
        Self {
            lc: vec![(c, Variable::One)],
            val: c,
        }
    }

    pub(crate) fn zero() -> Self {
        Self {
            lc: Vec::new(),
            val: Fr::zero(),
        }
    }

    /// `Σ cᵢ·eᵢ` (terms concatenated; ark-relations merges equal variables).
    pub(crate) fn sum(terms: &[(Fr, &Expr)]) -> Self {
        let mut lc = Vec::with_capacity(terms.iter().map(|(_, e)| e.lc.len()).sum());
        let mut val = Fr::zero();
        for (c, e) in terms {
            lc.extend(e.lc.iter().map(|(k, v)| (*k * c, *v)));
            val += *c * e.val;
        }
        Self { lc, val }
    }

    pub(crate) fn add(&self, o: &Self) -> Self {
        Self::sum(&[(Fr::one(), self), (Fr::one(), o)])
    }

    pub(crate) fn sub(&self, o: &Self) -> Self {
        Self::sum(&[(Fr::one(), self), (-Fr::one(), o)])
    }

    pub(crate) fn add_const(&self, c: Fr) -> Self {
        self.add(&Self::constant(c))
    }

    /// `c − self`.
    pub(crate) fn rsub_const(&self, c: Fr) -> Self {
        Self::constant(c).sub(self)
    }
}

/// The constraint system plus helpers that allocate and constrain.
pub(crate) struct Builder {
    cs: ConstraintSystemRef<Fr>,
    pub(crate) symbolic: bool,
}

impl Builder {
    pub(crate) fn new(cs: ConstraintSystemRef<Fr>) -> Self {
        let symbolic = cs.should_construct_matrices();
        Self { cs, symbolic }
    }

    fn var(&self, v: Variable, val: Fr) -> Expr {
        Expr {
            lc: if self.symbolic {
                vec![(Fr::one(), v)]
            } else {
                Vec::new()
            },
            val,
        }
    }

    pub(crate) fn witness(&self, val: Fr) -> Result<Expr> {
        Ok(self.var(self.cs.new_witness_variable(|| Ok(val))?, val))
    }

    pub(crate) fn input(&self, val: Fr) -> Result<Expr> {
        Ok(self.var(self.cs.new_input_variable(|| Ok(val))?, val))
    }

    /// Enforces `a · b = c`.
    pub(crate) fn enforce(&self, a: &Expr, b: &Expr, c: &Expr) -> Result<()> {
        if !self.symbolic {
            return Ok(());
        }
        let lc = |e: &Expr| LinearCombination(e.lc.clone());
        self.cs
            .enforce_r1cs_constraint(|| lc(a), || lc(b), || lc(c))
    }

    /// Enforces `a = b`.
    pub(crate) fn enforce_equal(&self, a: &Expr, b: &Expr) -> Result<()> {
        self.enforce(&a.sub(b), &Expr::constant(Fr::one()), &Expr::zero())
    }

    /// A new variable `a · b`.
    pub(crate) fn mul(&self, a: &Expr, b: &Expr) -> Result<Expr> {
        let c = self.witness(a.val * b.val)?;
        self.enforce(a, b, &c)?;
        Ok(c)
    }

    /// A boolean variable.
    pub(crate) fn boolean(&self, b: bool) -> Result<Expr> {
        let e = self.witness(Fr::from(u64::from(b)))?;
        self.enforce(&e, &e.rsub_const(Fr::one()), &Expr::zero())?;
        Ok(e)
    }

    /// `n` boolean variables, the little-endian bits of `val` (`0 ≤ val < 2^n`, else the
    /// bits are those of `val mod 2^n` and the caller's recomposition fails).
    pub(crate) fn bits(&self, val: u128, n: usize) -> Result<Vec<Expr>> {
        (0..n)
            .map(|i| self.boolean(i < 128 && (val >> i) & 1 == 1))
            .collect()
    }

    /// `[e ≠ 0]` (two constraints: `e·inv = nz`, `e·(1 − nz) = 0`).
    pub(crate) fn is_nonzero(&self, e: &Expr) -> Result<Expr> {
        let inv = self.witness(e.val.inverse().unwrap_or_else(Fr::zero))?;
        let nz = self.witness(Fr::from(u64::from(!e.val.is_zero())))?;
        self.enforce(e, &inv, &nz)?;
        self.enforce(e, &nz.rsub_const(Fr::one()), &Expr::zero())?;
        Ok(nz)
    }
}

/// `Σ bᵢ·2ⁱ`.
pub(crate) fn from_bits(bits: &[Expr]) -> Expr {
    let mut pow = Fr::one();
    let mut terms = Vec::with_capacity(bits.len());
    for b in bits {
        terms.push((pow, b));
        pow += pow;
    }
    Expr::sum(&terms)
}
