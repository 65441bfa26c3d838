#!/usr/bin/env bash
# Makes .venv-tools: test-only clients nobody here wrote (the schemathesis API fuzzer), pinned,
# installed with uv (its cache makes later runs quick); and nginx (Debian's), the load balancer
# the replica tests put in front of two servers. Kept apart from .venv so their
# dependencies cannot change what the SDK's tests run with.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/python-env.sh
if [ ! -x .venv-tools/bin/python ]; then
  .venv/bin/uv venv --quiet --python "$(.venv/bin/python -c 'import sys; print(sys.executable)')" .venv-tools
fi
.venv/bin/uv pip install --quiet --python .venv-tools/bin/python -r tests/api/requirements.txt
if [ ! -x /usr/sbin/nginx ]; then
  echo "==> installing nginx (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >/dev/null ||
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >/dev/null; }
  # The package starts a site on port 80; the tests run nginx processes of their own.
  $SUDO service nginx stop >/dev/null 2>&1 || true
fi
