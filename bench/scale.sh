#!/usr/bin/env bash
# Scale-out figures. feather's one-call predict on the laptop's engines (SQLite and a folder)
# against the organisation's (PostgreSQL and S3: Debian's PostgreSQL and SeaweedFS, started here
# as the tests start them), each server alone on the machine and loaded with wrk as bench/run.sh
# loads it: the hot path reads neither the registry nor the blobs, so the two should be within
# 10% of each other. Then the time to publish a bundle of BENCH_PUBLISH_MB (default 100) MB of
# incompressible bytes on each, each publish a new bundle. Then nginx (Debian's, round robin,
# keep-alive to the servers) in front of two replicas on one PostgreSQL and one bucket, against
# the same nginx in front of one of them, in the same run. Prints one table and writes it to
# bench/scale-results.md.
#
# Settings (environment): BENCH_SECONDS=10, BENCH_CONNECTIONS="16 64", BENCH_THREADS=2,
# BENCH_PUBLISH_MB=100, BENCH_PUBLISHES=3, BENCH_ROUNDS=5 (each load on both servers one after
# the other, which goes first alternating; the median of their ratios kept), FEATHER_BIN, BENCH_KEEP, PYTHON (as bench/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECS=${BENCH_SECONDS:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-16 64}
THREADS=${BENCH_THREADS:-2}
WORKLOADS="echo iris"
PUBLISH_MB=${BENCH_PUBLISH_MB:-100}
PUBLISHES=${BENCH_PUBLISHES:-3}
ROUNDS=${BENCH_ROUNDS:-5}
PY=${PYTHON:-python3}
VENV=$ROOT/bench/.venv
UV=$ROOT/.venv/bin/uv

WORK=$(mktemp -d -t feather-scale.XXXXXX)
DATA=$(mktemp -d -t feather-scale-data.XXXXXX)

# shellcheck source=bench/common.sh
. bench/common.sh

stop_engines() {
  [ -z "${NGINX_PID:-}" ] || { kill -TERM "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; } || true
  scripts/postgres.sh stop "$DATA/pg" >/dev/null 2>&1 || true
  scripts/seaweedfs.sh stop "$DATA/s3" >/dev/null 2>&1 || true
}
ON_EXIT=stop_engines

start_engines() {
  say "starting PostgreSQL and SeaweedFS"
  PG=$(scripts/postgres.sh start "$DATA/pg")
  S3=$(scripts/seaweedfs.sh start "$DATA/s3")
  export AWS_ENDPOINT=$S3 AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench \
    AWS_SECRET_ACCESS_KEY=bench
  [ -x /usr/sbin/nginx ] || scripts/test-tools.sh
  PSQL=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql
}

# A new database on the PostgreSQL server; its URL.
new_database() {
  "$PSQL" -q "$PG/postgres" -c "CREATE DATABASE $1" >/dev/null
  echo "$PG/$1"
}

# nginx on a free port in front of the given servers (host:port), round robin; NGINX_URL.
start_nginx() {
  local dir=$WORK/nginx-$# port servers="" s
  mkdir -p "$dir"
  chmod 0777 "$dir"
  port=$(free_port)
  for s in "$@"; do servers+="server $s;"; done
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  upstream feather { $servers keepalive 64; }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://feather;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
  /usr/sbin/nginx -e stderr -g 'daemon off;' -p "$dir" -c "$dir/nginx.conf" >"$WORK/nginx-$#.log" 2>&1 &
  NGINX_PID=$!
  NGINX_URL=http://127.0.0.1:$port
  wait_http "$NGINX_URL/healthz" 30 "$NGINX_PID"
}

stop_nginx() {
  kill -TERM "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=
}

# A build folder holding a bundle of $PUBLISH_MB MB of random bytes (so no two are alike and
# nothing compresses), with an app file: what a model with large weights publishes.
big_model() {
  local dir=$1
  mkdir -p "$dir/files"
  head -c "$((PUBLISH_MB << 20))" /dev/urandom >"$dir/files/weights.bin"
  printf 'import feather as ftr\n\n\n@ftr.step\ndef run(text):\n    return ftr.Text.View(id="out", text=text)\n\n\nftr.build("big", init=[ftr.Text.In(id="text")], steps=[run])\n' >"$dir/files/app.py"
  tar -C "$dir/files" -cf - app.py weights.bin | gzip -1 >"$dir/bundle.tar.gz"
  rm -rf "$dir/files"
  cat >"$dir/manifest.json" <<'JSON'
{"schema": "feather.manifest/v1", "name": "big", "title": "Big",
 "runtime": {"kind": "python", "python": "3.11", "entry": "app.py", "requirements": []},
 "init": [{"id": "text", "type": "Text.In"}], "steps": [{"name": "run"}],
 "provenance": {"sdk": "0.1.0", "python": "3.11.7", "platform": "linux-x86_64", "packages": {}}}
JSON
}

# Publishes $PUBLISHES bundles of $PUBLISH_MB MB to $FEATHER_URL as engine $1, timing each
# (the upload, the digest, the blob store and the registry; not the environment).
publish_big() {
  local engine=$1 token=$2 i took size start
  for ((i = 0; i < PUBLISHES; i++)); do
    big_model "$WORK/big"
    size=$(stat -c %s "$WORK/big/bundle.tar.gz")
    start=$(date +%s.%N)
    FEATHER_TOKEN=$token "$BIN" publish "$WORK/big" --server "$FEATHER_URL" --no-wait \
      >>"$WORK/publish.log" 2>&1 || die "publishing the big bundle failed"
    took=$(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }")
    printf '%s\t%s\t%s\n' "$engine" "$size" "$took" >>"$WORK/publish.tsv"
    say "$engine: published $((size >> 20)) MiB in $took s"
    # The version's unpacking and warm-up happen after the answer: not beside the next upload.
    sleep 5
  done
}

# Waits until server $1 has bench/$2's environment ready (another replica published it).
wait_ready() {
  local url=$1 model=$2 i
  for ((i = 0; i < 300; i++)); do
    curl -fsS --max-time 5 "$url/api/v1/models/bench/$model/versions/1/environment" 2>/dev/null |
      grep -q '"status":"ready"' && return 0
    sleep 1
  done
  die "bench/$model was not ready on $url within 300 s"
}

# A server on the engines $3 (a PostgreSQL URL, or sqlite) and $4 (s3://..., or local) with the
# workloads published: its URL, pid and token in ENGINE_URL, ENGINE_PID and ENGINE_TOKEN.
engine_server() {
  local engine=$1 data=$2 database=$3 blobs=$4 model
  start_feather 2 "feather-$engine" "$data" --database "$database" --blobs "$blobs"
  ENGINE_TOKEN=$("$BIN" token create --user bench --data "$data" --database "$database" \
    2>>"$WORK/publish.log" | tail -n1)
  for model in $WORKLOADS; do publish "$model" "$ENGINE_TOKEN"; done
  check "$engine" "$FEATHER_URL" "$WORKLOADS"
  ENGINE_URL=$FEATHER_URL ENGINE_PID=$FEATHER_PID
}

# Transactions committed in the benchmark's PostgreSQL database $1 so far.
transactions() {
  "$PSQL" -qtA "$PG/postgres" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'"
}

main() {
  install_tools
  python_env
  feather_binary
  train_iris
  start_engines

  # Both up at once, loaded in turn, round after round: what the machine's noise does to one
  # it does to the other.
  engine_server sqlite "$DATA/sqlite" sqlite local
  local lite_url=$ENGINE_URL lite_pid=$ENGINE_PID lite_token=$ENGINE_TOKEN
  local database blobs=s3://feather/bench-$$/blobs round before
  database=$(new_database bench_one)
  engine_server postgres "$DATA/postgres" "$database" "$blobs"
  local pg_url=$ENGINE_URL pg_pid=$ENGINE_PID pg_token=$ENGINE_TOKEN
  local model conns committed
  for ((round = 1; round <= ROUNDS; round++)); do
    # Which goes first alternates: the second of a pair runs on a machine the first warmed.
    say "round $round of $ROUNDS: each load on both, $( ((round % 2)) && echo sqlite || echo postgres) first"
    committed=0
    for model in $WORKLOADS; do
      for conns in $CONNECTIONS; do
        ((round % 2 == 0)) || CONNECTIONS=$conns load sqlite "$lite_url" "$lite_pid" "$model"
        before=$(transactions bench_one)
        CONNECTIONS=$conns load postgres "$pg_url" "$pg_pid" "$model"
        committed=$((committed + $(transactions bench_one) - before))
        ((round % 2)) || CONNECTIONS=$conns load sqlite "$lite_url" "$lite_pid" "$model"
      done
    done
    printf '%s\n' "$committed" >>"$WORK/transactions.tsv"
  done
  FEATHER_URL=$lite_url publish_big sqlite "$lite_token"
  FEATHER_URL=$pg_url publish_big postgres "$pg_token"
  stop_server "$lite_pid"
  stop_server "$pg_pid"

  say "two replicas on one PostgreSQL and one bucket, behind nginx"
  database=$(new_database bench_two)
  blobs=s3://feather/bench-$$-two/blobs
  start_feather 2 replica-a "$DATA/replica-a" --database "$database" --blobs "$blobs"
  local a_url=$FEATHER_URL a_pid=$FEATHER_PID token model
  start_feather 2 replica-b "$DATA/replica-b" --database "$database" --blobs "$blobs"
  local b_url=$FEATHER_URL
  token=$("$BIN" token create --user bench --data "$DATA/replica-a" --database "$database" \
    2>>"$WORK/publish.log" | tail -n1)
  FEATHER_URL=$a_url
  for model in $WORKLOADS; do publish "$model" "$token"; done
  # B hears of each version and prepares it; it answers once it is ready.
  for model in $WORKLOADS; do wait_ready "$b_url" "$model"; done
  check replica-b "$b_url" "$WORKLOADS"
  start_nginx "${a_url#http://}"
  load nginx-1 "$NGINX_URL" "$a_pid" "$WORKLOADS"
  stop_nginx
  start_nginx "${a_url#http://}" "${b_url#http://}"
  # CPU and memory are those of replica A alone.
  load nginx-2 "$NGINX_URL" "$a_pid" "$WORKLOADS"
  stop_nginx

  echo
  "$VENV/bin/python" bench/scale_report.py "$WORK/runs.tsv" "$WORK/publish.tsv" \
    --transactions "$WORK/transactions.tsv" \
    --out bench/scale-results.md --binary "$BIN" --seconds "$SECS" --threads "$THREADS"
  echo
  echo "written to bench/scale-results.md"
}

main "$@"
