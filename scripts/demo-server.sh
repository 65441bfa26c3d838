# Sourced by the test scripts that need a running `feather demo` (the debug build): starts it on
# a free port with its own data folder, and stops it and removes the folder when the script
# exits. Sets DATA (its data folder is $DATA/data), LOG, PORT, URL and PID; `demo_ready MODEL...`
# waits (600 s at most) until those models' environments are ready.
DATA=$(mktemp -d -t "feather-${1:-demo}.XXXXXX")
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

all_ready() {
  local m
  for m in "$@"; do ready "$m" || return 1; done
}

demo_ready() {
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; echo "feather demo exited" >&2; exit 1; }
    all_ready "$@" && return 0
    sleep 1
  done
  tail -50 "$LOG" >&2
  echo "the demo's environments ($*) were not ready in 600 s" >&2
  exit 1
}
