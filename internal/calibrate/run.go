package main

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/augurproj/augur/analysis/judges"
)

// Models are the traffic models of the calibration table.
var Models = []Model{
	{Name: "poisson", Description: "steady Poisson traffic, 50 req/s, canary 20%, 2 vs 3 pods, 15 s scrapes", RPS: 50, CanaryWeight: 0.2, CanaryPods: 2, PrimaryPods: 3, Scrape: 15, Jitter: 1, Missed: 0.02},
	{Name: "bursty", Description: "as poisson, latency factor per 15 s shared (σ 0.3) and per pod (σ 0.1), error bursts shared (σ 1)", RPS: 50, CanaryWeight: 0.2, CanaryPods: 2, PrimaryPods: 3, Scrape: 15, Jitter: 1, Missed: 0.02, LatencyBurst: 0.3, PodBurst: 0.1, ErrorBurst: 1},
	{Name: "diurnal", Description: "as bursty, request rate ramping from ×0.5 to ×1.5 over the rollout", RPS: 50, CanaryWeight: 0.2, CanaryPods: 2, PrimaryPods: 3, Scrape: 15, Jitter: 1, Missed: 0.02, LatencyBurst: 0.3, PodBurst: 0.1, ErrorBurst: 1, Diurnal: 0.5},
	{Name: "low", Description: "low traffic: 0.8 req/s in total (canary 0.16 req/s), bursty", RPS: 0.8, CanaryWeight: 0.2, CanaryPods: 2, PrimaryPods: 3, Scrape: 15, Jitter: 1, Missed: 0.02, LatencyBurst: 0.3, PodBurst: 0.1, ErrorBurst: 1},
	{Name: "low-2h", Description: "as low, a 2-hour rollout judged over 30-minute windows (window=30m) every 10 minutes (Flagger interval 10m)", LookSeconds: 600, RPS: 0.8, CanaryWeight: 0.2, CanaryPods: 2, PrimaryPods: 3, Scrape: 15, Jitter: 1, Missed: 0.02, LatencyBurst: 0.3, PodBurst: 0.1, ErrorBurst: 1, Minutes: 120, WindowSteps: 60},
	{Name: "scrape30", Description: "as bursty, 30 s scrapes with ±5 s jitter and 10% missed scrapes", RPS: 50, CanaryWeight: 0.2, CanaryPods: 2, PrimaryPods: 3, Scrape: 30, Jitter: 5, Missed: 0.1, LatencyBurst: 0.3, PodBurst: 0.1, ErrorBurst: 1},
	{Name: "resets", Description: "as bursty, every pod restarts (counters reset) once with probability 0.5", RPS: 50, CanaryWeight: 0.2, CanaryPods: 2, PrimaryPods: 3, Scrape: 15, Jitter: 1, Missed: 0.02, LatencyBurst: 0.3, PodBurst: 0.1, ErrorBurst: 1, Restarts: 0.5},
	{Name: "replicas", Description: "as bursty, 1 canary pod vs 6 primary pods, canary 10%", RPS: 50, CanaryWeight: 0.1, CanaryPods: 1, PrimaryPods: 6, Scrape: 15, Jitter: 1, Missed: 0.02, LatencyBurst: 0.3, PodBurst: 0.1, ErrorBurst: 1},
}

// Scenarios: A/A and the regressions.
var Scenarios = []Scenario{
	{Name: "A/A", LatencyFactor: 1, ErrorFactor: 1},
	{Name: "latency ×1.1", LatencyFactor: 1.1, ErrorFactor: 1},
	{Name: "p99 tail ×3", LatencyFactor: 1, ErrorFactor: 1, TailFactor: 3},
	{Name: "errors ×2", LatencyFactor: 1, ErrorFactor: 2},
	{Name: "errors ×5", LatencyFactor: 1, ErrorFactor: 5},
}

// A judge column of the table.
type judgeCol struct {
	Name string
	// Kind: "latency" judges see the histogram, "errors" the counts.
	Kind string
	// Sequential columns look at all data since the start.
	Sequential bool
	config     map[string]string
	build      func(r rollout, from, to int) judges.Input
}

// Settings of a calibration run.
type Settings struct {
	Seed     uint64
	Rollouts int
	// Step is the step (cluster) in seconds; Window the fixed window in steps.
	Step, Window int
	// Look is the time between looks in seconds (Flagger's interval).
	Look  int
	Alpha float64
}

// DefaultSettings are the defaults docs/judges.md recommends.
func DefaultSettings() Settings {
	return Settings{Seed: 20261207, Rollouts: 1000, Step: 30, Window: 10, Look: 60, Alpha: 0.05}
}

func columns(s Settings) []judgeCol {
	alpha := fmt.Sprint(s.Alpha)
	counts := func(clustered bool) func(r rollout, from, to int) judges.Input {
		return func(r rollout, from, to int) judges.Input {
			side := func(d sideData) *judges.Counts {
				c := &judges.Counts{}
				for i := from; i < to; i++ {
					c.Requests += d.requests[i]
					c.Errors += d.errors[i]
					if clustered {
						c.Steps = append(c.Steps, judges.Counts{Requests: d.requests[i], Errors: d.errors[i]})
					}
				}
				return c
			}
			return judges.Input{Canary: judges.Data{Counts: side(r.canary)}, Baseline: judges.Data{Counts: side(r.primary)}}
		}
	}
	hist := func(clustered bool) func(r rollout, from, to int) judges.Input {
		return func(r rollout, from, to int) judges.Input {
			side := func(d sideData) *judges.Histogram {
				h := &judges.Histogram{Buckets: make([]judges.Bucket, len(bounds))}
				var sum float64
				for k, b := range bounds {
					h.Buckets[k].UpperBound = b
				}
				for i := from; i < to; i++ {
					for k := range bounds {
						h.Buckets[k].Count += d.buckets[i][k]
					}
					sum += d.sum[i]
					if clustered {
						h.Steps = append(h.Steps, d.buckets[i])
					}
				}
				h.Sum = &sum
				return h
			}
			return judges.Input{Canary: judges.Data{Histogram: side(r.canary)}, Baseline: judges.Data{Histogram: side(r.primary)}}
		}
	}
	// Kayenta: one value per step per side, its rank test.
	perStep := func(f func(d sideData, i int) float64) func(r rollout, from, to int) judges.Input {
		return func(r rollout, from, to int) judges.Input {
			var c, b judges.Series
			for i := from; i < to; i++ {
				c = append(c, f(r.canary, i))
				b = append(b, f(r.primary, i))
			}
			return judges.Input{Canary: judges.Data{Samples: c}, Baseline: judges.Data{Samples: b}}
		}
	}
	rate := func(d sideData, i int) float64 {
		if d.requests[i] == 0 {
			return math.NaN()
		}
		return d.errors[i] / d.requests[i]
	}
	meanLatency := func(d sideData, i int) float64 {
		if d.buckets[i][len(bounds)-1] == 0 {
			return math.NaN()
		}
		return d.sum[i] / d.buckets[i][len(bounds)-1]
	}
	return []judgeCol{
		{Name: "error-rate", Kind: "errors", config: map[string]string{"judge": "error-rate", "alpha": alpha}, build: counts(true)},
		{Name: "error-rate, pooled (no clusters)", Kind: "errors", config: map[string]string{"judge": "error-rate", "alpha": alpha}, build: counts(false)},
		{Name: "sequential", Kind: "errors", Sequential: true, config: map[string]string{"judge": "sequential", "alpha": alpha}, build: counts(true)},
		{Name: "Kayenta rank test, per-step error rate", Kind: "errors", config: map[string]string{"judge": "mann-whitney", "direction": "increase"}, build: perStep(rate)},
		{Name: "histogram", Kind: "latency", config: map[string]string{"judge": "histogram", "alpha": alpha}, build: hist(true)},
		{Name: "histogram, pooled (no clusters)", Kind: "latency", config: map[string]string{"judge": "histogram", "alpha": alpha}, build: hist(false)},
		{Name: "Kayenta rank test, per-step mean latency", Kind: "latency", config: map[string]string{"judge": "mann-whitney", "direction": "increase"}, build: perStep(meanLatency)},
	}
}

// Cell is one (model, scenario, judge) result.
type Cell struct {
	Looks, FailedLooks       int
	Rollouts, FailedRollouts int
	// Rollbacks counts rollouts with 5 or more failed looks (Flagger's
	// default threshold).
	Rollbacks int
	// InconclusiveLooks counts looks the judge left inconclusive (too little
	// data, or the sequential judge continuing); Undecided the rollouts in
	// which no look decided.
	InconclusiveLooks, Undecided int
}

// InconclusiveRate is the inconclusive looks' fraction.
func (c Cell) InconclusiveRate() float64 {
	return float64(c.InconclusiveLooks) / math.Max(1, float64(c.Looks))
}

// UndecidedRate is the fraction of rollouts in which no look decided.
func (c Cell) UndecidedRate() float64 {
	return float64(c.Undecided) / math.Max(1, float64(c.Rollouts))
}

// LookRate is the failed looks' fraction.
func (c Cell) LookRate() float64 { return float64(c.FailedLooks) / math.Max(1, float64(c.Looks)) }

// RolloutRate is the fraction of rollouts with a failed look.
func (c Cell) RolloutRate() float64 {
	return float64(c.FailedRollouts) / math.Max(1, float64(c.Rollouts))
}

// streamSeed derives a rollout's seed from the run's seed, model, scenario
// and rollout number only.
func streamSeed(seed uint64, model, scenario string, i int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s/%s/%d", seed, model, scenario, i)
	return h.Sum64()
}

// Run runs every model × scenario × judge; results[model][scenario][judge].
func Run(s Settings, models []Model, scenarios []Scenario) map[string]map[string]map[string]*Cell {
	cols := columns(s)
	cfgs := make([]judges.Config, len(cols))
	for i, c := range cols {
		cfg, err := judges.ParseConfig(c.config)
		if err != nil {
			panic(err)
		}
		cfgs[i] = cfg
	}
	out := map[string]map[string]map[string]*Cell{}
	for _, m := range models {
		perLook := m.look(s) / s.Step
		steps := m.seconds() / s.Step
		window := m.window(s)
		out[m.Name] = map[string]map[string]*Cell{}
		for _, sc := range scenarios {
			cells := map[string]*Cell{}
			for _, c := range cols {
				cells[c.Name] = &Cell{}
			}
			out[m.Name][sc.Name] = cells
			for i := 0; i < s.Rollouts; i++ {
				rng := rand.New(rand.NewPCG(streamSeed(s.Seed, m.Name, sc.Name, i), 0x5eed))
				r := simulate(m, sc, s.Step, rng)
				for ci, c := range cols {
					cell := cells[c.Name]
					cell.Rollouts++
					fails, decided := 0, 0
					for end := perLook; end <= steps; end += perLook {
						from := 0
						if !c.Sequential {
							if end < window {
								continue // the window is not full yet
							}
							from = end - window
						}
						res := judges.Judge(cfgs[ci], c.build(r, from, end))
						cell.Looks++
						if res.Verdict == judges.Inconclusive {
							cell.InconclusiveLooks++
						} else {
							decided++
						}
						if res.Verdict == judges.Fail {
							cell.FailedLooks++
							fails++
							if c.Sequential {
								break // the sequential judge stops at its decision
							}
						}
						if c.Sequential && res.Verdict == judges.Pass {
							break
						}
					}
					if fails > 0 {
						cell.FailedRollouts++
					}
					if fails >= 5 {
						cell.Rollbacks++
					}
					if decided == 0 {
						cell.Undecided++
					}
				}
			}
		}
	}
	return out
}
