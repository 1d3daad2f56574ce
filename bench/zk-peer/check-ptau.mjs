// Cross-checks a prepared .ptau written by `cargo run -p verity-zk --example ptau` (KNOWN tau:
// insecure, benchmark only) against snarkjs itself: copies its raw sections 1..7 into a new
// file, lets snarkjs `powersoftau prepare phase2` compute the Lagrange sections 12..15 with its
// own group FFTs, and requires them byte-identical to the tool's. Feasible only for small powers
// (the JS FFTs are the very reason the tool exists).
// Usage: node check-ptau.mjs <prepared.ptau> <workdir>
import { readFileSync, writeFileSync } from "node:fs";
import * as snarkjs from "snarkjs";

const [path, work] = process.argv.slice(2);
const file = readFileSync(path);

function sections(buf) {
  if (buf.toString("latin1", 0, 4) !== "ptau") throw new Error(`${path}: not a ptau file`);
  const n = buf.readUInt32LE(8);
  const out = new Map();
  let pos = 12;
  for (let i = 0; i < n; i++) {
    const id = buf.readUInt32LE(pos);
    const size = Number(buf.readBigUInt64LE(pos + 4));
    out.set(id, buf.subarray(pos + 12, pos + 12 + size));
    pos += 12 + size;
  }
  if (pos !== buf.length) throw new Error(`${path}: ${buf.length - pos} trailing bytes`);
  return out;
}

function write(name, secs) {
  const parts = [Buffer.from("ptau"), u32(1), u32(secs.size)];
  for (const [id, body] of secs) {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(body.length));
    parts.push(u32(id), len, body);
  }
  writeFileSync(name, Buffer.concat(parts));
}

function u32(x) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(x);
  return b;
}

const ours = sections(file);
const raw = new Map([...ours].filter(([id]) => id <= 7));
write(`${work}/check_raw.ptau`, raw);
const t = Date.now();
await snarkjs.powersOfTau.preparePhase2(`${work}/check_raw.ptau`, `${work}/check_prepared.ptau`);
const theirs = sections(readFileSync(`${work}/check_prepared.ptau`));
let ok = true;
for (const id of [12, 13, 14, 15]) {
  const a = ours.get(id);
  const b = theirs.get(id);
  const same = a !== undefined && b !== undefined && Buffer.compare(a, b) === 0;
  console.log(`section ${id}: ours ${a?.length} bytes, snarkjs ${b?.length} bytes, identical=${same}`);
  ok = ok && same;
}
console.log(`prepare_phase2_ms=${Date.now() - t}`);
console.log(`ptau_matches_snarkjs=${ok}`);
process.exit(ok ? 0 : 1);
