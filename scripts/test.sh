#!/usr/bin/env bash
# Every check and every test. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "setup (npm packages for solc, OpenZeppelin, Hardhat, anvil, forge)"
scripts/setup.sh

step "guest programs: the committed guests/out/*.wasm equal a fresh build of guests/*.c"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git diff --exit-code --stat -- guests/out ||
    { echo "guests/out differs from a fresh build: commit the rebuilt files" >&2; exit 1; }
fi

step "headless Chromium for the dashboard test (Debian's chromium)"
scripts/chromium.sh >/dev/null

step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "PostgreSQL for the coordinator's storage suite (Debian's postgresql on 127.0.0.1)"
eval "$(scripts/postgres.sh start | grep '^VERITY_TEST_POSTGRES_URL=')"
export VERITY_TEST_POSTGRES_URL
trap 'scripts/postgres.sh stop' EXIT

step "tests (embedded devchain)"
cargo test --workspace

step "settlement suite against Hardhat"
scripts/hardhat-compat.sh

step "forge tests of the contracts (unit and invariant, contracts/test/)"
(cd contracts && node_modules/@foundry-rs/forge-linux-amd64/bin/forge test)
