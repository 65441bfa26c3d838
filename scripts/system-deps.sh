#!/usr/bin/env bash
# Installs the system packages feather runs with, when missing: bubblewrap, the sandbox every
# model's worker runs in.
set -euo pipefail
if ! command -v bwrap >/dev/null; then
  echo "==> installing bubblewrap (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq bubblewrap >/dev/null ||
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq bubblewrap >/dev/null; }
fi
