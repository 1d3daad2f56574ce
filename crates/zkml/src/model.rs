//! The quantized model (a chain of int8 layers) and its reference inference.
//!
//! Semantics, exactly as ONNX's QLinearMatMul / QLinearConv define them and onnxruntime
//! computes them for the scales this crate accepts exactly (see [`Requant`]):
//!
//! * activations are int8 with a zero point per tensor; weights are int8 minus their zero point;
//! * a linear layer accumulates `acc = bias + Σ w·(x − x_zp)` exactly (i64 here; onnxruntime's
//!   i32 never overflows for the bounded layers the importer accepts);
//! * requantization: `y = clamp(round_half_even(acc·m / 2^s) + y_zp, −128, 127)` where
//!   `m / 2^s = x_scale·w_scale / y_scale` (ONNX rounds half to even, as onnxruntime's
//!   `nearbyintf`);
//! * MaxPool takes the int8 maximum; Relu is `max(x, 0)` on the int8 value; Flatten and Reshape
//!   keep the row-major (NCHW) order.
//!
//! ReLU after a quantized linear layer needs no op of its own: with `y_zp = −128` the clamp at
//! −128 is the ReLU (onnxruntime's quantizer folds Relu away the same way).

use crate::error::{Error, Result};

/// Requantization of one output channel: `clamp(round_half_even(acc·m / 2^s) + zp)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requant {
    /// Fixed-point multiplier `m ≥ 1`.
    pub multiplier: i64,
    /// Shift `s ≥ 1` (a scale that is an integer is expressed with `m` even and `s = 1`).
    pub shift: u32,
    /// Output zero point.
    pub zero_point: i32,
}

/// `round_half_even(t / 2^s)` for `s ≥ 1`.
pub fn round_half_even_shift(t: i64, s: u32) -> i64 {
    let k = t >> s;
    let r = t - (k << s);
    let h = 1i64 << (s - 1);
    if r > h || (r == h && k & 1 == 1) {
        k + 1
    } else {
        k
    }
}

impl Requant {
    /// The int8 output for the accumulator `acc`.
    pub fn apply(&self, acc: i64) -> i8 {
        let q = round_half_even_shift(acc * self.multiplier, self.shift);
        (q + i64::from(self.zero_point)).clamp(-128, 127) as i8
    }
}

/// A dense layer `y[o] = requant_o(bias[o] + Σ_i weights[o·inputs + i]·(x[i] − input_zp))`.
#[derive(Clone, Debug)]
pub struct Dense {
    /// Input length.
    pub inputs: usize,
    /// Output length.
    pub outputs: usize,
    /// Weights minus their zero point, output-major.
    pub weights: Vec<i32>,
    /// Per-output bias (zero when the operator has none).
    pub bias: Vec<i32>,
    /// The input's zero point.
    pub input_zero_point: i32,
    /// Per-output requantization.
    pub requant: Vec<Requant>,
}

/// A 2-D convolution over one NCHW image (batch 1, group 1, dilation 1), padding with the
/// input's zero point (a real zero).
#[derive(Clone, Debug)]
pub struct Conv {
    /// Input channels, height, width.
    pub input: [usize; 3],
    /// Output channels, height, width.
    pub output: [usize; 3],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides (height, width).
    pub strides: [usize; 2],
    /// Padding at the top and left (the bottom and right follow from the output size).
    pub pads: [usize; 2],
    /// Weights minus their zero point, `[out][in][kh][kw]`.
    pub weights: Vec<i32>,
    /// Per-output-channel bias.
    pub bias: Vec<i32>,
    /// The input's zero point.
    pub input_zero_point: i32,
    /// Per-output-channel requantization.
    pub requant: Vec<Requant>,
}

/// Max pooling over one CHW image, no padding.
#[derive(Clone, Debug)]
pub struct MaxPool {
    /// Channels, input height, input width.
    pub input: [usize; 3],
    /// Output height and width.
    pub output: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides (height, width).
    pub strides: [usize; 2],
}

/// One layer of the chain.
#[derive(Clone, Debug)]
pub enum Layer {
    /// QLinearMatMul.
    Dense(Dense),
    /// QLinearConv.
    Conv(Conv),
    /// MaxPool.
    MaxPool(MaxPool),
    /// Relu on int8 values.
    Relu,
    /// Flatten or Reshape: the values keep their order.
    Reshape(Vec<usize>),
}

/// A linear layer seen neuron by neuron (dense and convolution alike).
pub(crate) trait Linear {
    fn outputs(&self) -> usize;
    fn input_zero_point(&self) -> i32;
    fn bias(&self, o: usize) -> i64;
    fn requant(&self, o: usize) -> Requant;
    /// Calls `f(input index, weight)` for every term of output `o` (padding excluded).
    fn terms(&self, o: usize, f: impl FnMut(usize, i32));
}

impl Linear for Dense {
    fn outputs(&self) -> usize {
        self.outputs
    }
    fn input_zero_point(&self) -> i32 {
        self.input_zero_point
    }
    fn bias(&self, o: usize) -> i64 {
        i64::from(self.bias[o])
    }
    fn requant(&self, o: usize) -> Requant {
        self.requant[o]
    }
    fn terms(&self, o: usize, mut f: impl FnMut(usize, i32)) {
        let row = &self.weights[o * self.inputs..(o + 1) * self.inputs];
        for (i, w) in row.iter().enumerate() {
            if *w != 0 {
                f(i, *w);
            }
        }
    }
}

impl Linear for Conv {
    fn outputs(&self) -> usize {
        self.output.iter().product()
    }
    fn input_zero_point(&self) -> i32 {
        self.input_zero_point
    }
    fn bias(&self, o: usize) -> i64 {
        i64::from(self.bias[o / (self.output[1] * self.output[2])])
    }
    fn requant(&self, o: usize) -> Requant {
        self.requant[o / (self.output[1] * self.output[2])]
    }
    fn terms(&self, o: usize, mut f: impl FnMut(usize, i32)) {
        let [c_in, h_in, w_in] = self.input;
        let [_, h_out, w_out] = self.output;
        let [kh, kw] = self.kernel;
        let oc = o / (h_out * w_out);
        let oy = (o / w_out) % h_out;
        let ox = o % w_out;
        for c in 0..c_in {
            for i in 0..kh {
                let y = (oy * self.strides[0] + i) as isize - self.pads[0] as isize;
                if y < 0 || y >= h_in as isize {
                    continue;
                }
                for j in 0..kw {
                    let x = (ox * self.strides[1] + j) as isize - self.pads[1] as isize;
                    if x < 0 || x >= w_in as isize {
                        continue;
                    }
                    let w = self.weights[((oc * c_in + c) * kh + i) * kw + j];
                    if w != 0 {
                        f((c * h_in + y as usize) * w_in + x as usize, w);
                    }
                }
            }
        }
    }
}

impl MaxPool {
    /// The input indices of output `o`'s window.
    pub(crate) fn window(&self, o: usize) -> Vec<usize> {
        let [_, h_in, w_in] = self.input;
        let [h_out, w_out] = self.output;
        let c = o / (h_out * w_out);
        let oy = (o / w_out) % h_out;
        let ox = o % w_out;
        let mut out = Vec::with_capacity(self.kernel[0] * self.kernel[1]);
        for i in 0..self.kernel[0] {
            for j in 0..self.kernel[1] {
                let y = oy * self.strides[0] + i;
                let x = ox * self.strides[1] + j;
                out.push((c * h_in + y) * w_in + x);
            }
        }
        out
    }

    pub(crate) fn outputs(&self) -> usize {
        self.input[0] * self.output[0] * self.output[1]
    }
}

/// The accumulator of output `o` of a linear layer on `x`.
pub(crate) fn accumulate(l: &impl Linear, x: &[i8], o: usize) -> i64 {
    let zp = i64::from(l.input_zero_point());
    let mut acc = l.bias(o);
    l.terms(o, |i, w| acc += i64::from(w) * (i64::from(x[i]) - zp));
    acc
}

fn linear(l: &impl Linear, x: &[i8]) -> Vec<i8> {
    (0..l.outputs())
        .map(|o| l.requant(o).apply(accumulate(l, x, o)))
        .collect()
}

/// An imported model: int8 input of a fixed shape, a chain of layers, int8 output.
#[derive(Clone, Debug)]
pub struct Model {
    /// The graph's name.
    pub name: String,
    /// The input's shape (batch 1).
    pub input_shape: Vec<usize>,
    /// The layers in order.
    pub layers: Vec<Layer>,
    /// Requantization scales that were not exactly `m / 2^s` and were rounded (results may then
    /// differ from onnxruntime's float requantization by one unit).
    pub approximate_scales: usize,
}

impl Model {
    /// Number of input values.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Number of output values.
    pub fn output_len(&self) -> usize {
        let mut n = self.input_len();
        for l in &self.layers {
            n = match l {
                Layer::Dense(d) => d.outputs,
                Layer::Conv(c) => c.outputs(),
                Layer::MaxPool(p) => p.outputs(),
                Layer::Relu | Layer::Reshape(_) => n,
            };
        }
        n
    }

    /// Weights and biases.
    pub fn params(&self) -> usize {
        self.layers
            .iter()
            .map(|l| match l {
                Layer::Dense(d) => d.weights.len() + d.bias.iter().filter(|b| **b != 0).count(),
                Layer::Conv(c) => c.weights.len() + c.bias.len(),
                _ => 0,
            })
            .sum()
    }

    /// Checks an input's length against the model.
    pub fn check_input(&self, input: &[i8]) -> Result<()> {
        if input.len() == self.input_len() {
            Ok(())
        } else {
            Err(Error::InputShape {
                expected: self.input_shape.clone(),
                got: input.len(),
            })
        }
    }

    /// The reference inference: the output for `input`.
    pub fn infer(&self, input: &[i8]) -> Result<Vec<i8>> {
        Ok(self.trace(input)?.pop().unwrap_or_default())
    }

    /// Every layer's output, the input first.
    pub fn trace(&self, input: &[i8]) -> Result<Vec<Vec<i8>>> {
        self.check_input(input)?;
        let mut out = vec![input.to_vec()];
        for l in &self.layers {
            let x = out.last().map(Vec::as_slice).unwrap_or_default();
            let y = match l {
                Layer::Dense(d) => linear(d, x),
                Layer::Conv(c) => linear(c, x),
                Layer::MaxPool(p) => (0..p.outputs())
                    .map(|o| p.window(o).iter().map(|i| x[*i]).max().unwrap_or(-128))
                    .collect(),
                Layer::Relu => x.iter().map(|v| (*v).max(0)).collect(),
                Layer::Reshape(_) => x.to_vec(),
            };
            out.push(y);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_to_even_on_both_signs() {
        // t / 2 for t = -5..=5: -2.5 -> -2, -1.5 -> -2, -0.5 -> 0, 0.5 -> 0, 1.5 -> 2, 2.5 -> 2.
        let got: Vec<i64> = (-5..=5).map(|t| round_half_even_shift(t, 1)).collect();
        assert_eq!(got, vec![-2, -2, -2, -1, 0, 0, 0, 1, 2, 2, 2]);
        // Quarters: 0.75 -> 1, -0.75 -> -1, 0.25 -> 0, -0.25 -> 0.
        assert_eq!(round_half_even_shift(3, 2), 1);
        assert_eq!(round_half_even_shift(-3, 2), -1);
        assert_eq!(round_half_even_shift(1, 2), 0);
        assert_eq!(round_half_even_shift(-1, 2), 0);
        for t in -1000i64..1000 {
            let exact = t as f64 / 8.0;
            assert_eq!(
                round_half_even_shift(t, 3) as f64,
                exact.round_ties_even(),
                "{t}"
            );
        }
    }

    #[test]
    fn requant_saturates_and_applies_the_zero_point() {
        let r = Requant {
            multiplier: 3,
            shift: 2,
            zero_point: -128,
        };
        assert_eq!(r.apply(-10), -128);
        assert_eq!(r.apply(0), -128);
        assert_eq!(r.apply(2), -126); // 6/4 = 1.5 -> 2, plus the zero point
        assert_eq!(r.apply(1000), 127);
    }
}
