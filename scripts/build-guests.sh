#!/usr/bin/env bash
# Builds the example guest programs in guests/*.c into guests/out/*.wasm.
# Needs clang and wasm-ld (Debian: `clang lld`); installs them with apt-get when missing.
# The executor's tests and benchmarks load guests/out/*.wasm. The built files are committed so
# that `verity devnet` can embed them without a C toolchain; scripts/test.sh rebuilds them and
# fails if they differ from the committed ones.
set -euo pipefail
cd "$(dirname "$0")/.."

CC="${CC:-clang}"

if ! command -v "$CC" >/dev/null || ! command -v wasm-ld >/dev/null; then
    echo "build-guests: installing clang and lld with apt-get" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang lld >&2
fi

# -ffreestanding -nostdlib: no libc, so no hidden imports; the only imports are the "verity"
#   ones declared in guests/include/verity.h.
# -mbulk-memory: memcpy/memset lower to memory.copy/memory.fill (metered per byte).
# -msimd128: fixed-width SIMD (deterministic; the executor canonicalizes NaNs). Never
#   -mrelaxed-simd: the executor rejects it.
# --no-entry --export=run: a reactor-style module whose entry point is `run`.
CFLAGS=(--target=wasm32 -O3 -ffreestanding -nostdlib -mbulk-memory -msimd128
    -Wall -Wextra -Werror -Iguests/include)
LDFLAGS=(-Wl,--no-entry -Wl,--export=run -Wl,-z,stack-size=65536 -Wl,--strip-all)

mkdir -p guests/out
for src in guests/*.c; do
    name="$(basename "$src" .c)"
    "$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "guests/out/$name.wasm" "$src"
    echo "build-guests: guests/out/$name.wasm ($(wc -c <"guests/out/$name.wasm") bytes)" >&2
done
