#!/usr/bin/env bash
# Makes sure Debian's redis-server is installed (the queue tests start their own on a loopback port; nothing here
# starts a service). Called by .ci/run; needs root and Debian's package lists. Leaves out other distributions.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server: $(redis-server --version | head -1)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-redis: redis-server is missing and there is no apt-get here: install Redis >= 6.2 by hand" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq redis-server >/dev/null
# The package may start a system service on 6379; the tests do not use it.
echo "redis-server: $(redis-server --version | head -1)"
