#!/usr/bin/env bash
# Integration tests through real components: a real Prometheus server (Debian package, started
# per dataset by scripts/prometheus-testenv.sh) and the built augur binary.
#
# Fails when a test fails, when any test was skipped (the real-server tests must run), or when
# no TestIntegration test passed at all. Prints every test and subtest with its result, then the
# counts. AUGUR_BIN may name a prebuilt binary; otherwise bin/augur is (re)built first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prometheus-testenv.sh install
export AUGUR_INTEGRATION=1
if [ -z "${AUGUR_BIN:-}" ]; then
  AUGUR_BIN="$PWD/bin/augur"
  CGO_ENABLED=0 go build -trimpath -o "$AUGUR_BIN" ./cmd/augur
fi
export AUGUR_BIN
log=$(mktemp "${TMPDIR:-/tmp}/augur-integration.XXXXXX")
trap 'rm -f "$log"' EXIT
rc=0
go test -race -count=1 -timeout 10m -v -run 'Integration' ./internal/integration/... ./internal/testfile/... >"$log" 2>&1 || rc=$?
grep -E '^\s*(--- |PASS$|FAIL|ok\s|panic)|^\s+[a-z_]+_test\.go:[0-9]+: ' "$log" || true
if [ "$rc" -ne 0 ] || grep -qE '^\s*--- FAIL|^FAIL' "$log"; then
  echo "integration tests failed (go test exit $rc):" >&2
  cat "$log" >&2
  exit 1
fi
if grep -qE '^\s*--- SKIP' "$log"; then
  echo "integration tests were skipped: the real-server tests must run" >&2
  grep -E -A2 '^\s*--- SKIP' "$log" >&2
  exit 1
fi
tests=$(grep -cE '^--- PASS: TestIntegration' "$log" || true)
subtests=$(grep -cE '^\s+--- PASS: TestIntegration' "$log" || true)
if [ "$tests" -eq 0 ]; then
  echo "no TestIntegration test ran" >&2
  cat "$log" >&2
  exit 1
fi
echo "integration tests passed against a real Prometheus server: $tests tests, $subtests subtests"
