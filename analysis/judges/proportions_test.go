package judges

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestTwoProportionsHandChecked(t *testing.T) {
	tests := []struct {
		name           string
		canary, base   Counts
		opts           ProportionOptions
		wantZ, wantP   float64 // NaN wantZ: no statistic
		wantLo, wantHi float64 // NaN: not checked
		wantErr        error
	}{
		{
			// Pooled two-proportion z-test (ρ = 1): p̄ = 45/2000 = 0.0225,
			// SE = √(p̄(1−p̄)(1/1000+1/1000)) = 0.0066322, z = 0.015/SE =
			// 2.261656, one-sided p = 1 − Φ(z) = 0.0118593.
			name: "pooled z", canary: Counts{Requests: 1000, Errors: 30}, base: Counts{Requests: 1000, Errors: 15},
			wantZ: 2.261656365159503, wantP: 0.011859321316095683, wantLo: math.NaN(), wantHi: math.NaN(),
		},
		{
			// Observed ratio 2 equals ρ = 2: the score numerator p̂₁ − ρp̂₀ is
			// 0, so z = 0 and p = ½.
			name: "ratio at the margin", canary: Counts{Requests: 1000, Errors: 30}, base: Counts{Requests: 1000, Errors: 15},
			opts: ProportionOptions{AllowedIncrease: 2}, wantZ: 0, wantP: 0.5, wantLo: math.NaN(), wantHi: math.NaN(),
		},
		{
			// Newcombe (1998), Statistics in Medicine 17:873, example (a):
			// 56/70 − 48/80, method 10 (hybrid score) 95% interval 0.0524 to 0.3339.
			name: "newcombe example a", canary: Counts{Requests: 70, Errors: 56}, base: Counts{Requests: 80, Errors: 48},
			opts:  ProportionOptions{ConfLevel: 0.95},
			wantZ: math.NaN(), wantP: math.NaN(), wantLo: 0.0524, wantHi: 0.3339,
		},
		{
			// Newcombe (1998) example (c): 9/10 − 3/10 → 0.1705 to 0.8090.
			name: "newcombe example c", canary: Counts{Requests: 10, Errors: 9}, base: Counts{Requests: 10, Errors: 3},
			opts:  ProportionOptions{ConfLevel: 0.95},
			wantZ: math.NaN(), wantP: math.NaN(), wantLo: 0.1705, wantHi: 0.8090,
		},
		{
			// No errors anywhere: the restricted rates are 0, the variance 0,
			// no statistic and no evidence.
			name: "no errors", canary: Counts{Requests: 500}, base: Counts{Requests: 800},
			wantZ: math.NaN(), wantP: 1, wantLo: math.NaN(), wantHi: math.NaN(),
		},
		{name: "no requests", canary: Counts{}, base: Counts{Requests: 1}, wantErr: ErrNoData},
		{name: "errors above requests", canary: Counts{Requests: 1, Errors: 2}, base: Counts{Requests: 1}, wantErr: ErrInvalidInput},
		{name: "negative", canary: Counts{Requests: -1}, base: Counts{Requests: 1}, wantErr: ErrInvalidInput},
		{name: "NaN", canary: Counts{Requests: math.NaN()}, base: Counts{Requests: 1}, wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TwoProportions(tt.canary, tt.base, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if math.IsNaN(tt.wantZ) != (got.Z == nil) && !math.IsNaN(tt.wantP) {
				t.Errorf("z = %v, want %v", got.Z, tt.wantZ)
			}
			if !math.IsNaN(tt.wantZ) {
				assertNear(t, "z", deref(got.Z), tt.wantZ, 1e-12)
			}
			if !math.IsNaN(tt.wantP) {
				assertNear(t, "p", got.PValue, tt.wantP, 1e-12)
			}
			if !math.IsNaN(tt.wantLo) {
				assertNear(t, "lower", got.Lower, tt.wantLo, 5e-5)
				assertNear(t, "upper", got.Upper, tt.wantHi, 5e-5)
			}
		})
	}
}

// The score statistic's restricted rates must maximise the likelihood under
// H0: p₁ = ρ·p₀. Recompute them by golden-section search on the
// log-likelihood and rebuild z from them.
func TestRatioScoreRestrictedMLE(t *testing.T) {
	for _, tt := range []struct{ x1, n1, x0, n0, rho float64 }{
		{30, 1000, 15, 1000, 1.5}, {5, 200, 9, 300, 1.2}, {40, 500, 10, 600, 3}, {3, 100, 0, 100, 1.1}, {12, 150, 30, 160, 0.8},
	} {
		ll := func(p float64) float64 {
			q := tt.rho * p
			return tt.x1*math.Log(q) + (tt.n1-tt.x1)*math.Log1p(-q) + tt.x0*math.Log(p) + (tt.n0-tt.x0)*math.Log1p(-p)
		}
		lo, hi := 1e-12, math.Min(1, 1/tt.rho)-1e-12
		phi := (math.Sqrt(5) - 1) / 2
		for range 200 {
			a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
			if ll(a) < ll(b) {
				lo = a
			} else {
				hi = b
			}
		}
		p0 := (lo + hi) / 2
		p1 := tt.rho * p0
		want := (tt.x1/tt.n1 - tt.rho*tt.x0/tt.n0) / math.Sqrt(p1*(1-p1)/tt.n1+tt.rho*tt.rho*p0*(1-p0)/tt.n0)
		got, ok := ratioScoreZ(tt.x1, tt.n1, tt.x0, tt.n0, tt.rho)
		if !ok {
			t.Fatalf("%+v: no statistic", tt)
		}
		assertNear(t, "score z", got, want, 1e-6)
	}
}

func counts(cr, ce, br, be float64) Input {
	return Input{Metric: "errors", Canary: Data{Counts: &Counts{Requests: cr, Errors: ce}}, Baseline: Data{Counts: &Counts{Requests: br, Errors: be}}}
}

func TestJudgeErrorRate(t *testing.T) {
	er := Config{Judge: KindErrorRate}
	with := func(f func(*Config)) Config { c := er; f(&c); return c }
	tests := []struct {
		name      string
		cfg       Config
		in        Input
		wantClass Classification
		wantVeto  bool
		ruleHas   string
	}{
		// p = 0.0119 < 0.05 (see TestTwoProportionsHandChecked).
		{name: "regression", cfg: er, in: counts(1000, 30, 1000, 15), wantClass: ClassHigh, ruleHas: "p = 0.01186 < alpha 0.05"},
		{name: "regression critical", cfg: with(func(c *Config) { c.Critical = true }), in: counts(1000, 30, 1000, 15), wantClass: ClassHigh, wantVeto: true},
		{name: "within allowed ratio", cfg: with(func(c *Config) { c.AllowedIncrease = ptr(2.0) }), in: counts(1000, 30, 1000, 15), wantClass: ClassPass, ruleHas: "p = 0.5"},
		{name: "strict alpha", cfg: with(func(c *Config) { c.Alpha = 0.01 }), in: counts(1000, 30, 1000, 15), wantClass: ClassPass},
		{name: "improvement is fine", cfg: er, in: counts(1000, 15, 1000, 30), wantClass: ClassPass},
		{name: "decrease direction", cfg: with(func(c *Config) { c.Direction = DirectionDecrease }), in: counts(1000, 15, 1000, 30), wantClass: ClassLow},
		{name: "either direction", cfg: with(func(c *Config) { c.Direction = DirectionEither }), in: counts(1000, 40, 1000, 15), wantClass: ClassHigh},
		{name: "equal rates", cfg: er, in: counts(5000, 50, 5000, 50), wantClass: ClassPass},
		{name: "no errors anywhere", cfg: er, in: counts(5000, 0, 5000, 0), wantClass: ClassPass},
		{name: "below minRequests", cfg: er, in: counts(99, 9, 1000, 1), wantClass: ClassNodata, ruleHas: "fewer than minRequests 100"},
		{name: "no canary traffic", cfg: with(func(c *Config) { c.MustHaveData = true }), in: counts(0, 0, 1000, 1), wantClass: ClassNodataFailMetric, ruleHas: "canary has no requests"},
		{name: "missing counts", cfg: er, in: Input{Canary: Data{Counts: &Counts{Requests: 1}}}, wantClass: ClassNodata},
		{name: "errors above requests", cfg: with(func(c *Config) { c.Critical = true }), in: counts(10, 11, 10, 0), wantClass: ClassError, wantVeto: true, ruleHas: "exceed requests"},
		{name: "samples given", cfg: er, in: samples([]float64{1}, []float64{1}), wantClass: ClassError, ruleHas: "compares counts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(tt.cfg, tt.in)
			if got.Classification != tt.wantClass || got.Veto != tt.wantVeto {
				t.Errorf("classification, veto = %v, %v; want %v, %v\nrule: %s", got.Classification, got.Veto, tt.wantClass, tt.wantVeto, got.Explanation.Rule)
			}
			if !strings.Contains(got.Explanation.Rule, tt.ruleHas) {
				t.Errorf("rule %q does not mention %q", got.Explanation.Rule, tt.ruleHas)
			}
			if got.Explanation.Data != DataCounts {
				t.Errorf("data = %q, want counts", got.Explanation.Data)
			}
		})
	}
}

// With equal true rates the fixed-sample test must flag about alpha of
// the rollouts (it is not sequential: one look each).
func TestErrorRateFalseAlarmRate(t *testing.T) {
	r := newRand(7)
	const runs, n, rate = 2000, 4000, 0.01
	flagged := 0
	for range runs {
		ce, be := binomial(r, n, rate), binomial(r, n, rate)
		if Judge(Config{Judge: KindErrorRate}, counts(n, ce, n, be)).Verdict == Fail {
			flagged++
		}
	}
	frac := float64(flagged) / runs
	t.Logf("error-rate A/A false alarms: %d/%d = %.3f", flagged, runs, frac)
	if frac > DefaultAlpha+3*math.Sqrt(DefaultAlpha*(1-DefaultAlpha)/runs) || frac < 0.01 {
		t.Errorf("false alarm rate %.3f, want about %.2f", frac, DefaultAlpha)
	}
}

// binomial draws Binomial(n, p) by summing Bernoulli trials.
func binomial(r interface{ Float64() float64 }, n int, p float64) float64 {
	k := 0
	for range n {
		if r.Float64() < p {
			k++
		}
	}
	return float64(k)
}
