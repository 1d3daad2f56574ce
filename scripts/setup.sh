#!/usr/bin/env bash
# Installs what the tests need beyond cargo: the pinned solc, OpenZeppelin, Hardhat, and
# foundry's anvil and forge from npm (contracts/package-lock.json), and the example WASM guests
# built from source. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: Node.js and npm are required for the contract checks (apt-get install nodejs npm)" >&2
  exit 1
fi
# Reinstall only when the lock file changed since the last install (the stamp is a copy of it).
stamp=contracts/node_modules/.verity-installed-lock
if ! cmp -s contracts/package-lock.json "$stamp" 2>/dev/null; then
  echo "setup: installing contracts/ npm packages (pinned by package-lock.json)" >&2
  (cd contracts && npm ci --no-audit --no-fund --loglevel=error)
  cp contracts/package-lock.json "$stamp"
fi
# anvil and forge 1.7.1 are npm packages that carry the binary itself (no install script runs:
# they declare none). Fail here, not in the middle of a test step, if one is missing or broken.
for tool in anvil forge; do
  bin="contracts/node_modules/@foundry-rs/$tool-linux-amd64/bin/$tool"
  if ! "$bin" --version >/dev/null 2>&1; then
    echo "setup: $bin does not run (foundry's npm packages are linux-amd64 only)" >&2
    exit 1
  fi
done

# The example guest programs (C -> wasm32 with Debian's clang + lld, installed if missing).
scripts/build-guests.sh
