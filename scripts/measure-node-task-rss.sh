#!/usr/bin/env bash
# Peak resident memory of a `verity node run` process while it executes one task: a devnet with
# one node, then the sort guest over a 16 MiB input (4 Mi random u32) with the SDK's default
# limits (memory 64 MiB). Prints the node's idle VmRSS, its peak VmHWM, and the budget (the
# task's memory limit + 64 MiB), in MiB. BIN picks the binary (default: the debug build that
# `cargo run` makes).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BIN:-}" ]; then
  cargo build -q -p verity-cli
  BIN="${CARGO_TARGET_DIR:-target}/debug/verity"
fi
dir=$(mktemp -d)
trap 'kill -TERM $(jobs -p) 2>/dev/null || true; sleep 2; rm -rf "$dir"' EXIT
"$BIN" devnet --nodes 1 --tasks 0 --port 0 --coordinator-port 0 --gateway-port 0 --json \
  --log warn --dir "$dir/net" >"$dir/devnet.out" 2>"$dir/devnet.err" &
for _ in $(seq 1 600); do grep -q "devnet up" "$dir/devnet.err" 2>/dev/null && break; sleep 0.1; done
grep -q "devnet up" "$dir/devnet.err" || { cat "$dir/devnet.err"; exit 1; }
rpc=$(head -1 "$dir/devnet.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rpcUrl"])')
key=$(head -1 "$dir/devnet.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accounts"][1]["privateKey"])')
gateway=$(sed -n 's/.*gateway \(http[^;]*\);.*/\1/p' "$dir/devnet.err" | head -1)
node=$(cat "$dir/net/node-1/node.pid")
python3 -c 'import os,sys; sys.stdout.buffer.write(os.urandom(16 << 20))' >"$dir/sort.in"
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
idle=$(kib "$node" VmRSS)
"$BIN" task submit --log warn --rpc-url "$rpc" --deployment "$dir/net/deployment.json" \
  --gateway "$gateway" --private-key "$key" --program guests/out/sort.wasm --input "$dir/sort.in" \
  --mode optimistic --challenge-window 2 --wait --timeout-secs 300 >"$dir/task.out"
peak=$(kib "$node" VmHWM)
cat "$dir/task.out" >&2
awk -v i="$idle" -v p="$peak" 'BEGIN { printf "node_idle_rss_mib=%.1f node_peak_hwm_mib=%.1f budget_mib=128.0\n", i/1024, p/1024 }'
