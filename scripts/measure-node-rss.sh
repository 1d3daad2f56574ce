#!/usr/bin/env bash
# Idle resident memory of `verity node run` (registered, staked, polling an idle devnet), with
# the devnet process measured in the same run as the peer. Prints both in MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p verity-cli
bin=target/release/verity
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" devnet --nodes 0 --port 0 --json --log warn >"$dir/devnet.json" &
devnet=$!
for _ in $(seq 1 100); do [ -s "$dir/devnet.json" ] && break; sleep 0.1; done
rpc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rpcUrl"])' "$dir/devnet.json")
python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
accounts = json.load(open(f"{d}/devnet.json"))["accounts"]
for name, i in (("operator", 5), ("node", 6)):
    path = f"{d}/{name}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, (accounts[i]["privateKey"] + "\n").encode())
    os.close(fd)
PY
"$bin" node run --log warn --rpc-url "$rpc" --deployment "$dir/devnet.json" --data-dir "$dir/data" \
  --operator-key "$dir/operator.key" --node-key "$dir/node.key" --metrics-listen 127.0.0.1:0 &
node=$!
sleep "${IDLE_SECS:-20}"
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
echo "node_idle_rss_mib=$(rss $node) devnet_rss_mib=$(rss $devnet) idle_secs=${IDLE_SECS:-20}"
