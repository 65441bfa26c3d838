#!/usr/bin/env bash
# The portal in a real browser: starts `feather demo` (the debug build) on a free port with its
# own data folder, waits for the examples' environments, and runs web/e2e/portal.mjs with
# Playwright driving Debian's Chromium (installed here when missing). Screenshots are left in
# web/test-results/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if ! command -v chromium >/dev/null; then
  echo "==> installing chromium (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null ||
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; }
fi
# shellcheck source=demo-server.sh
source scripts/demo-server.sh e2e
demo_ready digits review iris iris-onnx text-direction wine
TOKEN=$(target/debug/feather token create --user demo --data "$DATA/data" 2>/dev/null)
cd web
FEATHER_URL=$URL SAMPLES=$ROOT/examples/digits/samples TOKEN=$TOKEN node e2e/portal.mjs
