package integration

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
)

// VictoriaScript starts a real VictoriaMetrics holding recorded data; it
// writes the same env file as TestenvScript, so StartServer runs either.
const VictoriaScript = "scripts/victoria-testenv.sh"

// startVictoria starts a real VictoriaMetrics holding files (imported
// through its Prometheus import API), stopped when the test ends.
func startVictoria(tb testing.TB, root string, files ...string) *Server {
	tb.Helper()
	s, err := StartServer(tb.Context(), filepath.Join(root, VictoriaScript), files...)
	if err != nil {
		tb.Fatalf("VictoriaMetrics did not start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext(tb)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// decision is a tick without its values: what augur decided.
type decision struct {
	Phase                      string
	Weight, Failed, Iterations int
	Action                     string
	Events                     []string // event types
	Checks                     []string // "metric pass|FAIL|no value"
}

func decisionOf(t tick) decision {
	d := decision{Phase: string(t.Phase), Weight: t.Weight, Failed: t.Failed, Iterations: t.Iterations, Action: string(t.Action)}
	for _, e := range t.Events {
		typ, _, _ := strings.Cut(e, ":")
		d.Events = append(d.Events, typ)
	}
	for _, c := range t.Checks {
		d.Checks = append(d.Checks, c.Metric+" "+verdictOf(c))
	}
	return d
}

func verdictOf(c check) string {
	switch {
	case c.Value == "":
		return "no value"
	case c.Passed:
		return "pass"
	default:
		return "FAIL"
	}
}

// valueDiffs collects, per metric or query, how far VictoriaMetrics' values
// are from the embedded engine's (which equals a real Prometheus:
// TestIntegrationDatasets).
type valueDiffs map[string]*valueDiff

type valueDiff struct {
	points, differ, onlyOne int
	maxAbs, maxRel          float64
	rels                    []float64 // relative difference of each differing point
	worst                   string
}

func (d valueDiffs) add(key, dataset string, at time.Time, emb, vm string) {
	v := d[key]
	if v == nil {
		v = &valueDiff{}
		d[key] = v
	}
	v.points++
	if emb == vm {
		return
	}
	if emb == "" || vm == "" {
		v.onlyOne++
		return
	}
	a, errA := strconv.ParseFloat(emb, 64)
	b, errB := strconv.ParseFloat(vm, 64)
	if errA != nil || errB != nil {
		v.onlyOne++
		return
	}
	v.differ++
	abs := math.Abs(a - b)
	rel := abs / math.Max(math.Abs(a), math.SmallestNonzeroFloat64)
	if math.IsNaN(a) || math.IsNaN(b) {
		abs, rel = math.Inf(1), math.Inf(1)
	}
	if rel > v.maxRel || (rel == v.maxRel && abs > v.maxAbs) {
		v.worst = fmt.Sprintf("%s at %s: PromQL %s, VictoriaMetrics %s", dataset, at.Format("15:04:05"), emb, vm)
	}
	v.maxAbs, v.maxRel = math.Max(v.maxAbs, abs), math.Max(v.maxRel, rel)
	v.rels = append(v.rels, rel)
}

// inRange reports whether the value v (as the API writes it) passes tr.
func inRange(tr *analysis.ThresholdRange, v string) bool {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		return false
	}
	return (tr.Min == nil || f >= *tr.Min) && (tr.Max == nil || f <= *tr.Max)
}

// table renders the differences as Markdown rows.
func (d valueDiffs) table() string {
	var b strings.Builder
	b.WriteString("| metric / query | points | differ | only one side | median rel (differing) | max abs | max rel | worst |\n|---|---|---|---|---|---|---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(d)) {
		v := d[k]
		median := 0.0
		if len(v.rels) > 0 {
			slices.Sort(v.rels)
			median = v.rels[len(v.rels)/2]
		}
		fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %.2f%% | %.4g | %.2f%% | %s |\n", k, v.points, v.differ, v.onlyOne, 100*median, v.maxAbs, 100*v.maxRel, v.worst)
	}
	return b.String()
}

// wantVictoriaFlips are the range points (15s steps, none of them a replay
// tick) where MetricsQL's value and PromQL's fall on different sides of the
// metric's threshold: docs/backends.md lists them.
var wantVictoriaFlips = []string{
	"slow request-duration at 10:09:45",
	"slow request-duration at 10:17:30",
}

// EnvVictoria turns TestVictoriaMetrics on when it is "1"
// (scripts/ci-victoria.sh sets it). Its name keeps it out of
// scripts/integration.sh's -run 'Integration', so `make test` does not
// need VictoriaMetrics.
const EnvVictoria = "AUGUR_VICTORIA"

// TestVictoriaMetrics runs augur against a real VictoriaMetrics
// (scripts/victoria-testenv.sh) holding each podinfo dataset and against
// the same file embedded: replay decisions must be identical on every tick,
// query verdicts identical at every minute, `augur record` from
// VictoriaMetrics must give back the raw samples (a replay of the recording
// equals the embedded replay exactly), and the judges' exact counts from raw
// samples must be equal. Values of rate()-based queries differ (MetricsQL
// does not extrapolate at window edges): they are measured per metric and
// logged for docs/backends.md, not hidden.
func TestVictoriaMetrics(t *testing.T) {
	if os.Getenv(EnvVictoria) != "1" {
		t.Skipf("real-VictoriaMetrics test: set %s=1 (scripts/ci-victoria.sh does) to run it", EnvVictoria)
	}
	root := repoRoot(t)
	bin := augurBin(t, root)
	set := podinfoSet(t, root)
	canary := set.Canaries[0]
	ticks, queryDiffs, rangeDiffs, judgedDiffs := valueDiffs{}, valueDiffs{}, valueDiffs{}, valueDiffs{}
	var flips []string // range points on the other side of a threshold
	for _, file := range datasets(t, root) {
		name := datasetName(file)
		rel, err := filepath.Rel(root, file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			store := loadStore(t, file)
			srv := startVictoria(t, root, file)
			sources := [][]string{{"--prometheus", srv.URL}, {"--data", rel}}

			t.Run("replay", func(t *testing.T) {
				var tls [2]timeline
				var codes [2]int
				for i, src := range sources {
					args := append([]string{"replay", "-f", podinfoDir + "/", "--start", replayStart.Format(time.RFC3339), "-o", "json"}, src...)
					r := runAugur(t, bin, root, args...)
					if tls[i], err = decodeReplay(r.stdout); err != nil {
						t.Fatalf("%v\n%s", err, r)
					}
					codes[i] = r.code
				}
				if codes[0] != codes[1] {
					t.Errorf("exit code %d from VictoriaMetrics, %d embedded", codes[0], codes[1])
				}
				if tls[0].Result != tls[1].Result || len(tls[0].Ticks) != len(tls[1].Ticks) {
					t.Fatalf("replay ended %s after %d ticks on VictoriaMetrics, %s after %d embedded",
						tls[0].Result, len(tls[0].Ticks), tls[1].Result, len(tls[1].Ticks))
				}
				for i := range tls[0].Ticks {
					vm, emb := tls[0].Ticks[i], tls[1].Ticks[i]
					if diff := gocmp.Diff(decisionOf(emb), decisionOf(vm)); diff != "" {
						t.Errorf("tick %d (%s): decisions differ (-embedded +VictoriaMetrics):\n%s", i+1, emb.Time.Format(time.RFC3339), diff)
					}
					for j := range min(len(vm.Checks), len(emb.Checks)) {
						ticks.add(emb.Checks[j].Metric, name, emb.Time, emb.Checks[j].Value, vm.Checks[j].Value)
					}
				}
				t.Logf("%s: replay: %d ticks, decisions identical, ending %s", name, len(tls[0].Ticks), tls[0].Result)
			})

			t.Run("query", func(t *testing.T) {
				// Every minute of the window up to the data's last sample
				// (--data refuses later times: one data-end rule).
				for at := windowStart; !at.After(windowEnd) && !at.After(store.End()); at = at.Add(time.Minute) {
					var outs [2][]queried
					for i, src := range sources {
						args := append([]string{"query", "-f", podinfoDir + "/", "--at", at.Format(time.RFC3339), "-o", "json"}, src...)
						r := runAugur(t, bin, root, args...)
						if outs[i], err = decodeQuery(r.stdout); err != nil {
							t.Fatalf("%v\n%s", err, r)
						}
					}
					vm, emb := outs[0][0].Checks, outs[1][0].Checks
					if len(vm) != len(emb) {
						t.Fatalf("at %s: %d checks from VictoriaMetrics, %d embedded", at.Format(time.RFC3339), len(vm), len(emb))
					}
					for j := range emb {
						if verdictOf(vm[j]) != verdictOf(emb[j]) {
							t.Errorf("at %s: metric %s: %s on VictoriaMetrics (%s%s), %s embedded (%s%s)", at.Format(time.RFC3339), emb[j].Metric,
								verdictOf(vm[j]), vm[j].Value, vm[j].Error, verdictOf(emb[j]), emb[j].Value, emb[j].Error)
						}
						queryDiffs.add(emb[j].Metric, name, at, emb[j].Value, vm[j].Value)
					}
				}
			})

			t.Run("range", func(t *testing.T) {
				plans, err := embeddedEngine(t, set, store).Plan(t.Context(), &canary)
				if err != nil {
					t.Fatal(err)
				}
				live, err := prometheus.New(metrics.Config{Address: srv.URL})
				if err != nil {
					t.Fatal(err)
				}
				emb := recorded.New(store, recorded.Options{})
				queries := map[string]string{}
				for _, n := range []string{"istio_requests_total", "istio_request_duration_milliseconds_bucket"} {
					for _, w := range []string{"30s", "1m"} {
						q := "sum(rate(" + n + "[" + w + "]))"
						queries[q] = q
					}
				}
				thresholds := map[string]*analysis.ThresholdRange{}
				for _, p := range plans {
					queries[p.Name] = p.Query
					thresholds[p.Name] = p.Metric.ThresholdRange
				}
				for key, q := range queries {
					want, err := emb.QueryRange(t.Context(), q, windowStart, windowEnd, rangeStep)
					if err != nil {
						t.Fatal(err)
					}
					got, err := live.QueryRange(t.Context(), q, windowStart, windowEnd, rangeStep)
					if err != nil {
						t.Fatalf("VictoriaMetrics: %s: %v", q, err)
					}
					w, g := pointsOf(want), pointsOf(got)
					for k := range g {
						if _, ok := w[k]; !ok {
							rangeDiffs.add(key, name, k.at, "", g[k])
						}
					}
					for k, v := range w {
						rangeDiffs.add(key, name, k.at, v, g[k])
					}
					if tr := thresholds[key]; tr != nil {
						for k, v := range w {
							if inRange(tr, v) != inRange(tr, g[k]) {
								flips = append(flips, fmt.Sprintf("%s %s at %s", name, key, k.at.Format("15:04:05")))
								t.Logf("%s at %s: embedded %s, VictoriaMetrics %s: on the other side of the threshold", key, k.at.Format("15:04:05"), v, g[k])
							}
						}
					}
				}
			})

			t.Run("record", func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "recorded.om")
				r := runAugur(t, bin, root, "record", "-f", podinfoDir+"/", "--prometheus", srv.URL,
					"--start", replayStart.Format(time.RFC3339), "--end", windowEnd.Add(time.Minute).Format(time.RFC3339), "--out", out)
				if r.code != 0 {
					// Only where the recorded data itself has nothing to record.
					emb := runAugur(t, bin, root, "record", "-f", podinfoDir+"/", "--data", rel,
						"--start", replayStart.Format(time.RFC3339), "--end", windowEnd.Format(time.RFC3339), "--out", os.DevNull)
					if emb.code != r.code {
						t.Fatalf("record from VictoriaMetrics: %s\nfrom the file: %s", r, emb)
					}
					t.Logf("%s: record: exit %d from VictoriaMetrics and from the file", name, r.code)
					return
				}
				var tls [2]timeline
				for i, src := range [][]string{{"--data", out}, {"--data", rel}} {
					args := append([]string{"replay", "-f", podinfoDir + "/", "--start", replayStart.Format(time.RFC3339), "-o", "json"}, src...)
					rr := runAugur(t, bin, root, args...)
					if tls[i], err = decodeReplay(rr.stdout); err != nil {
						t.Fatalf("%v\n%s", err, rr)
					}
				}
				if diff := gocmp.Diff(tls[1], tls[0]); diff != "" {
					t.Fatalf("replay of the recording from VictoriaMetrics differs from the embedded replay (-embedded +recorded):\n%s", diff)
				}
				st, err := os.Stat(out)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: record: %d bytes from VictoriaMetrics replay exactly as the original (%d ticks)", name, st.Size(), len(tls[0].Ticks))
			})

			if name != "latency-regression" {
				return
			}
			// The judged Canary (testdata/judged: statistical judges on
			// exact counts, histogram buckets and range samples) against
			// VictoriaMetrics and against a real Prometheus: its judges' windows
			// reach before the recording's first sample, where the embedded
			// engine knows the starting values and a server cannot, so the
			// reference here is the real server, not --data.
			t.Run("judged", func(t *testing.T) {
				prom := startServer(t, root, file)
				var tls [2]timeline
				for i, u := range []string{srv.URL, prom.URL} {
					r := runAugur(t, bin, root, "replay", "-f", "testdata/judged", "--prometheus", u, "--start", replayStart.Format(time.RFC3339), "-o", "json")
					if tls[i], err = decodeReplay(r.stdout); err != nil {
						t.Fatalf("%v\n%s", err, r)
					}
				}
				vm, pr := tls[0], tls[1]
				if vm.Result != pr.Result || len(vm.Ticks) != len(pr.Ticks) {
					t.Fatalf("judged replay ended %s after %d ticks on VictoriaMetrics, %s after %d on Prometheus", vm.Result, len(vm.Ticks), pr.Result, len(pr.Ticks))
				}
				for i := range pr.Ticks {
					if diff := gocmp.Diff(decisionOf(pr.Ticks[i]), decisionOf(vm.Ticks[i])); diff != "" {
						t.Errorf("judged tick %d (%s): decisions differ (-Prometheus +VictoriaMetrics):\n%s", i+1, pr.Ticks[i].Time.Format(time.RFC3339), diff)
					}
					for j := range min(len(vm.Ticks[i].Checks), len(pr.Ticks[i].Checks)) {
						judgedDiffs.add(pr.Ticks[i].Checks[j].Metric, name, pr.Ticks[i].Time, pr.Ticks[i].Checks[j].Value, vm.Ticks[i].Checks[j].Value)
					}
				}
				t.Logf("judged replay: %d ticks, decisions identical to a real Prometheus, ending %s", len(vm.Ticks), vm.Result)
			})

			t.Run("exactcounts", func(t *testing.T) {
				live, err := prometheus.New(metrics.Config{Address: srv.URL})
				if err != nil {
					t.Fatal(err)
				}
				emb := recorded.New(store, recorded.Options{})
				sel := func(target, extra string) string {
					return fmt.Sprintf(`reporter="destination",destination_workload_namespace="test",destination_workload=~"%s"%s`, target, extra)
				}
				checked := 0
				for _, target := range []string{"podinfo", "podinfo-primary"} {
					for _, q := range []string{
						`sum(increase(istio_requests_total{` + sel(target, "") + `}[1m]))`,
						`sum(increase(istio_requests_total{` + sel(target, `,response_code=~"5.*"`) + `}[1m]))`,
						`sum by (le) (increase(istio_request_duration_milliseconds_bucket{` + sel(target, "") + `}[1m]))`,
					} {
						for _, step := range []time.Duration{time.Minute, 30 * time.Second} {
							end := windowEnd
							start := end.Add(-10 * step)
							a, err := engine.ExactCounts(t.Context(), live, q, start, end, step)
							if err != nil {
								t.Fatalf("VictoriaMetrics: %v", err)
							}
							b, err := engine.ExactCounts(t.Context(), emb, q, start, end, step)
							if err != nil {
								t.Fatalf("embedded: %v", err)
							}
							if diff := gocmp.Diff(b, a); diff != "" {
								t.Fatalf("%s step %s: exact counts differ (-embedded +VictoriaMetrics):\n%s", q, step, diff)
							}
							if len(a) == 0 {
								t.Fatalf("%s: no data", q)
							}
							for _, s := range a {
								checked += len(s.Samples)
							}
						}
					}
				}
				t.Logf("exact counts: %d per-step counts equal between VictoriaMetrics and the embedded engine", checked)
			})
		})
	}
	for what, d := range map[string]valueDiffs{"replay ticks": ticks, "queries": queryDiffs, "range queries": rangeDiffs, "judged": judgedDiffs} {
		for k, v := range d {
			if v.onlyOne > 0 {
				t.Errorf("%s: %s: %d points have a value on one side only", what, k, v.onlyOne)
			}
		}
	}
	t.Logf("replay tick values, VictoriaMetrics vs embedded:\n%s", ticks.table())
	t.Logf("query values at every minute:\n%s", queryDiffs.table())
	t.Logf("range queries (step %s over the window):\n%s", rangeStep, rangeDiffs.table())
	t.Logf("judged replay (latency-regression) values, VictoriaMetrics vs a real Prometheus:\n%s", judgedDiffs.table())
	slices.Sort(flips)
	if diff := gocmp.Diff(wantVictoriaFlips, flips); diff != "" {
		t.Errorf("range points where VictoriaMetrics and the embedded engine fall on different sides of a threshold "+
			"differ from docs/backends.md (-documented +measured):\n%s", diff)
	}
}
