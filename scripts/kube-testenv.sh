#!/usr/bin/env bash
# kube-testenv.sh - build (once, cached) and run a real kube-apiserver + etcd on
# loopback for integration tests, with no download other than Go modules.
#
#   kube-testenv.sh build                 build/cache binaries, print their dir
#   kube-testenv.sh run -- CMD [ARGS...]  start etcd+apiserver, run CMD with
#                                         KUBECONFIG set, stop both on exit
#   kube-testenv.sh start                 start in background, print a state dir
#   kube-testenv.sh stop STATE_DIR        stop what `start` started (by PID)
#
# Environment (all optional):
#   KUBE_TESTENV_CACHE    cache dir for binaries   (default: $HOME/.cache/kube-testenv)
#   KUBE_TESTENV_VERSION  k8s.io/kubernetes version (default: 1.32.13)
#   KUBE_TESTENV_ETCD     "built" (etcd from the Go module proxy, version pinned by
#                         k8s.io/kubernetes's go.mod) or "system" (etcd on PATH,
#                         e.g. the Debian etcd-server package)   (default: built)
#   KUBE_TESTENV_TOKEN    bearer token of the admin user (default: random)
#   KUBE_TESTENV_APISERVER_FLAGS  extra kube-apiserver flags (word-split)
#   KUBE_TESTENV_READY_TIMEOUT    seconds to wait for /readyz (default: 60)
#   KUBE_TESTENV_AUTHZ            --authorization-mode value (default AlwaysAllow; RBAC to test permissions:
#                                 the admin token is in system:masters and keeps every right)
set -euo pipefail
# augur's copy of the kube-testenv tool: docs/kube-testenv.md has what it builds,
# the measurements, the environment knobs and what the API server lacks. Used by
# `make kube-test` (package kube's integration tests) and .ci/run.

VERSION="${KUBE_TESTENV_VERSION:-1.32.13}"
VERSION="${VERSION#v}"
CACHE="${KUBE_TESTENV_CACHE:-${HOME}/.cache/kube-testenv}"
BIN_DIR="$CACHE/v$VERSION/bin"
ETCD_MODE="${KUBE_TESTENV_ETCD:-built}"

log() { echo "kube-testenv: $*" >&2; }

# heartbeat WHAT: one progress line a minute while a long build runs (the
# caller kills it by PID when the build ends), so a cold `make test` is not
# silent for minutes.
heartbeat() {
  local t0; t0=$(date +%s)
  while sleep 60; do log "$1: still building ($(( $(date +%s) - t0 ))s so far)"; done
}

build() {
  if [[ -x "$BIN_DIR/kube-apiserver" && ( "$ETCD_MODE" == system || -x "$BIN_DIR/etcd" ) ]]; then
    echo "$BIN_DIR"; return 0
  fi
  command -v go >/dev/null || { log "go not found"; return 1; }
  local mod="$CACHE/v$VERSION/module" minor="${VERSION#*.}"; minor="${minor%%.*}"
  local staging="0.${VERSION#1.}" t0; t0=$(date +%s)
  mkdir -p "$mod/cmd/etcd" "$BIN_DIR"
  log "resolving k8s.io/kubernetes@v$VERSION via the Go module proxy"
  local kmod
  kmod=$(cd "$mod" && GOFLAGS="-mod=mod -buildvcs=false" go mod download -json "k8s.io/kubernetes@v$VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [[ -f "$kmod" ]] || { log "could not download k8s.io/kubernetes@v$VERSION go.mod"; return 1; }
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them
  # with ./staging/...; map each one to the published v0.X.Y instead.
  {
    printf 'module kubetestenv.local/build\n\ngo 1.23.0\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$VERSION"
    awk -v v="v$staging" '/=> \.\/staging\//{print "\t"$1" => "$1" "v}' "$kmod"
    printf ')\n'
  } > "$mod/go.mod"
  cat > "$mod/tools.go" <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  cat > "$mod/cmd/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  # -e: some staging modules that are only reached through *tests* of
  # k8s.io/kubernetes packages are not on the proxy; they are not compiled.
  (cd "$mod" && GOFLAGS="-mod=mod -buildvcs=false" go mod tidy -e) >&2
  local ldf="-s -w"
  for kv in "gitVersion=v$VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean buildDate=1970-01-01T00:00:00Z; do
    ldf+=" -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
  done
  log "building kube-apiserver v$VERSION (cold: ~5 min on 2 idle cores, up to ~16 on a busy machine; once)"
  heartbeat "kube-apiserver" & local hb=$!
  if ! (cd "$mod" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags="$ldf" \
      -o "$BIN_DIR/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver) >&2; then
    kill "$hb" 2>/dev/null; return 1
  fi
  kill "$hb" 2>/dev/null
  mv "$BIN_DIR/kube-apiserver.tmp" "$BIN_DIR/kube-apiserver"
  if [[ "$ETCD_MODE" != system ]]; then
    log "building etcd (version pinned by k8s.io/kubernetes go.mod)"
    heartbeat "etcd" & local hb2=$!
    if ! (cd "$mod" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags="-s -w" \
        -o "$BIN_DIR/etcd.tmp" ./cmd/etcd) >&2; then
      kill "$hb2" 2>/dev/null; return 1
    fi
    kill "$hb2" 2>/dev/null
    mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd"
  fi
  log "built in $(( $(date +%s) - t0 ))s -> $BIN_DIR"
  echo "$BIN_DIR"
}

free_port() {  # a loopback TCP port nobody listens on (small race, fine for CI)
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

stop_pid() {  # stop one of our own processes by PID: TERM, then KILL after 10s
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  local dir="$1"
  [[ -f "$dir/apiserver.pid" ]] && stop_pid "$(cat "$dir/apiserver.pid")"
  [[ -f "$dir/etcd.pid" ]] && stop_pid "$(cat "$dir/etcd.pid")"
  rm -rf "$dir/etcd-data"
}

# start DIR: starts etcd and kube-apiserver, writes DIR/{kubeconfig,env,*.pid,*.log}
start_in() {
  local dir="$1" bins etcd_bin t0
  bins=$(build)
  if [[ "$ETCD_MODE" == system ]]; then etcd_bin=$(command -v etcd) || { log "no etcd on PATH"; return 1; }
  else etcd_bin="$bins/etcd"; fi
  t0=$(date +%s%N)
  local ep pp ap token
  ep=$(free_port); pp=$(free_port); ap=$(free_port)
  token="${KUBE_TESTENV_TOKEN:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
  mkdir -p "$dir/certs"
  "$etcd_bin" --name default --data-dir "$dir/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$ep" --advertise-client-urls "http://127.0.0.1:$ep" \
    --listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
    --initial-cluster "default=http://127.0.0.1:$pp" --listen-metrics-urls '' \
    > "$dir/etcd.log" 2>&1 &
  echo $! > "$dir/etcd.pid"
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  echo "$token,admin,admin,\"system:masters\"" > "$dir/tokens.csv"
  # shellcheck disable=SC2086
  "$bins/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ep" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$ap" \
    --cert-dir="$dir/certs" \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$dir/sa.pub" --service-account-signing-key-file="$dir/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --authorization-mode="${KUBE_TESTENV_AUTHZ:-AlwaysAllow}" --token-auth-file="$dir/tokens.csv" --anonymous-auth=false \
    --endpoint-reconciler-type=none --profiling=false \
    ${KUBE_TESTENV_APISERVER_FLAGS:-} \
    > "$dir/apiserver.log" 2>&1 &
  echo $! > "$dir/apiserver.pid"
  local deadline=$(( $(date +%s) + ${KUBE_TESTENV_READY_TIMEOUT:-60} ))
  until [[ -f "$dir/certs/apiserver.crt" ]] && \
        curl -sf --cacert "$dir/certs/apiserver.crt" -H "Authorization: Bearer $token" \
          "https://127.0.0.1:$ap/readyz" >/dev/null 2>&1; do
    if (( $(date +%s) > deadline )) || ! kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null; then
      log "kube-apiserver not ready; last log lines:"; tail -20 "$dir/apiserver.log" >&2
      tail -5 "$dir/etcd.log" >&2; stop "$dir"; return 1
    fi
    sleep 0.2
  done
  local ca; ca=$(base64 -w0 < "$dir/certs/apiserver.crt")
  cat > "$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: testenv
  cluster: {server: "https://127.0.0.1:$ap", certificate-authority-data: "$ca"}
users:
- name: admin
  user: {token: "$token"}
contexts:
- name: testenv
  context: {cluster: testenv, user: admin, namespace: default}
current-context: testenv
KC
  cat > "$dir/env" <<ENV
export KUBECONFIG='$dir/kubeconfig'
export KUBE_TESTENV_SERVER='https://127.0.0.1:$ap'
export KUBE_TESTENV_TOKEN='$token'
export KUBE_TESTENV_DIR='$dir'
ENV
  log "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms: https://127.0.0.1:$ap (etcd 127.0.0.1:$ep), state $dir"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  build) build ;;
  start)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/kube-testenv.XXXXXX")
    start_in "$dir"; echo "$dir" ;;
  stop) [[ -n "${1:-}" ]] || { log "usage: stop STATE_DIR"; exit 2; }; stop "$1" ;;
  run)
    [[ "${1:-}" == -- ]] && shift
    [[ $# -gt 0 ]] || { log "usage: run -- CMD [ARGS...]"; exit 2; }
    dir=$(mktemp -d "${TMPDIR:-/tmp}/kube-testenv.XXXXXX")
    trap 'stop "$dir"; rm -rf "$dir"' EXIT
    trap 'exit 130' INT; trap 'exit 143' TERM
    start_in "$dir"
    # shellcheck disable=SC1091
    source "$dir/env"
    # run the command as a child we can signal, so INT/TERM to this script
    # stops the command, then etcd and kube-apiserver, right away
    "$@" 0<&0 &
    child=$!
    trap 'kill -INT "$child" 2>/dev/null; wait "$child"; exit 130' INT
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
    set +e; wait "$child"; rc=$?; set -e
    exit "$rc" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
