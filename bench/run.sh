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
MOSEC_VERSION=0.9.8
PY=${PYTHON:-python3}
VENV=$ROOT/bench/.venv
UV=$ROOT/.venv/bin/uv

WORK=$(mktemp -d -t feather-bench.XXXXXX)
DATA=$(mktemp -d -t feather-bench-data.XXXXXX)
SERVERS=() # pids of the servers started here, stopped (with their descendants) on exit
SAMPLER=   # the memory sampler running beside a load, if any

say() {
  if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Stops a server and every process under it: SIGTERM, then SIGKILL after 10 s.
stop_tree() {
  local pid=$1 kids kid i
  kids=$("$PY" bench/procs.py tree "$pid" 2>/dev/null || true)
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for kid in $kids; do kill -KILL "$kid" 2>/dev/null || true; done
}

# Stops a server started here and forgets it.
stop_server() {
  local pid=$1 kept=() p
  stop_tree "$pid"
  for p in "${SERVERS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  SERVERS=("${kept[@]}")
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -z "$SAMPLER" ] || kill "$SAMPLER" 2>/dev/null || true
  for pid in "${SERVERS[@]}"; do stop_tree "$pid"; done
  if [ "$status" -ne 0 ]; then
    for log in "$WORK"/*.log; do
      [ -s "$log" ] && { echo "--- last lines of $log" >&2; tail -n 30 "$log" >&2; }
    done
  fi
  if [ -n "${BENCH_KEEP:-}" ]; then
    echo "kept $WORK and $DATA" >&2
  else
    rm -rf "$WORK" "$DATA"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Polls URL until it answers 2xx, at most $2 seconds.
wait_http() {
  local url=$1 limit=$2 pid=$3 i
  for ((i = 0; i < limit * 5; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || die "the server stopped while starting"
    sleep 0.2
  done
  die "$url did not answer within $limit s"
}

# --- what the benchmark needs -----------------------------------------------------------------

# Installs Debian packages, refreshing the package lists only when the install fails.
apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$@" ||
    { $sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$@"; }
}

install_tools() {
  command -v wrk >/dev/null || apt_install wrk
  command -v curl >/dev/null || apt_install curl
}

# bench/.venv: the baselines' servers (mosec pinned), scikit-learn (the version examples/iris pins, so its
# model.pkl loads alike in feather's environment and here) and the SDK to run the app files.
python_env() {
  [ -x "$UV" ] || scripts/python-env.sh
  [ -x "$VENV/bin/python" ] || "$UV" venv --quiet --python "$PY" "$VENV"
  local sklearn
  sklearn=$(grep -rhoIE --include='*.py' --include='*.txt' --include='*.toml' \
    "scikit-learn *[=<>~!]=[0-9][0-9a-z.]*" examples/iris 2>/dev/null | head -n1 | tr -d ' ' || true)
  "$UV" pip install --quiet --python "$VENV/bin/python" \
    fastapi "uvicorn[standard]" "mosec==$MOSEC_VERSION" "${sklearn:-scikit-learn}" -e ./python
}

feather_binary() {
  if [ -n "${FEATHER_BIN:-}" ]; then
    BIN=$(realpath "$FEATHER_BIN")
  else
    say "building feather (release)"
    command -v cargo >/dev/null || PATH=$HOME/.cargo/bin:$PATH
    cargo build --release --locked -p feather-cli
    BIN=$ROOT/target/release/feather
  fi
  [ -x "$BIN" ] || die "no feather binary at $BIN"
}

train_iris() {
  if [ -f examples/iris/train.py ] && [ ! -f examples/iris/model.pkl ]; then
    say "training examples/iris"
    (cd examples/iris && "$VENV/bin/python" train.py)
  fi
  [ -f examples/iris/model.pkl ] || die "examples/iris/model.pkl is missing"
  if [ ! -f examples/iris-onnx/model.onnx ]; then
    say "training examples/iris-onnx"
    (cd examples/iris-onnx && "$ROOT/.venv/bin/python" train.py)
  fi
}

# --- the servers ------------------------------------------------------------------------------

# Starts feather on the benchmark's data keeping $1 (default 2) workers per model warm, its log
# in $WORK/$2.log (default feather).
start_feather() {
  local min=${1:-2} log=${2:-feather} port
  port=$(free_port)
  FEATHER_URL=http://127.0.0.1:$port
  say "starting feather on $FEATHER_URL ($min warm workers per model)"
  "$BIN" serve --data "$DATA" --addr "127.0.0.1:$port" --uv "$UV" \
    --max-workers 2 --min-workers "$min" --rate-anonymous 0 >"$WORK/$log.log" 2>&1 &
  FEATHER_PID=$!
  SERVERS+=("$FEATHER_PID")
  wait_http "$FEATHER_URL/healthz" 60 "$FEATHER_PID"
}

# Publishes examples/$1 as bench/$1 and waits for its environment to be ready.
publish() {
  local model=$1 token=$2 out version env status i
  out=$(FEATHER_TOKEN=$token "$BIN" publish "examples/$model" --server "$FEATHER_URL" \
    --python "$VENV/bin/python" 2>>"$WORK/publish.log")
  echo "$out" >>"$WORK/publish.log"
  version=$(sed -nE "s|^published bench/$model version ([0-9]+)$|\1|p" <<<"$out")
  [ "$version" = 1 ] || die "examples/$model did not publish as bench/$model version 1: $out"
  env=$FEATHER_URL/api/v1/models/bench/$model/versions/1/environment
  say "waiting for bench/$model's environment"
  for ((i = 0; i < 600; i++)); do
    status=$(curl -fsS --max-time 5 "$env" 2>/dev/null |
      "$PY" -c 'import json, sys; print(json.load(sys.stdin)["status"])' 2>/dev/null ||
      echo unknown)
    case $status in
      ready) return 0 ;;
      failed)
        curl -sS --max-time 5 "$env" >&2 || true
        die "bench/$model's environment failed to build"
        ;;
    esac
    sleep 1
  done
  die "bench/$model's environment was not ready within 600 s"
}

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

# --- load -------------------------------------------------------------------------------------

# Checks that server $1 at $2 answers each model, keeping one answer of each in
# $WORK/$1-MODEL.json.
check() {
  local server=$1 url=$2 models=$3 model
  for model in $models; do
    curl -fsS --max-time 60 -H 'Content-Type: application/json' \
      --data-binary "@bench/requests/$model.json" -o "$WORK/$server-$model.json" \
      "$url/api/v1/models/bench/$model/predict" ||
      die "$server: POST $url/api/v1/models/bench/$model/predict failed"
  done
}

# Brings every worker serving $1 up: rounds of concurrent requests, each one answered (feather
# starts workers on demand up to --max-workers, and replaces the worker of a request whose client
# left, as wrk leaves the requests in flight when it stops).
warm() {
  local url=$1 model=$2 round i pids
  for ((round = 0; round < 3; round++)); do
    pids=()
    for ((i = 0; i < 4; i++)); do
      curl -fsS --max-time 60 -o /dev/null -H 'Content-Type: application/json' \
        --data-binary "@bench/requests/$model.json" "$url" &
      pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || die "warming $url failed"; done
  done
}

# Drives every workload of server $1 (at $2, pid $3) at each connection count, each run from
# warm workers. Memory is sampled halfway through the run, under load.
load() {
  local server=$1 url=$2 pid=$3 models=$4 model conns out endpoint rss_server rss_children children
  local cpu_before cpu_after
  for model in $models; do
    endpoint=$url/api/v1/models/bench/$model/predict
    for conns in $CONNECTIONS; do
      out=$WORK/wrk-$server-$model-$conns.txt
      warm "$endpoint" "$model"
      "$PY" bench/procs.py rss "$pid" --after "$(awk "BEGIN { print $SECS / 2 }")" \
        >"$out.rss" &
      SAMPLER=$!
      cpu_before=$("$PY" bench/procs.py cpu "$pid")
      timeout $((SECS + 60)) wrk -t"$THREADS" -c"$conns" -d"${SECS}s" --timeout 5s --latency \
        -s bench/predict.lua "$endpoint" -- "bench/requests/$model.json" >"$out"
      cpu_after=$("$PY" bench/procs.py cpu "$pid")
      wait "$SAMPLER"
      SAMPLER=
      read -r rss_server rss_children children <"$out.rss"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$model" "$conns" "$server" "$out" \
        "$rss_server" "$rss_children" "$children" \
        "$(awk "BEGIN { print $cpu_after - $cpu_before }")" >>"$WORK/runs.tsv"
      printf '  %-8s %-5s c=%-3s %s\n' "$server" "$model" "$conns" \
        "$(grep -E '^Requests/sec' "$out")" >&2
    done
  done
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
