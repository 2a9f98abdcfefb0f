#!/usr/bin/env bash
# influxdb-testenv.sh — a real InfluxDB with Flux on 127.0.0.1, built from its Go module.
#
#   scripts/influxdb-testenv.sh build            build/cache influxd, print its path
#   scripts/influxdb-testenv.sh start            start a server, print its state dir (with an `env` file)
#   scripts/influxdb-testenv.sh stop DIR         stop it (by PID) and remove DIR
#   scripts/influxdb-testenv.sh run -- CMD...    start, run CMD with the variables below, stop
#
# augur's influxdb provider speaks InfluxDB 2's query API (POST /api/v2/query, Flux), as Flagger's
# does. Debian packages InfluxDB 1.6.7, which has neither; InfluxDB 1.8 serves that API with
# `flux-enabled`, and github.com/influxdata/influxdb v1.8.x builds with CGO_ENABLED=0 from the Go
# module proxy (later 1.x need Flux's Rust parser through cgo). The binary is cached in
# $INFLUXDB_TESTENV_CACHE (default ~/.cache/augur-influxdb), never in the repository.
#
# The server gets a temporary directory, loopback ports, authentication on (an admin user
# created at start; the 2.x API takes `Token user:password`) and a database `augur`.
# Variables: INFLUXDB_URL, INFLUXDB_DB, INFLUXDB_USER, INFLUXDB_PASSWORD, INFLUXDB_DIR.
set -euo pipefail

log() { echo "influxdb-testenv: $*" >&2; }
VERSION="${INFLUXDB_TESTENV_VERSION:-v1.8.3}"
CACHE="${INFLUXDB_TESTENV_CACHE:-$HOME/.cache/augur-influxdb}"
BIN="$CACHE/$VERSION/bin/influxd"

build() {
  if [ -x "$BIN" ]; then echo "$BIN"; return 0; fi
  log "building influxd $VERSION from github.com/influxdata/influxdb (cold: several minutes)"
  mkdir -p "$CACHE/$VERSION/bin"
  (cd "$CACHE" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false GOBIN="$CACHE/$VERSION/bin" \
    go install "github.com/influxdata/influxdb/cmd/influxd@$VERSION") >&2
  echo "$BIN"
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

stop() {
  local dir="$1" pid
  [ -d "$dir" ] || return 0
  if [ -f "$dir/influxd.pid" ]; then
    pid=$(cat "$dir/influxd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

start() {
  build >/dev/null
  local dir http rpc url pass i up=""
  dir=$(mktemp -d "${TMPDIR:-/tmp}/influxdb-testenv.XXXXXX")
  http=$(free_port); rpc=$(free_port)
  pass=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  cat >"$dir/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$http"
  auth-enabled = true
  flux-enabled = true
  log-enabled = false
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
EOF
  "$BIN" run -config "$dir/influxdb.conf" >"$dir/influxd.log" 2>&1 &
  echo $! >"$dir/influxd.pid"
  url="http://127.0.0.1:$http"
  for i in $(seq 1 600); do
    if curl -fsS -o /dev/null "$url/ping" 2>/dev/null; then up=1; break; fi
    sleep 0.2
  done
  if [ -z "$up" ]; then log "influxd did not answer /ping in 120s:"; tail -n 20 "$dir/influxd.log" >&2; stop "$dir"; exit 1; fi
  # The first user may be created without credentials; everything after needs them.
  curl -fsS -XPOST "$url/query" --data-urlencode "q=CREATE USER augur WITH PASSWORD '$pass' WITH ALL PRIVILEGES" >/dev/null
  curl -fsS -XPOST "$url/query" -u "augur:$pass" --data-urlencode "q=CREATE DATABASE augur" >/dev/null
  cat >"$dir/env" <<EOF
export INFLUXDB_URL=$url
export INFLUXDB_DB=augur
export INFLUXDB_USER=augur
export INFLUXDB_PASSWORD=$pass
export INFLUXDB_DIR=$dir
EOF
  log "influxd $VERSION at $url, state $dir"
  echo "$dir"
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) [ $# -eq 2 ] || { log "stop DIR"; exit 2; }; stop "$2" ;;
  run)
    shift; [ "${1:-}" = "--" ] && shift
    [ $# -ge 1 ] || { log "run -- CMD [ARGS...]"; exit 2; }
    dir=$(start)
    trap 'stop "$dir"' EXIT INT TERM
    # shellcheck disable=SC1091
    . "$dir/env"
    rc=0; "$@" || rc=$?
    exit "$rc"
    ;;
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
