#!/usr/bin/env bash
# CI step for issue 10 (hardening): the secrets, fault and abuse suites run with
# `make test`; this adds a short fuzzing run of every fuzz target
# (scripts/fuzz.sh). A crasher is written by `go test -fuzz` under the
# package's testdata/fuzz/ and fails the step: commit it to the corpus with
# the fix. Usage: scripts/ci-hardening.sh [DURATION per target] (default 3s).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-${FUZZTIME:-3s}}
echo "fuzzing every target for $fuzztime"
scripts/fuzz.sh "$fuzztime"
