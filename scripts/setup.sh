#!/usr/bin/env bash
# Installs what the tests need beyond cargo: the pinned solc, OpenZeppelin and Hardhat from npm
# (contracts/package-lock.json), and the example WASM guests built from source. Idempotent.
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

# The example guest programs (C -> wasm32 with Debian's clang + lld, installed if missing).
scripts/build-guests.sh
