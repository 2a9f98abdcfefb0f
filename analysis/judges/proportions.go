package judges

import (
	"fmt"
	"math"
)

// ProportionOptions configures TwoProportions.
type ProportionOptions struct {
	// Alternative: Greater tests canary rate > AllowedIncrease × baseline
	// rate; Less tests canary rate < AllowedDecrease × baseline rate;
	// TwoSided does both, each at half the level (Bonferroni). Empty means Greater.
	Alternative Alternative `json:"alternative,omitempty"`
	// AllowedIncrease is the rate ratio ρ tolerated under Greater; 0 means 1.
	AllowedIncrease float64 `json:"allowedIncrease,omitempty"`
	// AllowedDecrease is the rate ratio tolerated under Less; 0 means 1.
	AllowedDecrease float64 `json:"allowedDecrease,omitempty"`
	// ConfLevel is the two-sided level of the interval for the rate
	// difference; 0 means 0.90 (the interval matching a one-sided 5% test).
	ConfLevel float64 `json:"confLevel,omitempty"`
}

// ProportionResult is the outcome of TwoProportions.
type ProportionResult struct {
	// Z is the score statistic of the deciding side (nil when the data carry
	// no information, e.g. no errors at all).
	Z *float64 `json:"z,omitempty"`
	// PValue is in [0, 1].
	PValue float64 `json:"pValue"`
	// CanaryRate is the canary's errors/requests.
	CanaryRate float64 `json:"canaryRate"`
	// BaselineRate is the baseline's errors/requests.
	BaselineRate float64 `json:"baselineRate"`
	// Difference is CanaryRate − BaselineRate.
	Difference float64 `json:"difference"`
	// Lower bounds Newcombe's hybrid score interval (method 10) for Difference.
	Lower float64 `json:"lower"`
	// Upper bounds that interval.
	Upper float64 `json:"upper"`
	// ConfLevel is the interval's two-sided confidence level.
	ConfLevel float64 `json:"confLevel"`
	// RateRatio is CanaryRate/BaselineRate (nil when the baseline rate is 0).
	RateRatio *float64 `json:"rateRatio,omitempty"`
}

// TwoProportions tests whether the canary's error proportion exceeds (or
// falls below) a multiple ρ of the baseline's, from summed request and
// error counts. It is the score test for a ratio of proportions
// (Farrington & Manning, 1990): under H0 p_canary = ρ·p_baseline the
// variance uses the restricted maximum-likelihood rates, which solve
//
//	ρN·p² − (ρ(n₁ + x₀) + x₁ + n₀)·p + (x₀ + x₁) = 0   (p = p_baseline)
//
// and z = (p̂₁ − ρp̂₀)/√(p̃₁(1−p̃₁)/n₁ + ρ²p̃₀(1−p̃₀)/n₀). With ρ = 1 this is
// the pooled two-proportion z-test. Counts may be fractional; the normal
// approximation wants at least a few errors on each side.
func TwoProportions(canary, baseline Counts, opts ProportionOptions) (ProportionResult, error) {
	for _, s := range []struct {
		name string
		c    Counts
	}{{"canary", canary}, {"baseline", baseline}} {
		if err := s.c.validate(s.name); err != nil {
			return ProportionResult{}, err
		}
		if s.c.Requests == 0 {
			return ProportionResult{}, fmt.Errorf("%s requests: %w", s.name, ErrNoData)
		}
	}
	alt := opts.Alternative
	if alt == "" {
		alt = Greater
	}
	if alt != TwoSided && alt != Less && alt != Greater {
		return ProportionResult{}, fmt.Errorf("proportions alternative %q: %w", alt, ErrInvalidValue)
	}
	inc, dec := opts.AllowedIncrease, opts.AllowedDecrease
	if inc == 0 {
		inc = 1
	}
	if dec == 0 {
		dec = 1
	}
	conf := opts.ConfLevel
	if conf == 0 {
		conf = 0.90
	}
	if !finite(inc) || inc < 0 || !finite(dec) || dec < 0 || !(conf > 0 && conf < 1) {
		return ProportionResult{}, fmt.Errorf("proportions options %+v: %w", opts, ErrInvalidValue)
	}

	x1, n1, x0, n0 := canary.Errors, canary.Requests, baseline.Errors, baseline.Requests
	res := ProportionResult{CanaryRate: x1 / n1, BaselineRate: x0 / n0, ConfLevel: conf}
	res.Difference = res.CanaryRate - res.BaselineRate
	res.Lower, res.Upper = newcombe(x1, n1, x0, n0, qnorm(1-(1-conf)/2))
	if res.BaselineRate > 0 {
		res.RateRatio = num(res.CanaryRate / res.BaselineRate)
	}

	zInc, okInc := ratioScoreZ(x1, n1, x0, n0, inc)
	zDec, okDec := ratioScoreZ(x1, n1, x0, n0, dec)
	pGreater, pLess := 1.0, 1.0
	if okInc {
		pGreater = pnormUpper(zInc)
	}
	if okDec {
		pLess = pnorm(zDec)
	}
	switch alt {
	case Greater:
		res.PValue = pGreater
		if okInc {
			res.Z = num(zInc)
		}
	case Less:
		res.PValue = pLess
		if okDec {
			res.Z = num(zDec)
		}
	case TwoSided:
		if pGreater <= pLess {
			res.PValue = math.Min(1, 2*pGreater)
			if okInc {
				res.Z = num(zInc)
			}
		} else {
			res.PValue = math.Min(1, 2*pLess)
			if okDec {
				res.Z = num(zDec)
			}
		}
	}
	res.PValue = clamp01(res.PValue)
	return res, nil
}

// validate checks that counts are finite, non-negative and errors ≤ requests.
func (c Counts) validate(side string) error {
	switch {
	case !finite(c.Requests) || c.Requests < 0:
		return fmt.Errorf("%s requests %v: want a finite count ≥ 0: %w", side, c.Requests, ErrInvalidInput)
	case !finite(c.Errors) || c.Errors < 0:
		return fmt.Errorf("%s errors %v: want a finite count ≥ 0: %w", side, c.Errors, ErrInvalidInput)
	case c.Errors > c.Requests:
		return fmt.Errorf("%s errors %v exceed requests %v: %w", side, c.Errors, c.Requests, ErrInvalidInput)
	}
	return nil
}

// ratioScoreZ is the Farrington–Manning score statistic for H0:
// p₁ = ρ·p₀; ok is false when its variance is zero (no information).
func ratioScoreZ(x1, n1, x0, n0, rho float64) (z float64, ok bool) {
	N, X := n1+n0, x1+x0
	a := rho * N
	b := -(rho*(n1+x0) + x1 + n0)
	c := X
	var p0 float64
	switch {
	case X == 0:
		p0 = 0
	case a == 0:
		p0 = -c / b
	default:
		disc := math.Max(b*b-4*a*c, 0)
		big := (-b + math.Sqrt(disc)) / (2 * a)
		p0 = c / (a * big) // the smaller root, without cancellation
	}
	p0 = math.Max(0, math.Min(p0, 1))
	if rho > 1 {
		p0 = math.Min(p0, 1/rho)
	}
	p1 := math.Min(rho*p0, 1)
	v := p1*(1-p1)/n1 + rho*rho*p0*(1-p0)/n0
	if !(v > 0) {
		return 0, false
	}
	z = (x1/n1 - rho*x0/n0) / math.Sqrt(v)
	return z, finite(z)
}

// wilson returns the Wilson score interval for x successes in n trials.
func wilson(x, n, z float64) (lo, hi float64) {
	p := x / n
	z2 := z * z
	den := 1 + z2/n
	centre := (p + z2/(2*n)) / den
	half := z / den * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// newcombe returns Newcombe's hybrid score interval (method 10) for
// p₁ − p₀, built from the two Wilson intervals.
func newcombe(x1, n1, x0, n0, z float64) (lo, hi float64) {
	p1, p0 := x1/n1, x0/n0
	l1, u1 := wilson(x1, n1, z)
	l0, u0 := wilson(x0, n0, z)
	d := p1 - p0
	lo = d - math.Sqrt((p1-l1)*(p1-l1)+(u0-p0)*(u0-p0))
	hi = d + math.Sqrt((u1-p1)*(u1-p1)+(p0-l0)*(p0-l0))
	return math.Max(-1, lo), math.Min(1, hi)
}

// countSide describes one side's counts.
func countSide(c Counts) Side {
	s := Side{Count: c.Requests, Requests: num(c.Requests), Errors: num(c.Errors)}
	if c.Requests > 0 {
		s.Rate = num(c.Errors / c.Requests)
	}
	return s
}

// judgeErrorRate compares error proportions from summed counts.
func judgeErrorRate(c Config, in Input, r *Result) {
	e := &r.Explanation
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
	e.Alpha = c.Alpha
	if why, short := tooFewRequests(cc.Requests, bc.Requests, c.MinRequests, "requests"); short {
		r.noData(c, why)
		return
	}
	alt, conf := alternativeOf(c.Direction), 1-2*c.Alpha
	if alt == TwoSided {
		conf = 1 - c.Alpha
	}
	pr, err := TwoProportions(cc, bc, ProportionOptions{
		Alternative: alt, AllowedIncrease: *c.AllowedIncrease, AllowedDecrease: *c.AllowedDecrease, ConfLevel: conf,
	})
	if err != nil {
		r.fail(fmt.Errorf("metric %q: %w", in.Metric, err))
		return
	}
	e.Method = "two-proportion score test (Farrington-Manning) on summed request and error counts"
	if pr.Z != nil {
		e.Statistic = &Statistic{Name: "z", Value: *pr.Z}
	}
	if cs, bs, ok := countSteps(cc, bc); ok {
		z, pc, d, informative := clusterTest(proportionStrata(cs, bs), alt, "Mantel-Haenszel per step")
		e.Dispersion = &d
		rho := (alt == Greater && *c.AllowedIncrease == 1) || (alt == Less && *c.AllowedDecrease == 1) ||
			(alt == TwoSided && *c.AllowedIncrease == 1 && *c.AllowedDecrease == 1)
		switch {
		case informative && rho:
			e.Method = "Mantel-Haenszel test stratified by step (each step a cluster), variance widened by the dispersion between steps"
			e.Statistic = &Statistic{Name: "z", Value: z}
			pr.PValue = pc
		case informative && pr.Z != nil:
			// A tolerated ratio ≠ 1: the pooled Farrington–Manning statistic,
			// widened by the same dispersion.
			e.Method = "two-proportion score test (Farrington-Manning) on summed counts, variance widened by the dispersion between steps"
			zs := *pr.Z / math.Sqrt(d.Applied)
			e.Statistic = &Statistic{Name: "z", Value: zs}
			pr.PValue = scaledP(*pr.Z, d, alt, pr.PValue)
		}
	}
	e.PValue = ptr(pr.PValue)
	e.Shift = &Shift{Kind: "rate difference", Estimate: num(pr.Difference), Lower: num(pr.Lower), Upper: num(pr.Upper), Confidence: conf}
	e.Effect = &Effect{Kind: "rateRatio", Value: pr.RateRatio, AllowedIncrease: c.AllowedIncrease, AllowedDecrease: c.AllowedDecrease}

	rates := fmt.Sprintf("canary error rate %s (%s/%s), baseline %s (%s/%s)",
		pct(pr.CanaryRate), g(cc.Errors), g(cc.Requests), pct(pr.BaselineRate), g(bc.Errors), g(bc.Requests))
	p := fmt.Sprintf("p = %s", g(pr.PValue)) + dispersionWords(e.Dispersion)
	switch {
	case pr.PValue < c.Alpha && e.Dispersion != nil && e.Dispersion.TooFew &&
		(pr.Difference > 0 && c.Direction.allowsIncrease() || pr.Difference < 0 && c.Direction.allowsDecrease()):
		r.noData(c, fmt.Sprintf("the %s; significant under independence (%s < alpha %s), but %s",
			rates, p, g(c.Alpha), tooFewWords(e.Dispersion)))
	case pr.PValue < c.Alpha && pr.Difference > 0 && c.Direction.allowsIncrease():
		r.Classification = ClassHigh
		e.Rule = fmt.Sprintf("High: the %s; the canary rate exceeds allowedIncrease %s × the baseline rate (%s < alpha %s).",
			rates, g(*c.AllowedIncrease), p, g(c.Alpha))
	case pr.PValue < c.Alpha && pr.Difference < 0 && c.Direction.allowsDecrease():
		r.Classification = ClassLow
		e.Rule = fmt.Sprintf("Low: the %s; the canary rate is below allowedDecrease %s × the baseline rate (%s < alpha %s).",
			rates, g(*c.AllowedDecrease), p, g(c.Alpha))
	default:
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: the %s; no significant %s (%s ≥ alpha %s).", rates, directionWords(c), p, g(c.Alpha))
	}
	r.Veto = c.Critical && r.Classification.Verdict() == Fail
}

// countsOf extracts and validates both sides' counts; ok is false after
// recording an error or a no-data classification.
func countsOf(in Input, r *Result) (canary, baseline Counts, ok bool) {
	if in.Canary.Counts == nil || in.Baseline.Counts == nil {
		r.Classification = ClassNodata
		r.Explanation.Rule = "Nodata: a side has no counts."
		return Counts{}, Counts{}, false
	}
	canary, baseline = *in.Canary.Counts, *in.Baseline.Counts
	if err := canary.validate("canary"); err != nil {
		r.fail(fmt.Errorf("metric %q: %w", in.Metric, err))
		return Counts{}, Counts{}, false
	}
	if err := baseline.validate("baseline"); err != nil {
		r.fail(fmt.Errorf("metric %q: %w", in.Metric, err))
		return Counts{}, Counts{}, false
	}
	return canary, baseline, true
}

// tooFewRequests says why a side is too small, if it is.
func tooFewRequests(canary, baseline, min float64, what string) (string, bool) {
	switch {
	case canary == 0 && baseline == 0:
		return "neither side has " + what, true
	case canary == 0:
		return "the canary has no " + what, true
	case baseline == 0:
		return "the baseline has no " + what, true
	case canary < min || baseline < min:
		return fmt.Sprintf("the canary has %s and the baseline %s %s, fewer than minRequests %s per side", g(canary), g(baseline), what, g(min)), true
	}
	return "", false
}

// alternativeOf maps a direction to the test's alternative.
func alternativeOf(d Direction) Alternative {
	switch d {
	case DirectionIncrease:
		return Greater
	case DirectionDecrease:
		return Less
	}
	return TwoSided
}

func directionWords(c Config) string {
	switch c.Direction {
	case DirectionIncrease:
		return fmt.Sprintf("increase beyond allowedIncrease %s × the baseline rate", g(*c.AllowedIncrease))
	case DirectionDecrease:
		return fmt.Sprintf("decrease below allowedDecrease %s × the baseline rate", g(*c.AllowedDecrease))
	}
	return fmt.Sprintf("change outside [allowedDecrease %s, allowedIncrease %s] × the baseline rate", g(*c.AllowedDecrease), g(*c.AllowedIncrease))
}

// pct formats a proportion as a percentage.
func pct(p float64) string { return g(100*p) + "%" }

// countSteps returns both sides' per-step counts when both have the same
// number (≥ 2) of valid steps.
func countSteps(canary, baseline Counts) (c, b []Counts, ok bool) {
	if len(canary.Steps) < 2 || len(canary.Steps) != len(baseline.Steps) {
		return nil, nil, false
	}
	for i := range canary.Steps {
		if canary.Steps[i].validate("canary") != nil || baseline.Steps[i].validate("baseline") != nil {
			return nil, nil, false
		}
	}
	return canary.Steps, baseline.Steps, true
}

// scaledP is the p-value of a z statistic widened by a dispersion: z/√φ
// referred to t with the dispersion's degrees of freedom (normal without).
// pooled is the unscaled p-value, kept when nothing is widened.
func scaledP(z float64, d Dispersion, alt Alternative, pooled float64) float64 {
	if d.Applied == 1 && d.DF == 0 {
		return pooled
	}
	zs := z / math.Sqrt(d.Applied)
	upper := func(x float64) float64 {
		if d.DF > 0 {
			return ptUpper(x, float64(d.DF))
		}
		return pnormUpper(x)
	}
	switch alt {
	case Less:
		return clamp01(upper(-zs))
	case TwoSided:
		return clamp01(math.Min(1, 2*upper(math.Abs(zs))))
	}
	return clamp01(upper(zs))
}
