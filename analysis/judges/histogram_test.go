package judges

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hist builds a cumulative histogram from per-bucket counts and bounds
// (the last bound is +Inf).
func hist(bounds []float64, perBucket []float64) *Histogram {
	h := &Histogram{}
	var cum float64
	for i, c := range perBucket {
		cum += c
		h.Buckets = append(h.Buckets, Bucket{UpperBound: bounds[i], Count: cum})
	}
	return h
}

var inf = math.Inf(1)

func TestBucketRankSumHandChecked(t *testing.T) {
	bounds := []float64{1, 2, inf}
	canary := hist(bounds, []float64{2, 3, 1})
	baseline := hist(bounds, []float64{4, 1, 1})
	got, err := BucketRankSum(*canary, *baseline, Greater)
	if err != nil {
		t.Fatal(err)
	}
	// U = Σ c_k(B_<k + b_k/2) = 2·(0+2) + 3·(4+0.5) + 1·(5+0.5) = 23.
	assertNear(t, "U", got.U, 23, 0)
	assertNear(t, "cles", got.CLES, 23.0/36, 1e-15)
	// Medians, histogram_quantile style: baseline rank 3 falls in (0, 1]
	// holding 4 → 0.75; canary rank 3 falls in (1, 2] holding 3 after 2 → 1 + 1/3.
	assertNear(t, "baseline median", deref(got.Baseline.Median), 0.75, 1e-15)
	assertNear(t, "canary median", deref(got.Canary.Median), 4.0/3, 1e-15)
	// Midpoint mean: (2·0.5 + 3·1.5 + 1·2)/6 = 1.25 (+Inf bucket at 2).
	assertNear(t, "canary mean", deref(got.Canary.Mean), 1.25, 1e-15)
	if !got.Canary.MeanEstimated {
		t.Error("mean should be estimated without a sum")
	}
	// The grouped test equals the rank-sum test on the expanded data with
	// every observation of a bucket tied (values 0.5, 1.5, 3 stand in).
	x := []float64{0.5, 0.5, 1.5, 1.5, 1.5, 3}
	y := []float64{0.5, 0.5, 0.5, 0.5, 1.5, 3}
	want, err := RankSum(x, y, RankSumOptions{Alternative: Greater, Method: MethodNormal})
	if err != nil {
		t.Fatal(err)
	}
	assertNear(t, "W vs expanded", got.U, want.W, 0)
	assertNear(t, "p vs expanded", got.PValue, want.PValue, 1e-14)

	canary.Sum = ptr(9.0)
	got, _ = BucketRankSum(*canary, *baseline, Greater)
	if deref(got.Canary.Mean) != 1.5 || got.Canary.MeanEstimated {
		t.Errorf("mean with sum = %v (estimated %v), want 9/6", deref(got.Canary.Mean), got.Canary.MeanEstimated)
	}
}

// Random integer histograms: the grouped formula must equal RankSum on the
// expanded observations for every alternative.
func TestBucketRankSumMatchesExpanded(t *testing.T) {
	r := newRand(3)
	bounds := []float64{0.1, 0.25, 0.5, 1, 2.5, inf}
	for trial := range 50 {
		var c, b []float64
		var x, y []float64
		for k := range bounds {
			ck, bk := float64(r.IntN(6)), float64(r.IntN(6))
			c, b = append(c, ck), append(b, bk)
			for range int(ck) {
				x = append(x, float64(k))
			}
			for range int(bk) {
				y = append(y, float64(k))
			}
		}
		if len(x) == 0 || len(y) == 0 {
			continue
		}
		for _, alt := range []Alternative{Greater, Less, TwoSided} {
			got, err := BucketRankSum(*hist(bounds, c), *hist(bounds, b), alt)
			if err != nil {
				t.Fatal(err)
			}
			want, err := RankSum(x, y, RankSumOptions{Alternative: alt, Method: MethodNormal})
			if err != nil {
				t.Fatal(err)
			}
			if !near(got.U, want.W, 1e-9) || !near(got.PValue, want.PValue, 1e-12) {
				t.Fatalf("trial %d %s: U %v p %v, expanded W %v p %v", trial, alt, got.U, got.PValue, want.W, want.PValue)
			}
		}
	}
}

func TestBucketRankSumInvalid(t *testing.T) {
	good := hist([]float64{1, inf}, []float64{1, 1})
	tests := []struct {
		name     string
		canary   Histogram
		baseline Histogram
		wantErr  error
		msg      string
	}{
		{name: "no +Inf", canary: Histogram{Buckets: []Bucket{{1, 1}, {2, 2}}}, baseline: *good, wantErr: ErrInvalidInput, msg: "no le=+Inf"},
		{name: "different bounds", canary: *hist([]float64{1.5, inf}, []float64{1, 1}), baseline: *good, wantErr: ErrInvalidInput, msg: "differs"},
		{name: "duplicate", canary: Histogram{Buckets: []Bucket{{1, 1}, {1, 1}, {inf, 2}}}, baseline: *good, wantErr: ErrInvalidInput, msg: "twice"},
		{name: "negative count", canary: Histogram{Buckets: []Bucket{{1, -1}, {inf, 2}}}, baseline: *good, wantErr: ErrInvalidInput, msg: "count -1"},
		{name: "NaN bound", canary: Histogram{Buckets: []Bucket{{math.NaN(), 1}, {inf, 2}}}, baseline: *good, wantErr: ErrInvalidInput, msg: "le=NaN"},
		{name: "no buckets", canary: Histogram{}, baseline: *good, wantErr: ErrNoData},
		{name: "empty", canary: *hist([]float64{1, inf}, []float64{0, 0}), baseline: *good, wantErr: ErrNoData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BucketRankSum(tt.canary, tt.baseline, Greater)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %v, want %v mentioning %q", err, tt.wantErr, tt.msg)
			}
		})
	}
	// Decreasing cumulative counts (increase() extrapolation) are raised.
	got, err := BucketRankSum(Histogram{Buckets: []Bucket{{1, 5}, {2, 4.5}, {inf, 6}}}, *hist([]float64{1, 2, inf}, []float64{1, 1, 1}), Greater)
	if err != nil || got.Canary.Monotonized != 1 {
		t.Errorf("monotonized = %d, err %v; want 1", got.Canary.Monotonized, err)
	}
}

func TestBucketJSON(t *testing.T) {
	h := Histogram{Buckets: []Bucket{{0.25, 3}, {inf, 5}}, Sum: ptr(1.5)}
	raw, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"buckets":[{"le":"0.25","count":3},{"le":"+Inf","count":5}],"sum":1.5}`
	if string(raw) != want {
		t.Errorf("json = %s, want %s", raw, want)
	}
	var back Histogram
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"buckets":[{"le":"fast","count":1}]}`), &back); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("bad le: err = %v", err)
	}
}

func histInput(c, b *Histogram) Input {
	return Input{Metric: "latency", Canary: Data{Histogram: c}, Baseline: Data{Histogram: b}}
}

func TestJudgeHistogram(t *testing.T) {
	bounds := []float64{0.05, 0.1, 0.25, 0.5, inf}
	base := hist(bounds, []float64{300, 400, 250, 40, 10})
	slow := hist(bounds, []float64{200, 380, 350, 55, 15})
	hc := Config{Judge: KindHistogram}
	tests := []struct {
		name      string
		cfg       Config
		in        Input
		wantClass Classification
		wantVeto  bool
		ruleHas   string
	}{
		{name: "slower", cfg: hc, in: histInput(slow, base), wantClass: ClassHigh, ruleHas: "significantly higher"},
		{name: "slower critical", cfg: Config{Judge: KindHistogram, Critical: true}, in: histInput(slow, base), wantClass: ClassHigh, wantVeto: true},
		{name: "same", cfg: hc, in: histInput(base, base), wantClass: ClassPass, ruleHas: "differ significantly"},
		{name: "faster is fine", cfg: hc, in: histInput(base, slow), wantClass: ClassPass},
		{name: "faster fails on either", cfg: Config{Judge: KindHistogram, Direction: DirectionEither}, in: histInput(base, slow), wantClass: ClassLow},
		{name: "effect gate", cfg: Config{Judge: KindHistogram, AllowedIncrease: ptr(1.5)}, in: histInput(slow, base), wantClass: ClassPass, ruleHas: "below allowedIncrease 1.5"},
		{name: "cles", cfg: Config{Judge: KindHistogram, EffectSize: EffectCLES, AllowedIncrease: ptr(0.55)}, in: histInput(slow, base), wantClass: ClassHigh},
		{name: "too few", cfg: hc, in: histInput(hist(bounds, []float64{10, 10, 10, 10, 10}), base), wantClass: ClassNodata, ruleHas: "fewer than minRequests"},
		{name: "empty canary", cfg: hc, in: histInput(hist(bounds, []float64{0, 0, 0, 0, 0}), base), wantClass: ClassNodata, ruleHas: "canary has no observations"},
		{name: "missing", cfg: Config{Judge: KindHistogram, MustHaveData: true}, in: histInput(nil, base), wantClass: ClassNodataFailMetric},
		{name: "mismatched", cfg: hc, in: histInput(hist([]float64{1, inf}, []float64{500, 500}), base), wantClass: ClassError, ruleHas: "canary has 2 bounds, baseline 5"},
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
			if got.Explanation.Data != DataHistogram {
				t.Errorf("data = %q", got.Explanation.Data)
			}
		})
	}
}

// promBuckets are Prometheus client_golang's DefBuckets.
var promBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, inf}

// simulateLatency buckets n lognormal latencies (median 80 ms, σ 0.6 on
// the log scale, a typical web service) slowed by factor.
func simulateLatency(r interface{ NormFloat64() float64 }, n int, factor float64, bounds []float64) *Histogram {
	per := make([]float64, len(bounds))
	for range n {
		v := factor * 0.08 * math.Exp(0.6*r.NormFloat64())
		for k, ub := range bounds {
			if v <= ub {
				per[k]++
				break
			}
		}
	}
	return hist(bounds, per)
}

// A 10% latency slowdown at 450 requests per minute per side over five
// minutes (2250 observations per side), bucketed with Prometheus' default
// buckets, must be detected in at least 90% of seeded runs, and not when
// the buckets cannot resolve it. An equal pair must not be flagged more
// often than alpha: a calibrated test's observed rate is above alpha about
// half the time, so the check is that the observed count is not
// significantly above alpha (one-sided binomial, 3 standard errors; 4000
// runs measured 4.8%) — a judge flagging 10% of equal pairs fails it.
func TestHistogramPowerAndFalseAlarms(t *testing.T) {
	const perSide = 450 * 5
	runs := 400
	if testing.Short() {
		runs = 150
	}
	cfg := Config{Judge: KindHistogram}
	// Buckets that do not resolve the change: nearly everything is ≤ 1 s.
	coarse := []float64{1, 2.5, inf}
	ab, aa, ac := newRand(11), newRand(12), newRand(13) // one stream per scenario
	detected, falseAlarms, coarseDetected := 0, 0, 0
	for range runs {
		if Judge(cfg, histInput(simulateLatency(ab, perSide, 1.10, promBuckets), simulateLatency(ab, perSide, 1, promBuckets))).Verdict == Fail {
			detected++
		}
		if Judge(cfg, histInput(simulateLatency(aa, perSide, 1, promBuckets), simulateLatency(aa, perSide, 1, promBuckets))).Verdict == Fail {
			falseAlarms++
		}
		if Judge(cfg, histInput(simulateLatency(ac, perSide, 1.10, coarse), simulateLatency(ac, perSide, 1, coarse))).Verdict == Fail {
			coarseDetected++
		}
	}
	n := float64(runs)
	power, alarm, coarsePower := float64(detected)/n, float64(falseAlarms)/n, float64(coarseDetected)/n
	t.Logf("histogram judge, %d runs of %d observations per side: power %.3f for +10%%, false alarms %.3f; power with buckets {1, 2.5, +Inf} %.3f",
		runs, perSide, power, alarm, coarsePower)
	if power < 0.90 {
		t.Errorf("power %.3f < 0.90", power)
	}
	if coarsePower > 0.5 {
		t.Errorf("power %.3f with buckets that do not resolve the change; the simulation cannot tell bucket layouts apart", coarsePower)
	}
	if limit := DefaultAlpha + 3*math.Sqrt(DefaultAlpha*(1-DefaultAlpha)/n); alarm > limit {
		t.Errorf("A/A false alarm rate %.3f is significantly above alpha %.2f (limit %.3f)", alarm, DefaultAlpha, limit)
	}
}

// TestHistogramTailComponent: a regression of the slowest observations
// alone barely moves the rank test but fails on the tail test, which the
// explanation marks as the component that fired; a uniform slowdown fires
// the rank test.
func TestHistogramTailComponent(t *testing.T) {
	bounds := []float64{50, 100, 250, 500, 1000, inf}
	base := hist(bounds, []float64{4000, 4000, 1800, 180, 20, 0})
	tail := hist(bounds, []float64{4000, 4000, 1800, 100, 20, 80})
	r := Judge(Config{Judge: KindHistogram}, histInput(tail, base))
	comps := r.Explanation.Components
	if r.Classification != ClassHigh || len(comps) != 2 || comps[0].Fired || !comps[1].Fired {
		t.Fatalf("%s, components %+v: %s", r.Classification, comps, r.Explanation.Rule)
	}
	if comps[0].PValue < RankWeight*DefaultAlpha {
		t.Errorf("the rank test alone catches it (p %v): not a tail-only case", comps[0].PValue)
	}
	if d := comps[1].Tail; d.Le != "500" || d.CanaryAbove != 100 || d.BaselineAbove != 20 {
		t.Errorf("tail detail %+v", d)
	}
	if p := *r.Explanation.PValue; !relClose(p, comps[1].PValue/TailWeight, 1e-12) {
		t.Errorf("combined p %v, want tail p / %v = %v", p, TailWeight, comps[1].PValue/TailWeight)
	}
	if !strings.Contains(r.Explanation.Rule, "share above le=500 is significantly higher") {
		t.Errorf("rule %q", r.Explanation.Rule)
	}
	slow := hist(bounds, []float64{3400, 4300, 2000, 250, 30, 20})
	r = Judge(Config{Judge: KindHistogram}, histInput(slow, base))
	if comps := r.Explanation.Components; r.Classification != ClassHigh || !comps[0].Fired || comps[1].Fired {
		t.Errorf("uniform slowdown: %s, %+v: %s", r.Classification, comps, r.Explanation.Rule)
	}
	// Without observations above any finite bound the rank test runs alone
	// at the full alpha.
	r = Judge(Config{Judge: KindHistogram}, histInput(hist([]float64{1, inf}, []float64{500, 0}), hist([]float64{1, inf}, []float64{500, 0})))
	if r.Explanation.Components != nil || r.Verdict != Pass {
		t.Errorf("no tail: %s %+v", r.Verdict, r.Explanation.Components)
	}
}

// TestHistogramTooFewStepsNeverFail: a canary that is much slower, but
// whose observations share a step with the baseline's in only three steps,
// is significant under independence; with fewer than MinClusterSteps
// informative steps that decides nothing (Nodata, inconclusive).
func TestHistogramTooFewStepsNeverFail(t *testing.T) {
	bounds := []float64{50, 100, 250, inf}
	var cs, bs [][]float64
	for i := 0; i < 10; i++ {
		c := []float64{0, 0, 0, 0}
		if i < 3 {
			c = []float64{20, 60, 180, 200}
		}
		cs = append(cs, c)
		bs = append(bs, []float64{100, 170, 195, 200})
	}
	window := func(steps [][]float64) *Histogram {
		h := &Histogram{Steps: steps}
		for k, b := range bounds {
			var sum float64
			for _, row := range steps {
				sum += row[k]
			}
			h.Buckets = append(h.Buckets, Bucket{UpperBound: b, Count: sum})
		}
		return h
	}
	r := Judge(Config{Judge: KindHistogram}, histInput(window(cs), window(bs)))
	if r.Classification != ClassNodata || r.Verdict != Inconclusive || !strings.Contains(r.Explanation.Rule, "fewer than the 5 needed") {
		t.Errorf("%s %s: %s", r.Classification, r.Verdict, r.Explanation.Rule)
	}
	// The same slowdown in every step fails.
	for i := range cs {
		cs[i] = []float64{20, 60, 180, 200}
	}
	if r := Judge(Config{Judge: KindHistogram}, histInput(window(cs), window(bs))); r.Verdict != Fail {
		t.Errorf("every step slower: %s: %s", r.Verdict, r.Explanation.Rule)
	}
}
