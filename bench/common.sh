# Shared by the benchmarks (bench/run.sh, bench/scale.sh): logging, starting and stopping
# servers, the tools they need, feather's binary and examples, and loading a server with wrk.
# Sourced after the caller set ROOT, PY, VENV, UV, WORK, DATA, SECS, CONNECTIONS and THREADS.

MOSEC_VERSION=0.9.8 # the baseline bench/run.sh loads, installed into bench/.venv with the rest
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
  # What a benchmark started that is not a child of it (a database server, say), after the
  # servers that use it.
  [ -z "${ON_EXIT:-}" ] || $ON_EXIT || true
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

# Starts feather keeping $1 (default 2) workers per model warm, its log in $WORK/$2.log (default
# feather), on the data folder $3 (default the benchmark's), with any further arguments after.
start_feather() {
  local min=${1:-2} log=${2:-feather} data=${3:-$DATA} port
  shift $(($# < 3 ? $# : 3))
  port=$(free_port)
  FEATHER_URL=http://127.0.0.1:$port
  say "starting feather on $FEATHER_URL ($min warm workers per model)"
  "$BIN" serve --data "$data" --addr "127.0.0.1:$port" --uv "$UV" \
    --max-workers 2 --min-workers "$min" --rate-anonymous 0 "$@" >"$WORK/$log.log" 2>&1 &
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
      # One file per run: rounds load the same server, model and connections again.
      LOADS=$((${LOADS:-0} + 1))
      out=$WORK/wrk-$server-$model-$conns-$LOADS.txt
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
