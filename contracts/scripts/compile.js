#!/usr/bin/env node
// Compiles every contract under src/ with the pinned solc from npm and writes one artifact per
// deployable contract to out/<Name>.json (abi, bytecode, deployedBytecode, compiler).
// `--check` compiles into memory and fails if the committed artifacts differ: CI runs it so the
// artifacts that `cargo build` embeds never drift from the sources.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const OUT = path.join(ROOT, 'out');
// The contracts whose artifacts the Rust side uses.
const ARTIFACTS = ['NodeRegistry', 'TaskMarket', 'DisputeCourt', 'VerifierRegistry', 'TestToken', 'MockResultVerifier',
  // issue 6: generated Groth16 verifier(s) and the IResultVerifier adapter (src/zk/).
  'SensorGroth16VerifierN16', 'SensorGroth16VerifierN64', 'SensorGroth16VerifierN256', 'SensorAggregateVerifier',
  // issue 15: the timelock that owns every contract (OpenZeppelin's TimelockController).
  'VerityTimelock',
  // issue 20: TEE attestation (enclave keys vouched by k-of-n attestors) and its result verifier.
  'EnclaveRegistry', 'TeeResultVerifier'];

function listSources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listSources(p);
    return e.name.endsWith('.sol') ? [p] : [];
  }).sort();
}

function findImport(importPath) {
  for (const base of [ROOT, path.join(ROOT, 'node_modules')]) {
    const p = path.join(base, importPath);
    if (fs.existsSync(p)) return { contents: fs.readFileSync(p, 'utf8') };
  }
  return { error: `import not found: ${importPath}` };
}

function compile() {
  const sources = {};
  for (const file of listSources(SRC)) {
    sources[path.relative(ROOT, file)] = { content: fs.readFileSync(file, 'utf8') };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 500 },
      evmVersion: 'cancun',
      viaIR: true,
      metadata: { bytecodeHash: 'none' },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  for (const e of output.errors || []) process.stderr.write(e.formattedMessage + '\n');
  if (errors.length) throw new Error(`solc reported ${errors.length} error(s)`);

  const artifacts = {};
  for (const [sourceName, contracts] of Object.entries(output.contracts)) {
    for (const [name, c] of Object.entries(contracts)) {
      if (!ARTIFACTS.includes(name)) continue;
      artifacts[name] = JSON.stringify({
        contractName: name,
        sourceName,
        compiler: `solc ${solc.version()}`,
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      }, null, 2) + '\n';
    }
  }
  for (const name of ARTIFACTS) {
    if (!artifacts[name]) throw new Error(`no artifact produced for ${name}`);
  }
  return artifacts;
}

function main() {
  const check = process.argv.includes('--check');
  const artifacts = compile();
  let drift = 0;
  for (const [name, text] of Object.entries(artifacts)) {
    const file = path.join(OUT, `${name}.json`);
    const size = (JSON.parse(text).deployedBytecode.length - 2) / 2;
    if (check) {
      const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
      if (current !== text) {
        process.stderr.write(`drift: out/${name}.json differs from a fresh compile of the sources\n`);
        drift++;
      }
    } else {
      fs.mkdirSync(OUT, { recursive: true });
      fs.writeFileSync(file, text);
      process.stderr.write(`wrote out/${name}.json (${size} bytes deployed)\n`);
    }
  }
  if (drift) {
    process.stderr.write('run `npm run build` in contracts/ and commit out/\n');
    process.exit(1);
  }
  if (check) process.stderr.write(`artifacts match sources (${Object.keys(artifacts).length} contracts, solc ${solc.version()})\n`);
}

main();
