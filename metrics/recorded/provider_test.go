package recorded

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/metrics"
)

// sec is a time n seconds after the Unix epoch.
func sec(n float64) time.Time { return time.UnixMilli(int64(n * 1000)).UTC() }

func mustLoad(t testing.TB, start time.Time, interval time.Duration, in ...SeriesInput) *Store {
	t.Helper()
	s, err := LoadSeries(in, start, interval)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// near compares floats with a relative tolerance for hand-computed results.
func near(got, want float64) bool {
	if math.IsInf(want, 0) || want == 0 {
		return got == want
	}
	return math.Abs(got-want) <= 1e-12*math.Abs(want)
}

// shapesStore: two series of metric a (1 and 2), one gauge g = 1..5 at
// 0s, 15s, …, 60s.
func shapesStore(t testing.TB) *Store {
	return mustLoad(t, sec(0), 15*time.Second,
		SeriesInput{Series: `a{job="x"}`, Values: `1x4`},
		SeriesInput{Series: `a{job="y"}`, Values: `2x4`},
		SeriesInput{Series: `g`, Values: `1+1x4`},
	)
}

func TestQueryResultShapes(t *testing.T) {
	p := New(shapesStore(t), Options{})
	tests := []struct {
		name    string
		query   string
		want    float64
		wantIs  error  // errors.Is target when an error is expected
		wantMsg string // the exact error text when an error is expected
	}{
		{name: "one series", query: `a{job="x"}`, want: 1},
		{name: "scalar", query: `1 + 1`, want: 2},
		{name: "scalar function", query: `scalar(a{job="y"})`, want: 2},
		{name: "plus inf", query: `vector(1) / 0`, want: math.Inf(1)},
		{name: "minus inf", query: `-vector(1) / 0`, want: math.Inf(-1)},
		{name: "aggregation", query: `sum(a)`, want: 3},
		{
			name: "empty vector", query: `nope`, wantIs: metrics.ErrNoValues,
			wantMsg: `recorded query "nope" at 1970-01-01T00:01:00Z: empty vector: no values found`,
		},
		{
			name: "NaN vector", query: `vector(0) / 0`, wantIs: metrics.ErrNoValues,
			wantMsg: `recorded query "vector(0) / 0" at 1970-01-01T00:01:00Z: NaN: no values found`,
		},
		{name: "NaN scalar", query: `0 / 0`, wantIs: metrics.ErrNoValues, wantMsg: `recorded query "0 / 0" at 1970-01-01T00:01:00Z: NaN: no values found`},
		{
			name: "two series", query: `a`, wantIs: metrics.ErrMultipleValues,
			wantMsg: `recorded query "a" at 1970-01-01T00:01:00Z: query returned multiple values: vector with 2 series`,
		},
		{
			name: "matrix", query: `g[1m]`, wantIs: metrics.ErrMultipleValues,
			wantMsg: `recorded query "g[1m]" at 1970-01-01T00:01:00Z: query returned multiple values: range vector with 1 series`,
		},
		{name: "string", query: `"up"`, wantMsg: `recorded query "\"up\"" at 1970-01-01T00:01:00Z: result is the string "up", not a number`},
		{name: "parse error", query: `sum(rate(g[1m])`, wantMsg: `recorded query "sum(rate(g[1m])" at 1970-01-01T00:01:00Z: 1:16: parse error: unclosed left parenthesis`},
		{
			name:    "parse error quotes the collapsed query",
			query:   "sum(\n\trate(g[1m]\n)",
			wantMsg: `recorded query "sum( rate(g[1m] )" at 1970-01-01T00:01:00Z: 1:18: parse error: unclosed left parenthesis`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Query(context.Background(), tt.query, sec(60))
			if tt.wantMsg != "" {
				if err == nil {
					t.Fatalf("Query(%q) = %v, want error %q", tt.query, got, tt.wantMsg)
				}
				if err.Error() != tt.wantMsg {
					t.Errorf("error:\n got %s\nwant %s", err, tt.wantMsg)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("error %v does not wrap %v", err, tt.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("Query(%q): %v", tt.query, err)
			}
			if !near(got, tt.want) {
				t.Errorf("Query(%q) = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
}

// TestPromQLHandComputed checks the engine's numbers against values worked
// out by hand from Prometheus's documented rate and histogram_quantile rules.
func TestPromQLHandComputed(t *testing.T) {
	// A counter scraped every 15s OFF the minute grid (…:07.5, :22.5, :37.5,
	// :52.5) with growing increments, and a two-bucket histogram.
	s := mustLoad(t, sec(7.5), 15*time.Second,
		SeriesInput{Series: `req_total`, Values: `0 10 30 60 100 150`},
		SeriesInput{Series: `lat_bucket{le="10"}`, Values: `0+4x5`},
		SeriesInput{Series: `lat_bucket{le="20"}`, Values: `0+8x5`},
		SeriesInput{Series: `lat_bucket{le="+Inf"}`, Values: `0+8x5`},
	)
	p := New(s, Options{})
	tests := []struct {
		name  string
		query string
		at    time.Time
		want  float64
		why   string
	}{
		{
			name: "rate from a zero counter", query: `rate(req_total[1m])`, at: sec(60), want: 70.0 / 60,
			why: "window (0s,60s] holds 7.5s..52.5s (0→60, 45s sampled); the start is extrapolated to the counter's zero point (0s away), the end by 7.5s: 60*52.5/45 = 70 per minute",
		},
		{
			name: "rate with zero-point limit", query: `rate(req_total[1m])`, at: sec(75), want: 115.0 / 60,
			why: "window (15s,75s] holds 22.5s..67.5s (10→100); start extrapolation is capped at the zero point 45*10/90 = 5s, end 7.5s: 90*57.5/45 = 115 per minute",
		},
		{
			name: "increase", query: `increase(req_total[1m])`, at: sec(75), want: 115,
			why: "same window as above, not divided by 60",
		},
		{
			name: "histogram quantile", query: `histogram_quantile(0.75, sum by (le) (rate(lat_bucket[1m])))`, at: sec(60), want: 15,
			why: "rates 4/15, 8/15, 8/15 per second; rank 0.75*8/15 = 6/15 lies half way through the (10,20] bucket",
		},
		{name: "at modifier", query: `req_total @ 37.5`, at: sec(90), want: 30, why: "@ pins evaluation to 37.5s"},
		{name: "negative offset", query: `req_total offset -15s`, at: sec(40), want: 60, why: "looks at 55s: newest sample 52.5s"},
		{name: "subquery without step", query: `max_over_time(req_total[1m:])`, at: sec(60), want: 60, why: "default subquery step 1m evaluates only at 60s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Query(context.Background(), tt.query, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tt.want) {
				t.Errorf("%s at %s = %v, want %v (%s)", tt.query, fmtTime(tt.at), got, tt.want, tt.why)
			}
		})
	}
}

// TestRangeBoundaryIsLeftOpen documents Prometheus 3.x semantics, which the
// embedded engine has: a range selector [1m] evaluated at t covers
// (t-1m, t], so a sample exactly at t-1m is NOT included (Prometheus 2.x
// used [t-1m, t] and included it). Samples off the window edges (the
// 7.5-second offset of the podinfo data) give the same result in both.
func TestRangeBoundaryIsLeftOpen(t *testing.T) {
	s := mustLoad(t, sec(0), 15*time.Second,
		SeriesInput{Series: `on_grid`, Values: `1+1x4`},         // 0s, 15s, …, 60s
		SeriesInput{Series: `off_grid`, Values: `_ 1+1x4`},      // shifted below by 7.5s
		SeriesInput{Series: `instant_edge`, Values: `1 _x19 2`}, // 0s and 300s
	)
	off := mustLoad(t, sec(7.5), 15*time.Second, SeriesInput{Series: `off_grid`, Values: `1+1x3`})
	tests := []struct {
		name  string
		store *Store
		query string
		at    time.Time
		want  float64
	}{
		{"sample at t-1m is excluded", s, `count_over_time(on_grid[1m])`, sec(60), 4},
		{"sample at t is included", s, `max_over_time(on_grid[1m])`, sec(60), 5},
		{"oldest included sample", s, `min_over_time(on_grid[1m])`, sec(60), 2},
		{"off-grid samples are all inside", off, `count_over_time(off_grid[1m])`, sec(60), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.store, Options{}).Query(context.Background(), tt.query, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
}

// TestLookback checks the 5-minute lookback of instant selectors, its
// left-open edge, staleness markers, and that querying more than 5 minutes
// after the data ends gives no value rather than the last one.
func TestLookback(t *testing.T) {
	s := mustLoad(t, sec(0), 15*time.Second,
		SeriesInput{Series: `g`, Values: `1+1x4`},     // last sample 60s
		SeriesInput{Series: `s`, Values: `1 2 stale`}, // stale marker at 30s
	)
	tests := []struct {
		name   string
		opts   Options
		query  string
		at     time.Time
		want   float64
		noData bool
	}{
		{name: "inside lookback", query: `g`, at: sec(60 + 299), want: 5},
		{name: "last millisecond of lookback", query: `g`, at: sec(60 + 300 - 0.001), want: 5},
		{name: "exactly 5m after is outside", query: `g`, at: sec(60 + 300), noData: true},
		{name: "well after the data", query: `g`, at: sec(60 + 600), noData: true},
		{name: "before the data", query: `g`, at: sec(-1), noData: true},
		{name: "before the stale marker", query: `s`, at: sec(29.999), want: 2},
		{name: "stale marker ends the series", query: `s`, at: sec(30), noData: true},
		{name: "custom lookback", opts: Options{LookbackDelta: time.Minute}, query: `g`, at: sec(121), noData: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(s, tt.opts).Query(context.Background(), tt.query, tt.at)
			if tt.noData {
				if !errors.Is(err, metrics.ErrNoValues) {
					t.Fatalf("Query = %v, %v; want ErrNoValues", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Query = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestZeroAtIsNewestSample(t *testing.T) {
	tests := []struct {
		name  string
		store *Store
		query string
		want  float64
	}{
		{"newest sample", shapesStore(t), `g`, 5},
		{"newest sample time", shapesStore(t), `time()`, 60},
		{"empty store evaluates at the epoch", mustLoad(t, sec(0), time.Second), `time()`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(tt.store, Options{}).Query(context.Background(), tt.query, time.Time{})
			if err != nil || got != tt.want {
				t.Fatalf("Query = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestCollapseSpace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"up", "up"},
		{"\n\tsum(\n\t\trate(x[1m])\n\t) \n\t* 100", " sum( rate(x[1m]) ) * 100"},
		{"a \r\n\f b", "a b"},
		{"a\vb", "a\vb"}, // RE2's \s has no vertical tab
		{"  ", " "},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			if got := collapseSpace(tt.in); got != tt.want {
				t.Errorf("collapseSpace(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestQueryLimits(t *testing.T) {
	s := shapesStore(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		opts    Options
		query   string
		wantSub string
	}{
		{"max samples", context.Background(), Options{MaxSamples: 2}, `count_over_time(g[1m])`, "query processing would load too many samples into memory"},
		{"timeout", context.Background(), Options{Timeout: time.Nanosecond}, `count_over_time(g[1m])`, "timed out (engine timeout 1ns): query timed out"},
		{"canceled", canceled, Options{}, `g`, "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(s, tt.opts).Query(tt.ctx, tt.query, sec(60))
			if err == nil || !strings.Contains(err.Error(), tt.wantSub) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantSub)
			}
		})
	}
}

func TestQueryRange(t *testing.T) {
	p := New(shapesStore(t), Options{})
	series := func(labels map[string]string, vals ...float64) metrics.Series {
		s := metrics.Series{Labels: labels}
		for i, v := range vals {
			s.Samples = append(s.Samples, metrics.Sample{T: sec(float64(15 * i)), V: v})
		}
		return s
	}
	tests := []struct {
		name    string
		query   string
		start   time.Time
		end     time.Time
		step    time.Duration
		want    []metrics.Series
		wantErr string
	}{
		{
			name: "one series", query: `g`, start: sec(0), end: sec(60), step: 15 * time.Second,
			want: []metrics.Series{series(map[string]string{"__name__": "g"}, 1, 2, 3, 4, 5)},
		},
		{
			name: "two series in label order", query: "a\n", start: sec(0), end: sec(30), step: 15 * time.Second,
			want: []metrics.Series{
				series(map[string]string{"__name__": "a", "job": "x"}, 1, 1, 1),
				series(map[string]string{"__name__": "a", "job": "y"}, 2, 2, 2),
			},
		},
		{
			name: "aggregation has no labels", query: `sum(a)`, start: sec(0), end: sec(15), step: 15 * time.Second,
			want: []metrics.Series{series(map[string]string{}, 3, 3)},
		},
		{
			name: "scalar", query: `time()`, start: sec(0), end: sec(30), step: 15 * time.Second,
			want: []metrics.Series{series(map[string]string{}, 0, 15, 30)},
		},
		{name: "empty", query: `nope`, start: sec(0), end: sec(30), step: 15 * time.Second, want: []metrics.Series{}},
		{
			name: "zero step", query: `g`, start: sec(0), end: sec(60),
			wantErr: `recorded range query "g" from 1970-01-01T00:00:00Z to 1970-01-01T00:01:00Z step 0s: step must be positive`,
		},
		{
			name: "end before start", query: `g`, start: sec(60), end: sec(0), step: time.Second,
			wantErr: `recorded range query "g" from 1970-01-01T00:01:00Z to 1970-01-01T00:00:00Z step 1s: end is before start`,
		},
		{
			name: "range vector", query: `g[1m]`, start: sec(0), end: sec(60), step: time.Second,
			wantErr: `recorded range query "g[1m]" from 1970-01-01T00:00:00Z to 1970-01-01T00:01:00Z step 1s: invalid expression type "range vector" for range query, must be Scalar or instant Vector`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.QueryRange(context.Background(), tt.query, tt.start, tt.end, tt.step)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error:\n got %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, sameSeries); diff != "" {
				t.Errorf("QueryRange (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConcurrentQueries runs many queries at once on one Provider (run with
// -race) and checks each against the sequential answer.
func TestConcurrentQueries(t *testing.T) {
	s := mustLoad(t, sec(7.5), 15*time.Second,
		SeriesInput{Series: `req_total{code="200"}`, Values: `0+100x200`},
		SeriesInput{Series: `req_total{code="500"}`, Values: `0+1x200`},
	)
	p := New(s, Options{})
	ctx := context.Background()
	queries := []string{
		`sum(rate(req_total{code!~"5.*"}[1m])) / sum(rate(req_total[1m])) * 100`,
		`sum(increase(req_total[2m]))`,
		`req_total{code="500"}`,
	}
	type key struct {
		q  int
		at int
	}
	want := map[key]float64{}
	for qi, q := range queries {
		for at := 60; at <= 3000; at += 60 {
			v, err := p.Query(ctx, q, sec(float64(at)))
			if err != nil {
				t.Fatal(err)
			}
			want[key{qi, at}] = v
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				qi := (g + i) % len(queries)
				at := 60 * (1 + (g*7+i)%50)
				v, err := p.Query(ctx, queries[qi], sec(float64(at)))
				if err != nil {
					errs <- err
					return
				}
				if v != want[key{qi, at}] {
					errs <- fmt.Errorf("%s at %d = %v, sequentially %v", queries[qi], at, v, want[key{qi, at}])
					return
				}
				if i%10 == 0 {
					if _, err := p.QueryRange(ctx, queries[qi], sec(60), sec(600), time.Minute); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
