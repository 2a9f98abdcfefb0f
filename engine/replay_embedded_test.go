package engine_test

import (
	"context"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/internal/scenario"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
)

// TestReplayRangeQueriesEmbeddedSameDecisions replays the podinfo canary
// over every committed podinfo recording with the embedded Prometheus
// engine, once with one instant query per metric per tick and once with the
// ticks served from range queries (in chunks of 1, 7 and the default
// number of ticks): the timelines — phases, events, error texts, every
// value — must be identical.
func TestReplayRangeQueriesEmbeddedSameDecisions(t *testing.T) {
	td, err := scenario.TestdataDir()
	if err != nil {
		t.Fatal(err)
	}
	set, err := manifest.DecodePaths([]string{filepath.Join(td, "podinfo")})
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(td, "podinfo", "*.om"))
	if err != nil || len(paths) < 3 {
		t.Fatal(paths, err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			store, err := recorded.LoadOpenMetricsFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p := &countingProvider{Provider: recorded.New(store, recorded.Options{})}
			reg := &metrics.Registry{}
			reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return p, nil })
			eng, err := engine.New(engine.Options{Registry: reg, Templates: engine.StaticTemplates(set.Templates),
				Hooks: engine.StaticHooks{Pass: true}})
			if err != nil {
				t.Fatal(err)
			}
			req := engine.ReplayRequest{Canary: set.Canaries[0], Start: store.Start().Add(time.Minute), DataEnd: store.End()}
			want, err := eng.Replay(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(want.Ticks) < 3 {
				t.Fatalf("only %d ticks", len(want.Ticks))
			}
			instant := p.instant.Load()
			for _, chunk := range []int{1, 7, 0} {
				p.instant.Store(0)
				p.ranges.Store(0)
				req.RangeQueries, req.RangeChunk = true, chunk
				got, err := eng.Replay(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("chunk %d: timelines differ:\ninstant %+v\nrange   %+v", chunk, want, got)
				}
				// Only ticks without a value (no-traffic.om: all of them) fall
				// back to instant queries.
				if p.ranges.Load() == 0 || p.instant.Load() > instant {
					t.Errorf("chunk %d: %d range and %d instant queries (%d without range queries)", chunk, p.ranges.Load(), p.instant.Load(), instant)
				}
			}
		})
	}
}

// countingProvider counts a recorded provider's instant and range queries.
type countingProvider struct {
	*recorded.Provider
	instant, ranges atomic.Int64
}

func (c *countingProvider) Query(ctx context.Context, q string, at time.Time) (float64, error) {
	c.instant.Add(1)
	return c.Provider.Query(ctx, q, at)
}

func (c *countingProvider) QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	c.ranges.Add(1)
	return c.Provider.QueryRange(ctx, q, start, end, step)
}

// TestReplayJudgedSharedRangeQueries replays the judged podinfo canary
// (testdata/judged: mann-whitney, histogram and sequential judges) over the
// recorded pairs with and without the replay's shared range queries: the
// timelines must be identical, and the judged metrics' range queries are
// sent once per replay (per chunk) instead of once per tick. (Their raw
// reads for exact counts stay per tick.)
func TestReplayJudgedSharedRangeQueries(t *testing.T) {
	td, err := scenario.TestdataDir()
	if err != nil {
		t.Fatal(err)
	}
	set, err := manifest.DecodePaths([]string{filepath.Join(td, "judged")})
	if err != nil {
		t.Fatal(err)
	}
	for _, dataset := range []string{"latency-regression.om", "identical.om", "noisy-equal.om", "not-found-climb.om"} {
		t.Run(dataset, func(t *testing.T) {
			store, err := recorded.LoadOpenMetricsFile(filepath.Join(td, "podinfo", dataset))
			if err != nil {
				t.Fatal(err)
			}
			p := &countingProvider{Provider: recorded.New(store, recorded.Options{})}
			reg := &metrics.Registry{}
			reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return p, nil })
			eng, err := engine.New(engine.Options{Registry: reg, Templates: engine.StaticTemplates(set.Templates),
				Hooks: engine.StaticHooks{Pass: true}})
			if err != nil {
				t.Fatal(err)
			}
			req := engine.ReplayRequest{Canary: set.Canaries[0], Start: store.Start().Add(6 * time.Minute), DataEnd: store.End()}
			want, err := eng.Replay(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			perTick := p.ranges.Load()
			judged := 0
			for _, tk := range want.Ticks {
				for _, c := range tk.Decision.Checks {
					if c.Judgement != nil {
						judged++
					}
				}
			}
			if judged == 0 || perTick == 0 {
				t.Fatalf("%d judged checks, %d range queries: the test judges nothing", judged, perTick)
			}
			for _, chunk := range []int{1, 7, 0} {
				p.ranges.Store(0)
				req.RangeQueries, req.RangeChunk = true, chunk
				got, err := eng.Replay(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("chunk %d: timelines differ:\nper tick %+v\nshared   %+v", chunk, want, got)
				}
				if shared := p.ranges.Load(); chunk == 0 && shared >= perTick {
					t.Errorf("%d range queries with sharing, %d without", shared, perTick)
				} else {
					t.Logf("chunk %d: %d range queries (%d without sharing, %d ticks)", chunk, shared, perTick, len(want.Ticks))
				}
			}
		})
	}
}
