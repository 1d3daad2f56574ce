//! A thin layer over `ark-relations` that pairs every linear combination with its value, so
//! gadgets read like arithmetic and each multiplication is one explicit R1CS constraint.
//!
//! Hand-written instead of `ark-r1cs-std`'s `FpVar` so that the constraint count is exactly
//! what the gadgets in this crate say it is (no hidden equality or inlining constraints), which
//! is the figure the benchmark compares with circom.

use ark_bn254::Fr;
use ark_ff::{Field, One, Zero};
use ark_relations::gr1cs::{ConstraintSystemRef, LinearCombination, SynthesisError, Variable};

/// A linear combination of circuit variables together with its value under the witness.
#[derive(Clone, Debug)]
pub(crate) struct Expr {
    lc: LinearCombination<Fr>,
    /// The value (meaningless in setup mode, where the constraint system ignores it).
    pub(crate) val: Fr,
}

impl Expr {
    pub(crate) fn constant(c: Fr) -> Self {
        Self {
            lc: LinearCombination::from_sum_coeff_vars(&[(c, Variable::One)]),
            val: c,
        }
    }

    pub(crate) fn zero() -> Self {
        Self {
            lc: LinearCombination::new(),
            val: Fr::zero(),
        }
    }

    fn from_var(v: Variable, val: Fr) -> Self {
        Self {
            lc: LinearCombination::from(v),
            val,
        }
    }

    // LinearCombination's own `+`/`-` merge assuming sorted operands; these concatenate and
    // compact instead, which is correct for any operand order.
    pub(crate) fn add(&self, o: &Self) -> Self {
        Self::weighted_sum(&[(Fr::one(), self), (Fr::one(), o)])
    }

    pub(crate) fn sub(&self, o: &Self) -> Self {
        Self::weighted_sum(&[(Fr::one(), self), (-Fr::one(), o)])
    }

    pub(crate) fn scale(&self, c: Fr) -> Self {
        Self::weighted_sum(&[(c, self)])
    }

    pub(crate) fn add_const(&self, c: Fr) -> Self {
        self.add(&Self::constant(c))
    }

    /// `Σ cᵢ·eᵢ` in one pass (one compaction).
    pub(crate) fn weighted_sum(terms: &[(Fr, &Expr)]) -> Self {
        let mut lc = LinearCombination::new();
        let mut val = Fr::zero();
        for (c, e) in terms {
            for (k, v) in e.lc.iter() {
                lc.0.push((*k * c, *v));
            }
            val += *c * e.val;
        }
        lc.compactify();
        Self { lc, val }
    }
}

/// The constraint system plus helpers that allocate and constrain.
pub(crate) struct Builder {
    cs: ConstraintSystemRef<Fr>,
    /// Whether constraints are recorded. When not (witness generation, see
    /// `crate::prover::assignment`), variables carry no linear combination: only values matter
    /// and `enforce` is a no-op, so building linear combinations would be wasted work.
    symbolic: bool,
}

pub(crate) type Result<T> = std::result::Result<T, SynthesisError>;

impl Builder {
    pub(crate) fn new(cs: ConstraintSystemRef<Fr>) -> Self {
        let symbolic = cs.should_construct_matrices();
        Self { cs, symbolic }
    }

    fn var(&self, v: Variable, val: Fr) -> Expr {
        if self.symbolic {
            Expr::from_var(v, val)
        } else {
            Expr {
                lc: LinearCombination::new(),
                val,
            }
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
        self.cs
            .enforce_r1cs_constraint(|| a.lc.clone(), || b.lc.clone(), || c.lc.clone())
    }

    /// Enforces `a = b` (one constraint `(a − b)·1 = 0`).
    pub(crate) fn enforce_equal(&self, a: &Expr, b: &Expr) -> Result<()> {
        self.enforce(&a.sub(b), &Expr::constant(Fr::one()), &Expr::zero())
    }

    /// A new variable `a · b` (one constraint).
    pub(crate) fn mul(&self, a: &Expr, b: &Expr) -> Result<Expr> {
        let c = self.witness(a.val * b.val)?;
        self.enforce(a, b, &c)?;
        Ok(c)
    }

    /// A new variable `q` with `q · den = num` (one constraint). If `den` is zero the value is
    /// zero and the constraint is unsatisfiable unless `num` is zero too.
    pub(crate) fn div(&self, num: &Expr, den: &Expr) -> Result<Expr> {
        let q = self.witness(num.val * den.val.inverse().unwrap_or_else(Fr::zero))?;
        self.enforce(&q, den, num)?;
        Ok(q)
    }

    /// A boolean variable (one constraint `b·(1 − b) = 0`).
    pub(crate) fn boolean(&self, b: bool) -> Result<Expr> {
        let e = self.witness(Fr::from(u64::from(b)))?;
        self.enforce(&e, &Expr::constant(Fr::one()).sub(&e), &Expr::zero())?;
        Ok(e)
    }

    /// `n` fresh boolean variables holding the little-endian bits of `val` (no recomposition
    /// constraint: callers use [`from_bits`] in a constraint of their own).
    pub(crate) fn alloc_bits(&self, val: Fr, n: usize) -> Result<Vec<Expr>> {
        use ark_ff::{BigInteger, PrimeField};
        let raw = val.into_bigint().to_bits_le();
        (0..n).map(|i| self.boolean(raw[i])).collect()
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
    Expr::weighted_sum(&terms)
}
