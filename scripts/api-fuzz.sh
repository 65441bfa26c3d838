#!/usr/bin/env bash
# The API with clients nobody here wrote: starts `feather demo` (the debug build) on a free port
# with its own data folder; runs Triton's client (tritonclient[http]) through the Open
# Inference Protocol (tests/api/test_oip.py) and Prometheus's parser on /metrics
# (tests/api/test_metrics.py), then the schemathesis fuzzer with every check
# (statuses, content types, schemas, valid requests accepted and invalid ones refused, stateful
# links) as an admin. tests/api/schemathesis.toml says what a JSON Schema cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-tools.sh
# shellcheck source=demo-server.sh
source scripts/demo-server.sh fuzz
for ((i = 0; i < 300; i++)); do
  kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; echo "feather demo exited" >&2; exit 1; }
  curl -fsS --max-time 5 "$URL/healthz" >/dev/null 2>&1 && break
  sleep 1
done
export FEATHER_FUZZ_TOKEN
FEATHER_FUZZ_TOKEN=$(target/debug/feather token create --user root --role admin --data "$DATA/data" 2>/dev/null)
cd tests/api
FEATHER_OIP_URL=127.0.0.1:$PORT ../../.venv-tools/bin/python -m pytest -q -p no:cacheprovider test_oip.py \
  test_metrics.py
../../.venv-tools/bin/schemathesis --config-file schemathesis.toml run "$URL/api/openapi.json" \
  --seed "${FEATHER_FUZZ_SEED:-1}" "$@"
