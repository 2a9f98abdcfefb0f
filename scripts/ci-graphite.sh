#!/usr/bin/env bash
# ci-graphite.sh — augur's graphite provider against a real Graphite (issue 18): installs Debian's
# graphite-web and graphite-carbon if missing, starts both on 127.0.0.1 (scripts/graphite-testenv.sh)
# and runs TestGraphite (internal/integration/graphite_test.go): points written through carbon's
# plaintext protocol, read back through augur's provider from graphite-web's render API (windows,
# gaps, server-side functions, several targets, no values) and compared with the values written.
# Then TestRealGraphite (compat/providers): Flagger v1.44.0's own provider beside augur's on the same server.
# Fails when a test fails or is skipped. Cold cost: the apt packages (~40 MB with Django and
# Twisted), then under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "=== graphite: install graphite-web and graphite-carbon (Debian) if missing"
scripts/graphite-testenv.sh install
log=$(mktemp "${TMPDIR:-/tmp}/augur-graphite.XXXXXX")
trap 'rm -f "$log"' EXIT
rc=0
scripts/graphite-testenv.sh run -- bash -c "go test -race -count=1 -timeout 10m -v -run '^TestGraphite$' ./internal/integration && cd compat/providers && go test -count=1 -timeout 10m -v -run '^TestRealGraphite$' ." >"$log" 2>&1 || rc=$?
grep -vE '^=== (RUN|PAUSE|CONT)' "$log" || true
if [ "$rc" -ne 0 ] || grep -qE '^\s*--- FAIL|^FAIL' "$log"; then
  echo "ci-graphite: the Graphite test failed (exit $rc)" >&2
  exit 1
fi
if grep -qE '^\s*--- SKIP' "$log" || ! grep -qE '^--- PASS: TestGraphite' "$log" || ! grep -qE '^--- PASS: TestRealGraphite' "$log"; then
  echo "ci-graphite: TestGraphite or TestRealGraphite did not run" >&2
  exit 1
fi
echo "ci-graphite: augur's graphite provider against a real carbon + graphite-web: every value as written"
