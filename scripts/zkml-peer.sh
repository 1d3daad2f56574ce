#!/usr/bin/env bash
# The zkML benchmark's Python side: a venv with numpy, onnx, onnxruntime and EZKL (PyPI), the
# ONNX models, and the EZKL peer.
#
#   scripts/zkml-peer.sh setup              # venv (in $ZKML_VENV, default target/zkml-venv)
#   scripts/zkml-peer.sh vectors            # regenerate crates/zkml/tests/vectors (committed)
#   scripts/zkml-peer.sh models [DIR]       # benchmark models (default target/zkml-models)
#   scripts/zkml-peer.sh ezkl [DIR] [names] # EZKL on them, one JSON object per model
#   scripts/zkml-peer.sh bench [DIR]        # models, verity's bench_zkml --json, then EZKL
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${ZKML_VENV:-$root/target/zkml-venv}"
py="$venv/bin/python"
cmd="${1:-bench}"
shift || true
dir="${1:-$root/target/zkml-models}"
[ $# -gt 0 ] && shift

setup() {
  if [ ! -x "$py" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0 ezkl==23.0.5
}

case "$cmd" in
  setup) setup ;;
  vectors) setup; "$py" "$root/bench/zkml/make_models.py" "$root/crates/zkml/tests/vectors" --tiny ;;
  models) setup; "$py" "$root/bench/zkml/make_models.py" "$dir" --bench ;;
  ezkl) setup; "$py" "$root/bench/zkml/ezkl_peer.py" "$dir" "$@" ;;
  bench)
    setup
    "$py" "$root/bench/zkml/make_models.py" "$dir" --bench
    (cd "$root/bench/zkml" && npm install --no-audit --no-fund >/dev/null)
    (cd "$root" && cargo run -q -p verity-zkml --release --example bench_zkml -- --models "$dir" --json)
    "$py" "$root/bench/zkml/ezkl_peer.py" "$dir" "$@"
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
