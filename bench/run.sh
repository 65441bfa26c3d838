#!/usr/bin/env bash
# Benchmarks feather's one-call predict against FastAPI + uvicorn (2 workers) and mosec (2
# workers per model, plain and with dynamic batching: batches up to 32, 5 ms wait) on the same two
# models, examples/echo and examples/iris, with wrk at 16 and 64 connections, and feather's
# native engine (examples/iris-onnx, run by ONNX Runtime in the server) against its own Python
# iris; prints one table and writes it to bench/results.md. Everything runs on 127.0.0.1 and is
# stopped on exit.
#
# Settings (environment):
#   BENCH_SECONDS=10        length of each load run
#   BENCH_CONNECTIONS="16 64"
#   BENCH_THREADS=2         wrk threads
#   FEATHER_BIN=PATH        a feather binary to use instead of building the release one
#   BENCH_KEEP=1            keep the scratch folder (logs, wrk outputs, data) after the run
#   PYTHON=python3          the Python 3.11 the environments are made from
#   BENCH_SERVERS="feather fastapi mosec mosec-batch"   which servers to load
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECS=${BENCH_SECONDS:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-16 64}
THREADS=${BENCH_THREADS:-2}
WORKLOADS="echo iris"
NATIVE="iris-onnx" # feather only: compared with feather's Python iris of the same run
SERVERS_WANTED=${BENCH_SERVERS:-feather fastapi mosec mosec-batch}
PY=${PYTHON:-python3}
VENV=$ROOT/bench/.venv
UV=$ROOT/.venv/bin/uv

WORK=$(mktemp -d -t feather-bench.XXXXXX)
DATA=$(mktemp -d -t feather-bench-data.XXXXXX)

# shellcheck source=bench/common.sh
. bench/common.sh

start_baseline() {
  local port
  port=$(free_port)
  BASELINE_URL=http://127.0.0.1:$port
  say "starting the baseline (FastAPI + uvicorn, 2 workers) on $BASELINE_URL"
  "$VENV/bin/python" -m uvicorn bench.baseline:app --host 127.0.0.1 --port "$port" \
    --workers 2 --log-level warning --no-access-log >"$WORK/baseline.log" 2>&1 &
  BASELINE_PID=$!
  SERVERS+=("$BASELINE_PID")
  wait_http "$BASELINE_URL/openapi.json" 60 "$BASELINE_PID"
}

# Starts mosec as server $1 with batches of up to $2 requests (1: no batching).
start_mosec() {
  local name=$1 batch=$2 port
  port=$(free_port)
  MOSEC_URL=http://127.0.0.1:$port
  say "starting $name (mosec $MOSEC_VERSION, 2 workers per model, batches of up to $batch) on $MOSEC_URL"
  BENCH_MOSEC_BATCH=$batch BENCH_MOSEC_WAIT_MS=5 "$VENV/bin/python" bench/mosec_server.py \
    --address 127.0.0.1 --port "$port" --log-level warning >"$WORK/$name.log" 2>&1 &
  MOSEC_PID=$!
  SERVERS+=("$MOSEC_PID")
  wait_http "$MOSEC_URL/" 60 "$MOSEC_PID"
}

wanted() { [[ " $SERVERS_WANTED " == *" $1 "* ]]; }

# feather restarted on the benchmark's data with no warm workers: the server's idle memory with
# the models published, then each Python model's first prediction (a worker started for it, its
# environment already built), then the memory with that worker up. Written to $WORK/cold.tsv.
cold_start() {
  local model took rss
  say "restarting feather with no warm workers (cold starts, idle memory)"
  start_feather 0 feather-cold
  sleep 2
  rss=$("$PY" bench/procs.py rss "$FEATHER_PID")
  printf 'idle\t-\t%s\n' "$rss" >>"$WORK/cold.tsv"
  for model in $WORKLOADS; do
    took=$(curl -fsS -o /dev/null -w '%{time_total}' --max-time 60 -H 'Content-Type: application/json' \
      --data-binary "@bench/requests/$model.json" "$FEATHER_URL/api/v1/models/bench/$model/predict") ||
      die "the first prediction of bench/$model failed"
    rss=$("$PY" bench/procs.py rss "$FEATHER_PID")
    printf '%s\t%s\t%s\n' "$model" "$took" "$rss" >>"$WORK/cold.tsv"
    say "bench/$model's first prediction: $took s"
  done
  stop_server "$FEATHER_PID"
}

# Checks a baseline's answers against feather's, then loads it.
baseline() {
  local name=$1 url=$2 pid=$3 model
  check "$name" "$url" "$WORKLOADS"
  for model in $WORKLOADS; do
    [ -f "$WORK/feather-$model.json" ] || continue
    "$PY" bench/report.py same "$WORK/feather-$model.json" "$WORK/$name-$model.json" >&2 ||
      echo "warning: $name's $model answer differs from feather's" >&2
  done
  say "loading $name"
  load "$name" "$url" "$pid" "$WORKLOADS"
  stop_server "$pid"
}

main() {
  install_tools
  python_env
  feather_binary
  train_iris

  if wanted feather; then
    start_feather
    local token
    token=$("$BIN" token create --user bench --data "$DATA" 2>>"$WORK/publish.log" | tail -n1)
    for model in $WORKLOADS $NATIVE; do publish "$model" "$token"; done
    check feather "$FEATHER_URL" "$WORKLOADS $NATIVE"
    say "loading feather: ${SECS} s a run, wrk -t$THREADS, connections $CONNECTIONS"
    load feather "$FEATHER_URL" "$FEATHER_PID" "$WORKLOADS $NATIVE"
    stop_server "$FEATHER_PID"
    cold_start
  fi
  if wanted fastapi; then
    start_baseline
    baseline fastapi "$BASELINE_URL" "$BASELINE_PID"
  fi
  if wanted mosec; then
    start_mosec mosec 1
    baseline mosec "$MOSEC_URL" "$MOSEC_PID"
  fi
  if wanted mosec-batch; then
    start_mosec mosec-batch 32
    baseline mosec-batch "$MOSEC_URL" "$MOSEC_PID"
  fi

  echo
  "$VENV/bin/python" bench/report.py table "$WORK/runs.tsv" --cold "$WORK/cold.tsv" --out bench/results.md \
    --binary "$BIN" --seconds "$SECS" --threads "$THREADS"
  echo
  echo "written to bench/results.md"
}

main "$@"
