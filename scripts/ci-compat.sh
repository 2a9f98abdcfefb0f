#!/usr/bin/env bash
# Differential tests against Flagger v1.44.0's own code (compat/flagger, a Go module of its own that
# requires github.com/fluxcd/flagger and augur via a replace to the repository root).
#
# Cold: downloads Flagger's module graph into the Go module cache and compiles Flagger's controller
# package and its dependencies into the shared Go build cache ($(go env GOCACHE), under $HOME/.cache):
# several minutes on 2 cores; warm runs take seconds. Generated tests print their seed; replay one
# with AUGUR_COMPAT_SEED=<seed>, and set AUGUR_COMPAT_N to change how many cases they generate.
# The scheduler suite (sched_*_test.go) drives Flagger's controller tick by tick beside augur: the
# scenarios of compat/flagger/testdata/sched, then generated ones; a divergence is shrunk and saved
# there as found-<seed>-<case>.yaml.
set -euo pipefail
cd "$(dirname "$0")/../compat/flagger"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
start=$(date +%s)
say() { echo "compat: $* ($(( $(date +%s) - start ))s)"; }

say "go mod download (Flagger v1.44.0's module graph; cache $(go env GOMODCACHE))"
go mod download
say "go mod tidy -diff: go.mod/go.sum are tidy"
go mod tidy -diff >/dev/null || { echo "compat/flagger: go.mod/go.sum not tidy (run go mod tidy there)" >&2; go mod tidy -diff >&2 || true; exit 1; }
say "go vet + building the test binary (cold: several minutes; build cache $(go env GOCACHE))"
go vet .
say "running the differential tests"
log=$(mktemp)
rc=0
go test -count=1 -v . >"$log" 2>&1 || rc=$?
# Flagger's observers log every query as JSON at debug level; keep the test lines.
grep -v '^{"level"' "$log" | grep -v '/try' | grep -E '^(=== RUN|\s*--- (PASS|FAIL|SKIP)|PASS$|FAIL|ok |panic)|seed |identical|deliberate|Flagger|augur' || true
if [ "$rc" -ne 0 ]; then
  grep -v '^{"level"' "$log" >&2
  rm -f "$log"
  exit "$rc"
fi
rm -f "$log"
say "passed"
