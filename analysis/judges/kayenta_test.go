package judges

import (
	"math"
	"strings"
	"testing"
)

// seq returns n values start, start+step, …
func seq(start, step float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = start + step*float64(i)
	}
	return v
}

func shifted(v []float64, d float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x + d
	}
	return out
}

func repeat(x float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = x
	}
	return v
}

func samples(canary, baseline []float64) Input {
	return Input{Metric: "latency", Canary: Data{Samples: canary}, Baseline: Data{Samples: baseline}}
}

func TestJudgeMannWhitney(t *testing.T) {
	base := seq(95, 1, 10) // 95 … 104, mean 99.5
	nan := math.NaN()
	tests := []struct {
		name      string
		cfg       Config
		in        Input
		wantClass Classification
		wantVeto  bool
		ruleHas   string
	}{
		{name: "identical", in: samples(base, base), wantClass: ClassPass, ruleHas: "identical"},
		{name: "one value everywhere", in: samples(repeat(7, 6), repeat(7, 5)), wantClass: ClassPass, ruleHas: "equals 7"},
		{
			// +30 on every sample: all 100 differences are 21…39, HL estimate
			// 30, band ±7.5; the 98% interval is far above it and the mean
			// ratio 129.5/99.5 = 1.30 ≥ 1.
			name: "clear increase", in: samples(shifted(base, 30), base), wantClass: ClassHigh, ruleHas: "lies above",
		},
		{name: "clear increase critical", cfg: Config{Critical: true}, in: samples(shifted(base, 30), base), wantClass: ClassHigh, wantVeto: true},
		{
			// Kayenta: a critical High below criticalIncrease is not a critical failure.
			name: "critical below criticalIncrease", cfg: Config{Critical: true, CriticalIncrease: ptr(2.0)},
			in: samples(shifted(base, 30), base), wantClass: ClassHigh, wantVeto: false,
		},
		{name: "decrease-only ignores increase", cfg: Config{Direction: DirectionDecrease}, in: samples(shifted(base, 30), base), wantClass: ClassPass, ruleHas: "ignores increases"},
		{name: "effect below allowedIncrease", cfg: Config{AllowedIncrease: ptr(1.5)}, in: samples(shifted(base, 30), base), wantClass: ClassPass, ruleHas: "below allowedIncrease 1.5"},
		{name: "clear decrease", in: samples(shifted(base, -30), base), wantClass: ClassLow, ruleHas: "lies below"},
		{name: "increase-only ignores decrease", cfg: Config{Direction: DirectionIncrease}, in: samples(shifted(base, -30), base), wantClass: ClassPass},
		{
			// +1: the estimate is 1, the band ±0.25, and with ten points the
			// interval spans zero.
			name: "small shift inside band", in: samples(shifted(base, 1), base), wantClass: ClassPass, ruleHas: "does not clear",
		},
		{name: "cles", cfg: Config{EffectSize: EffectCLES, AllowedIncrease: ptr(0.9)}, in: samples(shifted(base, 30), base), wantClass: ClassHigh, ruleHas: "cles 1 reaches"},
		// +8: 97 of the 100 pairs have the canary above, 2 tie, 1 is below:
		// cles = (97 + 2/2)/100 = 0.98 < 1.
		{name: "cles below threshold", cfg: Config{EffectSize: EffectCLES, AllowedIncrease: ptr(1.0)}, in: samples(shifted(base, 8), base), wantClass: ClassPass, ruleHas: "cles 0.98 is below allowedIncrease 1"},
		{name: "empty canary", in: samples(nil, base), wantClass: ClassNodata, ruleHas: "canary has no samples"},
		{name: "empty baseline must have data", cfg: Config{MustHaveData: true}, in: samples(base, []float64{}), wantClass: ClassNodataFailMetric},
		{name: "empty critical vetoes", cfg: Config{Critical: true}, in: samples(base, nil), wantClass: ClassNodata, wantVeto: true},
		{name: "all NaN removed", in: samples(repeat(nan, 10), base), wantClass: ClassNodata, ruleHas: "10 non-finite canary samples removed"},
		{
			// Kayenta's example B: no errors on either side, NaN replaced by 0.
			name: "NaN replaced identical zeros", cfg: Config{NaNStrategy: NaNReplace},
			in: samples(repeat(nan, 6), repeat(0, 6)), wantClass: ClassPass, ruleHas: "identical",
		},
		{
			// Kayenta passes an empty side under nanStrategy replace; augur never passes without data.
			name: "replace with empty side", cfg: Config{NaNStrategy: NaNReplace}, in: samples(nil, base), wantClass: ClassNodata,
		},
		{
			// Kayenta's example A: the baseline's NaNs become zeros, the canary
			// has errors; the mean ratio is undefined (zero baseline mean), so
			// the effect gate and the critical threshold are skipped.
			name: "error spike over NaN baseline", cfg: Config{NaNStrategy: NaNReplace, Direction: DirectionIncrease, Critical: true},
			in: samples(seq(3, 1, 10), repeat(nan, 10)), wantClass: ClassHigh, wantVeto: true, ruleHas: "meanRatio undefined",
		},
		{name: "below minPoints", in: samples(seq(1, 1, 4), seq(10, 1, 4)), wantClass: ClassNodata, ruleHas: "fewer than minPoints 5"},
		{
			// Two points per side, fully separated: Kayenta's interval is clamped
			// to the smallest difference 8 (σ₀ = 1.29, (4−2−0.5)/1.29 = 1.16 <
			// 2.33), which clears the band ±2.25 — Kayenta says High. augur says
			// the data cannot reach 98%.
			name: "clamped interval decides nothing", cfg: Config{MinPoints: 1},
			in: samples([]float64{10, 11}, []float64{1, 2}), wantClass: ClassNodata, ruleHas: "clamped",
		},
		{
			name: "counts given to mann-whitney", cfg: Config{Critical: true},
			in:        Input{Canary: Data{Counts: &Counts{Requests: 10}}, Baseline: Data{Counts: &Counts{Requests: 10}}},
			wantClass: ClassError, wantVeto: true, ruleHas: "compares samples",
		},
		{name: "invalid configuration", cfg: Config{Direction: "up"}, in: samples(base, base), wantClass: ClassError, ruleHas: `"direction"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(tt.cfg, tt.in)
			if got.Classification != tt.wantClass || got.Veto != tt.wantVeto {
				t.Errorf("classification, veto = %v, %v; want %v, %v\nrule: %s", got.Classification, got.Veto, tt.wantClass, tt.wantVeto, got.Explanation.Rule)
			}
			if got.Verdict != tt.wantClass.Verdict() {
				t.Errorf("verdict %v for %v", got.Verdict, got.Classification)
			}
			if !strings.Contains(got.Explanation.Rule, tt.ruleHas) {
				t.Errorf("rule %q does not mention %q", got.Explanation.Rule, tt.ruleHas)
			}
			if got.Explanation.Data != DataSamples {
				t.Errorf("data = %q, want samples", got.Explanation.Data)
			}
		})
	}
}

func TestJudgeMannWhitneyExplanation(t *testing.T) {
	base := seq(95, 1, 10)
	got := Judge(Config{}, samples(shifted(base, 30), base))
	e := got.Explanation
	// Differences are (95+30+i) − (95+j) = 30 + i − j for i, j in 0…9:
	// symmetric around 30, so the Hodges–Lehmann estimate is 30 and the
	// tolerance 7.5; means 129.5 and 99.5, medians 129.5 and 99.5.
	assertNear(t, "estimate", deref(e.Shift.Estimate), 30, 0)
	assertNear(t, "tolerance", deref(e.Shift.Tolerance), 7.5, 0)
	assertNear(t, "canary mean", deref(e.Canary.Mean), 129.5, 1e-12)
	assertNear(t, "baseline median", deref(e.Baseline.Median), 99.5, 1e-12)
	assertNear(t, "mean ratio", deref(e.Effect.Value), 129.5/99.5, 1e-12)
	assertNear(t, "U", e.Statistic.Value, 100, 0) // every pair has the canary above
	if e.Shift.Confidence != KayentaConfidence || e.Alpha != 1-KayentaConfidence {
		t.Errorf("confidence %v alpha %v", e.Shift.Confidence, e.Alpha)
	}
	if deref(e.Shift.Lower) <= 7.5 || deref(e.Shift.Upper) < 30 {
		t.Errorf("interval [%v, %v] should clear 7.5 and contain 30", deref(e.Shift.Lower), deref(e.Shift.Upper))
	}
}

func TestPercentileAndOutliers(t *testing.T) {
	one := seq(1, 1, 10)
	// Apache's legacy estimate: position p(n+1)/100. n = 10: p25 at 2.75 →
	// 2 + 0.75·(3−2) = 2.75; p75 at 8.25 → 8.25; p1 at 0.11 < 1 → the
	// minimum; p99 at 10.89 ≥ n → the maximum.
	for _, tt := range []struct{ p, want float64 }{{25, 2.75}, {75, 8.25}, {1, 1}, {99, 10}, {50, 5.5}} {
		assertNear(t, "percentile", percentileSorted(one, tt.p), tt.want, 1e-12)
	}
	tests := []struct {
		name         string
		in           []float64
		wantOutliers int
	}{
		{
			// n = 11 with 100: p99 is the maximum (position 11.88 ≥ 11), so
			// the upper fence is max(100, 9 + 3·6) = 100: nothing removed.
			name: "small sample keeps everything", in: append(seq(1, 1, 10), 100), wantOutliers: 0,
		},
		{
			// n = 201: 1…200 and 10000. p25 = 50.5, p75 = 151.5, IQR = 101,
			// Tukey fence 151.5 + 303 = 454.5; p99 at position 199.98 is
			// 199.98: the fence stays 454.5 and 10000 goes.
			name: "large sample drops the spike", in: append(seq(1, 1, 200), 10000), wantOutliers: 1,
		},
		{name: "constant", in: repeat(3, 150), wantOutliers: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clean(tt.in, NaNRemove, DefaultOutlierFactor)
			if c.outliers != tt.wantOutliers || len(c.values) != len(tt.in)-tt.wantOutliers {
				t.Errorf("outliers %d kept %d, want %d removed", c.outliers, len(c.values), tt.wantOutliers)
			}
		})
	}
	got := Judge(Config{}, samples(append(seq(1, 1, 200), 10000), seq(1, 1, 200)))
	if got.Explanation.Canary.Outliers != 1 || got.Classification != ClassPass {
		t.Errorf("outliers %d class %v, want 1 and Pass", got.Explanation.Canary.Outliers, got.Classification)
	}
	got = Judge(Config{OutlierFactor: ptr(0.0)}, samples(append(seq(1, 1, 200), 10000), seq(1, 1, 200)))
	if got.Explanation.Canary.Outliers != 0 {
		t.Errorf("outlierFactor 0 removed %d", got.Explanation.Canary.Outliers)
	}
}
