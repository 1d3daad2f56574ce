//! ONNX import: the protobuf messages (the subset of `onnx.proto` this importer reads) and the
//! translation of a graph into a [`Model`].
//!
//! Hand-written message structs with `prost`'s derive, instead of `onnx.proto` compiled by
//! `prost-build` (which needs `protoc`, not available to the build) or a crate with the whole
//! schema (`onnx-protobuf` pulls in the `protobuf` runtime and codegen for 2,000 lines of
//! messages this crate never reads). Tags are those of `onnx.proto` (IR version 8+); unknown
//! fields are skipped by the decoder, so newer files load.
//!
//! Supported operators (default domain; batch 1):
//! `QLinearMatMul` (input `[1, K]` or `[K]`, constant int8 weight `[K, N]`), `QLinearConv`
//! (NCHW, group 1, dilation 1, constant int8 weight, optional int32 bias), `MaxPool` (no
//! padding, floor mode, one output), `Relu` (int8), `Flatten`, `Reshape` (constant shape).
//! Scales may be per tensor or, for weights, per output channel. Anything else is
//! [`Error::UnsupportedOperator`] naming the operator.

use std::collections::HashMap;

use prost::Message;

use crate::error::{Error, Result, invalid};
use crate::model::{Conv, Dense, Layer, MaxPool, Model, Requant};

#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
}

#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    input: Vec<ValueInfoProto>,
    #[prost(message, repeated, tag = "12")]
    output: Vec<ValueInfoProto>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    output: Vec<String>,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    op_type: String,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<AttributeProto>,
    #[prost(string, tag = "7")]
    domain: String,
}

#[derive(Clone, PartialEq, Message)]
struct AttributeProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int64, tag = "3")]
    i: i64,
    #[prost(bytes = "vec", tag = "4")]
    s: Vec<u8>,
    #[prost(int64, repeated, tag = "8")]
    ints: Vec<i64>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(float, repeated, tag = "4")]
    float_data: Vec<f32>,
    #[prost(int32, repeated, tag = "5")]
    int32_data: Vec<i32>,
    #[prost(int64, repeated, tag = "7")]
    int64_data: Vec<i64>,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct ValueInfoProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, optional, tag = "2")]
    r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TypeProto {
    #[prost(message, optional, tag = "1")]
    tensor_type: Option<TensorTypeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorTypeProto {
    #[prost(int32, tag = "1")]
    elem_type: i32,
    #[prost(message, optional, tag = "2")]
    shape: Option<TensorShapeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorShapeProto {
    #[prost(message, repeated, tag = "1")]
    dim: Vec<Dimension>,
}

#[derive(Clone, PartialEq, Message)]
struct Dimension {
    #[prost(int64, optional, tag = "1")]
    dim_value: Option<i64>,
    #[prost(string, optional, tag = "2")]
    dim_param: Option<String>,
}

const FLOAT: i32 = 1;
const INT8: i32 = 3;
const INT32: i32 = 6;
const INT64: i32 = 7;

/// A constant tensor's shape and values (integers widened to i64, floats kept as f32).
struct Constant {
    dims: Vec<usize>,
    ints: Vec<i64>,
    floats: Vec<f32>,
    data_type: i32,
}

fn constant(t: &TensorProto) -> Result<Constant> {
    let dims = t
        .dims
        .iter()
        .map(|d| usize::try_from(*d).map_err(|_| invalid(format!("tensor {} dim {d}", t.name))))
        .collect::<Result<Vec<_>>>()?;
    let n: usize = dims.iter().product();
    let raw = &t.raw_data;
    let (ints, floats) = match t.data_type {
        INT8 if !raw.is_empty() => (raw.iter().map(|b| i64::from(*b as i8)).collect(), vec![]),
        INT8 | INT32 if raw.is_empty() => {
            (t.int32_data.iter().map(|v| i64::from(*v)).collect(), vec![])
        }
        INT32 => (
            raw.chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
            vec![],
        ),
        INT64 if raw.is_empty() => (t.int64_data.clone(), vec![]),
        INT64 => (
            raw.chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect(),
            vec![],
        ),
        FLOAT if raw.is_empty() => (vec![], t.float_data.clone()),
        FLOAT => (
            vec![],
            raw.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        other => {
            return Err(invalid(format!(
                "tensor {}: element type {other} unsupported",
                t.name
            )));
        }
    };
    let len = ints.len().max(floats.len());
    if len != n {
        return Err(invalid(format!(
            "tensor {}: {len} values for shape {dims:?}",
            t.name
        )));
    }
    Ok(Constant {
        dims,
        ints,
        floats,
        data_type: t.data_type,
    })
}

struct Node<'a> {
    proto: &'a NodeProto,
    consts: &'a HashMap<String, Constant>,
}

impl Node<'_> {
    fn unsupported(&self, detail: impl Into<String>) -> Error {
        let d = detail.into();
        Error::UnsupportedOperator {
            op: self.proto.op_type.clone(),
            node: self.proto.name.clone(),
            detail: if d.is_empty() { d } else { format!(": {d}") },
        }
    }

    fn input_const(&self, i: usize) -> Result<Option<&Constant>> {
        match self.proto.input.get(i).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(name) => self.consts.get(name).map(Some).ok_or_else(|| {
                self.unsupported(format!("input {i} ({name}) is not a constant initializer"))
            }),
        }
    }

    fn required(&self, i: usize) -> Result<&Constant> {
        self.input_const(i)?
            .ok_or_else(|| invalid(format!("node {:?}: missing input {i}", self.proto.name)))
    }

    fn floats(&self, i: usize) -> Result<Vec<f32>> {
        let c = self.required(i)?;
        if c.data_type != FLOAT {
            return Err(invalid(format!(
                "node {:?}: input {i} is not float",
                self.proto.name
            )));
        }
        Ok(c.floats.clone())
    }

    fn ints(&self, i: usize) -> Result<Vec<i64>> {
        let c = self.required(i)?;
        if c.data_type == FLOAT {
            return Err(invalid(format!(
                "node {:?}: input {i} is not an integer",
                self.proto.name
            )));
        }
        Ok(c.ints.clone())
    }

    fn int8_zero_point(&self, i: usize) -> Result<Vec<i64>> {
        let c = self.required(i)?;
        if c.data_type != INT8 {
            return Err(self.unsupported(format!("input {i}: only int8 tensors are supported")));
        }
        Ok(c.ints.clone())
    }

    fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.proto.attribute.iter().find(|a| a.name == name)
    }

    fn ints_attr(&self, name: &str, default: Vec<i64>) -> Vec<i64> {
        self.attr(name).map(|a| a.ints.clone()).unwrap_or(default)
    }

    fn int_attr(&self, name: &str, default: i64) -> i64 {
        self.attr(name).map(|a| a.i).unwrap_or(default)
    }

    fn no_auto_pad(&self) -> Result<()> {
        match self.attr("auto_pad") {
            Some(a) if !a.s.is_empty() && a.s != b"NOTSET" => Err(self.unsupported("auto_pad")),
            _ => Ok(()),
        }
    }

    fn pair(&self, name: &str, default: i64, len: usize) -> Result<Vec<usize>> {
        let v = self.ints_attr(name, vec![default; len]);
        if v.len() != len || v.iter().any(|x| *x < 0) {
            return Err(self.unsupported(format!("{name} = {v:?}")));
        }
        Ok(v.iter().map(|x| *x as usize).collect())
    }
}

/// `a / 2^s` with `a` a positive integer: exact if the ratio is dyadic with a multiplier below
/// 2^24, else rounded to a 16-bit multiplier (counted as approximate).
fn requant(ratio: f64, zero_point: i64) -> Result<(Requant, bool)> {
    if !(ratio.is_finite() && ratio > 0.0) {
        return Err(invalid(format!("requantization scale {ratio}")));
    }
    let zero_point = zero_point as i32;
    for s in 1..=62u32 {
        let v = ratio * 2f64.powi(s as i32);
        if v >= (1u64 << 24) as f64 {
            break;
        }
        if v >= 1.0 && v.fract() == 0.0 {
            return Ok((
                Requant {
                    multiplier: v as i64,
                    shift: s,
                    zero_point,
                },
                true,
            ));
        }
    }
    let mut s = 1u32;
    while ratio * 2f64.powi(s as i32) < (1u64 << 15) as f64 && s < 62 {
        s += 1;
    }
    let m = (ratio * 2f64.powi(s as i32)).round() as i64;
    Ok((
        Requant {
            multiplier: m.max(1),
            shift: s,
            zero_point,
        },
        false,
    ))
}

fn per_channel(v: &[f32], n: usize, what: &str) -> Result<Vec<f64>> {
    match v.len() {
        1 => Ok(vec![f64::from(v[0]); n]),
        l if l == n => Ok(v.iter().map(|x| f64::from(*x)).collect()),
        l => Err(invalid(format!("{what}: {l} scales for {n} channels"))),
    }
}

fn scalar_i8(v: &[i64], what: &str) -> Result<i64> {
    match v {
        [x] => Ok(*x),
        _ => Err(invalid(format!(
            "{what}: expected one zero point, got {}",
            v.len()
        ))),
    }
}

/// The requantizations of a linear node's `n` output channels (inputs 1, 4, 6, 7 are the input
/// scale, weight scale, output scale and output zero point).
fn requants(node: &Node<'_>, n: usize, approx: &mut usize) -> Result<Vec<Requant>> {
    let x_scale = per_channel(&node.floats(1)?, 1, "input scale")?[0];
    let w_scale = per_channel(&node.floats(4)?, n, "weight scale")?;
    let y_scale = per_channel(&node.floats(6)?, 1, "output scale")?[0];
    let y_zp = scalar_i8(&node.int8_zero_point(7)?, "output zero point")?;
    w_scale
        .iter()
        .map(|ws| {
            // onnxruntime multiplies in f32: the product and quotient of the f32 scales.
            let ratio = f64::from((x_scale as f32) * (*ws as f32) / (y_scale as f32));
            let (r, exact) = requant(ratio, y_zp)?;
            *approx += usize::from(!exact);
            Ok(r)
        })
        .collect()
}

fn weight_zero_points(node: &Node<'_>, n: usize) -> Result<Vec<i64>> {
    let zp = node.int8_zero_point(5)?;
    match zp.len() {
        1 => Ok(vec![zp[0]; n]),
        l if l == n => Ok(zp),
        l => Err(invalid(format!("{l} weight zero points for {n} channels"))),
    }
}

/// Imports an int8-quantized ONNX model (see the module docs for what is supported).
pub fn import(bytes: &[u8]) -> Result<Model> {
    let proto = ModelProto::decode(bytes)?;
    let graph = proto
        .graph
        .ok_or_else(|| invalid("the model has no graph"))?;
    let mut consts = HashMap::new();
    for t in &graph.initializer {
        consts.insert(t.name.clone(), constant(t)?);
    }
    let input = graph
        .input
        .iter()
        .find(|i| !consts.contains_key(&i.name))
        .ok_or_else(|| invalid("the graph has no input"))?;
    let tensor = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .ok_or_else(|| invalid(format!("input {} is not a tensor", input.name)))?;
    if tensor.elem_type != INT8 {
        return Err(invalid(format!(
            "input {} has element type {}; only int8 inputs are supported",
            input.name, tensor.elem_type
        )));
    }
    let mut shape: Vec<usize> = tensor
        .shape
        .as_ref()
        .map(|s| {
            s.dim
                .iter()
                .map(|d| d.dim_value.filter(|v| *v > 0).unwrap_or(1) as usize)
                .collect()
        })
        .unwrap_or_default();
    if shape.is_empty() {
        return Err(invalid(format!("input {} has no shape", input.name)));
    }
    let input_shape = shape.clone();
    let mut cur = input.name.clone();
    let mut layers = Vec::new();
    let mut approximate_scales = 0;
    for proto in &graph.node {
        let node = Node {
            proto,
            consts: &consts,
        };
        if !proto.domain.is_empty() && proto.domain != "ai.onnx" {
            return Err(node.unsupported(format!("domain {}", proto.domain)));
        }
        if proto.input.first() != Some(&cur) || proto.output.len() != 1 {
            return Err(invalid(format!(
                "node {:?} ({}) does not continue the chain from {cur}: only single-path graphs are supported",
                proto.name, proto.op_type
            )));
        }
        let layer = match proto.op_type.as_str() {
            "QLinearMatMul" => {
                let k = match shape.as_slice() {
                    [1, k] | [k] => *k,
                    _ => return Err(node.unsupported(format!("input shape {shape:?}"))),
                };
                let w = node.required(3)?;
                if w.data_type != INT8 || w.dims.len() != 2 || w.dims[0] != k {
                    return Err(node.unsupported(format!(
                        "weight must be int8 [{k}, N], is type {} {:?}",
                        w.data_type, w.dims
                    )));
                }
                let n = w.dims[1];
                let wzp = weight_zero_points(&node, n)?;
                let mut weights = vec![0i32; n * k];
                for i in 0..k {
                    for o in 0..n {
                        weights[o * k + i] = (w.ints[i * n + o] - wzp[o]) as i32;
                    }
                }
                let requant = requants(&node, n, &mut approximate_scales)?;
                shape = if shape.len() == 2 {
                    vec![1, n]
                } else {
                    vec![n]
                };
                Layer::Dense(Dense {
                    inputs: k,
                    outputs: n,
                    weights,
                    bias: vec![0; n],
                    input_zero_point: scalar_i8(&node.int8_zero_point(2)?, "input zero point")?
                        as i32,
                    requant,
                })
            }
            "QLinearConv" => {
                let [1, c, h, wd] = shape.as_slice() else {
                    return Err(node.unsupported(format!("input shape {shape:?} (NCHW, N = 1)")));
                };
                let (c, h, wd) = (*c, *h, *wd);
                node.no_auto_pad()?;
                if node.int_attr("group", 1) != 1 {
                    return Err(node.unsupported("group != 1"));
                }
                if node.pair("dilations", 1, 2)? != [1, 1] {
                    return Err(node.unsupported("dilations != 1"));
                }
                let w = node.required(3)?;
                if w.data_type != INT8 || w.dims.len() != 4 || w.dims[1] != c {
                    return Err(node.unsupported(format!(
                        "weight must be int8 [M, {c}, kh, kw], is {:?}",
                        w.dims
                    )));
                }
                let (m, kh, kw) = (w.dims[0], w.dims[2], w.dims[3]);
                if node.attr("kernel_shape").is_some()
                    && node.pair("kernel_shape", 1, 2)? != [kh, kw]
                {
                    return Err(invalid("kernel_shape differs from the weight"));
                }
                let pads = node.pair("pads", 0, 4)?;
                let strides = node.pair("strides", 1, 2)?;
                if strides.contains(&0) {
                    return Err(node.unsupported("stride 0"));
                }
                let oh = (h + pads[0] + pads[2])
                    .checked_sub(kh)
                    .map(|v| v / strides[0] + 1);
                let ow = (wd + pads[1] + pads[3])
                    .checked_sub(kw)
                    .map(|v| v / strides[1] + 1);
                let (Some(oh), Some(ow)) = (oh, ow) else {
                    return Err(invalid("kernel larger than the padded input"));
                };
                let wzp = weight_zero_points(&node, m)?;
                let per = c * kh * kw;
                let weights = w
                    .ints
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v - wzp[i / per]) as i32)
                    .collect();
                let bias = match node.input_const(8)? {
                    None => vec![0; m],
                    Some(b) if b.data_type == INT32 && b.ints.len() == m => {
                        b.ints.iter().map(|v| *v as i32).collect()
                    }
                    Some(_) => return Err(invalid("QLinearConv bias must be int32 [M]")),
                };
                let requant = requants(&node, m, &mut approximate_scales)?;
                shape = vec![1, m, oh, ow];
                Layer::Conv(Conv {
                    input: [c, h, wd],
                    output: [m, oh, ow],
                    kernel: [kh, kw],
                    strides: [strides[0], strides[1]],
                    pads: [pads[0], pads[1]],
                    weights,
                    bias,
                    input_zero_point: scalar_i8(&node.int8_zero_point(2)?, "input zero point")?
                        as i32,
                    requant,
                })
            }
            "MaxPool" => {
                let [1, c, h, wd] = shape.as_slice() else {
                    return Err(node.unsupported(format!("input shape {shape:?} (NCHW, N = 1)")));
                };
                let (c, h, wd) = (*c, *h, *wd);
                node.no_auto_pad()?;
                if node.pair("pads", 0, 4)?.iter().any(|p| *p != 0) {
                    return Err(node.unsupported("padding"));
                }
                if node.int_attr("ceil_mode", 0) != 0 || node.int_attr("storage_order", 0) != 0 {
                    return Err(node.unsupported("ceil_mode / storage_order"));
                }
                if node.pair("dilations", 1, 2)? != [1, 1] {
                    return Err(node.unsupported("dilations != 1"));
                }
                let k = node.pair("kernel_shape", 1, 2)?;
                let st = node.pair("strides", 1, 2)?;
                if k.contains(&0) || st.contains(&0) || k[0] > h || k[1] > wd {
                    return Err(invalid("MaxPool kernel or stride out of range"));
                }
                let out = [(h - k[0]) / st[0] + 1, (wd - k[1]) / st[1] + 1];
                shape = vec![1, c, out[0], out[1]];
                Layer::MaxPool(MaxPool {
                    input: [c, h, wd],
                    output: out,
                    kernel: [k[0], k[1]],
                    strides: [st[0], st[1]],
                })
            }
            "Relu" => Layer::Relu,
            "Flatten" => {
                let axis = node.int_attr("axis", 1);
                let axis = if axis < 0 {
                    axis + shape.len() as i64
                } else {
                    axis
                };
                if !(0..=shape.len() as i64).contains(&axis) {
                    return Err(invalid(format!("Flatten axis {axis}")));
                }
                let (a, b) = shape.split_at(axis as usize);
                shape = vec![a.iter().product(), b.iter().product()];
                Layer::Reshape(shape.clone())
            }
            "Reshape" => {
                let target = node.ints(1)?;
                let total: usize = shape.iter().product();
                let mut out = Vec::with_capacity(target.len());
                let mut infer = None;
                for (i, d) in target.iter().enumerate() {
                    match *d {
                        -1 if infer.is_none() => {
                            infer = Some(i);
                            out.push(1);
                        }
                        0 => out.push(*shape.get(i).ok_or_else(|| invalid("Reshape 0 past rank"))?),
                        d if d > 0 => out.push(d as usize),
                        d => return Err(invalid(format!("Reshape dimension {d}"))),
                    }
                }
                let known: usize = out.iter().product();
                if let Some(i) = infer {
                    if known == 0 || !total.is_multiple_of(known) {
                        return Err(invalid("Reshape size mismatch"));
                    }
                    out[i] = total / known;
                }
                if out.iter().product::<usize>() != total {
                    return Err(invalid(format!("Reshape {shape:?} to {out:?}")));
                }
                shape = out;
                Layer::Reshape(shape.clone())
            }
            _ => return Err(node.unsupported("")),
        };
        layers.push(layer);
        cur = proto.output[0].clone();
    }
    if graph.output.first().map(|o| &o.name) != Some(&cur) {
        return Err(invalid(format!(
            "the graph's output is not the end of the chain ({cur})"
        )));
    }
    Ok(Model {
        name: graph.name,
        input_shape,
        layers,
        approximate_scales,
    })
}
