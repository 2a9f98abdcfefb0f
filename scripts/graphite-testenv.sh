#!/usr/bin/env bash
# graphite-testenv.sh — a real Graphite on 127.0.0.1: Debian's carbon-cache (graphite-carbon)
# receiving points and graphite-web (graphite-web, Django) answering the render API.
#
#   scripts/graphite-testenv.sh install          install Debian's graphite-web and graphite-carbon if missing
#   scripts/graphite-testenv.sh start            start both, print the state dir (with an `env` file)
#   scripts/graphite-testenv.sh stop DIR         stop both (by PID) and remove DIR
#   scripts/graphite-testenv.sh run -- CMD...    start, run CMD with the variables below, stop
#
# Variables: GRAPHITE_URL (graphite-web, http://127.0.0.1:<port>), GRAPHITE_CARBON (carbon's
# plaintext line receiver, 127.0.0.1:<port>), GRAPHITE_DIR (state: whisper files, logs, pids).
# Everything lives in a temporary directory: carbon.conf and storage-schemas.conf (10s points
# kept 2 days), a Django settings module that imports graphite-web's own settings and only moves
# its storage, database and carbonlink (so a render sees points carbon has not flushed yet) into
# that directory. graphite-web runs on Django's own HTTP server (no Apache). The packages' system
# services are never used. Python is Debian's /usr/bin/python3 (the packages' interpreter).
set -euo pipefail

log() { echo "graphite-testenv: $*" >&2; }
PY=/usr/bin/python3

install_pkg() {
  if command -v carbon-cache >/dev/null 2>&1 && [ -f /usr/lib/python3/dist-packages/graphite/settings.py ] && command -v curl >/dev/null 2>&1; then
    return 0
  fi
  log "installing Debian packages graphite-web, graphite-carbon, curl"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && own_policy=1
  fi
  local rc=0
  {
    $sudo apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends graphite-web graphite-carbon curl
  } >&2 || rc=$?
  [ -z "$own_policy" ] || $sudo rm -f "$policy"
  [ "$rc" -eq 0 ] || { log "apt-get failed (exit $rc)"; return "$rc"; }
  command -v carbon-cache >/dev/null
}

free_port() {
  "$PY" - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

stop() {
  local dir="$1" f pid
  [ -d "$dir" ] || return 0
  for f in "$dir/web.pid" "$dir/carbon.augur-pid"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

start() {
  install_pkg
  local dir line pickle query web
  dir=$(mktemp -d "${TMPDIR:-/tmp}/graphite-testenv.XXXXXX")
  mkdir -p "$dir/whisper" "$dir/log" "$dir/py"
  line=$(free_port); pickle=$(free_port); query=$(free_port); web=$(free_port)
  cat >"$dir/carbon.conf" <<EOF
[cache]
STORAGE_DIR = $dir/
LOCAL_DATA_DIR = $dir/whisper/
CONF_DIR = $dir/
LOG_DIR = $dir/log/
PID_DIR = $dir/
DATABASE = whisper
ENABLE_LOGROTATION = False
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 10000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $line
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $pickle
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $query
EOF
  printf '[default]\npattern = .*\nretentions = 10s:2d\n' >"$dir/storage-schemas.conf"
  cat >"$dir/py/augur_graphite_settings.py" <<EOF
from graphite.settings import *  # graphite-web's settings, then only the paths moved
STORAGE_DIR = '$dir/'
WHISPER_DIR = '$dir/whisper/'
STANDARD_DIRS = [WHISPER_DIR]
LOG_DIR = '$dir/log/'
INDEX_FILE = '$dir/index'
CARBONLINK_HOSTS = ['127.0.0.1:$query']
SECRET_KEY = 'augur-graphite-testenv'
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
DATABASES = {'default': {'NAME': '$dir/graphite.db', 'ENGINE': 'django.db.backends.sqlite3'}}
EOF
  (cd "$dir" && exec carbon-cache --config="$dir/carbon.conf" --pidfile="$dir/carbon.pid" --debug start) >"$dir/carbon.log" 2>&1 &
  echo $! >"$dir/carbon.augur-pid" # carbon writes carbon.pid itself
  export PYTHONPATH="$dir/py" DJANGO_SETTINGS_MODULE=augur_graphite_settings
  if ! (cd "$dir" && "$PY" -m django migrate --run-syncdb) >"$dir/migrate.log" 2>&1; then
    log "graphite-web's database migration failed:"; cat "$dir/migrate.log" >&2; stop "$dir"; exit 1
  fi
  (cd "$dir" && exec "$PY" -m django runserver "127.0.0.1:$web" --noreload) >"$dir/web.log" 2>&1 &
  echo $! >"$dir/web.pid"
  local url="http://127.0.0.1:$web" i up=""
  for i in $(seq 1 300); do
    if curl -fsS "$url/render?target=test&format=json" >/dev/null 2>&1 && "$PY" - "$line" <<'PY' 2>/dev/null; then
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
PY
      up=1; break
    fi
    sleep 0.2
  done
  if [ -z "$up" ]; then
    log "graphite did not come up in 60s; logs:"; tail -n 20 "$dir/carbon.log" "$dir/web.log" >&2; stop "$dir"; exit 1
  fi
  cat >"$dir/env" <<EOF
export GRAPHITE_URL=$url
export GRAPHITE_CARBON=127.0.0.1:$line
export GRAPHITE_DIR=$dir
EOF
  log "graphite-web $url, carbon 127.0.0.1:$line, state $dir"
  echo "$dir"
}

case "${1:-}" in
  install) install_pkg ;;
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
  *) sed -n '2,16p' "$0" >&2; exit 2 ;;
esac
