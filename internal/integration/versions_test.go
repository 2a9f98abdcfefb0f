package integration

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
)

// Two documented differences between the Debian server (Prometheus 2.42) and
// the embedded engine (Prometheus 3.x); see doc.go.
//
//   - Range selectors: 2.x counts a sample exactly at t-d in x[d], 3.x does
//     not. The datasets keep samples off those edges.
//   - sum(): 2.x adds the series left to right in plain float64; since 2.54
//     Prometheus adds them with Kahan–Neumaier compensation. With three or
//     more addends the two can differ in the last bits. Nothing in the data
//     can avoid that (a rate over [1m] with 15 s samples is delta·(60/45)/60,
//     never exact), so the tests compare exactly and require every
//     difference to be exactly this one: the per-series values identical,
//     the server's sum equal to the left-to-right sum of them and the
//     embedded sum equal to the compensated sum.

// naiveSum adds left to right, as Prometheus 2.42's sum() does.
func naiveSum(vs []float64) float64 {
	s := vs[0]
	for _, v := range vs[1:] {
		s += v
	}
	return s
}

// compensatedSum adds with Kahan–Neumaier compensation, as sum() does in
// Prometheus 2.54 and later: the rounding error of every addition is kept in
// c, which is added once at the end.
func compensatedSum(vs []float64) float64 {
	s, c := vs[0], 0.0
	for _, v := range vs[1:] {
		t := s + v
		switch {
		case math.IsInf(t, 0):
			c = 0
		case math.Abs(s) >= math.Abs(v):
			c += (s - t) + v
		default:
			c += (v - t) + s
		}
		s = t
	}
	return s + c
}

// instantSeries evaluates q at one time and returns every series's value.
func instantSeries(t *testing.T, p metrics.RangeQuerier, q string, at time.Time) []metrics.Series {
	t.Helper()
	series, err := p.QueryRange(t.Context(), q, at, at, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range series {
		if len(s.Samples) != 1 {
			t.Fatalf("%s at %s: series %v has %d samples, want 1", q, at.Format(time.RFC3339), s.Labels, len(s.Samples))
		}
	}
	return series
}

// labelKey is a series's label set as text, for matching and messages.
func labelKey(m map[string]string) string { return labels.FromMap(m).String() }

// sumGroups splits per-series values into sum()'s groups, each in the order
// the engines add them (series sorted by label set).
func sumGroups(agg *parser.AggregateExpr, series []metrics.Series) map[string][]float64 {
	slices.SortFunc(series, func(a, b metrics.Series) int {
		return labels.Compare(labels.FromMap(a.Labels), labels.FromMap(b.Labels))
	})
	groups := map[string][]float64{}
	for _, s := range series {
		key := map[string]string{}
		for k, v := range s.Labels {
			if k == labels.MetricName {
				continue
			}
			if slices.Contains(agg.Grouping, k) != agg.Without {
				key[k] = v
			}
		}
		groups[labelKey(key)] = append(groups[labelKey(key)], s.Samples[0].V)
	}
	return groups
}

// explainSums checks every sum() of q at time at, on both providers: the
// summed series must be identical, the server's sums left to right and the
// embedded sums compensated, bit for bit. It returns how many sum groups the
// two ways of adding give different results for; a problem fails the test.
func explainSums(t *testing.T, q string, at time.Time, live *prometheus.Provider, emb *recorded.Provider) int {
	t.Helper()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		t.Fatalf("parse %s: %v", q, err)
	}
	var sums []*parser.AggregateExpr
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if agg, ok := n.(*parser.AggregateExpr); ok && agg.Op == parser.SUM {
			sums = append(sums, agg)
		}
		return nil
	})
	if len(sums) == 0 {
		t.Fatalf("%s at %s: the server and the embedded engine differ on a query without sum()", q, at.Format(time.RFC3339))
	}
	differing := 0
	for _, agg := range sums {
		inner := agg.Expr.String()
		want := instantSeries(t, emb, inner, at)
		got := instantSeries(t, live, inner, at)
		if w, g := seriesText(want), seriesText(got); !slices.Equal(w, g) {
			t.Fatalf("%s at %s: the summed series differ, so sum() rounding does not explain it:\nembedded %v\nserver   %v",
				inner, at.Format(time.RFC3339), w, g)
		}
		groups := sumGroups(agg, want)
		sumQuery := agg.String()
		embSums := valuesByLabels(instantSeries(t, emb, sumQuery, at))
		liveSums := valuesByLabels(instantSeries(t, live, sumQuery, at))
		for _, key := range slices.Sorted(maps.Keys(groups)) {
			vs := groups[key]
			naive, comp := formatValue(naiveSum(vs)), formatValue(compensatedSum(vs))
			if liveSums[key] != naive || embSums[key] != comp {
				t.Fatalf("%s%s at %s over %v: server %s (left to right %s), embedded %s (compensated %s)",
					sumQuery, key, at.Format(time.RFC3339), vs, liveSums[key], naive, embSums[key], comp)
			}
			if naive != comp {
				differing++
			}
		}
	}
	return differing
}

func valuesByLabels(series []metrics.Series) map[string]string {
	out := map[string]string{}
	for _, s := range series {
		out[labelKey(s.Labels)] = formatValue(s.Samples[0].V)
	}
	return out
}

// seriesText renders series as sorted "labels time value" lines, values as
// the HTTP API writes them.
func seriesText(series []metrics.Series) []string {
	var out []string
	for _, s := range series {
		for _, p := range s.Samples {
			out = append(out, fmt.Sprintf("%s %s %s", labelKey(s.Labels), p.T.UTC().Format(time.RFC3339Nano), formatValue(p.V)))
		}
	}
	slices.Sort(out)
	return out
}

func TestSums(t *testing.T) {
	tests := []struct {
		name                string
		in                  []float64
		wantNaive, wantComp string
	}{
		{"one", []float64{0.1}, "0.1", "0.1"},
		{"two agree", []float64{0.1, 0.2}, "0.30000000000000004", "0.30000000000000004"},
		// The rates of the healthy dataset's le="25.0" buckets at 10:18:15.
		{"three differ", []float64{4.733333333333333, 0.06666666666666667, 0.06666666666666667}, "4.866666666666666", "4.866666666666667"},
		{"cancellation", []float64{1e16, 1, -1e16}, "0", "1"},
		{"inf", []float64{math.Inf(1), 1, 2}, "+Inf", "+Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatValue(naiveSum(tt.in)); got != tt.wantNaive {
				t.Errorf("naiveSum = %s, want %s", got, tt.wantNaive)
			}
			if got := formatValue(compensatedSum(tt.in)); got != tt.wantComp {
				t.Errorf("compensatedSum = %s, want %s", got, tt.wantComp)
			}
		})
	}
}

// TestIntegrationVersionDifferences shows both documented differences on
// the real server, exactly.
func TestIntegrationVersionDifferences(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	file := root + "/" + podinfoDir + "/healthy.om"
	store := loadStore(t, file)
	srv := startServer(t, root, file)
	live, err := prometheus.New(metrics.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	emb := recorded.New(store, recorded.Options{})
	major := serverMajorVersion(t, srv.URL)

	t.Run("range-boundary", func(t *testing.T) {
		const series = `istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload="podinfo",response_code="200"}`
		edge := store.End() // the newest sample: one sits at edge-1m too
		off := edge.Add(7500 * time.Millisecond)
		query := func(p metrics.Provider, q string, at time.Time) string {
			t.Helper()
			v, err := p.Query(t.Context(), q, at)
			if err != nil {
				t.Fatal(err)
			}
			return formatValue(v)
		}
		rate := "rate(" + series + "[1m])"
		if got, want := query(live, rate, off), query(emb, rate, off); got != want {
			t.Errorf("off the edges at %s: server %s, embedded %s; want identical", off.Format(time.RFC3339Nano), got, want)
		}
		srvRate, embRate := query(live, rate, edge), query(emb, rate, edge)
		if major >= 3 {
			if srvRate != embRate {
				t.Errorf("Prometheus %d.x server: rate at %s is %s, embedded %s; want identical", major, edge.Format(time.RFC3339Nano), srvRate, embRate)
			}
			return
		}
		// 2.x: [t-1m, t] holds the samples at both ends, so nothing is
		// extrapolated and rate is exactly (x(t) - x(t-1m)) / 60.
		closed := query(emb, "("+series+" - "+series+" offset 1m) / 60", edge)
		if srvRate != closed {
			t.Errorf("server rate at %s = %s, want the closed-window value %s", edge.Format(time.RFC3339Nano), srvRate, closed)
		}
		if srvRate == embRate {
			t.Errorf("rate at %s is %s on both: want the 2.x server and the 3.x engine to differ on the window edge", edge.Format(time.RFC3339Nano), srvRate)
		}
		t.Logf("at %s (a sample on the window edge): server %s, embedded %s; 7.5s later both %s",
			edge.Format(time.RFC3339Nano), srvRate, embRate, query(emb, rate, off))
	})

	t.Run("sum-rounding", func(t *testing.T) {
		at := time.Date(2026, 11, 1, 10, 18, 15, 0, time.UTC)
		q := `sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo"}[30s]))`
		n := explainSums(t, q, at, live, emb)
		if major < 3 && n == 0 {
			t.Errorf("no sum group differs at %s: want the 2.x server's plain sums to differ from the compensated ones", at.Format(time.RFC3339))
		}
		t.Logf("%d of the le groups differ in the last bits, each exactly as left-to-right vs compensated addition predicts", n)
	})
}

// serverMajorVersion asks the server's build-info endpoint for its version.
func serverMajorVersion(t *testing.T, url string) int {
	t.Helper()
	_, body := httpGet(t, url+"/api/v1/status/buildinfo")
	_, rest, ok := strings.Cut(body, `"version":"`)
	if !ok {
		t.Fatalf("buildinfo without a version: %s", body)
	}
	var major int
	if _, err := fmt.Sscanf(rest, "%d.", &major); err != nil {
		t.Fatalf("buildinfo version %.20q: %v", rest, err)
	}
	t.Logf("server version %s", strings.SplitN(rest, `"`, 2)[0])
	return major
}
