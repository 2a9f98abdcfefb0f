package engine_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
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

// staticRange answers every range query with the same series.
type staticRange struct{ canary, baseline []metrics.Series }

func (s staticRange) Query(context.Context, string, time.Time) (float64, error) { return 1, nil }

func (s staticRange) QueryRange(_ context.Context, q string, _, _ time.Time, _ time.Duration) ([]metrics.Series, error) {
	if strings.Contains(q, "primary") {
		return s.baseline, nil
	}
	return s.canary, nil
}

// BenchmarkJudgedMetric is one tick that judges one metric with 10,000
// samples per side (mann-whitney: the two range queries, the Hodges–Lehmann
// interval over 10⁸ pairwise differences, the check and the score), against
// a provider that returns the series at once.
func BenchmarkJudgedMetric(b *testing.B) {
	const n = 10_000
	r := rand.New(rand.NewPCG(1, 2))
	mk := func(shift float64) []metrics.Series {
		s := metrics.Series{Labels: map[string]string{}}
		for i := range n {
			s.Samples = append(s.Samples, metrics.Sample{T: time.Unix(int64(i), 0), V: 100*math.Exp(0.5*r.NormFloat64()) + shift})
		}
		return []metrics.Series{s}
	}
	p := staticRange{canary: mk(5), baseline: mk(0)}
	eng, err := engine.New(engine.Options{Registry: fakeRegistry(p), Hooks: engine.StaticHooks{Pass: true}})
	if err != nil {
		b.Fatal(err)
	}
	c := canaryWith(0)
	c.Spec.Analysis.Metrics = []analysis.Metric{{Name: "latency", Query: `lat{app="{{ target }}"}`}}
	at := time.Unix(1e9, 0)
	req := engine.TickRequest{Canary: c, Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10},
		At: at, Now: at, Judges: map[string]map[string]string{"latency": {"judge": "mann-whitney"}}}
	d, err := eng.Tick(context.Background(), req)
	if err != nil || len(d.Checks) != 1 || d.Checks[0].Judgement == nil || d.Checks[0].Judgement.Explanation.Canary.Count < n/2 {
		b.Fatalf("decision %+v, %v", d, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Tick(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplayJudged replays the judged podinfo canary (three judged
// metrics: error-rate, histogram, mann-whitney) over the recorded latency
// regression until it is rolled back.
func BenchmarkReplayJudged(b *testing.B) {
	eng, c, store := judgedSetup(b, "latency-regression.om")
	req := engine.ReplayRequest{Canary: c, Start: replayStart(store)}
	b.ReportAllocs()
	ticks := 0
	for b.Loop() {
		res, err := eng.Replay(context.Background(), req)
		if err != nil || res.Result != analysis.PhaseFailed {
			b.Fatalf("result %s, %v", res.Result, err)
		}
		ticks += len(res.Ticks)
	}
	b.ReportMetric(float64(ticks)/b.Elapsed().Seconds(), "ticks/s")
}
