#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, from Debian's package (installed when missing).
#   scripts/postgres.sh start DIR   makes a cluster in DIR, starts it on a free loopback port,
#                                   and prints its URL without a database name
#                                   (postgres://feather@127.0.0.1:PORT): tests add their own.
#   scripts/postgres.sh stop DIR    stops it.
# PostgreSQL refuses to run as root, so as root the cluster belongs to `nobody`. It is made for
# speed, not durability (no fsync): it lives as long as one test run.
set -euo pipefail
cmd=${1:?start DIR or stop DIR}
dir=${2:?the folder of the cluster}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "==> installing PostgreSQL (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null ||
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null; }
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      # Its owner must reach it: a mktemp folder above it is root's alone.
      chmod a+x "$(dirname "$dir")"
      chown nobody:nogroup "$dir"
    fi
    as_owner "$bin/initdb" --pgdata="$dir/data" --username=feather --auth=trust --encoding=UTF8 \
      --no-locale --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --silent start \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
          -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://feather@127.0.0.1:$port"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait --silent stop || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/postgres.sh start DIR | stop DIR" >&2
    exit 2
    ;;
esac
