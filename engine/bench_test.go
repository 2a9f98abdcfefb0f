package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/internal/scenario"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/metrics/recorded"
)

// BenchmarkTick is one analysis tick with N metrics against a provider with
// a fixed 10ms simulated latency: concurrent (the default bound) vs
// sequential (Concurrency 1, as Flagger runs them).
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		for _, mode := range []struct {
			name string
			conc int
		}{{"concurrent", engine.DefaultConcurrency}, {"sequential", 1}} {
			if mode.conc == 1 && n == 100 {
				continue // ~1s per tick; the ratio is clear from 10
			}
			b.Run(fmt.Sprintf("metrics=%d/%s", n, mode.name), func(b *testing.B) {
				fake := &metricstest.Provider{Latency: 10 * time.Millisecond}
				fake.SetDefault(metricstest.Result{Value: 1})
				eng, err := engine.New(engine.Options{Registry: fakeRegistry(fake), Concurrency: mode.conc,
					Hooks: engine.StaticHooks{Pass: true}})
				if err != nil {
					b.Fatal(err)
				}
				req := engine.TickRequest{Canary: canaryWith(n),
					Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10}, Now: time.Unix(0, 0)}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := eng.Tick(context.Background(), req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkReplay replays the podinfo canary over the recorded healthy
// dataset with the embedded PromQL engine; ticks/s is reported.
func BenchmarkReplay(b *testing.B) {
	td, err := scenario.TestdataDir()
	if err != nil {
		b.Fatal(err)
	}
	set, err := manifest.DecodePaths([]string{filepath.Join(td, "podinfo")})
	if err != nil {
		b.Fatal(err)
	}
	store, err := recorded.LoadOpenMetricsFile(filepath.Join(td, "podinfo", "healthy.om"))
	if err != nil {
		b.Fatal(err)
	}
	p := recorded.New(store, recorded.Options{})
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return p, nil })
	eng, err := engine.New(engine.Options{Registry: reg, Templates: engine.StaticTemplates(set.Templates),
		Hooks: engine.StaticHooks{Pass: true}})
	if err != nil {
		b.Fatal(err)
	}
	req := engine.ReplayRequest{Canary: set.Canaries[0], Start: store.Start().Add(time.Minute)}
	ticks := 0
	b.ReportAllocs()
	for b.Loop() {
		res, err := eng.Replay(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if res.Result != analysis.PhaseSucceeded {
			b.Fatalf("healthy replay ended %s", res.Result)
		}
		ticks += len(res.Ticks)
	}
	b.ReportMetric(float64(ticks)/b.Elapsed().Seconds(), "ticks/s")
}
