#!/usr/bin/env bash
# prometheus-testenv.sh — a real Prometheus server on 127.0.0.1 holding recorded data.
#
#   scripts/prometheus-testenv.sh install            install Debian's prometheus package if missing
#   scripts/prometheus-testenv.sh start DATA.om...    load the OpenMetrics files, start a server,
#                                                     print its state dir (with an `env` file)
#   scripts/prometheus-testenv.sh stop DIR            stop that server (by PID) and remove DIR
#   scripts/prometheus-testenv.sh run DATA.om... -- CMD [ARGS...]
#                                                     start, run CMD with PROMETHEUS_URL set, stop
#
# The server gets its own minimal config (no scrape jobs), a long retention so old recorded data
# survives, and a free loopback port chosen at run time. The package's stock config and system
# service are never used. Data is loaded with `promtool tsdb create-blocks-from openmetrics`.
set -euo pipefail

log() { echo "prometheus-testenv: $*" >&2; }

install_pkg() {
  if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    return 0
  fi
  log "installing Debian package prometheus"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Keep the package's maintainer scripts from starting its system service
  # (stock config, all interfaces): invoke-rc.d and deb-systemd-invoke honour
  # policy-rc.d exit code 101. Only when no policy is in place already.
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && own_policy=1
  fi
  local rc=0
  {
    $sudo apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus
  } >&2 || rc=$?
  [ -z "$own_policy" ] || $sudo rm -f "$policy"
  [ "$rc" -eq 0 ] || { log "apt-get failed (exit $rc)"; return "$rc"; }
  command -v prometheus >/dev/null && command -v promtool >/dev/null
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# ready URL: whether GET URL/-/ready answers 200. curl when installed (the
# Debian package does not pull it in), else bash's /dev/tcp.
ready() {
  local url=$1
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 2 "$url/-/ready" >/dev/null 2>&1
    return
  fi
  local hostport=${url#http://} status=""
  (
    exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || exit 1
    printf 'GET /-/ready HTTP/1.0\r\nHost: %s\r\n\r\n' "$hostport" >&3
    IFS= read -r -t 2 status <&3 || exit 1
    case "$status" in "HTTP/1."?" 200 "*) exit 0 ;; *) exit 1 ;; esac
  ) 2>/dev/null
}

start() {
  [ $# -ge 1 ] || { log "start needs at least one OpenMetrics file"; exit 2; }
  install_pkg
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/prometheus-testenv.XXXXXX")
  mkdir -p "$dir/data"
  for f in "$@"; do
    [ -f "$f" ] || { log "no such file: $f"; rm -rf "$dir"; exit 2; }
    if ! promtool tsdb create-blocks-from openmetrics "$f" "$dir/data" >"$dir/promtool.log" 2>&1; then
      log "promtool could not load $f:"; cat "$dir/promtool.log" >&2; rm -rf "$dir"; exit 1
    fi
  done
  cat >"$dir/prometheus.yml" <<'YML'
global:
  scrape_interval: 1h
  evaluation_interval: 1h
scrape_configs: []
YML
  local port pid url i
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
      --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" \
      --query.lookback-delta=5m --log.level=warn >"$dir/prometheus.log" 2>&1 &
    pid=$!
    url="http://127.0.0.1:$port"
    for i in $(seq 1 300); do
      if ready "$url"; then
        printf 'PROMETHEUS_URL=%s\nPROMETHEUS_PID=%s\nPROMETHEUS_DIR=%s\n' "$url" "$pid" "$dir" >"$dir/env"
        echo "$pid" >"$dir/prometheus.pid"
        log "ready at $url (pid $pid, data $*)"
        echo "$dir"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log "attempt $attempt on port $port failed:"; tail -5 "$dir/prometheus.log" >&2
  done
  rm -rf "$dir"
  log "could not start prometheus"
  exit 1
}

stop() {
  local dir=${1:?stop needs the state dir}
  if [ -f "$dir/prometheus.pid" ]; then
    local pid
    pid=$(cat "$dir/prometheus.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  case "$dir" in */prometheus-testenv.*) rm -rf "$dir" ;; esac
}

# The state dir of `run`'s server; global so that the EXIT trap still sees it
# after run returns.
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
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
