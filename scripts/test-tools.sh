#!/usr/bin/env bash
# Makes .venv-tools: test-only clients nobody here wrote (the schemathesis API fuzzer), pinned,
# installed with uv (its cache makes later runs quick). Kept apart from .venv so their
# dependencies cannot change what the SDK's tests run with.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/python-env.sh
if [ ! -x .venv-tools/bin/python ]; then
  .venv/bin/uv venv --quiet --python "$(.venv/bin/python -c 'import sys; print(sys.executable)')" .venv-tools
fi
.venv/bin/uv pip install --quiet --python .venv-tools/bin/python -r tests/api/requirements.txt
