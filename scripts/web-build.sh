#!/usr/bin/env bash
# Installs the portal's packages at the versions package-lock.json pins and builds it into
# web/dist, which the feather binary embeds. Node and npm come with the machine.
#
# `npm install --no-save` rather than `npm ci`: the lock written here lists rollup's native
# package for this platform only, and `npm ci` refuses a lock without every platform's.
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-save --no-audit --no-fund --loglevel=error
fi
npm run --silent build
