package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
)

func TestCounterSelector(t *testing.T) {
	tests := []struct {
		q     string
		sel   string
		byLE  bool
		exact bool
	}{
		{`sum(increase(x_total{a="b"}[1m]))`, `x_total{a="b"}`, false, true},
		{" sum (\n increase( x_total{a=\"[}(\"} [30s] ) )", `x_total{a="[}("}`, false, true},
		{`sum by (le) (increase(h_bucket{job="j"}[1m]))`, `h_bucket{job="j"}`, true, true},
		{`sum(increase(h_bucket[1m])) by (le)`, `h_bucket`, true, true},
		{`sum(increase({__name__="x"}[1m]))`, `{__name__="x"}`, false, true},
		{`sum(rate(x[1m]))`, "", false, false},
		{`sum(increase(x[1m])) / 2`, "", false, false},
		{`sum(increase(x[1m] offset 1m))`, "", false, false},
		{`sum by (pod) (increase(x[1m]))`, "", false, false},
		{`sum(increase(rate(x[1m])[5m:]))`, "", false, false},
		{`sum(increase(x[1m])) + sum(increase(y[1m]))`, "", false, false},
		{`increase(x[1m])`, "", false, false},
	}
	for _, tt := range tests {
		sel, byLE, ok := counterSelector(tt.q)
		if ok != tt.exact || sel != tt.sel || byLE != tt.byLE {
			t.Errorf("counterSelector(%q) = %q, %v, %v; want %q, %v, %v", tt.q, sel, byLE, ok, tt.sel, tt.byLE, tt.exact)
		}
	}
}

// knownTraffic is recorded Istio-style telemetry built from known requests,
// so that every count of a window is known exactly.
type knownTraffic struct {
	om string
	// truth[side][key][step]: requests ("requests"), 5xx ("errors") and
	// cumulative buckets ("le=<bound>") the counters show in each step.
	truth map[string]map[string][]float64
}

var knownBounds = []float64{10, 25, 50, 100, 250, math.Inf(1)}

// podPlan is one pod of a side: when it starts, whether it restarts, and
// scrape gaps.
type podPlan struct {
	name      string
	start     time.Duration // relative to t0
	restart   time.Duration // 0: none
	gapFrom   time.Duration
	gapLength time.Duration
	rps       float64
}

// makeKnownTraffic generates the data: 15 s scrapes with ±2 s jitter and 10%
// missed scrapes, a 90 s scrape gap, a restart, a pod appearing mid-window,
// 5xx series that appear with their first error, 3 canary pods vs 2 primary.
func makeKnownTraffic(t0 time.Time, step time.Duration, steps int, seed uint64) knownTraffic {
	rng := rand.New(rand.NewPCG(seed, 1))
	end := time.Duration(steps) * step
	sides := map[string][]podPlan{
		"podinfo": {
			{name: "c1", start: -10 * time.Minute, gapFrom: 2 * time.Minute, gapLength: 90 * time.Second, rps: 2},
			{name: "c2", start: -10 * time.Minute, restart: 6*time.Minute + 5*time.Second, rps: 3},
			{name: "c3", start: 4*time.Minute + 20*time.Second, rps: 1.5},
		},
		"podinfo-primary": {
			{name: "p1", start: -10 * time.Minute, rps: 4},
			{name: "p2", start: -10 * time.Minute, restart: 3 * time.Minute, rps: 4},
		},
	}
	type series struct {
		labels string
		lines  []string
	}
	var reqLines, bucketLines []string
	truth := map[string]map[string][]float64{}
	add := func(side, key string, i int, v float64) {
		if truth[side] == nil {
			truth[side] = map[string][]float64{}
		}
		if truth[side][key] == nil {
			truth[side][key] = make([]float64, steps)
		}
		truth[side][key][i] += v
	}
	ts := func(d time.Duration) string {
		return strconv.FormatFloat(float64(t0.Add(d).UnixMilli())/1000, 'f', 3, 64)
	}
	sideNames := []string{"podinfo", "podinfo-primary"}
	for _, side := range sideNames {
		for _, pod := range sides[side] {
			// Scrape times.
			var scrapes []time.Duration
			for k := 0; ; k++ {
				s := pod.start + time.Duration(k)*15*time.Second + time.Duration(rng.IntN(4001)-2000)*time.Millisecond
				if s > end+time.Minute {
					break
				}
				if s <= pod.start || rng.Float64() < 0.1 || (s >= pod.gapFrom && s < pod.gapFrom+pod.gapLength && pod.gapLength > 0) {
					continue
				}
				if pod.restart > 0 && s > pod.restart-2*time.Second && s < pod.restart+2*time.Second {
					continue
				}
				scrapes = append(scrapes, s)
			}
			// Requests: times, code, latency bucket.
			type req struct {
				at     time.Duration
				err    bool
				bucket int
			}
			var reqs []req
			for at := pod.start; at < end+time.Minute; {
				at += time.Duration(rng.ExpFloat64() / pod.rps * float64(time.Second))
				lat := 40 * math.Exp(0.6*rng.NormFloat64())
				b := sort.SearchFloat64s(knownBounds, lat)
				reqs = append(reqs, req{at: at, err: rng.Float64() < 0.02, bucket: b})
			}
			// Counter values at each scrape, per incarnation.
			reqCount := map[string]float64{} // code → count
			buckets := make([]float64, len(knownBounds))
			seen := map[string]bool{}
			ri := 0
			incarnationStart := pod.start
			attributed := func(s time.Duration) (int, bool) {
				if s <= 0 || s > end {
					return 0, false
				}
				return int((s - 1) / step), true
			}
			var reqSeries = map[string]*series{}
			var bucketSeries = make([]*series, len(knownBounds))
			for _, s := range scrapes {
				if pod.restart > 0 && incarnationStart < pod.restart && s > pod.restart {
					// The process restarted: requests since the last scrape
					// died with it; counters start again from zero.
					for ri < len(reqs) && reqs[ri].at <= pod.restart {
						ri++
					}
					reqCount = map[string]float64{}
					buckets = make([]float64, len(knownBounds))
					incarnationStart = pod.restart
				}
				for ; ri < len(reqs) && reqs[ri].at <= s; ri++ {
					r := reqs[ri]
					code := "200"
					if r.err {
						code = "503"
					}
					reqCount[code]++
					for k := r.bucket; k < len(knownBounds); k++ {
						buckets[k]++
					}
					if i, ok := attributed(s); ok {
						add(side, "requests", i, 1)
						if r.err {
							add(side, "errors", i, 1)
						}
						for k := r.bucket; k < len(knownBounds); k++ {
							add(side, "le="+formatBound(knownBounds[k]), i, 1)
						}
					}
				}
				for code, v := range reqCount {
					seen[code] = true
					sr := reqSeries[code]
					if sr == nil {
						sr = &series{labels: fmt.Sprintf(`istio_requests_total{destination_workload="%s",pod="%s",response_code="%s"}`, side, pod.name, code)}
						reqSeries[code] = sr
					}
					sr.lines = append(sr.lines, fmt.Sprintf("%s %g %s", sr.labels, v, ts(s)))
				}
				for k, v := range buckets {
					sr := bucketSeries[k]
					if sr == nil {
						sr = &series{labels: fmt.Sprintf(`istio_request_duration_milliseconds_bucket{destination_workload="%s",pod="%s",le="%s"}`, side, pod.name, formatBound(knownBounds[k]))}
						bucketSeries[k] = sr
					}
					sr.lines = append(sr.lines, fmt.Sprintf("%s %g %s", sr.labels, v, ts(s)))
				}
			}
			codes := make([]string, 0, len(reqSeries))
			for c := range reqSeries {
				codes = append(codes, c)
			}
			sort.Strings(codes)
			for _, c := range codes {
				reqLines = append(reqLines, reqSeries[c].lines...)
			}
			for _, sr := range bucketSeries {
				if sr != nil {
					bucketLines = append(bucketLines, sr.lines...)
				}
			}
		}
	}
	om := "# TYPE istio_requests counter\n" + strings.Join(reqLines, "\n") + "\n" +
		"# TYPE istio_request_duration_milliseconds histogram\n" + strings.Join(bucketLines, "\n") + "\n# EOF\n"
	return knownTraffic{om: om, truth: truth}
}

func formatBound(b float64) string {
	if math.IsInf(b, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(b, 'g', -1, 64)
}

func TestExactCountsKnownTotals(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, step := range []time.Duration{time.Minute, 30 * time.Second} {
		steps := int(10 * time.Minute / step)
		kt := makeKnownTraffic(t0, step, steps, 7)
		store, err := recorded.ParseOpenMetrics([]byte(kt.om))
		if err != nil {
			t.Fatal(err)
		}
		p := recorded.New(store, recorded.Options{})
		first, end := t0.Add(step), t0.Add(10*time.Minute)
		for _, side := range []string{"podinfo", "podinfo-primary"} {
			sel := fmt.Sprintf(`istio_requests_total{destination_workload=%q}`, side)
			check := func(name string, got []metrics.Series, want map[string][]float64, key func(metrics.Series) string) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("step %s %s %s: %d series, want %d", step, side, name, len(got), len(want))
				}
				for _, s := range got {
					w := want[key(s)]
					if len(s.Samples) != steps {
						t.Fatalf("%s %s: %d points, want %d", side, name, len(s.Samples), steps)
					}
					for i, sm := range s.Samples {
						if sm.V != w[i] || !sm.T.Equal(first.Add(time.Duration(i)*step)) {
							t.Fatalf("step %s %s %s %s point %d: %v at %s, want %v", step, side, name, key(s), i, sm.V, sm.T, w[i])
						}
					}
				}
			}
			q := "sum(increase(" + sel + "[" + step.String() + "]))"
			s, _, ok := counterSelector(q)
			if !ok {
				t.Fatalf("%s not exact", q)
			}
			got, err := exactSeries(context.Background(), p, s, false, first, end, step)
			if err != nil {
				t.Fatal(err)
			}
			check("requests", got, map[string][]float64{"": kt.truth[side]["requests"]}, func(metrics.Series) string { return "" })
			errSel := fmt.Sprintf(`istio_requests_total{destination_workload=%q,response_code=~"5.*"}`, side)
			got, err = exactSeries(context.Background(), p, errSel, false, first, end, step)
			if err != nil {
				t.Fatal(err)
			}
			check("errors", got, map[string][]float64{"": kt.truth[side]["errors"]}, func(metrics.Series) string { return "" })
			bsel := fmt.Sprintf(`istio_request_duration_milliseconds_bucket{destination_workload=%q}`, side)
			got, err = exactSeries(context.Background(), p, bsel, true, first, end, step)
			if err != nil {
				t.Fatal(err)
			}
			wantB := map[string][]float64{}
			for _, b := range knownBounds {
				wantB[formatBound(b)] = kt.truth[side]["le="+formatBound(b)]
			}
			check("buckets", got, wantB, func(s metrics.Series) string {
				b, _ := parseLE(s.Labels["le"]) // the OpenMetrics parser writes le="10" as "10.0"
				return formatBound(b)
			})

			// The per-step increase() the docs used to recommend does not
			// give these counts: it extrapolates and drops boundaries.
			old, err := p.QueryRange(context.Background(), q, first, end, step)
			if err != nil || len(old) != 1 {
				t.Fatalf("per-step increase: %v %v", old, err)
			}
			var oldTotal, total float64
			for _, sm := range old[0].Samples {
				oldTotal += sm.V
			}
			for _, v := range kt.truth[side]["requests"] {
				total += v
			}
			if oldTotal == total {
				t.Errorf("step %s %s: per-step increase() total %v equals the exact total: the data do not exercise the difference", step, side, oldTotal)
			}
			t.Logf("step %s %s: exact requests %v, per-step increase() sums to %.2f", step, side, total, oldTotal)
		}
	}
}

func TestExactSeriesErrors(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	kt := makeKnownTraffic(t0, time.Minute, 10, 7)
	store, err := recorded.ParseOpenMetrics([]byte(kt.om))
	if err != nil {
		t.Fatal(err)
	}
	p := recorded.New(store, recorded.Options{})
	if _, err := exactSeries(context.Background(), p, `istio_requests_total`, true, t0.Add(time.Minute), t0.Add(10*time.Minute), time.Minute); err == nil || !strings.Contains(err.Error(), "has no le label") {
		t.Errorf("buckets without le: %v", err)
	}
	if _, err := exactSeries(context.Background(), p, `istio_requests_total{`, false, t0.Add(time.Minute), t0.Add(10*time.Minute), time.Minute); err == nil {
		t.Error("bad selector: no error")
	}
	if _, err := exactSeries(context.Background(), p, `istio_requests_total`, false, t0.Add(time.Millisecond), t0.Add(time.Hour), time.Millisecond); err == nil || !strings.Contains(err.Error(), "more than 11000") {
		t.Errorf("3.6M steps: %v", err)
	}
}

// FuzzCounterSelector: the exact-count query recognizer never panics, and
// what it accepts is a selector the query contains.
func FuzzCounterSelector(f *testing.F) {
	for _, q := range []string{
		`sum(increase(x_total{a="b"}[1m]))`,
		`sum by (le) (increase(h_bucket{job="j"}[30s]))`,
		`sum(increase(h_bucket[1m])) by (le)`,
		`sum(increase(x{a="}["}[1m]))`,
		`sum(rate(x[1m]))`,
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		sel, _, ok := counterSelector(q)
		if !ok {
			return
		}
		if sel == "" || !strings.Contains(q, sel) {
			t.Fatalf("counterSelector(%q) accepted selector %q", q, sel)
		}
	})
}
