#!/usr/bin/env bash
# ci-victoria.sh — augur against a real VictoriaMetrics (issue 15): installs Debian's
# victoria-metrics if missing, then runs TestVictoriaMetrics (internal/integration/victoria_test.go):
# per podinfo dataset a VictoriaMetrics on 127.0.0.1 (scripts/victoria-testenv.sh) compared with
# the embedded engine — replay decisions per tick, query verdicts, augur record, exact counts —
# and with a real Prometheus (the judged Canary's replay) —
# and the value differences printed (docs/backends.md). Fails when the test fails or is skipped.
# Cold cost: the apt package (~10 MB), then one to two minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "=== victoria: install victoria-metrics and prometheus (Debian) if missing"
scripts/victoria-testenv.sh install
scripts/prometheus-testenv.sh install  # the judged replay compares with a real Prometheus
victoria-metrics -version 2>/dev/null || true
export AUGUR_VICTORIA=1
if [ -z "${AUGUR_BIN:-}" ]; then
  echo "=== victoria: build bin/augur"
  AUGUR_BIN="$PWD/bin/augur"
  CGO_ENABLED=0 go build -trimpath -o "$AUGUR_BIN" ./cmd/augur
fi
export AUGUR_BIN
echo "=== victoria: go test -run TestVictoriaMetrics ./internal/integration (7 datasets)"
log=$(mktemp "${TMPDIR:-/tmp}/augur-victoria.XXXXXX")
trap 'rm -f "$log"' EXIT
rc=0
go test -race -count=1 -timeout 15m -v -run '^TestVictoriaMetrics$' ./internal/integration >"$log" 2>&1 || rc=$?
grep -vE '^=== (RUN|PAUSE|CONT)' "$log" || true
if [ "$rc" -ne 0 ] || grep -qE '^\s*--- FAIL|^FAIL' "$log"; then
  echo "ci-victoria: the VictoriaMetrics tests failed (go test exit $rc)" >&2
  exit 1
fi
if grep -qE '^\s*--- SKIP' "$log" || ! grep -qE '^--- PASS: TestVictoriaMetrics' "$log"; then
  echo "ci-victoria: TestVictoriaMetrics did not run" >&2
  exit 1
fi
echo "ci-victoria: augur against a real VictoriaMetrics: decisions identical to the embedded engine on every tick"
