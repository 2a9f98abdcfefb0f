#!/usr/bin/env bash
# Measures `augur replay --prometheus` over the 24-hour podinfo recording (docs/benchmarks.md,
# "Range-query replays"): generates the dataset with internal/gendata (not committed), loads it
# into a real Prometheus (scripts/prometheus-testenv.sh), then replays testdata/scale/canary-24h.yaml
# against it with one instant query per metric per tick (--instant-queries) and with the
# query_range prefetch (the default), each through a loopback proxy counting the HTTP requests,
# timed with /usr/bin/time, and requires both JSON outputs to be identical.
#
#   scripts/range-replay-bench.sh [PODS]   (default 5 pods per workload, as the issue's dataset)
set -euo pipefail
cd "$(dirname "$0")/.."
pods=${1:-5}
dir=${SCALE_DIR:-${TMPDIR:-/tmp}/augur-range-replay}
mkdir -p "$dir"
if [[ ! -s $dir/healthy-$pods.om ]]; then
  echo "range-replay-bench: generating the 24 h dataset ($pods pods) into $dir" >&2
  go run ./internal/gendata -out "$dir" -duration 24h -pods "$pods" -only healthy.om >&2
  mv "$dir/healthy.om" "$dir/healthy-$pods.om"
fi
go build -o "$dir/augur" ./cmd/augur
go build -o "$dir/countproxy" ./scripts/countproxy
state=$(scripts/prometheus-testenv.sh start "$dir/healthy-$pods.om")
trap 'scripts/prometheus-testenv.sh stop "$state"' EXIT
# shellcheck disable=SC1091
source "$state/env"
for mode in instant range; do
  flags=()
  [[ $mode == instant ]] && flags=(--instant-queries)
  "$dir/countproxy" "$PROMETHEUS_URL" "$dir/count-$mode" &
  proxy=$!
  for _ in $(seq 1 50); do [[ -s $dir/count-$mode.addr ]] && break; sleep 0.1; done
  /usr/bin/time -f "$mode: %e s wall, %U s user, %S s sys, %M KB max RSS" \
    "$dir/augur" replay -f testdata/scale/ --prometheus "http://$(cat "$dir/count-$mode.addr")" \
    --start 2026-11-01T10:00:00Z --max-ticks 2000 -o json "${flags[@]}" >"$dir/replay-$mode.json" 2>"$dir/time-$mode.err" || true
  tail -1 "$dir/time-$mode.err"
  kill "$proxy"; wait "$proxy" 2>/dev/null || true
  echo "$mode: $(cat "$dir/count-$mode") HTTP requests"
  rm -f "$dir/count-$mode.addr"
done
if cmp -s "$dir/replay-instant.json" "$dir/replay-range.json"; then
  echo "outputs identical ($(wc -c <"$dir/replay-range.json") bytes)"
else
  echo "range-replay-bench: the two replays differ: diff $dir/replay-instant.json $dir/replay-range.json" >&2
  exit 1
fi
