#!/usr/bin/env bash
# Installs the portal's packages (npm ci, from package-lock.json) and builds it into web/dist,
# which the feather binary embeds. Node and npm come with the machine.
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
