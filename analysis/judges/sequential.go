package judges

import (
	"fmt"
	"math"
)

// SequentialOptions configures the sequential tests. Each look receives the
// cumulative data since the analysis started and needs no state from
// earlier looks. Guarantees, for any number of looks and any stopping rule
// (Ville's inequality on a mixture martingale; asymptotic here because of
// the normal approximation with plug-in variances):
//
//   - P(ever Fail | no regression, θ = 0) ≤ Alpha;
//   - P(ever Pass | the canary is worse by Margin or more, θ ≥ δ) ≤ Alpha.
//
// The mixture is half-normal on the standardized effect θ/σ with standard
// deviation Tau: it is most sensitive to effects near Tau.
type SequentialOptions struct {
	// Alternative says which difference is a regression: Greater (default)
	// when a higher canary is worse, Less when a lower one is, TwoSided both.
	Alternative Alternative `json:"alternative,omitempty"`
	// Alpha bounds the probability of ever failing an A/A rollout, however
	// many looks are taken; 0 means 0.05.
	Alpha float64 `json:"alpha,omitempty"`
	// Margin is the non-inferiority margin δ ≥ 0 in the metric's units: pass
	// once the data show the canary is worse by less than δ.
	Margin float64 `json:"margin,omitempty"`
	// Tau is the mixing distribution's standard deviation on the
	// standardized effect θ/σ; 0 means 0.1.
	Tau float64 `json:"tau,omitempty"`
}

// SequentialResult is one look of the sequential test.
type SequentialResult struct {
	// Verdict is Fail (regression shown), Pass (non-inferiority shown) or Inconclusive (continue).
	Verdict Verdict `json:"verdict"`
	// Estimate is the observed difference θ̂ = canary − baseline.
	Estimate float64 `json:"estimate"`
	// Z is θ̂ standardized under "no difference".
	Z float64 `json:"z"`
	// RegressionEValue is the mixture likelihood ratio against "no
	// regression" (capped at math.MaxFloat64).
	RegressionEValue float64 `json:"regressionEValue"`
	// PValue = min(1, 1/RegressionEValue) is the always-valid p-value.
	PValue float64 `json:"pValue"`
	// NonInferiorityEValue is the mixture likelihood ratio against "worse by δ or more".
	NonInferiorityEValue float64 `json:"nonInferiorityEValue"`
	// FailThreshold is the regression e-value that fails.
	FailThreshold float64 `json:"failThreshold"`
	// PassThreshold is the non-inferiority e-value that passes.
	PassThreshold float64 `json:"passThreshold"`
	// EffectiveN is 1/(1/n₁ + 1/n₀).
	EffectiveN float64 `json:"effectiveN"`
}

// mixtureLogE is the log of the one-sided normal-mixture likelihood ratio
// for θ > θ₀, given the standardized estimate z = (θ̂ − θ₀)/√V and
// s = n·τ² (n the effective sample size, τ the mixture's standard deviation
// on the standardized effect). Mixing the Gaussian likelihood ratio
// exp((θθ̂ − θ²/2)/V) over a half-normal prior on θ − θ₀ > 0 with standard
// deviation τσ gives the closed form
//
//	Λ = 2·(1+s)^(−1/2)·exp(z²s/(2(1+s)))·Φ(z·√(s/(1+s))).
//
// Λ is a nonnegative martingale with mean 1 under θ = θ₀ (and a
// supermartingale for θ < θ₀), so by Ville's inequality
// P(Λ ever ≥ 1/α) ≤ α: it may be checked after every observation.
func mixtureLogE(z, s float64) float64 {
	r := s / (1 + s)
	return math.Ln2 - 0.5*math.Log1p(s) + z*z*r/2 + logPnorm(z*math.Sqrt(r))
}

// expCapped is exp(x) capped at math.MaxFloat64 so it stays JSON-encodable.
func expCapped(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return 0
	case x >= 709: // exp(709.78) overflows
		return math.MaxFloat64
	}
	return math.Exp(x)
}

func (o SequentialOptions) withDefaults() (SequentialOptions, error) {
	if o.Alternative == "" {
		o.Alternative = Greater
	}
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.Tau == 0 {
		o.Tau = DefaultTau
	}
	switch {
	case o.Alternative != Greater && o.Alternative != Less && o.Alternative != TwoSided:
		return o, fmt.Errorf("sequential alternative %q: %w", o.Alternative, ErrInvalidValue)
	case !(o.Alpha > 0 && o.Alpha <= 0.5):
		return o, fmt.Errorf("sequential alpha %v: want (0, 0.5]: %w", o.Alpha, ErrInvalidValue)
	case !finite(o.Margin) || o.Margin < 0:
		return o, fmt.Errorf("sequential margin %v: want ≥ 0: %w", o.Margin, ErrInvalidValue)
	case !finite(o.Tau) || o.Tau <= 0:
		return o, fmt.Errorf("sequential tau %v: want > 0: %w", o.Tau, ErrInvalidValue)
	}
	return o, nil
}

// sequentialLook decides one look from the estimate θ̂, its variance under
// "no difference" v0, its variance for the margin tests v1 and the
// effective sample size.
func sequentialLook(o SequentialOptions, est, v0, v1, nEff float64) SequentialResult {
	z0 := 0.0
	if v0 > 0 {
		z0 = est / math.Sqrt(v0)
	}
	return sequentialLookZ(o, est, z0, v1, nEff)
}

// sequentialLookZ is sequentialLook with the standardized regression
// statistic z0 given.
func sequentialLookZ(o SequentialOptions, est, z0, v1, nEff float64) SequentialResult {
	s := nEff * o.Tau * o.Tau
	sd1 := math.Sqrt(v1)
	up := mixtureLogE(z0, s)                           // evidence θ > 0
	down := mixtureLogE(-z0, s)                        // evidence θ < 0
	belowMargin := mixtureLogE(-(est-o.Margin)/sd1, s) // evidence θ < δ
	aboveMargin := mixtureLogE((est+o.Margin)/sd1, s)  // evidence θ > −δ

	res := SequentialResult{Estimate: est, Z: z0, EffectiveN: nEff, PassThreshold: 1 / o.Alpha, FailThreshold: 1 / o.Alpha}
	var reg, ni float64
	switch o.Alternative {
	case Greater:
		reg, ni = up, belowMargin
	case Less:
		reg, ni = down, aboveMargin
	default:
		// A regression either way: one test per side at α/2. Equivalence
		// within ±δ: both one-sided tests at α (intersection–union).
		reg, ni = math.Max(up, down), math.Min(belowMargin, aboveMargin)
		res.FailThreshold = 2 / o.Alpha
	}
	res.RegressionEValue, res.NonInferiorityEValue = expCapped(reg), expCapped(ni)
	res.PValue = clamp01(math.Exp(-reg))
	switch {
	case reg >= math.Log(res.FailThreshold):
		res.Verdict = Fail
	case ni >= math.Log(res.PassThreshold):
		res.Verdict = Pass
	default:
		res.Verdict = Inconclusive
	}
	return res
}

// SequentialProportions is one look of the always-valid test on cumulative
// request and error counts: θ = p_canary − p_baseline. The regression test
// standardizes θ̂ with the pooled variance p̄(1−p̄)(1/n₁+1/n₀); the
// non-inferiority test with the unpooled variance of slightly shrunk rates
// (x+½)/(n+1), so that zero errors on both sides still carry information.
// The guarantee is asymptotic (normal approximation with plug-in variance);
// the package's A/A simulation checks it at realistic traffic.
func SequentialProportions(canary, baseline Counts, opts SequentialOptions) (SequentialResult, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return SequentialResult{}, err
	}
	if err := canary.validate("canary"); err != nil {
		return SequentialResult{}, err
	}
	if err := baseline.validate("baseline"); err != nil {
		return SequentialResult{}, err
	}
	x1, n1, x0, n0 := canary.Errors, canary.Requests, baseline.Errors, baseline.Requests
	if n1 == 0 || n0 == 0 {
		return SequentialResult{}, fmt.Errorf("sequential proportions: a side has no requests: %w", ErrNoData)
	}
	pbar := (x1 + x0) / (n1 + n0)
	v0 := pbar * (1 - pbar) * (1/n1 + 1/n0)
	a1, a0 := (x1+0.5)/(n1+1), (x0+0.5)/(n0+1)
	v1 := a1*(1-a1)/n1 + a0*(1-a0)/n0
	return sequentialLook(o, x1/n1-x0/n0, v0, v1, n1*n0/(n1+n0)), nil
}

// SequentialMeans is one look of the always-valid test on all samples so
// far: θ = mean(canary) − mean(baseline), standardized with the Welch
// variance s₁²/n₁ + s₀²/n₀. Samples must be finite; each side needs at
// least two with some spread.
func SequentialMeans(canary, baseline []float64, opts SequentialOptions) (SequentialResult, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return SequentialResult{}, err
	}
	for _, s := range []struct {
		name string
		v    []float64
	}{{"canary", canary}, {"baseline", baseline}} {
		if len(s.v) < 2 {
			return SequentialResult{}, fmt.Errorf("sequential means: %s has %d samples, need 2: %w", s.name, len(s.v), ErrNoData)
		}
		for i, x := range s.v {
			if !finite(x) {
				return SequentialResult{}, fmt.Errorf("sequential means: %s[%d] = %v: %w", s.name, i, x, ErrInvalidInput)
			}
		}
	}
	n1, n0 := float64(len(canary)), float64(len(baseline))
	v := variance(canary)/n1 + variance(baseline)/n0
	if !(v > 0) || !finite(v) {
		return SequentialResult{}, fmt.Errorf("sequential means: no variance in the samples: %w", ErrNoData)
	}
	return sequentialLook(o, mean(canary)-mean(baseline), v, v, n1*n0/(n1+n0)), nil
}

// judgeSequential runs the sequential test on counts (proportions) or
// samples (means).
func judgeSequential(c Config, in Input, r *Result) {
	e := &r.Explanation
	opts := SequentialOptions{Alternative: alternativeOf(c.Direction), Alpha: c.Alpha, Margin: c.Margin, Tau: c.Tau}
	e.Alpha = c.Alpha
	var (
		res   SequentialResult
		err   error
		units string
	)
	switch {
	case in.Canary.Counts != nil || in.Baseline.Counts != nil:
		e.Data = DataCounts
		if err := needKind(in, c.Judge, DataCounts); err != nil {
			r.fail(err)
			return
		}
		cc, bc, ok := countsOf(in, r)
		if !ok {
			return
		}
		e.Canary, e.Baseline = countSide(cc), countSide(bc)
		if why, short := tooFewRequests(cc.Requests, bc.Requests, c.MinRequests, "requests"); short {
			r.undecided(c, cc.Requests == 0 || bc.Requests == 0, why)
			return
		}
		res, err = SequentialProportions(cc, bc, opts)
		units = "rate difference"
		if cs, bs, ok := countSteps(cc, bc); ok && err == nil {
			res, e.Dispersion = sequentialClustered(opts, res, cs, bs)
		}
	default:
		e.Data = DataSamples
		if err := needKind(in, c.Judge, DataSamples); err != nil {
			r.fail(err)
			return
		}
		cs := clean(in.Canary.Samples, c.NaNStrategy, 0)
		bs := clean(in.Baseline.Samples, c.NaNStrategy, 0)
		e.Canary, e.Baseline = describe(cs), describe(bs)
		m, n := len(cs.values), len(bs.values)
		if m < c.MinPoints || n < c.MinPoints {
			r.undecided(c, m == 0 || n == 0, fmt.Sprintf("the canary has %d and the baseline %d samples, fewer than minPoints %d per side", m, n, c.MinPoints))
			return
		}
		res, err = SequentialMeans(cs.values, bs.values, opts)
		units = "mean difference"
	}
	if err != nil {
		if isNoData(err) {
			r.undecided(c, false, err.Error())
			return
		}
		r.fail(fmt.Errorf("metric %q: %w", in.Metric, err))
		return
	}
	e.Method = fmt.Sprintf("mixture sequential probability ratio test (always valid; half-normal mixture, tau %s) on the %s", g(c.Tau), units)
	if e.Dispersion != nil && e.Dispersion.Estimate != nil {
		e.Method += ", stratified by step (Mantel-Haenszel) with the variance widened by the dispersion between steps"
	}
	e.Statistic = &Statistic{Name: "z", Value: res.Z}
	e.PValue = ptr(res.PValue)
	e.EValue = ptr(res.RegressionEValue)
	e.Shift = &Shift{Kind: units, Estimate: num(res.Estimate)}
	e.Sequential = &SequentialDetail{
		Estimate:             num(res.Estimate),
		RegressionEValue:     ptr(res.RegressionEValue),
		NonInferiorityEValue: ptr(res.NonInferiorityEValue),
		FailThreshold:        res.FailThreshold,
		PassThreshold:        res.PassThreshold,
		Margin:               c.Margin,
		Tau:                  c.Tau,
		EffectiveN:           res.EffectiveN,
	}
	evid := fmt.Sprintf("the %s is %s; regression e-value %s (fail at %s), non-inferiority e-value %s against margin %s (pass at %s)%s",
		units, g(res.Estimate), g(res.RegressionEValue), g(res.FailThreshold), g(res.NonInferiorityEValue), g(c.Margin), g(res.PassThreshold),
		dispersionWords(e.Dispersion))
	switch res.Verdict {
	case Fail:
		if d := e.Dispersion; d != nil && d.TooFew {
			r.Classification = ClassUndecided
			e.Rule = fmt.Sprintf("Undecided: %s — the regression test reaches its threshold under independence, but %s; continue.", evid, tooFewWords(d))
			break
		}
		r.Classification = ClassHigh
		if res.Estimate < 0 {
			r.Classification = ClassLow
		}
		e.Rule = fmt.Sprintf("%s: %s — a regression is shown, valid at any number of looks.", r.Classification, evid)
		r.Veto = c.Critical
	case Pass:
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: %s — non-inferiority within the margin is shown, valid at any number of looks.", evid)
	default:
		r.Classification = ClassUndecided
		e.Rule = fmt.Sprintf("Undecided: %s — neither test has decided yet; continue.", evid)
	}
}

// undecided classifies too little sequential data: Nodata when a side is
// empty, else Undecided (keep collecting).
func (r *Result) undecided(c Config, empty bool, why string) {
	if empty {
		r.noData(c, why)
		return
	}
	r.Classification = ClassUndecided
	r.Explanation.Rule = "Undecided: " + why + "; continue."
}

// sequentialClustered redoes a proportions look with each step a cluster:
// the regression statistic is the Mantel–Haenszel z of the steps, and both
// tests' variances are multiplied — the effective sample size divided — by
// the dispersion between steps (floored at 1). With fewer than
// MinClusterSteps informative steps it may not fail (judgeSequential); from
// two such steps the non-inferiority test is still widened by their
// dispersion (a pass only gets harder), with fewer the pooled look stands.
func sequentialClustered(o SequentialOptions, pooled SequentialResult, canary, baseline []Counts) (SequentialResult, *Dispersion) {
	o, _ = o.withDefaults()
	st := proportionStrata(canary, baseline)
	z, _, d, ok := clusterTest(st, Greater, "Mantel-Haenszel per step")
	widen := d.Applied
	if d.TooFew {
		// Too few steps for a dispersion that may fail the canary
		// (judgeSequential does not fail on them). The non-inferiority test
		// still widens by what 2–4 steps show, floored at 1: a larger
		// variance only makes a pass harder.
		phi, k := pearsonDispersion(st)
		if !ok || k < 2 {
			return pooled, &d
		}
		widen = math.Max(1, phi)
		z /= math.Sqrt(widen)
		d.Applied = widen
	}
	if !ok {
		return pooled, &d
	}
	var x1, n1, x0, n0 float64
	for i := range canary {
		x1, n1 = x1+canary[i].Errors, n1+canary[i].Requests
		x0, n0 = x0+baseline[i].Errors, n0+baseline[i].Requests
	}
	a1, a0 := (x1+0.5)/(n1+1), (x0+0.5)/(n0+1)
	v1 := (a1*(1-a1)/n1 + a0*(1-a0)/n0) * widen
	res := sequentialLookZ(o, pooled.Estimate, z, v1, pooled.EffectiveN/widen)
	return res, &d
}
