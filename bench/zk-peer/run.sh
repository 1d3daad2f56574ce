#!/usr/bin/env bash
# The benchmark peer of crates/zk (issue 6): the sensor-aggregate circuit in circom with
# circomlib (sensor.circom), compiled with circom2 and proved with snarkjs groth16, all pinned
# in package-lock.json. Powers of tau are generated locally (no download) and cached in build/.
#
#   run.sh prove <N> <input.json>   compile, set up (cached), prove, verify one witness
#   run.sh ptau <power>             only generate the powers of tau for 2^power
#   run.sh count <N>                only compile and print the constraint count
#   run.sh check-ptau <power>       known-tau file vs snarkjs' own prepare phase2 (small power)
#
# PTAU_SOURCE selects the powers of tau:
#   known-tau (default)  !!! INSECURE, BENCHMARK ONLY !!! build/pot<p>.known-tau.ptau, written by
#                        `cargo run -p verity-zk --example ptau` from tau/alpha/beta derived from
#                        a FIXED, PUBLIC seed: anyone can forge proofs for keys made from it. It
#                        only makes the peer timeable: snarkjs' contribute + prepare phase2 (JS
#                        group FFTs) do not finish for 2^17..2^21 on the benchmark machine, and the
#                        ceremony is not what issue 6 measures (setup, witness, proving, verify).
#   ceremony             build/pot<p>.ptau from snarkjs powersoftau new + contribute + prepare
#                        phase2 (local entropy; honest, but hours at 2^17 and up).
#
# Prints key=value lines on stdout (the Rust bench driver parses them); progress on stderr.
# The input comes from `cargo run --release -p verity-zk --example bench`, which signs the same
# readings with the Rust device simulator, so the peer also cross-checks circomlib compatibility.
set -euo pipefail
cd "$(dirname "$0")"
DEPTH=10
BUILD=build
mkdir -p "$BUILD"
[ -d node_modules/snarkjs ] || npm ci --no-audit --no-fund >&2
SNARKJS="node node_modules/snarkjs/cli.js"
CIRCOM="node node_modules/circom2/cli.js"

ms() { date +%s%3N; }
log() { echo "[zk-peer] $*" >&2; }

PTAU_SOURCE=${PTAU_SOURCE:-known-tau}
case "$PTAU_SOURCE" in
  known-tau) PTAU_SUFFIX=.known-tau ;;
  ceremony) PTAU_SUFFIX= ;;
  *) echo "PTAU_SOURCE must be known-tau or ceremony, got $PTAU_SOURCE" >&2; exit 2 ;;
esac
ptau_file() { echo "$BUILD/pot$1$PTAU_SUFFIX.ptau"; }

ptau() {
  local p=$1 f; f=$(ptau_file "$1")
  echo "peer_ptau_source=$PTAU_SOURCE"
  if [ -f "$f" ]; then echo "peer_ptau_cached=$p"; return; fi
  local t0; t0=$(ms)
  if [ "$PTAU_SOURCE" = known-tau ]; then
    log "powers of tau 2^$p from a KNOWN tau (INSECURE, benchmark only): crates/zk/examples/ptau.rs"
    (cd ../.. && cargo run -q -p verity-zk --example ptau -- "$p" "bench/zk-peer/$f.tmp") >&2
    mv "$f.tmp" "$f"
    echo "peer_ptau_power=$p"
    echo "peer_ptau_known_tau_ms=$(( $(ms) - t0 ))"
    return
  fi
  log "powers of tau 2^$p: new, contribute, prepare phase2"
  $SNARKJS powersoftau new bn128 "$p" "$BUILD/pot${p}_0.ptau" >&2
  $SNARKJS powersoftau contribute "$BUILD/pot${p}_0.ptau" "$BUILD/pot${p}_1.ptau" \
    --name=verity-bench -e="verity zk bench local entropy $(date +%s%N)" >&2
  local t1; t1=$(ms)
  $SNARKJS powersoftau prepare phase2 "$BUILD/pot${p}_1.ptau" "$f.tmp" >&2
  mv "$f.tmp" "$f"
  rm -f "$BUILD/pot${p}_0.ptau" "$BUILD/pot${p}_1.ptau"
  local t2; t2=$(ms)
  echo "peer_ptau_power=$p"
  echo "peer_ptau_contribute_ms=$((t1 - t0))"
  echo "peer_ptau_prepare_ms=$((t2 - t1))"
}

check_ptau() {
  PTAU_SOURCE=known-tau PTAU_SUFFIX=.known-tau ptau "$1" > /dev/null
  node check-ptau.mjs "$(ptau_file "$1")" "$BUILD"
  rm -f "$BUILD/check_raw.ptau" "$BUILD/check_prepared.ptau"
}

compile() {
  local n=$1 main="$BUILD/main_$1.circom"
  if [ ! -f "$BUILD/main_$n.r1cs" ]; then
    printf 'pragma circom 2.0.0;\ninclude "../sensor.circom";\ncomponent main {public [inputDigest, resultDigest, binding]} = SensorAggregate(%s, %s);\n' \
      "$n" "$DEPTH" > "$main"
    log "circom2 --O2 N=$n"
    local t0; t0=$(ms)
    $CIRCOM "$main" --r1cs --wasm --O2 -o "$BUILD" -l . > "$BUILD/main_$n.compile.txt"
    echo "$(( $(ms) - t0 ))" > "$BUILD/main_$n.compile_ms"
  fi
  echo "peer_compile_ms=$(cat "$BUILD/main_$n.compile_ms")"
  local c
  c=$(grep -E '^non-linear constraints' "$BUILD/main_$n.compile.txt" | awk '{print $3}')
  echo "peer_constraints=$c"
}

power_for() {
  # smallest p with 2^p > constraints + public inputs + 1 (snarkjs' domain)
  local need=$(( $1 + 4 )) p=8
  while [ $(( 1 << p )) -lt "$need" ]; do p=$((p + 1)); done
  echo "$p"
}

prove() {
  local n=$1 input=$2
  local out; out=$(compile "$n"); echo "$out"
  local c; c=$(echo "$out" | sed -n 's/^peer_constraints=//p')
  local p; p=$(power_for "$c")
  # A larger cached ceremony serves a smaller circuit.
  local q
  for q in $(seq "$p" 28); do
    if [ -f "$(ptau_file "$q")" ]; then p=$q; break; fi
  done
  ptau "$p"
  # Keys are per powers-of-tau source: a known-tau zkey is as insecure as its ptau.
  local k="$BUILD/main_$n$PTAU_SUFFIX"
  local z="$k.zkey"
  if [ ! -f "$z" ]; then
    log "groth16 setup N=$n (2^$p)"
    local t0; t0=$(ms)
    $SNARKJS groth16 setup "$BUILD/main_$n.r1cs" "$(ptau_file "$p")" "$z.tmp" >&2
    mv "$z.tmp" "$z"
    $SNARKJS zkey export verificationkey "$z" "$k.vkey.json" >&2
    echo "$(( $(ms) - t0 ))" > "$k.setup_ms"
  fi
  echo "peer_setup_ms=$(cat "$k.setup_ms")"
  echo "peer_zkey_bytes=$(stat -c %s "$z")"
  mkdir -p "$BUILD/out_$n"
  log "prove N=$n"
  node measure.mjs "$BUILD/main_${n}_js/main_$n.wasm" "$z" "$k.vkey.json" "$input" "$BUILD/out_$n"
  if [ ! -f "$k.verifier.sol" ]; then
    $SNARKJS zkey export solidityverifier "$z" "$k.verifier.sol" >&2
  fi
  echo "peer_solidity=$(pwd)/$k.verifier.sol"
  echo "peer_calldata=$($SNARKJS zkey export soliditycalldata "$BUILD/out_$n/public.json" "$BUILD/out_$n/proof.json" | tr -d '\n ')"
}

case "${1:-}" in
  ptau) ptau "$2" ;;
  count) compile "$2" ;;
  check-ptau) check_ptau "$2" ;;
  prove) prove "$2" "$3" ;;
  *) echo "usage: [PTAU_SOURCE=known-tau|ceremony] $0 prove <N> <input.json> | ptau <power> | count <N> | check-ptau <power>" >&2; exit 2 ;;
esac
