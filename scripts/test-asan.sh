#!/bin/sh
# Runs the test suite against an AddressSanitizer build of the native kernels (dev-time check, not part of CI):
# copies the tracked tree to a temporary folder, builds the addon there with -fsanitize=address -O1 -g, and runs
# `node scripts/run-tests.mjs [filters]` with libasan preloaded (Node itself is not instrumented). Leaks are not
# checked (V8 keeps memory until exit). Usage: sh scripts/test-asan.sh [test path filters...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rlaif-asan-XXXXXX")
trap 'rm -rf "$work"' EXIT
git -C "$root" archive HEAD | tar -x -C "$work"
ln -s "$root/node_modules" "$work/node_modules"
node -e '
  const fs = require("fs"), p = process.argv[1];
  let s = fs.readFileSync(p, "utf8");
  s = s.replace("\x27cflags\x27: [\x27-O3\x27,", "\x27cflags\x27: [\x27-O1\x27, \x27-g\x27, \x27-fsanitize=address\x27, \x27-fno-omit-frame-pointer\x27,")
       .replace("\x27cflags!\x27: [\x27-O2\x27, \x27-O0\x27]", "\x27cflags!\x27: [\x27-O2\x27, \x27-O0\x27, \x27-O3\x27]")
       .replace("\x27libraries\x27: [\x27-lpthread\x27, \x27-lm\x27],", "\x27libraries\x27: [\x27-lpthread\x27, \x27-lm\x27, \x27-fsanitize=address\x27],");
  if (!s.includes("-fsanitize=address")) { console.error("test-asan: binding.gyp no longer has the expected flags"); process.exit(1); }
  fs.writeFileSync(p, s);
' "$work/binding.gyp"
(cd "$work" && node scripts/build-native.mjs --force)
cd "$work"
if ! nm -D build/Release/rlaif_native.node 2>/dev/null | grep -q __asan_init; then
  echo "test-asan: the addon was not built with AddressSanitizer" >&2
  exit 1
fi
LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 node scripts/run-tests.mjs "$@"
