#!/usr/bin/env bash
# A throwaway PostgreSQL server for the coordinator's tests.
#
#   scripts/postgres.sh start   # prints VERITY_TEST_POSTGRES_URL=postgres://...
#   scripts/postgres.sh stop    # stops it and deletes its data
#   scripts/postgres.sh url     # prints the URL of the running server again
#
# Installs Debian's postgresql if it is missing (one `apt-get update`, then
# `apt-get install -y postgresql`), creates a fresh cluster with initdb in a temporary
# directory, starts it on 127.0.0.1 on a free port of its own with a private socket directory
# (never the system's /var/run/postgresql), and creates the database `verity`. PostgreSQL
# refuses to run as root, so when this script runs as root the cluster belongs to a dedicated
# unprivileged system user (`verity-pg`, created if missing).
#
# State lives in $VERITY_PG_STATE (default /tmp/verity-postgres): `dir` (the cluster's
# temporary directory) and `url`. Authentication is `trust`, which is only acceptable because
# the server listens on loopback alone and holds nothing but test data.
set -euo pipefail

STATE="${VERITY_PG_STATE:-/tmp/verity-postgres}"
PG_USER_OS="verity-pg"
DB_USER="verity"
DB_NAME="verity"

log() { echo "postgres.sh: $*" >&2; }

pg_bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -z "$d" || ! -x "$d/initdb" ]]; then
    return 1
  fi
  echo "$d"
}

ensure_installed() {
  if pg_bindir >/dev/null; then
    return
  fi
  log "postgresql not found; installing Debian's package"
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y postgresql
  pg_bindir >/dev/null || { log "initdb still missing after install"; exit 1; }
}

# Runs a command as the cluster's owner.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u "$PG_USER_OS" -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p="${VERITY_PG_PORT:-55432}"
  while port_in_use "$p"; do
    p=$((p + 1))
    if ((p > 65000)); then log "no free port"; exit 1; fi
  done
  echo "$p"
}

running() {
  [[ -f "$STATE/dir" ]] || return 1
  local dir bin
  dir="$(cat "$STATE/dir")"
  bin="$(pg_bindir)" || return 1
  as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

start() {
  ensure_installed
  if running; then
    log "already running"
    echo "VERITY_TEST_POSTGRES_URL=$(cat "$STATE/url")"
    return
  fi
  local bin dir port url
  bin="$(pg_bindir)"
  if [[ "$(id -u)" == 0 ]] && ! id "$PG_USER_OS" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
  fi
  mkdir -p "$STATE"
  dir="$(mktemp -d /tmp/verity-pg.XXXXXX)"
  mkdir -p "$dir/sock"
  if [[ "$(id -u)" == 0 ]]; then chown -R "$PG_USER_OS" "$dir"; fi
  chmod 700 "$dir"
  port="$(free_port)"
  as_owner "$bin/initdb" -D "$dir/data" -U "$DB_USER" --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  # Loopback TCP only, private socket directory, no fsync (test data is disposable).
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME"
  url="postgres://$DB_USER@127.0.0.1:$port/$DB_NAME"
  echo "$dir" >"$STATE/dir"
  echo "$url" >"$STATE/url"
  log "started in $dir on 127.0.0.1:$port"
  echo "VERITY_TEST_POSTGRES_URL=$url"
}

stop() {
  if [[ ! -f "$STATE/dir" ]]; then
    log "not running"
    return
  fi
  local dir bin
  dir="$(cat "$STATE/dir")"
  if bin="$(pg_bindir)" && [[ -d "$dir/data" ]]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  case "$dir" in
    /tmp/verity-pg.*) rm -rf "$dir" ;;
  esac
  rm -f "$STATE/dir" "$STATE/url"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url)
    running || { log "not running"; exit 1; }
    echo "VERITY_TEST_POSTGRES_URL=$(cat "$STATE/url")"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
