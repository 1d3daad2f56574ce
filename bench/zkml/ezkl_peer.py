#!/usr/bin/env python3
"""EZKL (Halo2, KZG) on the verity-zkml benchmark models, printing the bench_zkml JSON fields.

Usage: ezkl_peer.py MODELS_DIR [name ...]

Visibility matches verity's public-weights path: input public, output public, weights fixed
(constants of the circuit). EZKL loads the int8 QLinear* graphs only if its ONNX front end
supports them; otherwise it gets the float twin written by make_models.py (same layers, the
same weights dequantized, float Relu) and the object says so in "onnx". The SRS is made locally
with gen_srs (insecure, as verity's deterministic setup is); setup is timed apart from proving.
On-chain gas is not measured for EZKL (its verifier generator needs a native solc).
"""
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import ezkl
import numpy as np


def run(x):
    """Some EZKL calls return awaitables depending on the version."""
    if asyncio.iscoroutine(x) or isinstance(x, asyncio.Future):
        return asyncio.get_event_loop().run_until_complete(x)
    return x


def peak_rss_mib():
    try:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    except Exception:  # noqa: BLE001
        return None


def bench(models, name, work):
    meta = json.loads((models / f"{name}.json").read_text())
    shape = meta["input_shape"]
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, size=shape).astype(np.int8)
    out = {"model": name, "params": meta["params"], "system": "ezkl-" + ezkl.__version__}
    d = work / name
    d.mkdir(parents=True, exist_ok=True)
    args = ezkl.PyRunArgs()
    args.input_visibility = "public"
    args.output_visibility = "public"
    args.param_visibility = "fixed"
    chosen = None
    for onnx_name, data in ((f"{name}.onnx", x.astype(np.float32)),
                            (f"{name}.float.onnx", x.astype(np.float32) * 2.0 ** -4)):
        model = str(models / onnx_name)
        data_path = d / "input.json"
        data_path.write_text(json.dumps({"input_data": [data.flatten().tolist()]}))
        try:
            settings = str(d / "settings.json")
            ezkl.gen_settings(model, settings, py_run_args=args)
            run(ezkl.calibrate_settings(str(data_path), model, settings, "resources", scales=[4]))
            compiled = str(d / "model.compiled")
            ezkl.compile_circuit(model, compiled, settings)
            chosen = onnx_name
            break
        except Exception as e:  # noqa: BLE001
            out.setdefault("errors", []).append(f"{onnx_name}: {str(e)[:200]}")
    if chosen is None:
        return out
    out["onnx"] = chosen
    s = json.loads(Path(settings).read_text())
    logrows = s["run_args"]["logrows"]
    out["logrows"] = logrows
    srs = str(d / f"kzg{logrows}.srs")
    t = time.time()
    ezkl.gen_srs(srs, logrows)
    out["srs_ms"] = round((time.time() - t) * 1e3)
    vk, pk = str(d / "vk.key"), str(d / "pk.key")
    t = time.time()
    run(ezkl.setup(compiled, vk, pk, srs))
    out["setup_ms"] = round((time.time() - t) * 1e3)
    witness = str(d / "witness.json")
    t = time.time()
    run(ezkl.gen_witness(str(data_path), compiled, witness))
    witness_ms = (time.time() - t) * 1e3
    proof = str(d / "proof.json")
    t = time.time()
    run(ezkl.prove(witness, compiled, pk, proof, srs))
    prove_ms = (time.time() - t) * 1e3
    out["prove_ms"] = round(prove_ms + witness_ms, 1)
    out["witness_ms"] = round(witness_ms, 1)
    t = time.time()
    ok = run(ezkl.verify(proof, settings, vk, srs))
    out["verify_ms"] = round((time.time() - t) * 1e3, 3)
    out["verified"] = bool(ok)
    p = json.loads(Path(proof).read_text())
    raw = p.get("proof")
    if isinstance(raw, str):
        out["proof_bytes"] = len(bytes.fromhex(raw.removeprefix("0x")))
    elif isinstance(raw, list):
        out["proof_bytes"] = len(raw)
    else:
        out["proof_bytes"] = os.path.getsize(proof)
    out["verify_gas"] = None
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def main():
    models = Path(sys.argv[1])
    names = sys.argv[2:] or ["mlp_100k", "mlp_1m", "mlp_4m", "cnn"]
    work = Path(os.environ.get("EZKL_WORK", models / "ezkl"))
    for name in names:
        print(json.dumps(bench(models, name, work)), flush=True)


if __name__ == "__main__":
    main()
