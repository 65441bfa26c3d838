#!/usr/bin/env bash
# Makes .venv: a Python environment with uv, the feather SDK (editable) and its dev tools;
# FEATHER_EXTRAS names more of the SDK's extras (scripts/test adds `torch`). Nothing is
# installed outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
.venv/bin/uv pip install --quiet --python .venv/bin/python -e "./python[dev${FEATHER_EXTRAS:+,$FEATHER_EXTRAS}]"
