package integration

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
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

// sumHint is added to a failed exact comparison of CLI outputs.
const sumHint = "(when only the last digits of a value differ, see doc.go: Prometheus 2.42's sum() adds plainly, 3.x with compensation; the provider subtest explains such points exactly)"

// rangeStep is the step of the range-query comparison: :00, :15, :30 and
// :45 of every minute, off the samples' 7.5 s offset.
const rangeStep = 15 * time.Second

// queryTimes are the --at times of the query comparison: every minute of the
// window, and one past it where every rate() window is empty.
func queryTimes() []time.Time {
	var ts []time.Time
	for t := windowStart; !t.After(windowEnd.Add(time.Minute)); t = t.Add(time.Minute) {
		ts = append(ts, t)
	}
	return ts
}

// offEdges reports an error when a sample of the store sits exactly at t-w
// for an evaluation time t and a window (or lookback) w: there Prometheus 2.x
// (closed ranges) counts the sample and 3.x (left-open) does not, so the
// server and the embedded engine would differ by design, not by a bug.
func offEdges(store *recorded.Store, times []time.Time, windows []time.Duration) error {
	stamps := map[int64]bool{}
	for _, s := range store.Series() {
		for _, p := range s.Samples {
			stamps[p.T.UnixMilli()] = true
		}
	}
	for _, at := range times {
		for _, w := range windows {
			if edge := at.Add(-w); stamps[edge.UnixMilli()] {
				return fmt.Errorf("a sample sits at %s, the left edge of a [%s] window evaluated at %s: Prometheus 2.x and 3.x "+
					"differ there, so the data or the evaluation times must move off the edges", edge.Format(time.RFC3339Nano), w, at.Format(time.RFC3339Nano))
			}
		}
	}
	return nil
}

// windowsOf lists the range windows of the plans plus the instant-selector
// lookback.
func windowsOf(t *testing.T, plans []engine.MetricPlan) []time.Duration {
	t.Helper()
	ws := map[time.Duration]bool{recorded.DefaultLookbackDelta: true}
	for _, p := range plans {
		d, err := time.ParseDuration(p.Interval)
		if err != nil {
			t.Fatalf("metric %s: interval %q: %v", p.Name, p.Interval, err)
		}
		ws[d] = true
	}
	return slices.Sorted(maps.Keys(ws))
}

// TestIntegrationDatasets runs augur against a real Prometheus server and
// against the same file embedded, for every podinfo dataset, and requires
// the same answers: replay timelines (also equal to the golden timeline),
// query results at every minute, and the provider's range queries.
func TestIntegrationDatasets(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	bin := augurBin(t, root)
	set := podinfoSet(t, root)
	canary := set.Canaries[0]
	for _, file := range datasets(t, root) {
		name := datasetName(file)
		rel, err := filepath.Rel(root, file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			store := loadStore(t, file)
			plans, err := embeddedEngine(t, set, store).Plan(t.Context(), &canary)
			if err != nil {
				t.Fatal(err)
			}
			// Replay ticks and query times are whole minutes from 09:59, range
			// steps every 15s of the window.
			times := []time.Time{replayStart}
			for at := windowStart; !at.After(windowEnd.Add(time.Minute)); at = at.Add(rangeStep) {
				times = append(times, at)
			}
			if err := offEdges(store, times, windowsOf(t, plans)); err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, root, file)
			sources := [][]string{{"--prometheus", srv.URL}, {"--data", rel}}

			t.Run("replay", func(t *testing.T) {
				var (
					runs [2]result
					tls  [2]timeline
					docs [2]any
					err  error
				)
				for i, src := range sources {
					args := append([]string{"replay", "-f", podinfoDir + "/", "--start", replayStart.Format(time.RFC3339), "-o", "json"}, src...)
					runs[i] = runAugur(t, bin, root, args...)
					if tls[i], err = decodeReplay(runs[i].stdout); err != nil {
						t.Fatalf("%v\n%s", err, runs[i])
					}
					if docs[i], err = normalizedJSON(runs[i].stdout); err != nil {
						t.Fatalf("%v\n%s", err, runs[i])
					}
				}
				if runs[0].code != runs[1].code {
					t.Errorf("exit code %d from the server, %d embedded", runs[0].code, runs[1].code)
				}
				if diff := gocmp.Diff(tls[1], tls[0]); diff != "" {
					t.Fatalf("replay timelines differ (-embedded +server) %s:\n%s", sumHint, diff)
				}
				if diff := gocmp.Diff(docs[1], docs[0]); diff != "" {
					t.Fatalf("replay -o json outputs differ (-embedded +server):\n%s", diff)
				}
				if want, ok := wantResult[name]; ok && tls[0].Result != want {
					t.Errorf("replay ended %s, want %s", tls[0].Result, want)
				}
				wantCode := map[analysis.Phase]int{analysis.PhaseSucceeded: 0, analysis.PhaseFailed: 3}[tls[0].Result]
				if !tls[0].Finished {
					wantCode = 1
				}
				if runs[0].code != wantCode {
					t.Errorf("exit code %d for a replay that ended %s, want %d", runs[0].code, tls[0].Result, wantCode)
				}
				checkGolden(t, name+".timeline", tls[0].golden())
				t.Logf("%s: replay: %d ticks identical, ending %s", name, len(tls[0].Ticks), tls[0].Result)
			})

			t.Run("query", func(t *testing.T) {
				values, noValues := 0, 0
				// Recorded data counts up to its last sample (docs/mistakes.md):
				// later, the embedded run refuses the time (exit 2). The server
				// still answers from its 1m windows until they hold no sample,
				// and then with no values.
				for _, at := range queryTimes() {
					if at.After(store.End()) {
						emb := runAugur(t, bin, root, "query", "-f", podinfoDir+"/", "--at", at.Format(time.RFC3339), "-o", "json", "--data", rel)
						if emb.code != 2 || !strings.Contains(string(emb.stderr), "outside the recorded data") {
							t.Errorf("at %s, past the data: embedded exit %d, want 2 naming the data's range:\n%s", at.Format(time.RFC3339), emb.code, emb)
						}
						if !at.After(store.End().Add(time.Minute)) {
							continue
						}
						srvRun := runAugur(t, bin, root, "query", "-f", podinfoDir+"/", "--at", at.Format(time.RFC3339), "-o", "json", "--prometheus", srv.URL)
						out, err := decodeQuery(srvRun.stdout)
						if err != nil {
							t.Fatalf("%v\n%s", err, srvRun)
						}
						for _, c := range out[0].Checks {
							if !strings.HasSuffix(c.Error, metrics.ErrNoValues.Error()) {
								t.Errorf("at %s, past the data: the server gave metric %s %q/%q, want no values", at.Format(time.RFC3339), c.Metric, c.Value, c.Error)
							}
							noValues++
						}
						continue
					}
					var (
						runs [2]result
						outs [2][]queried
						docs [2]any
						err  error
					)
					for i, src := range sources {
						args := append([]string{"query", "-f", podinfoDir + "/", "--at", at.Format(time.RFC3339), "-o", "json"}, src...)
						runs[i] = runAugur(t, bin, root, args...)
						if outs[i], err = decodeQuery(runs[i].stdout); err != nil {
							t.Fatalf("%v\n%s", err, runs[i])
						}
						if docs[i], err = normalizedJSON(runs[i].stdout); err != nil {
							t.Fatalf("%v\n%s", err, runs[i])
						}
					}
					if runs[0].code != runs[1].code {
						t.Errorf("at %s: exit code %d from the server, %d embedded", at.Format(time.RFC3339), runs[0].code, runs[1].code)
					}
					if diff := gocmp.Diff(outs[1], outs[0]); diff != "" {
						t.Fatalf("at %s: query results differ (-embedded +server) %s:\n%s", at.Format(time.RFC3339), sumHint, diff)
					}
					if diff := gocmp.Diff(docs[1], docs[0]); diff != "" {
						t.Fatalf("at %s: query -o json outputs differ (-embedded +server):\n%s", at.Format(time.RFC3339), diff)
					}
					for _, c := range outs[0][0].Checks {
						switch {
						case c.Value != "":
							values++
						case strings.HasSuffix(c.Error, metrics.ErrNoValues.Error()):
							noValues++
						default:
							t.Errorf("at %s: metric %s failed with %q", at.Format(time.RFC3339), c.Metric, c.Error)
						}
					}
				}
				switch {
				case name == "no-traffic" && values != 0:
					t.Errorf("%d queries returned a value from a dataset without canary series", values)
				case name != "no-traffic" && values == 0:
					t.Error("no query returned a value: the comparison proved nothing")
				}
				if noValues == 0 {
					t.Error(`no query was empty: the minute past the window must give "no values found"`)
				}
				t.Logf("%s: query at %d times: %d values and %d empty results identical", name, len(queryTimes()), values, noValues)
			})

			t.Run("provider", func(t *testing.T) {
				live, err := prometheus.New(metrics.Config{Address: srv.URL})
				if err != nil {
					t.Fatal(err)
				}
				emb := recorded.New(store, recorded.Options{})
				primary := canary
				primary.Spec.TargetRef.Name = "podinfo-primary"
				primaryPlans, err := embeddedEngine(t, set, store).Plan(t.Context(), &primary)
				if err != nil {
					t.Fatal(err)
				}
				// Every sample as loaded, every series's rate, then the
				// canary's and the primary's queries.
				queries := []string{`{__name__=~"istio_.+"}`}
				for _, name := range []string{"istio_requests_total", "istio_request_duration_milliseconds_bucket",
					"istio_request_duration_milliseconds_sum", "istio_request_duration_milliseconds_count"} {
					queries = append(queries, "rate("+name+"[30s])", "rate("+name+"[1m])")
				}
				for _, p := range append(plans, primaryPlans...) {
					queries = append(queries, p.Query)
				}
				identical, explained := 0, 0
				for _, q := range queries {
					want, err := emb.QueryRange(t.Context(), q, windowStart, windowEnd, rangeStep)
					if err != nil {
						t.Fatal(err)
					}
					got, err := live.QueryRange(t.Context(), q, windowStart, windowEnd, rangeStep)
					if err != nil {
						t.Fatal(err)
					}
					w, g := pointsOf(want), pointsOf(got)
					if diff := gocmp.Diff(pointKeys(w), pointKeys(g)); diff != "" {
						t.Fatalf("range query %s: the series or steps differ (-embedded +server):\n%s", q, diff)
					}
					differ := map[time.Time]bool{}
					for k, v := range w {
						if g[k] == v {
							identical++
							continue
						}
						differ[k.at] = true
						explained++
					}
					// A difference is allowed only where sum()'s rounding
					// explains it exactly (versions_test.go).
					for _, at := range slices.SortedFunc(maps.Keys(differ), time.Time.Compare) {
						if explainSums(t, q, at, live, emb) == 0 {
							t.Fatalf("range query %s at %s: server and embedded differ, and no sum() rounds differently", q, at.Format(time.RFC3339))
						}
					}
				}
				if identical == 0 {
					t.Fatal("the range queries returned no points")
				}
				t.Logf("%s: provider: %d range queries, %d points identical, %d differ only by sum()'s rounding (2.42 plain, 3.x compensated; each checked exactly)",
					name, len(queries), identical, explained)
			})
		})
	}
}

// point identifies one value of a range-query result.
type point struct {
	series string
	at     time.Time
}

// pointsOf indexes range-query values (as the HTTP API writes them) by
// series and time.
func pointsOf(series []metrics.Series) map[point]string {
	out := map[point]string{}
	for _, s := range series {
		key := labelKey(s.Labels)
		for _, p := range s.Samples {
			out[point{key, p.T.UTC()}] = formatValue(p.V)
		}
	}
	return out
}

func pointKeys(m map[point]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k.series+" "+k.at.Format(time.RFC3339Nano))
	}
	slices.Sort(out)
	return out
}
