#!/usr/bin/env bash
# Every check and every test. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "setup (npm packages for solc, OpenZeppelin, Hardhat)"
scripts/setup.sh

step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "tests (embedded devchain)"
cargo test --workspace

step "settlement suite against Hardhat"
scripts/hardhat-compat.sh
