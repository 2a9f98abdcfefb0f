#!/usr/bin/env bash
# ci-judges.sh — the judges' reduced calibration (issue 12): every traffic model of
# internal/calibrate, 200 A/A and regression rollouts each, checked against the judges'
# stated false-alarm rates and against Kayenta's rank test. Without the race detector
# (make unit runs it as a smoke test under -race). A few minutes on 2 cores.
# The full table of docs/judges.md: make calibrate.
set -euo pipefail
cd "$(dirname "$0")/.."
echo; echo "=== judges: reduced calibration (scripts/ci-judges.sh), 200 rollouts per model, scenario and judge"
log=$(mktemp "${TMPDIR:-/tmp}/augur-calibrate.XXXXXX")
trap 'rm -f "$log"' EXIT
rc=0
go test -count=1 -timeout 20m -run 'TestCalibration$' -v ./internal/calibrate -args -calibrate.rollouts 200 >"$log" 2>&1 || rc=$?
cat "$log"
if [ "$rc" -ne 0 ] || grep -qE '^\s*--- (FAIL|SKIP)' "$log"; then
  echo "ci-judges: the calibration failed or was skipped (go test exit $rc)" >&2
  exit 1
fi
