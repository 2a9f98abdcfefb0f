#!/usr/bin/env bash
# The 24-hour replay of issue 15 on three backends (docs/benchmarks.md, "A day of a namespace: the
# issue's table"): generates the dataset with internal/gendata (not committed), loads it into a real
# Prometheus (scripts/prometheus-testenv.sh) and a real VictoriaMetrics (scripts/victoria-testenv.sh),
# and replays testdata/scale/canary-24h.yaml from 10:00 with the same binary:
#   embedded   --data FILE (the embedded PromQL engine, loading included)
#   prometheus --prometheus URL (query_range prefetch, the default), and with --instant-queries
#   victoria   --prometheus URL of VictoriaMetrics (query_range prefetch)
# The servers are reached through scripts/countproxy, which counts HTTP requests. Each replay is timed
# with /usr/bin/time (wall, augur's user+sys CPU, peak RSS); the server's own CPU during the replay
# comes from /proc/PID/stat. On a shared machine CPU seconds are the figures to compare: wall time
# waits for the cores. Then the decisions of every tick are compared (phase, weight, failed checks,
# iterations, action, each check's verdict) and the value differences listed per metric.
#
#   scripts/scale-backends.sh            (SCALE_DIR=/tmp/augur-scale by default, shared with scale-bench.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SCALE_DIR:-${TMPDIR:-/tmp}/augur-scale}
mkdir -p "$dir"
data=$dir/healthy.om
if [[ ! -s $data ]]; then
  echo "scale-backends: generating the 24 h dataset into $dir" >&2
  go run ./internal/gendata -out "$dir" -duration 24h -pods 5 -only healthy.om >&2
fi
bin=$dir/augur
go build -o "$bin" ./cmd/augur
go build -o "$dir/countproxy" ./scripts/countproxy
tck=$(getconf CLK_TCK)
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

prom=$(scripts/prometheus-testenv.sh start "$data")
vm=""
trap 'scripts/prometheus-testenv.sh stop "$prom"; [[ -z $vm ]] || scripts/victoria-testenv.sh stop "$vm"' EXIT
vm=$(VICTORIA_IMPORT_TIMEOUT=900 scripts/victoria-testenv.sh start "$data")
prom_url=$(sed -n 's/^PROMETHEUS_URL=//p' "$prom/env"); prom_pid=$(sed -n 's/^PROMETHEUS_PID=//p' "$prom/env")
vm_url=$(sed -n 's/^PROMETHEUS_URL=//p' "$vm/env"); vm_pid=$(sed -n 's/^PROMETHEUS_PID=//p' "$vm/env")

# replay LABEL URL PID [FLAGS...]: URL empty = embedded over the file.
replay() {
  local label=$1 url=$2 pid=$3 proxy="" before=0 after=0 requests=0
  shift 3
  local src=(--data "$data")
  if [[ -n $url ]]; then
    rm -f "$dir/count-$label" "$dir/count-$label.addr"
    "$dir/countproxy" "$url" "$dir/count-$label" &
    proxy=$!
    for _ in $(seq 1 100); do [[ -s $dir/count-$label.addr ]] && break; sleep 0.1; done
    src=(--prometheus "http://$(cat "$dir/count-$label.addr")")
    before=$(cputicks "$pid")
  fi
  /usr/bin/time -f "%e %U %S %M" -o "$dir/time-$label" "$bin" replay -f testdata/scale/ "${src[@]}" \
    --start 2026-11-01T10:00:00Z --max-ticks 2000 -o json "$@" >"$dir/replay-$label.json" 2>"$dir/replay-$label.err" || true
  if [[ -n $url ]]; then
    after=$(cputicks "$pid")
    kill "$proxy"; wait "$proxy" 2>/dev/null || true
    requests=$(cat "$dir/count-$label")
  fi
  read -r wall user sys rss < <(tail -1 "$dir/time-$label")  # after "Command exited with non-zero status"
  awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v a="$before" -v b="$after" -v t="$tck" -v n="$requests" \
    'BEGIN { printf "%-18s %6.2f s wall  augur CPU %5.2f s  server CPU %5.2f s  %5d requests  %4d MB peak RSS\n", l, w, u + s, (b - a) / t, n, r / 1024 }'
}

echo "== 24 h replay, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
replay embedded "" ""
replay prometheus "$prom_url" "$prom_pid"
replay prometheus-instant "$prom_url" "$prom_pid" --instant-queries
replay victoria "$vm_url" "$vm_pid"

python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
runs = {k: json.load(open(f"{d}/replay-{k}.json")) for k in ("embedded", "prometheus", "prometheus-instant", "victoria")}
base = runs["embedded"]
fields = ("time", "phase", "canaryWeight", "failedChecks", "iterations", "action")
ok = True
for name, run in runs.items():
    ticks = run["ticks"]
    n = min(len(ticks), len(base["ticks"]))
    same, first_diff = True, None
    diffs = {}
    for i, (a, b) in enumerate(zip(base["ticks"][:n], ticks[:n])):
        tick_same = all(a.get(f) == b.get(f) for f in fields)
        for ca, cb in zip(a.get("checks", []), b.get("checks", [])):
            tick_same = tick_same and ca.get("passed") == cb.get("passed")
            va, vb = ca.get("value"), cb.get("value")
            m = diffs.setdefault(ca["metric"], [0, 0, 0.0, 0.0])
            m[0] += 1
            if va != vb:
                m[1] += 1
                if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
                    m[2] = max(m[2], abs(va - vb))
                    if va:
                        m[3] = max(m[3], abs(va - vb) / abs(va))
                else:
                    m[2] = float("inf")
        if not tick_same and first_diff is None:
            first_diff = a["time"]
        same = same and tick_same
    ok = ok and same
    extra = ""
    if len(ticks) != len(base["ticks"]):
        last = ticks[-1]
        extra = f"; then {len(ticks) - n} more ticks (a server does not know where the data ends: no values, {last['phase']} at {last['time']})"
    verdict = "identical to" if same else f"DIFFER (first at {first_diff}) from"
    print(f"{name:18s} {len(ticks)} ticks: decisions of the first {n} ticks {verdict} embedded{extra}")
    for metric, (k, nd, mabs, mrel) in diffs.items():
        print(f"  {metric:22s} values differ at {nd} of {k} checks; max |diff| {mabs:.6g}, max relative {mrel:.3g}")
sys.exit(0 if ok else 1)
PY
