#!/usr/bin/env bash
# Headless Chromium for the coordinator's dashboard test.
#
#   scripts/chromium.sh          # installs Debian's chromium if missing, prints its path
#
# The dashboard test (`cargo test -p verity-coordinator dashboard`) finds the browser through
# VERITY_CHROMIUM, else /usr/bin/chromium. Without a browser that test fails; set
# VERITY_SKIP_CHROMIUM=1 to skip it (loudly) instead.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

find_chromium() {
  local c
  for c in "${VERITY_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [[ -n "$c" && -x "$c" ]]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if path="$(find_chromium)"; then
  echo "$path"
  exit 0
fi

log "chromium not found; installing Debian's package"
sudo=""
if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium fonts-dejavu-core
path="$(find_chromium)" || { log "chromium still missing after install"; exit 1; }
log "installed $("$path" --version 2>/dev/null || echo "$path")"
echo "$path"
