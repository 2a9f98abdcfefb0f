package metricstest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/metricstest"
)

func TestQueryLookup(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		setup   func(p *metricstest.Provider)
		query   string
		at      time.Time
		want    float64
		wantIs  error
		wantErr string // exact error text, when not a canned error
	}{
		{name: "unknown", setup: func(*metricstest.Provider) {}, query: "up", wantIs: metricstest.ErrNoResult,
			wantErr: `metricstest: no canned result for query "up"`},
		{name: "value", setup: func(p *metricstest.Provider) { p.Set("up", metricstest.Result{Value: 99.5}) }, query: "up", at: t0, want: 99.5},
		{name: "exact-query-only", setup: func(p *metricstest.Provider) { p.Set("up", metricstest.Result{Value: 1}) }, query: "up ",
			wantIs: metricstest.ErrNoResult, wantErr: `metricstest: no canned result for query "up "`},
		{name: "canned-error-as-is", setup: func(p *metricstest.Provider) { p.Set("up", metricstest.Result{Value: 7, Err: boom}) }, query: "up", wantIs: boom, wantErr: "boom"},
		{name: "canned-sentinel", setup: func(p *metricstest.Provider) {
			p.Set("up", metricstest.Result{Err: fmt.Errorf("q: %w", metrics.ErrNoValues)})
		}, query: "up", wantIs: metrics.ErrNoValues, wantErr: "q: no values found"},
		{name: "inf-passes-through", setup: func(p *metricstest.Provider) { p.Set("up", metricstest.Result{Value: math.Inf(-1)}) }, query: "up", want: math.Inf(-1)},
		{name: "at-wins", setup: func(p *metricstest.Provider) {
			p.Set("up", metricstest.Result{Value: 1})
			p.SetAt("up", t0, metricstest.Result{Value: 2})
		}, query: "up", at: t0, want: 2},
		{name: "at-same-instant-other-zone", setup: func(p *metricstest.Provider) {
			p.SetAt("up", t0, metricstest.Result{Value: 2})
		}, query: "up", at: t0.In(time.FixedZone("X", 3600)), want: 2},
		{name: "at-falls-back-to-query", setup: func(p *metricstest.Provider) {
			p.Set("up", metricstest.Result{Value: 1})
			p.SetAt("up", t0, metricstest.Result{Value: 2})
		}, query: "up", at: t0.Add(time.Second), want: 1},
		{name: "at-only-other-time", setup: func(p *metricstest.Provider) {
			p.SetAt("up", t0, metricstest.Result{Value: 2})
		}, query: "up", at: t0.Add(time.Second), wantIs: metricstest.ErrNoResult},
		{name: "zero-at", setup: func(p *metricstest.Provider) {
			p.SetAt("up", time.Time{}, metricstest.Result{Value: 3})
			p.Set("up", metricstest.Result{Value: 1})
		}, query: "up", want: 3},
		{name: "default", setup: func(p *metricstest.Provider) {
			p.SetDefault(metricstest.Result{Value: 42})
			p.Set("other", metricstest.Result{Value: 1})
		}, query: "up", want: 42},
		{name: "default-error", setup: func(p *metricstest.Provider) { p.SetDefault(metricstest.Result{Err: boom}) }, query: "up", wantIs: boom},
		{name: "query-beats-default", setup: func(p *metricstest.Provider) {
			p.SetDefault(metricstest.Result{Value: 42})
			p.Set("up", metricstest.Result{Value: 1})
		}, query: "up", want: 1},
		{name: "set-replaces", setup: func(p *metricstest.Provider) {
			p.Set("up", metricstest.Result{Value: 1})
			p.Set("up", metricstest.Result{Value: 5})
		}, query: "up", want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p metricstest.Provider
			tt.setup(&p)
			got, err := p.Query(t.Context(), tt.query, tt.at)
			if tt.wantIs == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Query = %v, %v; want %v", got, err, tt.want)
				}
			} else {
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("Query error = %v, want one wrapping %v", err, tt.wantIs)
				}
				if got != 0 {
					t.Errorf("Query value = %v with an error, want 0", got)
				}
				if tt.wantErr != "" && err.Error() != tt.wantErr {
					t.Errorf("error = %q, want %q", err, tt.wantErr)
				}
			}
			if diff := cmp.Diff([]metricstest.Call{{Query: tt.query, At: tt.at}}, p.Calls()); diff != "" {
				t.Errorf("Calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCallsRecordOrderAndCopy(t *testing.T) {
	var p metricstest.Provider
	p.SetDefault(metricstest.Result{Value: 1})
	t0 := time.Unix(1795326522, 0)
	for i := range 3 {
		if _, err := p.Query(t.Context(), fmt.Sprintf("q%d", i), t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	want := []metricstest.Call{
		{Query: "q0", At: t0},
		{Query: "q1", At: t0.Add(time.Minute)},
		{Query: "q2", At: t0.Add(2 * time.Minute)},
	}
	got := p.Calls()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Calls (-want +got):\n%s", diff)
	}
	got[0].Query = "mutated"
	if diff := cmp.Diff(want, p.Calls()); diff != "" {
		t.Errorf("Calls changed through a returned copy (-want +got):\n%s", diff)
	}
	if n := p.MaxInFlight(); n != 1 {
		t.Errorf("MaxInFlight after sequential calls = %d, want 1", n)
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	tests := []struct {
		name   string
		ctx    func(t *testing.T) context.Context
		wantIs error
	}{
		{
			name: "canceled-during-latency",
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				time.AfterFunc(10*time.Millisecond, cancel)
				t.Cleanup(cancel)
				return ctx
			},
			wantIs: context.Canceled,
		},
		{
			name: "deadline-during-latency",
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			},
			wantIs: context.DeadlineExceeded,
		},
		{
			name: "already-canceled",
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				return ctx
			},
			wantIs: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := metricstest.Provider{Latency: time.Hour}
			p.Set("up", metricstest.Result{Value: 1})
			got, err := p.Query(tt.ctx(t), "up", time.Time{})
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("Query = %v, %v; want an error wrapping %v", got, err, tt.wantIs)
			}
			if want := `metricstest: query "up": `; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
				t.Errorf("error %q does not start with %q", err, want)
			}
			if n := p.InFlight(); n != 0 {
				t.Errorf("InFlight after return = %d, want 0", n)
			}
		})
	}
}

func TestLatencyDelaysResult(t *testing.T) {
	p := metricstest.Provider{Latency: time.Millisecond}
	p.Set("up", metricstest.Result{Value: 3})
	if got, err := p.Query(t.Context(), "up", time.Time{}); err != nil || got != 3 {
		t.Fatalf("Query = %v, %v; want 3", got, err)
	}
}

// TestMaxInFlight holds n queries inside their latency until all n are
// running at once, then releases them: the high-water mark must be n.
func TestMaxInFlight(t *testing.T) {
	const n = 8
	p := metricstest.Provider{Latency: time.Hour}
	p.SetDefault(metricstest.Result{Value: 1})
	ctx, release := context.WithCancel(t.Context())
	defer release()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := p.Query(ctx, fmt.Sprintf("q%d", i), time.Time{})
			errs <- err
		})
	}
	for p.InFlight() < n {
		select {
		case <-t.Context().Done():
			t.Fatal("queries never all ran at once")
		case <-time.After(time.Millisecond):
		}
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("released query error = %v, want context.Canceled", err)
		}
	}
	if got := p.MaxInFlight(); got != n {
		t.Errorf("MaxInFlight = %d, want %d", got, n)
	}
	if got := p.InFlight(); got != 0 {
		t.Errorf("InFlight = %d after all returned, want 0", got)
	}
	if got := len(p.Calls()); got != n {
		t.Errorf("recorded %d calls, want %d", got, n)
	}
}

// TestConcurrentUse exercises every method at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	var p metricstest.Provider
	var wg sync.WaitGroup
	const workers, each = 4, 50
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				q := fmt.Sprintf("q%d", i%5)
				p.Set(q, metricstest.Result{Value: float64(w)})
				p.SetAt(q, time.Unix(int64(i), 0), metricstest.Result{Value: float64(i)})
				if _, err := p.Query(t.Context(), q, time.Time{}); err != nil {
					t.Errorf("Query(%q): %v", q, err)
				}
				_ = p.Calls()
				_ = p.MaxInFlight()
			}
		})
	}
	wg.Wait()
	if got := len(p.Calls()); got != workers*each {
		t.Errorf("recorded %d calls, want %d", got, workers*each)
	}
	if got := p.MaxInFlight(); got < 1 || got > workers {
		t.Errorf("MaxInFlight = %d, want within [1, %d]", got, workers)
	}
}

func ExampleProvider() {
	var p metricstest.Provider
	p.Set(`sum(rate(http_requests_total{code!~"5.."}[1m]))`, metricstest.Result{Value: 99.5})
	p.Set("empty", metricstest.Result{Err: metrics.ErrNoValues})

	v, err := p.Query(context.Background(), `sum(rate(http_requests_total{code!~"5.."}[1m]))`, time.Time{})
	fmt.Println(v, err)
	_, err = p.Query(context.Background(), "empty", time.Time{})
	fmt.Println(errors.Is(err, metrics.ErrNoValues))
	_, err = p.Query(context.Background(), "unknown", time.Time{})
	fmt.Println(err)
	fmt.Println(len(p.Calls()), p.MaxInFlight())
	// Output:
	// 99.5 <nil>
	// true
	// metricstest: no canned result for query "unknown"
	// 3 1
}
