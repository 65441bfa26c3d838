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
DATA=$(mktemp -d -t feather-e2e.XXXXXX)
LOG=$DATA/demo.log
PORT=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
target/debug/feather demo --data "$DATA/data" --addr "127.0.0.1:$PORT" \
  --python .venv/bin/python --uv .venv/bin/uv >"$LOG" 2>&1 &
PID=$!
cleanup() {
  kill -TERM "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT
ready() {
  curl -fsS --max-time 5 "$URL/api/v1/models/demo/$1/versions/latest/environment" 2>/dev/null |
    .venv/bin/python -c 'import json, sys; sys.exit(json.load(sys.stdin)["status"] != "ready")' 2>/dev/null
}
for ((i = 0; i < 600; i++)); do
  kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; echo "feather demo exited" >&2; exit 1; }
  if ready digits && ready review && ready iris && ready iris-onnx; then break; fi
  sleep 1
done
ready digits && ready review && ready iris && ready iris-onnx || { tail -50 "$LOG" >&2; echo "the demo's environments were not ready in 600 s" >&2; exit 1; }
TOKEN=$(target/debug/feather token create --user demo --data "$DATA/data" 2>/dev/null)
cd web
FEATHER_URL=$URL SAMPLES=$ROOT/examples/digits/samples TOKEN=$TOKEN node e2e/portal.mjs
