#!/usr/bin/env bash
# Installs PyTorch for `npm run bench`'s side-by-side figures (../shared/anchors/torch_gpt_bench.py): Debian's
# python3-torch (1.13) and the pthread OpenBLAS it runs on, for /usr/bin/python3 (or RLAIF_TORCH_PYTHON), when that
# cannot import torch. apt-get runs as root, or through sudo when sudo needs no password; otherwise this says what to
# run and exits 1. Only the bench needs it: not part of `npm install` or .ci/run. Leaves out pip and other distributions.
set -euo pipefail
python=${RLAIF_TORCH_PYTHON:-/usr/bin/python3}
packages="python3-torch libopenblas0-pthread"
if "$python" -c 'import torch' >/dev/null 2>&1; then
  echo "install-torch: $python already imports torch $("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-torch: $python cannot import torch and there is no apt-get here: install PyTorch for $python by hand" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  as=(env DEBIAN_FRONTEND=noninteractive)
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as=(sudo env DEBIAN_FRONTEND=noninteractive)
else
  echo "install-torch: $python cannot import torch, and installing Debian's $packages needs root (no passwordless sudo here): run  sudo apt-get install -y $packages  or this script as root" >&2
  exit 1
fi
echo "install-torch: installing Debian's $packages (apt-get)"
"${as[@]}" apt-get update -qq
# shellcheck disable=SC2086
"${as[@]}" apt-get install -y -qq $packages >/dev/null
if ! "$python" -c 'import torch' >/dev/null 2>&1; then
  echo "install-torch: $packages installed, but $python still cannot import torch (is it Debian's python3?)" >&2
  exit 1
fi
echo "install-torch: $python imports torch $("$python" -c 'import torch; print(torch.__version__)')"
