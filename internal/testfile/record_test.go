package testfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
)

// storeSource answers Record's requests from recorded data the way a
// Prometheus server does: a range selector at t returns the raw samples in
// (t-range, t] (Prometheus 3) or, with closed, [t-range, t] (Prometheus 2).
type storeSource struct {
	store  *recorded.Store
	closed bool
	fail   error

	mu    sync.Mutex
	calls []string
}

func (s *storeSource) QuerySamples(_ context.Context, query string, at time.Time) ([]metrics.Series, error) {
	s.mu.Lock()
	s.calls = append(s.calls, query+" @ "+at.UTC().Format(time.RFC3339Nano))
	s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		return nil, err
	}
	ms, ok := expr.(*parser.MatrixSelector)
	if !ok {
		return nil, fmt.Errorf("%q is not a range selector", query)
	}
	vs := ms.VectorSelector.(*parser.VectorSelector)
	maxT := at.UnixMilli()
	minT := maxT - ms.Range.Milliseconds()
	var out []metrics.Series
	for _, sr := range s.store.Series() {
		match := true
		for _, m := range vs.LabelMatchers {
			match = match && m.Matches(sr.Labels[m.Name])
		}
		if !match {
			continue
		}
		var keep []metrics.Sample
		for _, smp := range sr.Samples {
			t := smp.T.UnixMilli()
			if t <= maxT && (t > minT || s.closed && t == minT) {
				keep = append(keep, smp)
			}
		}
		if len(keep) > 0 {
			out = append(out, metrics.Series{Labels: sr.Labels, Samples: keep})
		}
	}
	return out, nil
}

func (s *storeSource) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	s.mu.Lock()
	s.calls = append(s.calls, "range "+query)
	s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	return recorded.New(s.store, recorded.Options{}).QueryRange(ctx, query, start, end, step)
}

func TestSelectors(t *testing.T) {
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	end := start.Add(10 * time.Minute)
	ms := time.Millisecond
	tests := []struct {
		name    string
		query   string
		want    []Selector
		wantErr bool
	}{
		{
			name:  "rate over a range",
			query: `sum(rate(x{a="b"}[1m]))`,
			want:  []Selector{{Expr: `x{a="b"}`, From: start.Add(-time.Minute + ms), Through: end}},
		},
		{
			name:  "instant selector looks back 5m",
			query: `x`,
			want:  []Selector{{Expr: `x`, From: start.Add(-5*time.Minute + ms), Through: end}},
		},
		{
			name:  "offset shifts the window",
			query: `rate(x[5m] offset 1m)`,
			want:  []Selector{{Expr: `x`, From: start.Add(-6*time.Minute + ms), Through: end.Add(-time.Minute)}},
		},
		{
			name:  "subquery widens the window",
			query: `max_over_time(rate(x[1m])[10m:1m])`,
			want:  []Selector{{Expr: `x`, From: start.Add(-11*time.Minute + ms), Through: end}},
		},
		{
			name:  "a selector used twice is fetched once, matchers sorted",
			query: `sum(rate(x{b="1",a="2"}[1m])) / sum(rate(x{a="2", b="1"}[1m])) + on() {__name__="y", c=~"d.*"}`,
			want: []Selector{
				{Expr: `x{a="2",b="1"}`, From: start.Add(-5*time.Minute + ms), Through: end},
				{Expr: `{__name__="y",c=~"d.*"}`, From: start.Add(-5*time.Minute + ms), Through: end},
			},
		},
		{
			name:  "@ pins the time",
			query: `x @ 1793527200`,
			want:  []Selector{{Expr: `x`, From: start.Add(-5*time.Minute + ms), Through: start}},
		},
		{name: "no selector", query: `1 + 2`},
		{name: "parse error", query: `sum(rate(x[1m])`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Selectors(tt.query, start, end, 0)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("selectors (-want +got):\n%s", diff)
			}
		})
	}
}

// podinfoQueries renders the queries of the example podinfo Canary.
func podinfoQueries(t testing.TB) (analysis.Canary, *engine.Engine, []string) {
	t.Helper()
	set, err := manifest.DecodePaths([]string{"../../examples/podinfo/manifests"})
	if err != nil {
		t.Fatal(err)
	}
	reg := &metrics.Registry{}
	eng, err := engine.New(engine.Options{Registry: reg, Templates: engine.StaticTemplates(set.Templates)})
	if err != nil {
		t.Fatal(err)
	}
	c := set.Canaries[0]
	plans, err := eng.Plan(t.Context(), &c)
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, p := range plans {
		if p.Err != nil {
			t.Fatalf("plan %s: %v", p.Name, p.Err.Message)
		}
		qs = append(qs, p.Query)
	}
	return c, eng, qs
}

// replayOver replays the canary over a store from start.
func replayOver(t *testing.T, c analysis.Canary, store *recorded.Store, start time.Time, maxTicks int) engine.ReplayResult {
	t.Helper()
	p := recorded.New(store, recorded.Options{})
	reg := &metrics.Registry{}
	reg.Register(engine.PrometheusType, func(metrics.Config) (metrics.Provider, error) { return p, nil })
	set, err := manifest.DecodePaths([]string{"../../examples/podinfo/manifests"})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Options{Registry: reg, Hooks: engine.StaticHooks{Pass: true}, Templates: engine.StaticTemplates(set.Templates)})
	if err != nil {
		t.Fatal(err)
	}
	// Weight 10: the first tick already checks the metrics, so it reads the
	// minute before start.
	res, err := eng.Replay(t.Context(), engine.ReplayRequest{Canary: c, Start: start, MaxTicks: maxTicks,
		Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestRecordReplaysLikeTheSource records a window of each podinfo dataset
// through a fake server, writes and re-reads it as OpenMetrics, and replays
// the window from the file and from the full data: every tick must decide
// the same, with the same values.
func TestRecordReplaysLikeTheSource(t *testing.T) {
	c, _, queries := podinfoQueries(t)
	start := time.Date(2026, 11, 1, 10, 1, 0, 0, time.UTC)
	end := start.Add(9 * time.Minute)
	for _, data := range []string{"healthy", "not-found-climb", "slow", "no-traffic"} {
		t.Run(data, func(t *testing.T) {
			full, err := recorded.LoadOpenMetricsFile("../../testdata/podinfo/" + data + ".om")
			if err != nil {
				t.Fatal(err)
			}
			rec, err := Record(t.Context(), &storeSource{store: full}, queries, RecordOptions{Start: start, End: end})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := recorded.WriteOpenMetrics(&buf, rec.Series); err != nil {
				t.Fatal(err)
			}
			window, err := recorded.ParseOpenMetrics(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if window.SampleCount() != rec.Samples() || (full.SampleCount() > 0 && window.SampleCount() >= full.SampleCount()) {
				t.Errorf("window holds %d samples (recording %d, source %d)", window.SampleCount(), rec.Samples(), full.SampleCount())
			}
			if window.SampleCount() > 0 && (window.End().After(end) || !window.Start().Before(start.Add(-time.Minute+15*time.Second))) {
				t.Errorf("window spans %s to %s, want within the 1m before %s to %s", window.Start(), window.End(), start, end)
			}
			if first := replayOver(t, c, full, start, 1); len(first.Ticks[0].Decision.Checks) == 0 {
				t.Fatal("the first tick checks no metrics; the comparison would not see the minute before start")
			}
			want := replayOver(t, c, full, start, 10)
			got := replayOver(t, c, window, start, 10)
			if len(want.Ticks) == 0 {
				t.Fatal("the source replay has no ticks")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("replay from the recording differs (-source +recording):\n%s", diff)
			}
		})
	}
}

// TestRecordChunksTile: whatever the chunk size and whether the server's
// ranges are left-open (Prometheus 3) or closed (Prometheus 2), the same
// samples are recorded, each once.
func TestRecordChunksTile(t *testing.T) {
	_, _, queries := podinfoQueries(t)
	full, err := recorded.LoadOpenMetricsFile("../../testdata/podinfo/healthy.om")
	if err != nil {
		t.Fatal(err)
	}
	// The end is a sample's time (the data is 7.5s past a 15s grid), so 15s
	// chunks have samples on every edge.
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	opts := RecordOptions{Start: start, End: start.Add(20*time.Minute - 7500*time.Millisecond)}
	base, err := Record(t.Context(), &storeSource{store: full}, queries, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Five distinct selectors: two per istio_requests_total ratio (the
	// builtin matches the workload with =~, the template with =) and the
	// duration histogram's buckets.
	if base.Samples() == 0 || len(base.Selectors) != 5 {
		t.Fatalf("recorded %d samples of %d selectors; want samples of the 5 distinct selectors", base.Samples(), len(base.Selectors))
	}
	tests := []struct {
		name   string
		chunk  time.Duration
		closed bool
		calls  int
	}{
		// Four selectors read 20m52.5s (1m ranges), one 20m22.5s (30s).
		{name: "one chunk", chunk: time.Hour, calls: 5},
		{name: "7m chunks", chunk: 7 * time.Minute, calls: 5 * 3},
		{name: "15s chunks with samples on every edge", chunk: 15 * time.Second, calls: 4*84 + 82},
		{name: "closed ranges", chunk: 7 * time.Minute, closed: true, calls: 5 * 3},
		{name: "closed 15s ranges with samples on every edge", chunk: 15 * time.Second, closed: true, calls: 4*84 + 82},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &storeSource{store: full, closed: tt.closed}
			o := opts
			o.Chunk = tt.chunk
			got, err := Record(t.Context(), src, queries, o)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(base.Series, got.Series); diff != "" {
				t.Errorf("series differ from one chunk (-want +got):\n%s", diff)
			}
			if len(src.calls) != tt.calls {
				t.Errorf("%d requests, want %d: %v", len(src.calls), tt.calls, src.calls)
			}
		})
	}
}

func TestRecordStep(t *testing.T) {
	_, _, queries := podinfoQueries(t)
	full, err := recorded.LoadOpenMetricsFile("../../testdata/podinfo/healthy.om")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	src := &storeSource{store: full}
	rec, err := Record(t.Context(), src, queries, RecordOptions{Start: start, End: start.Add(5 * time.Minute), Step: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(src.calls) != 5 || !strings.HasPrefix(src.calls[0], "range ") {
		t.Errorf("requests %v, want 5 range queries", src.calls)
	}
	if rec.Samples() == 0 {
		t.Fatal("no samples")
	}
	for _, s := range rec.Series {
		if s.Labels["__name__"] == "" {
			t.Fatalf("series without a name: %v", s.Labels)
		}
		for _, smp := range s.Samples {
			sel := rec.Selectors[0]
			for _, x := range rec.Selectors {
				if strings.HasPrefix(x.Expr, s.Labels["__name__"]) {
					sel = x
				}
			}
			if d := smp.T.Sub(sel.From); d%(30*time.Second) != 0 {
				t.Fatalf("sample at %s is not on the 30s grid from %s", smp.T, sel.From)
			}
		}
	}
}

func TestRecordErrors(t *testing.T) {
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		queries []string
		opts    RecordOptions
		fail    error
		want    string
	}{
		{name: "no times", queries: []string{"up"}, want: "a start and an end time are required"},
		{name: "end before start", queries: []string{"up"}, opts: RecordOptions{Start: start, End: start.Add(-time.Second)}, want: "is before start"},
		{name: "negative step", queries: []string{"up"}, opts: RecordOptions{Start: start, End: start, Step: -time.Second}, want: "must not be negative"},
		{name: "bad query", queries: []string{"sum(up"}, opts: RecordOptions{Start: start, End: start}, want: `parsing query "sum(up"`},
		{name: "server error", queries: []string{"up"}, opts: RecordOptions{Start: start, End: start}, fail: boom, want: "selector up: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Record(t.Context(), &storeSource{store: &recorded.Store{}, fail: tt.fail}, tt.queries, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if tt.fail != nil && !errors.Is(err, tt.fail) {
				t.Errorf("err %v does not wrap the server's error", err)
			}
		})
	}
}

// TestStoreSource checks the exported Source over recorded data against the
// test's own fake, and that it refuses what is not a plain range selector.
func TestStoreSource(t *testing.T) {
	full, err := recorded.LoadOpenMetricsFile("../../testdata/podinfo/healthy.om")
	if err != nil {
		t.Fatal(err)
	}
	src := NewStoreSource(full)
	fake := &storeSource{store: full}
	at := time.Date(2026, 11, 1, 10, 5, 7, 500e6, time.UTC) // on a sample: the range's left edge is one too
	for _, q := range []string{
		`istio_requests_total{destination_workload="podinfo", response_code="404"}[1m]`,
		`istio_request_duration_milliseconds_bucket{le="100.0"}[15s]`,
		`nothing_here[1h]`,
	} {
		got, err := src.QuerySamples(t.Context(), q, at)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		want, _ := fake.QuerySamples(t.Context(), q, at)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-fake +StoreSource):\n%s", q, diff)
		}
	}
	for _, q := range []string{`up`, `up[5m] offset 1m`, `sum(up[5m])`, `up[5m`} {
		if _, err := src.QuerySamples(t.Context(), q, at); err == nil {
			t.Errorf("%s: want an error", q)
		}
	}
	got, err := src.QuerySamples(t.Context(), `istio_requests_total{response_code="404", destination_workload="podinfo"}[30s]`, time.Time{})
	if err != nil || len(got) == 0 || !got[0].Samples[len(got[0].Samples)-1].T.Equal(full.End()) {
		t.Errorf("zero time did not mean the end of the data: %v, %v", got, err)
	}
}

// TestRecordBeyondEnd: with Beyond, the recording ends one scrape interval
// after End (each series' next scrape, on healthy.om's grid 7.5s past the
// minute), so an evaluation at End is inside the recording; without it the
// last sample is before End and a replay would stop before a tick at End.
func TestRecordBeyondEnd(t *testing.T) {
	_, _, queries := podinfoQueries(t)
	full, err := recorded.LoadOpenMetricsFile("../../testdata/podinfo/healthy.om")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 10, 1, 0, 0, time.UTC)
	end := start.Add(9 * time.Minute)
	for _, tt := range []struct {
		beyond time.Duration
		last   time.Time
	}{
		{0, end.Add(-7500 * time.Millisecond)},
		{5 * time.Minute, end.Add(7500 * time.Millisecond)},
		{time.Second, end}, // the cut: End plus at most Beyond
	} {
		rec, err := Record(t.Context(), &storeSource{store: full}, queries, RecordOptions{Start: start, End: end, Beyond: tt.beyond})
		if err != nil {
			t.Fatal(err)
		}
		var last time.Time
		for _, s := range rec.Series {
			if l := s.Samples[len(s.Samples)-1].T; l.After(last) {
				last = l
			}
		}
		if tt.beyond == time.Second {
			if last.After(end.Add(time.Second)) {
				t.Errorf("beyond 1s: last sample at %s, after %s", last, end.Add(time.Second))
			}
			continue
		}
		if !last.Equal(tt.last) {
			t.Errorf("beyond %s: last sample at %s, want %s", tt.beyond, last, tt.last)
		}
	}
}
