package engine

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/metrics"
)

// rangeFake answers range queries from fn, recording each call.
type rangeFake struct {
	fn    func(t time.Time) []float64 // values of the series at t (NaN: no point)
	err   error
	mu    sync.Mutex
	calls [][2]time.Time
}

func (f *rangeFake) QueryRange(_ context.Context, _ string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	f.mu.Lock()
	f.calls = append(f.calls, [2]time.Time{start, end})
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []metrics.Series
	for t := start; !t.After(end); t = t.Add(step) {
		for i, v := range f.fn(t) {
			for len(out) <= i {
				out = append(out, metrics.Series{})
			}
			if !math.IsNaN(v) || i == 0 && t.Minute() == 59 { // a NaN point at minute 59
				out[i].Samples = append(out[i].Samples, metrics.Sample{T: t, V: v})
			}
		}
	}
	return out, nil
}

func TestPrefetchServesOnlyClearPoints(t *testing.T) {
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	step := time.Minute
	nan := math.NaN()
	fake := &rangeFake{fn: func(t time.Time) []float64 {
		switch t.Minute() {
		case 3: // no point
			return []float64{nan}
		case 4: // two series
			return []float64{1, 2}
		case 5: // the other series alone
			return []float64{nan, 7}
		case 59: // a NaN point
			return []float64{nan}
		}
		return []float64{float64(t.Minute()) + 0.1}
	}}
	f := newPrefetch(start, step, 60, time.Time{}, 0)
	ctx := context.Background()
	tests := []struct {
		at   time.Time
		want float64
		ok   bool
	}{
		{start, 0.1, true},
		{start.Add(2 * step), 2.1, true},
		{start.Add(3 * step), 0, false},
		{start.Add(4 * step), 0, false},
		{start.Add(5 * step), 7, true},
		{start.Add(59 * step), 0, false},
		{start.Add(60 * step), 0, false},            // past the replay's ticks
		{start.Add(-step), 0, false},                // before the first tick
		{start.Add(2*step + time.Second), 0, false}, // off the grid
		{start.Add(58 * step), 58.1, true},
	}
	for _, tt := range tests {
		v, ok := f.value(ctx, fake, "p", "q", tt.at, time.Second, nil)
		if ok != tt.ok || (ok && math.Float64bits(v) != math.Float64bits(tt.want)) {
			t.Errorf("at %s: got %v %v, want %v %v", tt.at.Format("15:04:05"), v, ok, tt.want, tt.ok)
		}
	}
	if len(fake.calls) != 1 || !fake.calls[0][0].Equal(start) || !fake.calls[0][1].Equal(start.Add(59*step)) {
		t.Errorf("range calls %v, want one over the 60 ticks", fake.calls)
	}
	if _, ok := f.value(ctx, fake, "p", `q @ end()`, start, time.Second, nil); ok || len(fake.calls) != 1 {
		t.Errorf("a query with @ was served from a range query (calls %d)", len(fake.calls))
	}
}

func TestPrefetchChunksAndFailures(t *testing.T) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	step := 30 * time.Second
	ctx := context.Background()
	one := func(time.Time) []float64 { return []float64{1} }

	fake := &rangeFake{fn: one}
	f := newPrefetch(start, step, MaxRangePoints+5, time.Time{}, 0)
	for _, i := range []int{0, MaxRangePoints - 1, MaxRangePoints, MaxRangePoints + 4} {
		if _, ok := f.value(ctx, fake, "p", "q", start.Add(time.Duration(i)*step), time.Second, nil); !ok {
			t.Errorf("tick %d not served", i)
		}
	}
	want := [][2]time.Time{
		{start, start.Add((MaxRangePoints - 1) * step)},
		{start.Add(MaxRangePoints * step), start.Add((MaxRangePoints + 4) * step)},
	}
	if len(fake.calls) != 2 || fake.calls[0] != want[0] || fake.calls[1] != want[1] {
		t.Errorf("range calls %v, want %v", fake.calls, want)
	}

	// A smaller chunk: ticks 0..24 and 25..49 of 50 in two range queries.
	fake = &rangeFake{fn: one}
	f = newPrefetch(start, step, 50, time.Time{}, 25)
	for _, i := range []int{0, 24, 25, 49} {
		if _, ok := f.value(ctx, fake, "p", "q", start.Add(time.Duration(i)*step), time.Second, nil); !ok {
			t.Errorf("chunk 25: tick %d not served", i)
		}
	}
	want = [][2]time.Time{{start, start.Add(24 * step)}, {start.Add(25 * step), start.Add(49 * step)}}
	if len(fake.calls) != 2 || fake.calls[0] != want[0] || fake.calls[1] != want[1] {
		t.Errorf("chunk 25: range calls %v, want %v", fake.calls, want)
	}

	// The last tick is capped at the data's end; later ticks are not served.
	fake = &rangeFake{fn: one}
	f = newPrefetch(start, step, 100, start.Add(3*step), 0)
	if _, ok := f.value(ctx, fake, "p", "q", start.Add(4*step), time.Second, nil); ok {
		t.Error("a tick after the data's end was served")
	}
	if len(fake.calls) != 1 || fake.calls[0][1] != start.Add(3*step) {
		t.Errorf("range calls %v, want one ending at the data's end", fake.calls)
	}

	// A failing range query serves nothing and is not retried per tick.
	fake = &rangeFake{fn: one, err: errors.New("boom")}
	f = newPrefetch(start, step, 100, time.Time{}, 0)
	var told []error
	for i := range 3 {
		if _, ok := f.value(ctx, fake, "p", "q", start.Add(time.Duration(i)*step), time.Second, func(err error) { told = append(told, err) }); ok {
			t.Error("served after a failed range query")
		}
	}
	if len(fake.calls) != 1 || len(told) != 1 || told[0] != fake.err {
		t.Errorf("%d range calls and errors %v after a failure, want 1 and [boom]", len(fake.calls), told)
	}

	// Distinct queries and providers are fetched apart.
	fake = &rangeFake{fn: one}
	f = newPrefetch(start, step, 100, time.Time{}, 0)
	for _, k := range [][2]string{{"p", "q"}, {"p", "r"}, {"o", "q"}, {"p", "q"}} {
		f.value(ctx, fake, k[0], k[1], start, time.Second, nil)
	}
	if len(fake.calls) != 3 {
		t.Errorf("%d range calls for 3 distinct (provider, query), want 3", len(fake.calls))
	}

	// Times the API cannot express exactly disable the prefetch.
	if newPrefetch(start, 1500*time.Microsecond, 10, time.Time{}, 0) != nil || newPrefetch(start.Add(time.Microsecond), step, 10, time.Time{}, 0) != nil {
		t.Error("a sub-millisecond grid was accepted")
	}
}

// liveFake is a server whose instant and range queries agree: value(t) of
// every query, no value where it is NaN.
type liveFake struct {
	rangeFake
	instant int
}

func (f *liveFake) Query(_ context.Context, _ string, at time.Time) (float64, error) {
	f.mu.Lock()
	f.instant++
	f.mu.Unlock()
	v := f.fn(at)[0]
	if math.IsNaN(v) {
		return 0, metrics.ErrNoValues
	}
	return v, nil
}

func TestReplayRangeQueriesSameDecisions(t *testing.T) {
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	fn := func(t time.Time) []float64 {
		switch t.Minute() {
		case 3, 4, 5: // no values: failed checks served by instant queries
			return []float64{math.NaN()}
		}
		return []float64{float64(t.Minute()) / 3}
	}
	canary := analysis.Canary{
		Metadata: analysis.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: analysis.CanarySpec{
			TargetRef: analysis.CrossNamespaceObjectReference{Kind: "Deployment", Name: "podinfo"},
			Analysis: &analysis.Analysis{Interval: "1m", Threshold: 5, MaxWeight: 50, StepWeight: 10,
				Metrics: []analysis.Metric{
					{Name: "a", Query: `a{ns="{{ namespace }}"}`, ThresholdRange: &analysis.ThresholdRange{Max: new(100.0)}},
					{Name: "b", Query: `b{ns="{{ namespace }}"}`, ThresholdRange: &analysis.ThresholdRange{Min: new(0.0)}},
				}},
		},
	}
	var results [2]ReplayResult
	var fakes [2]*liveFake
	for i, rq := range []bool{false, true} {
		fakes[i] = &liveFake{rangeFake: rangeFake{fn: fn}}
		reg := &metrics.Registry{}
		reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return fakes[i], nil })
		eng, err := New(Options{Registry: reg, Hooks: StaticHooks{Pass: true}})
		if err != nil {
			t.Fatal(err)
		}
		results[i], err = eng.Replay(context.Background(), ReplayRequest{Canary: canary, Start: start, RangeQueries: rq})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(results[0], results[1]) {
		t.Fatalf("decisions differ:\ninstant %+v\nrange   %+v", results[0], results[1])
	}
	if results[0].Result != analysis.PhaseSucceeded || len(results[0].Ticks) < 10 {
		t.Fatalf("replay ended %s after %d ticks", results[0].Result, len(results[0].Ticks))
	}
	// Ticks at minutes 3, 4 and 5 have no point: two metrics each fall back.
	if fakes[1].instant != 6 || len(fakes[1].calls) != 2 {
		t.Errorf("range replay: %d instant and %d range queries, want 6 and 2", fakes[1].instant, len(fakes[1].calls))
	}
	if fakes[0].instant == 0 || len(fakes[0].calls) != 0 {
		t.Errorf("instant replay: %d instant and %d range queries", fakes[0].instant, len(fakes[0].calls))
	}
}
