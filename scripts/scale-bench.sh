#!/usr/bin/env bash
# Measures augur on the 24-hour, two-workload, five-pod Istio recording
# (docs/benchmarks.md, "A day of a namespace"): generates the dataset with
# internal/gendata (not committed), then times loading it (`augur query`,
# three instant queries) and a whole-day replay (testdata/scale/canary-24h.yaml)
# with /usr/bin/time. CPU seconds (user+sys) are the figures to compare on a
# shared machine; wall time is printed too.
#
#   scripts/scale-bench.sh [AUGUR_BINARY...]   (default: a fresh build of ./cmd/augur)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SCALE_DIR:-${TMPDIR:-/tmp}/augur-scale}
mkdir -p "$dir"
if [[ ! -s $dir/healthy.om ]]; then
  echo "scale-bench: generating the 24 h dataset into $dir" >&2
  go run ./internal/gendata -out "$dir" -duration 24h -pods 5 -only healthy.om >&2
fi
[[ -s $dir/healthy.om.gz ]] || gzip -1 -k -c "$dir/healthy.om" >"$dir/healthy.om.gz"
bins=("$@")
if [[ ${#bins[@]} -eq 0 ]]; then
  go build -o "$dir/augur" ./cmd/augur
  bins=("$dir/augur")
fi
measure() {
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %U s user, %S s sys, %M KB max RSS" "$@" >/dev/null 2>"$dir/time.err" || true
  tail -1 "$dir/time.err"
}
for bin in "${bins[@]}"; do
  echo "== $bin"
  measure "load+3 queries" "$bin" query -f testdata/scale/ --data "$dir/healthy.om"
  measure "replay 24h    " "$bin" replay -f testdata/scale/ --data "$dir/healthy.om" --max-ticks 2000
done
