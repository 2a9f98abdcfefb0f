package main

import (
	"bytes"
	"flag"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/augurproj/augur/analysis/judges"
)

// TestCalibration is the reduced calibration CI runs: every model, fewer
// rollouts. It checks the claims of docs/judges.md's table within Monte
// Carlo error: the recommended judges stay at their level on A/A traffic
// (bursty included), the sequential judge per rollout, and they catch the
// regressions at least as often as Kayenta's rank test.
var rollouts = flag.Int("calibrate.rollouts", 100, "rollouts per model, scenario and judge of TestCalibration")

func TestCalibration(t *testing.T) {
	s := DefaultSettings()
	s.Rollouts = *rollouts
	if raceEnabled || testing.Short() {
		// A smoke test: scripts/ci-judges.sh runs the reduced calibration
		// without the race detector.
		s.Rollouts = 5
	}
	res := Run(s, Models, Scenarios)
	var buf bytes.Buffer
	Table(&buf, s, Models, res)
	t.Logf("reduced calibration (seed %d):\n%s", s.Seed, buf.String())
	if s.Rollouts < 50 {
		t.Skipf("%d rollouts: too few to check rates (run scripts/ci-judges.sh)", s.Rollouts)
	}
	n := float64(s.Rollouts)
	// The per-look rate of overlapping windows is an average of correlated
	// looks; its Monte Carlo error is at most that of one look per rollout.
	tol := 3 * math.Sqrt(s.Alpha*(1-s.Alpha)/n)
	for _, m := range Models {
		aa := res[m.Name]["A/A"]
		for _, name := range []string{"error-rate", "histogram"} {
			if r := aa[name].LookRate(); r > s.Alpha+tol {
				t.Errorf("%s: %s fails %.2f%% of A/A looks, above alpha %g + %.2f%%", m.Name, name, 100*r, s.Alpha, 100*tol)
			}
		}
		if r := aa["sequential"].RolloutRate(); r > s.Alpha+tol {
			t.Errorf("%s: sequential fails %.2f%% of A/A rollouts, above alpha %g + %.2f%%", m.Name, 100*r, s.Alpha, 100*tol)
		}
		if m.Name == "low" {
			// Too little data in a 5-minute window (48 canary requests, fewer
			// than minRequests): every look of the fixed-window judges is
			// inconclusive, none fails, whatever the canary does.
			for _, sc := range Scenarios {
				for _, name := range []string{"error-rate", "histogram"} {
					if c := res[m.Name][sc.Name][name]; c.FailedLooks != 0 || c.InconclusiveRate() != 1 {
						t.Errorf("low %s: %s failed %d looks, %.1f%% inconclusive; want none failed, all inconclusive", sc.Name, name, c.FailedLooks, 100*c.InconclusiveRate())
					}
				}
			}
			continue
		}
		checks := []struct {
			scenario, judge, kayenta string
			floor                    float64
		}{
			{"latency ×1.1", "histogram", "Kayenta rank test, per-step mean latency", 0.8},
			{"p99 tail ×3", "histogram", "Kayenta rank test, per-step mean latency", 0.8},
			{"errors ×2", "error-rate", "Kayenta rank test, per-step error rate", 0.8},
			{"errors ×2", "sequential", "Kayenta rank test, per-step error rate", 0.8},
			{"errors ×5", "error-rate", "Kayenta rank test, per-step error rate", 0.8},
		}
		if m.Name == "low-2h" {
			// Half-hour windows decide; the floors are what 0.16 canary
			// requests per second can show in two hours.
			checks = []struct {
				scenario, judge, kayenta string
				floor                    float64
			}{
				{"latency ×1.1", "histogram", "Kayenta rank test, per-step mean latency", 0.8},
				{"p99 tail ×3", "histogram", "Kayenta rank test, per-step mean latency", 0.2},
				{"errors ×5", "error-rate", "Kayenta rank test, per-step error rate", 0.3},
				{"errors ×5", "sequential", "Kayenta rank test, per-step error rate", 0.1},
			}
			if r := res[m.Name]["A/A"]["histogram"].InconclusiveRate(); r > 0.1 {
				t.Errorf("low-2h: histogram inconclusive on %.1f%% of A/A looks: half-hour windows should decide", 100*r)
			}
		}
		for _, c := range checks {
			got, base := res[m.Name][c.scenario][c.judge].RolloutRate(), res[m.Name][c.scenario][c.kayenta].RolloutRate()
			if got < c.floor {
				t.Errorf("%s %s: %s detects %.1f%% of rollouts, want ≥ %.0f%%", m.Name, c.scenario, c.judge, 100*got, 100*c.floor)
			}
			if got+tol < base {
				t.Errorf("%s %s: %s detects %.1f%%, Kayenta %.1f%%", m.Name, c.scenario, c.judge, 100*got, 100*base)
			}
		}
	}
}

// TestSimulateIsDeterministic: the same seed gives the same rollout.
func TestSimulateIsDeterministic(t *testing.T) {
	seed := streamSeed(1, "bursty", "A/A", 3)
	a := simulate(Models[1], Scenarios[0], 30, rand.New(rand.NewPCG(seed, 0x5eed)))
	b := simulate(Models[1], Scenarios[0], 30, rand.New(rand.NewPCG(seed, 0x5eed)))
	for i := range a.canary.requests {
		if a.canary.requests[i] != b.canary.requests[i] || a.primary.buckets[i][5] != b.primary.buckets[i][5] {
			t.Fatalf("step %d differs", i)
		}
	}
}

// TestSimulatedCountsAreWhole: exact counting keeps whole requests, and
// buckets add up to the requests.
func TestSimulatedCountsAreWhole(t *testing.T) {
	r := simulate(modelNamed(t, "resets"), Scenarios[0], 30, rand.New(rand.NewPCG(9, 9)))
	for i, v := range r.canary.requests {
		if v != math.Trunc(v) || v < 0 {
			t.Fatalf("step %d: %v requests", i, v)
		}
		if inf := r.canary.buckets[i][len(bounds)-1]; inf != v {
			t.Fatalf("step %d: +Inf bucket %v, requests %v", i, inf, v)
		}
	}
}

// TestPoissonMoments checks the Poisson sampler's mean and variance.
func TestPoissonMoments(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, lam := range []float64{0.3, 4, 25, 400} {
		var s, s2 float64
		const n = 20000
		for i := 0; i < n; i++ {
			x := float64(poisson(rng, lam))
			s += x
			s2 += x * x
		}
		mean := s / n
		v := s2/n - mean*mean
		if math.Abs(mean-lam) > 4*math.Sqrt(lam/n) || math.Abs(v/lam-1) > 0.06 {
			t.Errorf("λ %v: mean %v variance %v", lam, mean, v)
		}
	}
	_ = judges.Pass
}

func modelNamed(t *testing.T, name string) Model {
	t.Helper()
	for _, m := range Models {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no model %q", name)
	return Model{}
}
