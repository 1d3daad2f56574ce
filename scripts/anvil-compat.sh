#!/usr/bin/env bash
# Runs the settlement test suite against anvil (foundry 1.7.1, pinned in contracts/package.json
# and installed by scripts/setup.sh), started here on 127.0.0.1 and stopped on exit, as
# scripts/hardhat-compat.sh does with Hardhat. Tests run one at a time because they share the
# node's accounts and clock.
set -euo pipefail
cd "$(dirname "$0")/.."

anvil=contracts/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
if [ ! -x "$anvil" ]; then
  echo "anvil-compat: $anvil is missing; run scripts/setup.sh" >&2
  exit 1
fi
port="${VERITY_ANVIL_PORT:-18646}"
log="$(mktemp -t verity-anvil.XXXXXX.log)"
rpc_up() {
  curl -sf -X POST -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
    "http://127.0.0.1:$port" >/dev/null 2>&1
}
# Never test against a node someone else left on the port: its state is not ours.
if rpc_up; then
  echo "anvil-compat: something already answers on 127.0.0.1:$port; stop it or set VERITY_ANVIL_PORT" >&2
  exit 1
fi
# The harness's mnemonic is anvil's default; it uses 21 accounts (anvil's default is 10). Chain
# id 31337 as Hardhat and the devchain, so the suite's chain checks are the same.
"$anvil" --host 127.0.0.1 --port "$port" --accounts 21 --balance 1000000 --chain-id 31337 \
  --mnemonic "test test test test test test test test test test test junk" >"$log" 2>&1 &
anvil_pid=$!
cleanup() {
  kill "$anvil_pid" 2>/dev/null || true
  wait "$anvil_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 1 60); do
  if rpc_up; then
    break
  fi
  if ! kill -0 "$anvil_pid" 2>/dev/null; then
    echo "anvil-compat: anvil exited early:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 0.5
done
echo "anvil-compat: $(curl -s -X POST -H 'content-type: application/json' \
  --data '{"jsonrpc":"2.0","id":1,"method":"web3_clientVersion","params":[]}' "http://127.0.0.1:$port")" >&2

VERITY_TEST_RPC="http://127.0.0.1:$port" VERITY_MODEL_STEPS="${VERITY_ANVIL_MODEL_STEPS:-2000}" \
  cargo test -p verity-settlement --test it -- --test-threads=1
