#!/usr/bin/env bash
# Installs the browser the dashboard test drives (src/server/dashboard.test.ts): Debian's chromium, when missing.
# Called by .ci/run; needs root (apt-get). playwright-core comes with `npm install` and downloads nothing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "install-browser: $(command -v chromium) is there"
  exit 0
fi
echo "install-browser: installing Debian's chromium (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
command -v chromium
