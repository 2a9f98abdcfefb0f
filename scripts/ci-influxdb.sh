#!/usr/bin/env bash
# ci-influxdb.sh — augur's influxdb provider against a real InfluxDB with Flux (issue 18): builds
# influxd v1.8.3 from its Go module once (scripts/influxdb-testenv.sh; cached in
# ~/.cache/augur-influxdb; Debian's influxdb 1.6.7 has no Flux and no /api/v2/query), starts it on
# 127.0.0.1 with authentication, and runs TestInfluxDB (internal/integration/influxdb_test.go):
# points written with the line protocol, read back with Flux through augur's provider and compared
# with the values written; refused shapes, credentials, IsOnline and the past-time guard.
# Then TestRealInfluxDB (compat/providers): Flagger v1.44.0's own provider beside augur's on the same server.
# Fails when a test fails or is skipped. Cold cost: the module downloads and build (measured
# 295 s on the shared 2-core machine, downloads included); warm: ~10 s.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "=== influxdb: build influxd from its Go module (once)"
scripts/influxdb-testenv.sh build
log=$(mktemp "${TMPDIR:-/tmp}/augur-influxdb.XXXXXX")
trap 'rm -f "$log"' EXIT
rc=0
scripts/influxdb-testenv.sh run -- bash -c "go test -race -count=1 -timeout 10m -v -run '^TestInfluxDB$' ./internal/integration && cd compat/providers && go test -count=1 -timeout 10m -v -run '^TestRealInfluxDB$' ." >"$log" 2>&1 || rc=$?
grep -vE '^=== (RUN|PAUSE|CONT)' "$log" || true
if [ "$rc" -ne 0 ] || grep -qE '^\s*--- FAIL|^FAIL' "$log"; then
  echo "ci-influxdb: the InfluxDB test failed (exit $rc)" >&2
  exit 1
fi
if grep -qE '^\s*--- SKIP' "$log" || ! grep -qE '^--- PASS: TestInfluxDB' "$log" || ! grep -qE '^--- PASS: TestRealInfluxDB' "$log"; then
  echo "ci-influxdb: TestInfluxDB or TestRealInfluxDB did not run" >&2
  exit 1
fi
echo "ci-influxdb: augur's influxdb provider against a real InfluxDB (Flux): every value as written"
