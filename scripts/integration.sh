#!/usr/bin/env bash
# Integration tests through real components: a real Prometheus server (Debian package, started
# per dataset by scripts/prometheus-testenv.sh) and the built augur binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prometheus-testenv.sh install
export AUGUR_INTEGRATION=1
export AUGUR_BIN="${AUGUR_BIN:-$PWD/bin/augur}"
[ -x "$AUGUR_BIN" ] || go build -o "$AUGUR_BIN" ./cmd/augur
go test -count=1 -v -run 'Integration' ./internal/integration/... 2>&1 | tee /tmp/augur-integration.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)' || true
if grep -qE '^(--- FAIL|FAIL)' /tmp/augur-integration.log; then
  cat /tmp/augur-integration.log
  exit 1
fi
if grep -q -- '--- SKIP' /tmp/augur-integration.log; then
  echo "integration tests were skipped: the real-server tests must run" >&2
  grep -- '--- SKIP' -A2 /tmp/augur-integration.log >&2
  exit 1
fi
grep -cE '^\s*--- PASS' /tmp/augur-integration.log | sed 's/^/integration tests passed: /'
