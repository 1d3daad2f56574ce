#!/usr/bin/env bash
# Runs the settlement test suite against a real third-party node: Hardhat 2 (pinned in
# contracts/package.json), started here on 127.0.0.1 and stopped on exit. Tests run one at a time
# because they share the node's accounts and clock.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${VERITY_HARDHAT_PORT:-18645}"
log="$(mktemp -t verity-hardhat.XXXXXX.log)"
export HARDHAT_DISABLE_TELEMETRY_PROMPT=true
rpc_up() {
  curl -sf -X POST -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
    "http://127.0.0.1:$port" >/dev/null 2>&1
}
# Never test against a node someone else left on the port: its state is not ours.
if rpc_up; then
  echo "hardhat-compat: something already answers on 127.0.0.1:$port; stop it or set VERITY_HARDHAT_PORT" >&2
  exit 1
fi
# `exec` of the package's bin (a node script) makes $! the Hardhat process itself; through
# `npx` it would be npx's, and killing npx leaves Hardhat running.
(cd contracts && exec ./node_modules/.bin/hardhat node --hostname 127.0.0.1 --port "$port") >"$log" 2>&1 &
hardhat_pid=$!
cleanup() {
  kill "$hardhat_pid" 2>/dev/null || true
  wait "$hardhat_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 1 60); do
  if rpc_up; then
    break
  fi
  if ! kill -0 "$hardhat_pid" 2>/dev/null; then
    echo "hardhat-compat: Hardhat exited early:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 1
done
echo "hardhat-compat: $(curl -s -X POST -H 'content-type: application/json' \
  --data '{"jsonrpc":"2.0","id":1,"method":"web3_clientVersion","params":[]}' "http://127.0.0.1:$port")" >&2

# The stateful model test takes fewer steps here: Hardhat is ~10x slower per call than the
# devchain, and the full 10k steps already run against the devchain.
VERITY_TEST_RPC="http://127.0.0.1:$port" VERITY_MODEL_STEPS="${VERITY_HARDHAT_MODEL_STEPS:-400}" \
  cargo test -p verity-settlement --test it -- --test-threads=1
