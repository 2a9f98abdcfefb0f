#!/usr/bin/env bash
# victoria-testenv.sh — a real VictoriaMetrics (single node) on 127.0.0.1 holding recorded data.
#
#   scripts/victoria-testenv.sh install            install Debian's victoria-metrics package if missing
#   scripts/victoria-testenv.sh start DATA.om...    start a server, import the OpenMetrics files,
#                                                   print its state dir (with an `env` file)
#   scripts/victoria-testenv.sh stop DIR            stop that server (by PID) and remove DIR
#   scripts/victoria-testenv.sh run DATA.om... -- CMD [ARGS...]
#                                                   start, run CMD with PROMETHEUS_URL set, stop
#
# Same interface and env file as scripts/prometheus-testenv.sh (PROMETHEUS_URL, PROMETHEUS_PID,
# PROMETHEUS_DIR), so the integration harness starts either. The server gets a temporary storage
# dir, a 100y retention (the recordings are older than VictoriaMetrics' default month), no
# response cache, and a free loopback port. The package's system service is never used.
# Data goes through VictoriaMetrics' Prometheus import API (/api/v1/import/prometheus): the
# OpenMetrics samples are rewritten as Prometheus text with millisecond timestamps, then
# /internal/force_flush makes them searchable at once. The upload is streamed from a file (a day of
# recorded data is over a gigabyte); VICTORIA_IMPORT_TIMEOUT (seconds, default 60) bounds it. Everything else is VictoriaMetrics'
# defaults (MetricsQL, its own staleness detection) — what a user who runs it gets.
set -euo pipefail

log() { echo "victoria-testenv: $*" >&2; }

install_pkg() {
  if command -v victoria-metrics >/dev/null 2>&1 && command -v curl >/dev/null 2>&1; then
    return 0
  fi
  log "installing Debian packages victoria-metrics, curl"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Keep the package's maintainer scripts from starting its system service:
  # invoke-rc.d honours policy-rc.d exit code 101 (only when no policy is in place).
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && own_policy=1
  fi
  local rc=0
  {
    $sudo apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends victoria-metrics curl
  } >&2 || rc=$?
  [ -z "$own_policy" ] || $sudo rm -f "$policy"
  [ "$rc" -eq 0 ] || { log "apt-get failed (exit $rc)"; return "$rc"; }
  command -v victoria-metrics >/dev/null && command -v curl >/dev/null
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# to_prometheus FILE: OpenMetrics text (timestamps in seconds) as Prometheus
# text (timestamps in milliseconds), comments and # EOF dropped. A sample
# line without a timestamp fails: recorded data always carries one.
to_prometheus() {
  awk '
    /^#/ || NF == 0 { next }
    {
      i = match($0, / [^ ]+$/)
      if (!i || NF < 3) { printf "line %d has no timestamp: %s\n", NR, $0 > "/dev/stderr"; exit 1 }
      printf "%s %.0f\n", substr($0, 1, i - 1), substr($0, i + 1) * 1000
    }' "$1"
}

start() {
  [ $# -ge 1 ] || { log "start needs at least one OpenMetrics file"; exit 2; }
  install_pkg
  local f
  for f in "$@"; do [ -f "$f" ] || { log "no such file: $f"; exit 2; }; done
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/victoria-testenv.XXXXXX")
  mkdir -p "$dir/data"
  local port pid url i up=""
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    victoria-metrics -storageDataPath="$dir/data" -retentionPeriod=100y -httpListenAddr="127.0.0.1:$port" \
      -search.disableCache -loggerLevel=WARN >"$dir/victoria.log" 2>&1 &
    pid=$!
    url="http://127.0.0.1:$port"
    for i in $(seq 1 300); do
      if curl -fsS -m 2 "$url/health" >/dev/null 2>&1; then up=1; break; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    [ -z "$up" ] || break
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log "attempt $attempt on port $port failed:"; tail -5 "$dir/victoria.log" >&2
  done
  if [ -z "$up" ]; then rm -rf "$dir"; log "could not start victoria-metrics"; exit 1; fi
  printf 'PROMETHEUS_URL=%s\nPROMETHEUS_PID=%s\nPROMETHEUS_DIR=%s\n' "$url" "$pid" "$dir" >"$dir/victoria.env"
  echo "$pid" >"$dir/victoria.pid"
  for f in "$@"; do
    if ! to_prometheus "$f" >"$dir/import.prom" 2>"$dir/import.log" ||
      ! curl -fsS -m "${VICTORIA_IMPORT_TIMEOUT:-60}" -X POST -T "$dir/import.prom" "$url/api/v1/import/prometheus" >>"$dir/import.log" 2>&1; then
      log "could not import $f:"; cat "$dir/import.log" >&2; stop "$dir"; exit 1
    fi
  done
  rm -f "$dir/import.prom"
  curl -fsS -m 30 "$url/internal/force_flush" >/dev/null || { log "force_flush failed"; stop "$dir"; exit 1; }
  # The env file appears last: a dir with one holds a ready server with the data.
  mv "$dir/victoria.env" "$dir/env"
  log "ready at $url (pid $pid, data $*)"
  echo "$dir"
}

stop() {
  local dir=${1:?stop needs the state dir}
  if [ -f "$dir/victoria.pid" ]; then
    local pid
    pid=$(cat "$dir/victoria.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  case "$dir" in */victoria-testenv.*) rm -rf "$dir" ;; esac
}

# The state dir of `run`'s server; global so that the EXIT trap still sees it.
RUN_DIR=""

run() {
  local files=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do files+=("$1"); shift; done
  [ "${1:-}" = "--" ] || { log "run: missing -- before the command"; exit 2; }
  shift
  [ $# -gt 0 ] || { log "run: no command after --"; exit 2; }
  RUN_DIR=$(start "${files[@]}")
  trap 'stop "$RUN_DIR"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # shellcheck disable=SC1091
  set -a; . "$RUN_DIR/env"; set +a
  local rc=0
  "$@" || rc=$?
  return "$rc"
}

cmd=${1:-}
shift || true
case "$cmd" in
  install) install_pkg ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  run) run "$@" || exit $? ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
