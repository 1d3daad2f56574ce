#!/usr/bin/env python3
"""Builds the int8 ONNX models of verity-zkml, their float twins and onnxruntime test vectors.

Quantization is done here, by hand, with power-of-two scales (QOperator form: QLinearMatMul,
QLinearConv, int8 MaxPool, Flatten), so that onnxruntime's float requantization
`round_half_even(float(acc) * scale)` is exact and the Rust reference (fixed-point multiplier
and shift) must match it bit for bit. Weights are kept in [-63, 63] (7 bits): onnxruntime's
x86 u8s8 kernels without VNNI can saturate int16 pair sums with full 8-bit weights.

Usage: make_models.py OUT_DIR [--tiny] [--bench]
  --tiny   the small models and vectors committed under crates/zkml/tests/vectors
  --bench  the benchmark models (MLPs of ~100k, 1M, 4M parameters and a CNN), not committed
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
X_SCALE_EXP = 4  # input scale 2^-4
W_SCALE_EXP = 6  # weight scale 2^-6


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


class Builder:
    def __init__(self, name, rng):
        self.name = name
        self.rng = rng
        self.nodes = []
        self.inits = []
        self.float_nodes = []
        self.float_inits = []
        self.n = 0
        self.params = 0

    def fresh(self, p):
        self.n += 1
        return f"{p}{self.n}"

    def scalar(self, name, scale_exp, zp):
        s = self.fresh(name + "_scale")
        z = self.fresh(name + "_zp")
        self.inits.append(const(s, np.float32(2.0 ** -scale_exp)))
        self.inits.append(const(z, np.int8(zp)))
        return s, z


def calibrate_shift(acc):
    """Smallest shift s with max|acc| / 2^s <= 96 (about three quarters of the int8 range)."""
    m = float(np.max(np.abs(acc))) if acc.size else 1.0
    s = 0
    while m / (2 ** s) > 96:
        s += 1
    return s


def build(name, layers, in_shape, rng, calib):
    """layers: list of ("dense", out, relu) | ("conv", out_ch, k, pad, relu) | ("maxpool", k) | ("flatten",).

    Returns (int8 model, float twin, parameter count). Scales are exponents e: scale = 2^-e.
    """
    nodes, inits, fnodes, finits = [], [], [], []
    cur, fcur = "x", "xf"
    cur_exp, cur_zp = X_SCALE_EXP, 0
    fnodes_pre = []
    # float twin input: dequantized float input
    x = calib.astype(np.int32)  # calibration activations (int8 values) to choose shifts
    shape = list(in_shape)
    params = 0
    for li, layer in enumerate(layers):
        kind = layer[0]
        p = f"l{li}_"
        if kind == "dense":
            _, out, relu = layer
            fan_in = shape[-1]
            w = rng.integers(-63, 64, size=(fan_in, out)).astype(np.int8)
            params += w.size
            acc = (x - cur_zp) @ w.astype(np.int32)
            s = calibrate_shift(acc)
            y_exp = cur_exp + W_SCALE_EXP - s
            y_zp = -128 if relu else 0
            names = [p + n for n in ("xs", "xz", "w", "ws", "wz", "ys", "yz")]
            inits += [
                const(names[0], np.float32(2.0 ** -cur_exp)), const(names[1], np.int8(cur_zp)),
                const(names[2], w), const(names[3], np.float32(2.0 ** -W_SCALE_EXP)),
                const(names[4], np.int8(0)), const(names[5], np.float32(2.0 ** -y_exp)),
                const(names[6], np.int8(y_zp)),
            ]
            out_name = p + "y"
            nodes.append(helper.make_node("QLinearMatMul", [cur, names[0], names[1], names[2], names[3], names[4], names[5], names[6]], [out_name], name=p + "qmatmul"))
            y = np.clip(np.round(acc / 2.0 ** s) + y_zp, -128, 127)  # numpy rounds half to even
            # float twin
            finits.append(const(p + "wf", (w.astype(np.float32) * 2.0 ** -W_SCALE_EXP)))
            fout = p + "yf"
            fnodes.append(helper.make_node("MatMul", [fcur, p + "wf"], [fout + ("_pre" if relu else "")]))
            if relu:
                fnodes.append(helper.make_node("Relu", [fout + "_pre"], [fout]))
            fcur = fout
            x, cur, cur_exp, cur_zp = y.astype(np.int32), out_name, y_exp, y_zp
            shape = shape[:-1] + [out]
        elif kind == "conv":
            _, out_ch, k, pad, relu = layer
            n, c, h, wdt = shape
            w = rng.integers(-63, 64, size=(out_ch, c, k, k)).astype(np.int8)
            b = rng.integers(-2000, 2001, size=(out_ch,)).astype(np.int32)
            params += w.size + b.size
            acc = conv_int(x - cur_zp, w.astype(np.int32), b, pad)
            s = calibrate_shift(acc)
            y_exp = cur_exp + W_SCALE_EXP - s
            y_zp = -128 if relu else 0
            names = [p + n for n in ("xs", "xz", "w", "ws", "wz", "ys", "yz", "b")]
            inits += [
                const(names[0], np.float32(2.0 ** -cur_exp)), const(names[1], np.int8(cur_zp)),
                const(names[2], w), const(names[3], np.float32(2.0 ** -W_SCALE_EXP)),
                const(names[4], np.int8(0)), const(names[5], np.float32(2.0 ** -y_exp)),
                const(names[6], np.int8(y_zp)), const(names[7], b),
            ]
            out_name = p + "y"
            nodes.append(helper.make_node("QLinearConv", [cur] + names[:6] + [names[6], names[7]], [out_name], name=p + "qconv", pads=[pad] * 4, kernel_shape=[k, k], strides=[1, 1]))
            y = np.clip(np.round(acc / 2.0 ** s) + y_zp, -128, 127)
            finits.append(const(p + "wf", w.astype(np.float32) * 2.0 ** -W_SCALE_EXP))
            finits.append(const(p + "bf", b.astype(np.float32) * 2.0 ** -(cur_exp + W_SCALE_EXP)))
            fout = p + "yf"
            fnodes.append(helper.make_node("Conv", [fcur, p + "wf", p + "bf"], [fout + ("_pre" if relu else "")], pads=[pad] * 4, kernel_shape=[k, k]))
            if relu:
                fnodes.append(helper.make_node("Relu", [fout + "_pre"], [fout]))
            fcur = fout
            x, cur, cur_exp, cur_zp = y.astype(np.int32), out_name, y_exp, y_zp
            shape = [shape[0], out_ch, h + 2 * pad - k + 1, wdt + 2 * pad - k + 1]
        elif kind == "maxpool":
            _, k = layer
            n, c, h, wdt = shape
            n = x.shape[0]
            out_name = p + "y"
            nodes.append(helper.make_node("MaxPool", [cur], [out_name], kernel_shape=[k, k], strides=[k, k]))
            fnodes.append(helper.make_node("MaxPool", [fcur], [p + "yf"], kernel_shape=[k, k], strides=[k, k]))
            x = x[:, :, : h // k * k, : wdt // k * k].reshape(n, c, h // k, k, wdt // k, k).max(axis=(3, 5))
            cur, fcur = out_name, p + "yf"
            shape = [shape[0], c, h // k, wdt // k]
        elif kind == "flatten":
            out_name = p + "y"
            nodes.append(helper.make_node("Flatten", [cur], [out_name], axis=1))
            fnodes.append(helper.make_node("Flatten", [fcur], [p + "yf"], axis=1))
            x = x.reshape(x.shape[0], -1)
            cur, fcur = out_name, p + "yf"
            shape = [shape[0], int(np.prod(shape[1:]))]
        else:
            raise ValueError(kind)
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.INT8, list(in_shape))],
        [helper.make_tensor_value_info(cur, TensorProto.INT8, shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="verity-zkml make_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    fin = [helper.make_tensor_value_info("xf", TensorProto.FLOAT, list(in_shape))]
    fgraph = helper.make_graph(fnodes, name + "_float", fin, [helper.make_tensor_value_info(fcur, TensorProto.FLOAT, shape)], finits)
    fmodel = helper.make_model(fgraph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="verity-zkml make_models.py")
    fmodel.ir_version = 8
    onnx.checker.check_model(fmodel)
    return model, fmodel, params


def conv_int(x, w, b, pad):
    n, c, h, wd = x.shape
    oc, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    cols = np.empty((n, c * k * k, oh * ow), dtype=np.int64)
    idx = 0
    for ci in range(c):
        for i in range(k):
            for j in range(k):
                cols[:, idx, :] = xp[:, ci, i:i + oh, j:j + ow].reshape(n, -1)
                idx += 1
    out = np.einsum("ok,nkp->nop", w.reshape(oc, -1).astype(np.int64), cols) + b[None, :, None]
    return out.reshape(n, oc, oh, ow)


MODELS = {
    # name: (layers, input shape)
    "mlp_tiny": ([("dense", 8, True), ("dense", 4, False)], [1, 16]),
    "cnn_tiny": ([("conv", 2, 3, 1, True), ("maxpool", 2), ("flatten",), ("dense", 4, False)], [1, 1, 6, 6]),
    "mlp_100k": ([("dense", 256, True), ("dense", 128, True), ("dense", 64, True), ("dense", 10, False)], [1, 256]),
    "mlp_1m": ([("dense", 1024, True), ("dense", 192, True), ("dense", 10, False)], [1, 784]),
    "mlp_4m": ([("dense", 1536, True), ("dense", 512, True), ("dense", 10, False)], [1, 2048]),
    "cnn": ([("conv", 8, 3, 1, True), ("maxpool", 2), ("conv", 16, 3, 1, True), ("maxpool", 2), ("flatten",), ("dense", 256, True), ("dense", 10, False)], [1, 1, 28, 28]),
}
TINY = ["mlp_tiny", "cnn_tiny"]
BENCH = ["mlp_100k", "mlp_1m", "mlp_4m", "cnn"]


def make(name, out, vectors):
    layers, in_shape = MODELS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    calib = rng.integers(-128, 128, size=[64] + in_shape[1:]).astype(np.int8)
    model, fmodel, params = build(name, layers, in_shape, rng, calib)
    onnx.save(model, out / f"{name}.onnx")
    onnx.save(fmodel, out / f"{name}.float.onnx")
    meta = {"model": name, "params": params, "input_shape": in_shape}
    if vectors:
        sess = ort.InferenceSession(str(out / f"{name}.onnx"), providers=["CPUExecutionProvider"])
        cases = []
        for _ in range(vectors):
            x = rng.integers(-128, 128, size=in_shape).astype(np.int8)
            (y,) = sess.run(None, {"x": x})
            cases.append({"input": x.flatten().tolist(), "output": y.flatten().tolist()})
        meta["cases"] = cases
        meta["onnxruntime"] = ort.__version__
    (out / f"{name}.json").write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    print(json.dumps({"model": name, "params": params}), file=sys.stderr)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    if "--tiny" in sys.argv:
        for n in TINY:
            make(n, out, vectors=16)
    if "--bench" in sys.argv:
        for n in BENCH:
            make(n, out, vectors=1)


if __name__ == "__main__":
    main()
