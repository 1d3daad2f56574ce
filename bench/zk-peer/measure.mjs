// Proves and verifies one witness with snarkjs in this process and prints key=value lines:
// witness time, proving time (wall and process CPU), verification time (warm curve, median of
// 5), peak RSS.
// Usage: node measure.mjs <circuit.wasm> <circuit.zkey> <vkey.json> <input.json> <outdir>
import { readFileSync, writeFileSync } from "node:fs";
import * as snarkjs from "snarkjs";

const [wasm, zkey, vkeyPath, inputPath, outdir] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputPath, "utf8"));
const vkey = JSON.parse(readFileSync(vkeyPath, "utf8"));

// Build the curve first so that its one-time setup is not billed to witness or proof.
const curve = await snarkjs.curves.getCurveFromName("bn128");

const now = () => Number(process.hrtime.bigint()) / 1e6;
// CPU time (user + system) of the whole process, worker threads included, in ms.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
const wtns = { type: "mem" };
let t = now();
let c = cpuMs();
await snarkjs.wtns.calculate(input, wasm, wtns);
const witnessMs = now() - t;
const witnessCpuMs = cpuMs() - c;
t = now();
c = cpuMs();
const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtns);
const proveMs = now() - t;
const proveCpuMs = cpuMs() - c;
const peakKb = process.resourceUsage().maxRSS;

const times = [];
let ok = true;
for (let i = 0; i < 5; i++) {
  t = now();
  ok = ok && (await snarkjs.groth16.verify(vkey, publicSignals, proof));
  times.push(now() - t);
}
times.sort((a, b) => a - b);
writeFileSync(`${outdir}/proof.json`, JSON.stringify(proof));
writeFileSync(`${outdir}/public.json`, JSON.stringify(publicSignals));
console.log(`peer_witness_ms=${witnessMs.toFixed(1)}`);
console.log(`peer_prove_ms=${proveMs.toFixed(1)}`);
console.log(`peer_witness_cpu_ms=${witnessCpuMs.toFixed(0)}`);
console.log(`peer_prove_cpu_ms=${proveCpuMs.toFixed(0)}`);
console.log(`peer_prove_peak_kb=${peakKb}`);
console.log(`peer_verify_ms=${times[2].toFixed(2)}`);
console.log(`peer_verified=${ok}`);
console.log(`peer_public=${publicSignals.join(",")}`);
await curve.terminate();
process.exit(ok ? 0 : 1);
