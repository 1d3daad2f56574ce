//! The inference circuit: a model's layers as R1CS over BN254, weights as constants.
//!
//! Every activation is one variable holding `v = x + 128 ∈ [0, 255]`. Per layer:
//!
//! * **linear** (dense, convolution): the accumulator times the requantization multiplier,
//!   `t = m·(bias + Σ w·(x − x_zp))`, is a linear combination of the previous activations with
//!   constant coefficients: no constraint. Requantization and saturation ([`requantize`])
//!   decompose `t − L + 2^N` into `N + 1` bits (`L = (−128 − y_zp)·2^s` is the low clamp and `N`
//!   comes from the bound on `t` the constant weights give), then round half to even and clamp
//!   with a dozen more constraints: `N + 13` constraints per output. The clamp at −128 with
//!   `y_zp = −128` is the ReLU.
//! * **max pooling**: 11 constraints per comparison (a 9-bit decomposition of the difference).
//! * **relu** (on int8 values): 10 constraints per value.
//! * **input**: each value is range-checked (9 constraints).
//! * **public inputs**: the Poseidon digests of the input and output bytes ([`crate::digest`]).
//!
//! The reference inference ([`Model::trace`]) supplies only hints (bits, inverses); every
//! activation is constrained from the input by the gadgets.

pub(crate) mod builder;
mod poseidon;

use std::sync::Arc;

use ark_bn254::Fr;
use ark_ff::One;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use crate::digest::public_inputs;
use crate::model::{Layer, Linear, MaxPool, Model, accumulate};
use builder::{Builder, Expr, Result, from_bits};

/// A model with the input to prove an inference on.
#[derive(Clone, Debug)]
pub struct InferenceCircuit {
    /// The model (its weights are the circuit's constants).
    pub model: Arc<Model>,
    /// The int8 input.
    pub input: Vec<i8>,
}

impl InferenceCircuit {
    /// The circuit of `model` on `input` (checked against the model's input shape).
    pub fn new(model: Arc<Model>, input: Vec<i8>) -> crate::Result<Self> {
        model.check_input(&input)?;
        Ok(Self { model, input })
    }

    /// The circuit for key generation (all-zero input: the constraints do not depend on it).
    pub fn blank(model: Arc<Model>) -> Self {
        let input = vec![0; model.input_len()];
        Self { model, input }
    }
}

fn fr(v: i128) -> Fr {
    if v >= 0 {
        Fr::from(v as u128)
    } else {
        -Fr::from(v.unsigned_abs())
    }
}

fn bits_for(bound: u128) -> usize {
    (128 - bound.leading_zeros()) as usize
}

/// One requantized output of a linear layer (see the module docs), from the previous
/// activations `acts` (variables `v = x + 128`) and their values `x`.
fn requantize<L: Linear>(b: &Builder, l: &L, o: usize, acts: &[Expr], x: &[i8]) -> Result<Expr> {
    let r = l.requant(o);
    let (m, s) = (i128::from(r.multiplier), r.shift as usize);
    let zx = i128::from(l.input_zero_point());
    // t = m·(bias + Σ w·(v − 128 − zx)) = Σ (m·w)·v + m·(bias − Σ w·(128 + zx))
    let mut constant = i128::from(l.bias(o));
    let (mut lo, mut hi) = (constant, constant);
    let mut lc = Vec::new();
    l.terms(o, |i, w| {
        let w = i128::from(w);
        constant -= w * (128 + zx);
        let (a, c) = (w * (-128 - zx), w * (127 - zx));
        lo += a.min(c);
        hi += a.max(c);
        if b.symbolic {
            lc.extend(acts[i].lc.iter().map(|(k, var)| (*k * fr(m * w), *var)));
        }
    });
    let t_val = m * i128::from(accumulate(l, x, o));
    let (lo, hi) = (m * lo, m * hi);
    let low = (-128 - i128::from(r.zero_point)) << s;
    let reach = (lo - low).unsigned_abs().max((hi - low).unsigned_abs()) + 1;
    let n = bits_for(reach).max(s + 9);
    let d = t_val - low + (1i128 << n);
    let bits = b.bits(d as u128, n + 1)?;
    // t − L + 2^N = Σ bᵢ·2ⁱ
    lc.push((
        fr(m * constant - low + (1i128 << n)),
        ark_relations::gr1cs::Variable::One,
    ));
    let shifted = Expr { lc, val: fr(d) };
    b.enforce_equal(&shifted, &from_bits(&bits))?;
    // Rounding: t − L = k''·2^s + r with r = bits[..s]; round half to even adds one when
    // r > 2^(s−1), or r = 2^(s−1) and k = k'' − 128 − zp is odd.
    let parity = if r.zero_point & 1 == 0 {
        bits[s].clone()
    } else {
        bits[s].rsub_const(Fr::one())
    };
    let top = &bits[s - 1];
    let above_half_or_odd = if s >= 2 {
        let nz_low = b.is_nonzero(&from_bits(&bits[..s - 1]))?;
        let both = b.mul(&nz_low, &parity)?;
        nz_low.add(&parity).sub(&both)
    } else {
        parity
    };
    let carry = b.mul(top, &above_half_or_odd)?;
    let k = from_bits(&bits[s..s + 8]);
    let overflow_high = b.is_nonzero(&from_bits(&bits[s + 8..n]))?;
    let not_255 = b.is_nonzero(&k.rsub_const(Fr::from(255u64)))?;
    let overflow_255 = b.mul(&not_255.rsub_const(Fr::one()), &carry)?;
    let val = k.add(&carry).sub(&overflow_255);
    let to_255 = b.mul(&overflow_high, &val.rsub_const(Fr::from(255u64)))?;
    // Below L (sign bit clear) the output is −128, i.e. v = 0.
    b.mul(&bits[n], &val.add(&to_255))
}

/// `max(a, m)` of two byte variables (11 constraints), as one new variable.
fn max2(b: &Builder, a: &Expr, m: &Expr) -> Result<Expr> {
    let diff = a.sub(m).add_const(Fr::from(256u64));
    let dv = diff.val;
    let dv: u128 = {
        use ark_ff::PrimeField;
        let big = dv.into_bigint();
        u128::from(big.0[0]) | (u128::from(big.0[1]) << 64)
    };
    let bits = b.bits(dv, 9)?;
    b.enforce_equal(&diff, &from_bits(&bits))?;
    let ge = &bits[8];
    let out_val = if ge.val.is_one() { a.val } else { m.val };
    let out = b.witness(out_val)?;
    b.enforce(ge, &a.sub(m), &out.sub(m))?;
    Ok(out)
}

fn maxpool(b: &Builder, p: &MaxPool, acts: &[Expr]) -> Result<Vec<Expr>> {
    (0..p.outputs())
        .map(|o| {
            let w = p.window(o);
            let mut m = acts[w[0]].clone();
            for i in &w[1..] {
                m = max2(b, &acts[*i], &m)?;
            }
            Ok(m)
        })
        .collect()
}

/// A byte variable `v` with its eight bits constrained (9 constraints); returns the bits.
fn range_check(b: &Builder, v: &Expr, x: i8) -> Result<Vec<Expr>> {
    let bits = b.bits(u128::from((i16::from(x) + 128) as u16), 8)?;
    b.enforce_equal(v, &from_bits(&bits))?;
    Ok(bits)
}

fn relu(b: &Builder, acts: &[Expr], x: &[i8]) -> Result<Vec<Expr>> {
    acts.iter()
        .zip(x)
        .map(|(v, x)| {
            let bits = range_check(b, v, *x)?;
            let out = b.witness(Fr::from(u64::from((i16::from((*x).max(0)) + 128) as u16)))?;
            let centered = v.add_const(-Fr::from(128u64));
            b.enforce(&bits[7], &centered, &out.add_const(-Fr::from(128u64)))?;
            Ok(out)
        })
        .collect()
}

/// The input variables (range-checked) and the output variables of `model` on `input`.
fn layers(
    b: &Builder,
    model: &Model,
    input: &[i8],
    trace: &[Vec<i8>],
) -> Result<(Vec<Expr>, Vec<Expr>)> {
    let mut acts = Vec::with_capacity(input.len());
    for x in input {
        let v = b.witness(Fr::from(u64::from((i16::from(*x) + 128) as u16)))?;
        range_check(b, &v, *x)?;
        acts.push(v);
    }
    let input_acts = acts.clone();
    for (layer, x) in model.layers.iter().zip(trace) {
        acts = match layer {
            Layer::Dense(d) => (0..d.outputs)
                .map(|o| requantize(b, d, o, &acts, x))
                .collect::<Result<_>>()?,
            Layer::Conv(c) => (0..c.outputs())
                .map(|o| requantize(b, c, o, &acts, x))
                .collect::<Result<_>>()?,
            Layer::MaxPool(p) => maxpool(b, p, &acts)?,
            Layer::Relu => relu(b, &acts, x)?,
            Layer::Reshape(_) => acts,
        };
    }
    Ok((input_acts, acts))
}

impl ConstraintSynthesizer<Fr> for InferenceCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<()> {
        let b = Builder::new(cs);
        let trace = self
            .model
            .trace(&self.input)
            .map_err(|_| SynthesisError::Unsatisfiable)?;
        let output = trace.last().cloned().unwrap_or_default();
        let [in_digest, out_digest] = public_inputs(&self.input, &output);
        let public_in = b.input(in_digest)?;
        let public_out = b.input(out_digest)?;
        let (input_acts, acts) = layers(&b, &self.model, &self.input, &trace)?;
        let d_in = poseidon::digest(&b, &input_acts)?;
        b.enforce_equal(&d_in, &public_in)?;
        let d_out = poseidon::digest(&b, &acts)?;
        b.enforce_equal(&d_out, &public_out)
    }
}

/// The values of the circuit's output variables (`x + 128`) under the witness, for tests.
#[cfg(test)]
pub(crate) fn outputs_of(circuit: &InferenceCircuit) -> Vec<Fr> {
    use ark_relations::gr1cs::ConstraintSystem;
    let b = Builder::new(ConstraintSystem::<Fr>::new_ref());
    let trace = circuit.model.trace(&circuit.input).expect("trace");
    let (_, acts) = layers(&b, &circuit.model, &circuit.input, &trace).expect("synthesis");
    acts.iter().map(|e| e.val).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Conv, Dense, Requant};
    use crate::prover::{R1cs, assignment};
    use proptest::prelude::*;

    fn byte(x: i8) -> Fr {
        Fr::from(u64::from((i16::from(x) + 128) as u16))
    }

    /// A random chain: dense (any multiplier, shift, zero points) → relu → conv-free dense, or
    /// conv → maxpool → dense, from a seed.
    fn model(seed: u64, conv: bool) -> Model {
        let mut s = seed;
        let mut next = move |n: i64| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) as i64).rem_euclid(n)
        };
        let rq = |next: &mut dyn FnMut(i64) -> i64| Requant {
            multiplier: 1 + next(300),
            shift: 1 + next(14) as u32,
            zero_point: next(256) as i32 - 128,
        };
        let mut layers = Vec::new();
        let mut len = 8;
        if conv {
            let (c, h, w, m) = (2, 4, 4, 3);
            layers.push(Layer::Conv(Conv {
                input: [c, h, w],
                output: [m, h, w],
                kernel: [3, 3],
                strides: [1, 1],
                pads: [1, 1],
                weights: (0..m * c * 9).map(|_| next(255) as i32 - 127).collect(),
                bias: (0..m).map(|_| next(4001) as i32 - 2000).collect(),
                input_zero_point: next(256) as i32 - 128,
                requant: (0..m).map(|_| rq(&mut next)).collect(),
            }));
            layers.push(Layer::MaxPool(MaxPool {
                input: [m, h, w],
                output: [2, 2],
                kernel: [2, 2],
                strides: [2, 2],
            }));
            layers.push(Layer::Reshape(vec![1, 12]));
            len = 12;
        }
        let outs = [5, 3];
        let mut inputs = len;
        for (li, out) in outs.iter().enumerate() {
            layers.push(Layer::Dense(Dense {
                inputs,
                outputs: *out,
                weights: (0..inputs * out).map(|_| next(255) as i32 - 127).collect(),
                bias: (0..*out).map(|_| next(2001) as i32 - 1000).collect(),
                input_zero_point: next(256) as i32 - 128,
                requant: (0..*out).map(|_| rq(&mut next)).collect(),
            }));
            if li == 0 {
                layers.push(Layer::Relu);
            }
            inputs = *out;
        }
        Model {
            name: format!("random-{seed}"),
            input_shape: if conv { vec![1, 2, 4, 4] } else { vec![1, 8] },
            layers,
            approximate_scales: 0,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn circuit_outputs_equal_reference_and_satisfy_the_constraints(
            seed in any::<u64>(),
            conv in any::<bool>(),
            raw in proptest::collection::vec(any::<i8>(), 32),
        ) {
            let m = Arc::new(model(seed, conv));
            let input = raw[..m.input_len()].to_vec();
            let circuit = InferenceCircuit::new(m.clone(), input.clone()).expect("shape");
            let expected: Vec<Fr> = m.infer(&input).expect("infer").into_iter().map(byte).collect();
            prop_assert_eq!(outputs_of(&circuit), expected);
            let r1cs = R1cs::of(&m).expect("r1cs");
            prop_assert!(r1cs.check(&assignment(circuit).expect("z")).is_ok());
        }
    }

    #[test]
    fn ties_round_to_even_in_the_circuit() {
        // One weight 1, multiplier 1, shift 1: the output is round_half_even(x / 2).
        let m = Arc::new(Model {
            name: "halves".into(),
            input_shape: vec![1],
            layers: vec![Layer::Dense(Dense {
                inputs: 1,
                outputs: 1,
                weights: vec![1],
                bias: vec![0],
                input_zero_point: 0,
                requant: vec![Requant {
                    multiplier: 1,
                    shift: 1,
                    zero_point: 0,
                }],
            })],
            approximate_scales: 0,
        });
        let r1cs = R1cs::of(&m).expect("r1cs");
        for x in i8::MIN..=i8::MAX {
            let want = (f64::from(x) / 2.0).round_ties_even() as i8;
            assert_eq!(m.infer(&[x]).expect("infer"), vec![want], "{x}");
            let c = InferenceCircuit::new(m.clone(), vec![x]).expect("shape");
            assert_eq!(outputs_of(&c), vec![byte(want)], "{x}");
            r1cs.check(&assignment(c).expect("z")).expect("satisfied");
        }
    }
}
