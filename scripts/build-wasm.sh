#!/bin/sh
# Rebuilds src/engine/backends/wasm/kernels.wasm from native/wasm/*.c (dev-time only; the .wasm is committed).
# Needs clang + lld with the wasm32 target (Debian: apt-get install -y clang lld). No libc, no runtime.
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-clang}
OUT=src/engine/backends/wasm/kernels.wasm
mkdir -p "$(dirname "$OUT")"
# Shared imported memory (worker threads run the same module on it), atomics for the task counter, no data
# segments; the kernels do not use the shadow stack, but wasm-runtime.ts still gives each worker its own.
"$CC" --target=wasm32 -O3 -msimd128 -matomics -mbulk-memory -mmutable-globals -nostdlib -ffreestanding \
  -fno-builtin -Wall -Wextra -Wno-unused-parameter \
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--import-memory -Wl,--shared-memory \
  -Wl,--max-memory=4294967296 -Wl,-z,stack-size=65536 -Wl,--stack-first -Wl,--export=__heap_base \
  -Wl,--export=__stack_pointer \
  -o "$OUT" native/wasm/*.c
echo "built $OUT ($(wc -c < "$OUT") bytes)"
