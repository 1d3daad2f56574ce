// Compiles one Solidity source read from stdin with the pinned solc (same settings as
// contracts/scripts/compile.js) and prints the creation bytecode of contract argv[2] as hex.
// Used by `cargo run -p verity-zkml --release --example bench_zkml` to deploy the verifier it
// generates for each benchmark model on the devchain and measure the verification gas.
const solc = require('solc');

const name = process.argv[2];
const source = require('fs').readFileSync(0, 'utf8');
const input = {
  language: 'Solidity',
  sources: { [`${name}.sol`]: { content: source } },
  settings: {
    optimizer: { enabled: true, runs: 500 },
    evmVersion: 'cancun',
    viaIR: true,
    outputSelection: { '*': { '*': ['evm.bytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
process.stdout.write(output.contracts[`${name}.sol`][name].evm.bytecode.object);
