#!/usr/bin/env node
// forge's compiler: the project's pinned solcjs (node_modules/solc) behind the two parts of the
// native `solc` command line forge uses, `--version` and `--standard-json` (input on stdin,
// output on stdout). forge cannot download a native solc here, and this keeps one compiler for
// the deployed artifacts (scripts/compile.js) and the forge tests. Other flags forge passes
// (`--allow-paths`, `--base-path`, `--include-path`) only widen where imports may be read from;
// imports are resolved from those and the working directory.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);
if (args.includes('--version')) {
  // The shape of native solc's answer; forge reads the version from the `Version:` line.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('solc-forge: only --version and --standard-json are supported\n');
  process.exit(2);
}
const roots = [process.cwd()];
for (const flag of ['--base-path', '--include-path', '--allow-paths']) {
  args.forEach((a, i) => {
    if (a === flag && args[i + 1]) roots.push(...args[i + 1].split(','));
  });
}
function findImport(p) {
  for (const base of [''].concat(roots)) {
    const full = base ? path.resolve(base, p) : p;
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
  }
  return { error: `import not found: ${p}` };
}
const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImport }));
