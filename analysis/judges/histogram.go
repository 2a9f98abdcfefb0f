package judges

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
)

// BucketResult is the outcome of BucketRankSum.
type BucketResult struct {
	// U is the Mann–Whitney statistic of the canary on grouped data:
	// pairs with the canary in a higher bucket plus half the pairs sharing a bucket.
	U float64 `json:"u"`
	// Z is the standardized statistic (nil when every observation shares one bucket).
	Z *float64 `json:"z,omitempty"`
	// PValue is in [0, 1].
	PValue float64 `json:"pValue"`
	// CLES is U/(n₁n₀): P(canary > baseline) + ½·P(same bucket).
	CLES float64 `json:"cles"`
	// Canary summarises the canary's buckets.
	Canary BucketSide `json:"canary"`
	// Baseline summarises the baseline's buckets.
	Baseline BucketSide `json:"baseline"`
}

// BucketSide summarises one histogram.
type BucketSide struct {
	// Count is the number of observations (the +Inf bucket).
	Count float64 `json:"count"`
	// Median is interpolated inside its bucket as histogram_quantile(0.5) does.
	Median *float64 `json:"median,omitempty"`
	// Mean is Sum/Count when the sum is known, else estimated from bucket midpoints.
	Mean *float64 `json:"mean,omitempty"`
	// MeanEstimated reports that Mean comes from bucket midpoints.
	MeanEstimated bool `json:"meanEstimated,omitempty"`
	// Monotonized counts the cumulative counts raised to restore monotonicity.
	Monotonized int `json:"monotonized,omitempty"`
}

// BucketRankSum compares two histograms with the same bucket bounds by the
// Wilcoxon rank-sum (Mann–Whitney) test on grouped data: all observations
// in one bucket are ties and get the bucket's midrank. Computed from the
// per-bucket counts c_k (canary) and b_k (baseline), without expanding
// them:
//
//	U = Σ_k c_k·(B_<k + b_k/2),  E[U] = n₁n₀/2,
//	Var[U] = n₁n₀/12·(N + 1 − Σ_k(t_k³ − t_k)/(N(N−1))),  t_k = c_k + b_k,
//
// with a continuity correction of ½ towards the null. Greater means the
// canary is slower (higher values). Counts may be fractional (increase()
// extrapolates); cumulative counts that decrease are raised to the running
// maximum, as histogram_quantile does.
func BucketRankSum(canary, baseline Histogram, alt Alternative) (BucketResult, error) {
	if alt == "" {
		alt = Greater
	}
	if alt != TwoSided && alt != Less && alt != Greater {
		return BucketResult{}, fmt.Errorf("bucket rank-sum alternative %q: %w", alt, ErrInvalidValue)
	}
	cb, cmono, err := normalizeBuckets("canary", canary.Buckets)
	if err != nil {
		return BucketResult{}, err
	}
	bb, bmono, err := normalizeBuckets("baseline", baseline.Buckets)
	if err != nil {
		return BucketResult{}, err
	}
	if len(cb) != len(bb) {
		return BucketResult{}, fmt.Errorf("histogram buckets: canary has %d bounds, baseline %d: %w", len(cb), len(bb), ErrInvalidInput)
	}
	for k := range cb {
		if cb[k].UpperBound != bb[k].UpperBound {
			return BucketResult{}, fmt.Errorf("histogram buckets: canary bound le=%s differs from baseline le=%s: %w",
				formatLE(cb[k].UpperBound), formatLE(bb[k].UpperBound), ErrInvalidInput)
		}
	}
	n1, n0 := cb[len(cb)-1].Count, bb[len(bb)-1].Count
	res := BucketResult{
		Canary:   summarizeBuckets(cb, canary.Sum, cmono),
		Baseline: summarizeBuckets(bb, baseline.Sum, bmono),
	}
	if n1 == 0 {
		return res, fmt.Errorf("canary histogram: %w", ErrNoData)
	}
	if n0 == 0 {
		return res, fmt.Errorf("baseline histogram: %w", ErrNoData)
	}
	var u, ties, below float64
	var prevC, prevB float64
	for k := range cb {
		ck, bk := cb[k].Count-prevC, bb[k].Count-prevB
		prevC, prevB = cb[k].Count, bb[k].Count
		u += ck * (below + bk/2)
		below += bk
		t := ck + bk
		ties += t*t*t - t
	}
	N := n1 + n0
	mn := n1 * n0
	res.U = u
	res.CLES = clamp01(u / mn)
	res.PValue = 1
	v := mn / 12 * ((N + 1) - ties/(N*(N-1)))
	if v > 0 && N > 1 {
		dz := u - mn/2
		z := (dz - continuity(alt, dz, true)) / math.Sqrt(v)
		res.Z = num(z)
		switch alt {
		case Greater:
			res.PValue = pnormUpper(z)
		case Less:
			res.PValue = pnorm(z)
		default:
			res.PValue = math.Min(1, 2*math.Min(pnorm(z), pnormUpper(z)))
		}
		res.PValue = clamp01(res.PValue)
	}
	return res, nil
}

// normalizeBuckets validates and sorts one side's buckets and makes the
// cumulative counts monotonic.
func normalizeBuckets(side string, in []Bucket) ([]Bucket, int, error) {
	if len(in) == 0 {
		return nil, 0, fmt.Errorf("%s histogram: no buckets: %w", side, ErrNoData)
	}
	b := make([]Bucket, len(in))
	copy(b, in)
	for _, x := range b {
		if math.IsNaN(x.UpperBound) {
			return nil, 0, fmt.Errorf("%s histogram: bucket le=NaN: %w", side, ErrInvalidInput)
		}
		if !finite(x.Count) || x.Count < 0 {
			return nil, 0, fmt.Errorf("%s histogram: bucket le=%s count %v: want a finite count ≥ 0: %w",
				side, formatLE(x.UpperBound), x.Count, ErrInvalidInput)
		}
	}
	sort.Slice(b, func(i, j int) bool { return b[i].UpperBound < b[j].UpperBound })
	for k := 1; k < len(b); k++ {
		if b[k].UpperBound == b[k-1].UpperBound {
			return nil, 0, fmt.Errorf("%s histogram: bucket le=%s appears twice: %w", side, formatLE(b[k].UpperBound), ErrInvalidInput)
		}
	}
	if !math.IsInf(b[len(b)-1].UpperBound, 1) {
		return nil, 0, fmt.Errorf("%s histogram: no le=+Inf bucket: %w", side, ErrInvalidInput)
	}
	mono := 0
	for k := 1; k < len(b); k++ {
		if b[k].Count < b[k-1].Count {
			b[k].Count = b[k-1].Count
			mono++
		}
	}
	return b, mono, nil
}

// summarizeBuckets interpolates the median and estimates the mean.
func summarizeBuckets(b []Bucket, sum *float64, mono int) BucketSide {
	s := BucketSide{Count: b[len(b)-1].Count, Monotonized: mono}
	if s.Count == 0 {
		return s
	}
	s.Median = num(bucketQuantile(0.5, b))
	if sum != nil && finite(*sum) {
		s.Mean = num(*sum / s.Count)
		return s
	}
	s.MeanEstimated = true
	if len(b) < 2 {
		return s // only +Inf: no finite bound to estimate with.
	}
	var total, prev float64
	for k := range b {
		cnt := b[k].Count - prev
		prev = b[k].Count
		total += cnt * bucketMid(b, k)
	}
	s.Mean = num(total / s.Count)
	return s
}

// bucketMid is the representative value of bucket k: the midpoint of
// (lower, upper], the first bucket starting at 0 when its bound is
// positive, and the +Inf bucket at the largest finite bound.
func bucketMid(b []Bucket, k int) float64 {
	ub := b[k].UpperBound
	switch {
	case math.IsInf(ub, 1):
		return b[len(b)-2].UpperBound
	case k == 0 && ub > 0:
		return ub / 2
	case k == 0:
		return ub
	}
	return (b[k-1].UpperBound + ub) / 2
}

// bucketQuantile is histogram_quantile's linear interpolation: the rank
// q·count falls in a bucket, interpolated between its bounds; the first
// bucket starts at 0 (if its bound is positive) and a quantile in the +Inf
// bucket is the largest finite bound.
func bucketQuantile(q float64, b []Bucket) float64 {
	if len(b) < 2 {
		return math.NaN()
	}
	total := b[len(b)-1].Count
	rank := q * total
	k := sort.Search(len(b), func(i int) bool { return b[i].Count >= rank })
	if k >= len(b)-1 {
		return b[len(b)-2].UpperBound
	}
	start, end := 0.0, b[k].UpperBound
	var prev float64
	if k > 0 {
		start, prev = b[k-1].UpperBound, b[k-1].Count
	} else if end <= 0 {
		return end
	}
	cnt := b[k].Count - prev
	if cnt == 0 {
		return end
	}
	return start + (end-start)*(rank-prev)/cnt
}

// judgeHistogram compares latency distributions from histogram buckets.
func judgeHistogram(c Config, in Input, r *Result) {
	e := &r.Explanation
	e.Data = DataHistogram
	if err := needKind(in, c.Judge, DataHistogram); err != nil {
		r.fail(err)
		return
	}
	if in.Canary.Histogram == nil || in.Baseline.Histogram == nil {
		r.noData(c, "a side has no histogram")
		return
	}
	e.Alpha = c.Alpha
	alt := alternativeOf(c.Direction)
	br, err := BucketRankSum(*in.Canary.Histogram, *in.Baseline.Histogram, alt)
	e.Canary, e.Baseline = bucketSide(br.Canary), bucketSide(br.Baseline)
	e.Canary.Buckets, e.Baseline.Buckets = bucketCounts(in.Canary.Histogram.Buckets), bucketCounts(in.Baseline.Histogram.Buckets)
	if err != nil && !isNoData(err) {
		r.fail(fmt.Errorf("metric %q: %w", in.Metric, err))
		return
	}
	if why, short := tooFewRequests(br.Canary.Count, br.Baseline.Count, c.MinRequests, "observations"); short {
		r.noData(c, why)
		return
	}
	rank := Component{Name: "rank", Weight: 1, PValue: br.PValue, Higher: br.U > br.Canary.Count*br.Baseline.Count/2,
		Method:    "Mann-Whitney U on grouped data (histogram buckets as ties), normal approximation with tie and continuity correction",
		Statistic: &Statistic{Name: "U", Value: br.U}}
	cs, bs, stepped := histogramSteps(*in.Canary.Histogram, *in.Baseline.Histogram)
	if stepped {
		if z, pc, d, ok := clusterTest(bucketStrata(cs, bs), alt, "stratified Mann-Whitney (sum of per-step U)"); ok {
			rank.Method = "stratified Mann-Whitney U on grouped data: each step a cluster (sum of per-step U), variance widened by the dispersion between steps"
			rank.Statistic = &Statistic{Name: "z", Value: z}
			rank.Dispersion = &d
			rank.PValue, rank.Higher = pc, z > 0
		} else {
			// Steps, but none where both sides have observations: nothing is
			// compared within a step, and nothing may fail on it.
			rank.Dispersion = &d
		}
	} else {
		cs, bs = nil, nil
	}
	comps := []Component{rank}
	cb, _, errC := normalizeBuckets("canary", in.Canary.Histogram.Buckets)
	bb, _, errB := normalizeBuckets("baseline", in.Baseline.Histogram.Buckets)
	if errC == nil && errB == nil {
		if tail, ok := tailTest(cb, bb, cs, bs, alt); ok {
			comps[0].Weight = RankWeight
			comps = append(comps, tail)
		}
	}
	pValue := 1.0
	for _, x := range comps {
		pValue = math.Min(pValue, x.weighted())
	}
	// The component that decides: the smallest weighted p-value among those
	// significant in an allowed direction, preferring one with enough steps
	// for a dispersion estimate (too few steps can pass but not fail).
	fired, tooFew := -1, -1
	for i, x := range comps {
		if x.weighted() >= c.Alpha {
			continue
		}
		if x.Dispersion != nil && x.Dispersion.TooFew {
			if tooFew < 0 || x.weighted() < comps[tooFew].weighted() {
				tooFew = i
			}
			continue
		}
		if fired < 0 || x.weighted() < comps[fired].weighted() {
			fired = i
		}
	}
	if fired < 0 && tooFew < 0 && comps[0].Dispersion != nil && comps[0].Statistic.Name == "U" {
		// Steps without a stratum: the pooled test under independence.
		if x := comps[0]; x.weighted() < c.Alpha {
			tooFew = 0
		}
	}
	e.Method = comps[0].Method
	e.Statistic = comps[0].Statistic
	e.Dispersion = comps[0].Dispersion
	if len(comps) > 1 {
		e.Method = fmt.Sprintf("%s; beside it the share above a high bucket bound (the pooled p99's), combined by weighted Bonferroni (rank %s, tail %s of alpha)",
			comps[0].Method, g(RankWeight), g(TailWeight))
		e.Components = comps
	}
	e.PValue = ptr(pValue)
	if br.Canary.Median != nil && br.Baseline.Median != nil {
		e.Shift = &Shift{Kind: "median difference", Estimate: num(*br.Canary.Median - *br.Baseline.Median)}
	}
	eff := &Effect{Kind: string(c.EffectSize), AllowedIncrease: c.AllowedIncrease, AllowedDecrease: c.AllowedDecrease}
	switch c.EffectSize {
	case EffectCLES:
		eff.Value = num(br.CLES)
	default:
		if mc, mb := br.Canary.Mean, br.Baseline.Mean; mc != nil && mb != nil && *mc != 0 && *mb != 0 {
			eff.Value = num(*mc / *mb)
		}
	}
	e.Effect = eff

	medians := fmt.Sprintf("median %s vs %s", gp(br.Canary.Median), gp(br.Baseline.Median))
	evidence := medians + ", " + fmt.Sprintf("p = %s", g(comps[0].PValue)) + dispersionWords(comps[0].Dispersion)
	if len(comps) > 1 {
		rankFirst := fired != 1 && (fired >= 0 || tooFew != 1)
		rankWords := medians + ", rank p = " + g(comps[0].PValue) + dispersionWords(comps[0].Dispersion)
		if rankFirst {
			evidence = rankWords + "; " + tailWords(comps[1])
		} else {
			evidence = tailWords(comps[1]) + "; " + rankWords
		}
		evidence += fmt.Sprintf("; combined p = %s", g(pValue))
	}
	what := "the canary's buckets are"
	if fired == 1 {
		what = "the canary's share above le=" + comps[1].Tail.Le + " is"
	}
	switch {
	case fired < 0 && tooFew >= 0:
		r.noData(c, fmt.Sprintf("the difference is significant under independence (%s < alpha %s), but %s",
			evidence, g(c.Alpha), tooFewWords(comps[tooFew].Dispersion)))
		e.Components = comps
		if len(comps) == 1 {
			e.Components = nil
		}
		return
	case fired < 0 && len(comps) > 1:
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: neither the bucket distributions nor the share above le=%s differ significantly in direction %s (%s ≥ alpha %s).",
			comps[1].Tail.Le, c.Direction, evidence, g(c.Alpha))
		return
	case fired < 0:
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: the bucket distributions do not differ significantly in direction %s (%s ≥ alpha %s).", c.Direction, evidence, g(c.Alpha))
		return
	}
	if len(comps) > 1 {
		e.Components[fired].Fired = true
	}
	higher := comps[fired].Higher
	switch {
	case higher && eff.Value != nil && *eff.Value < *c.AllowedIncrease:
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: %s significantly higher (%s), but the %s %s is below allowedIncrease %s.", what, evidence, eff.Kind, gp(eff.Value), g(*c.AllowedIncrease))
	case !higher && eff.Value != nil && *eff.Value > *c.AllowedDecrease:
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: %s significantly lower (%s), but the %s %s is above allowedDecrease %s.", what, evidence, eff.Kind, gp(eff.Value), g(*c.AllowedDecrease))
	case higher:
		r.Classification = ClassHigh
		e.Rule = fmt.Sprintf("High: %s significantly higher (%s < alpha %s) and the %s %s reaches allowedIncrease %s.", what, evidence, g(c.Alpha), eff.Kind, gp(eff.Value), g(*c.AllowedIncrease))
		r.Veto = c.Critical && (eff.Value == nil || *eff.Value >= *c.CriticalIncrease)
	default:
		r.Classification = ClassLow
		e.Rule = fmt.Sprintf("Low: %s significantly lower (%s < alpha %s) and the %s %s reaches allowedDecrease %s.", what, evidence, g(c.Alpha), eff.Kind, gp(eff.Value), g(*c.AllowedDecrease))
		r.Veto = c.Critical && (eff.Value == nil || *eff.Value <= *c.CriticalDecrease)
	}
}

// bucketCounts turns cumulative buckets into each bucket's own count, in
// increasing order of bound, for the explanation; nil when two buckets
// share a bound or a count is not finite.
func bucketCounts(in []Bucket) []BucketCount {
	b := slices.Clone(in)
	sort.SliceStable(b, func(i, j int) bool { return b[i].UpperBound < b[j].UpperBound })
	out := make([]BucketCount, 0, len(b))
	prev := 0.0
	for k, x := range b {
		if k > 0 && !(x.UpperBound > b[k-1].UpperBound) || math.IsNaN(x.Count) || math.IsInf(x.Count, 0) {
			return nil
		}
		le := strconv.FormatFloat(x.UpperBound, 'g', -1, 64)
		if math.IsInf(x.UpperBound, 1) {
			le = "+Inf"
		}
		out = append(out, BucketCount{Le: le, Count: math.Max(0, x.Count-prev)})
		prev = math.Max(prev, x.Count)
	}
	return out
}

func bucketSide(b BucketSide) Side {
	return Side{Count: b.Count, Mean: b.Mean, Median: b.Median}
}

// histogramSteps returns both sides' per-step cumulative counts when both
// have the same number (≥ 2) of steps with a count per bucket, their
// buckets in increasing order of bound.
func histogramSteps(canary, baseline Histogram) (c, b [][]float64, ok bool) {
	if len(canary.Steps) < 2 || len(canary.Steps) != len(baseline.Steps) {
		return nil, nil, false
	}
	for _, h := range []Histogram{canary, baseline} {
		for k := 1; k < len(h.Buckets); k++ {
			if !(h.Buckets[k].UpperBound > h.Buckets[k-1].UpperBound) {
				return nil, nil, false
			}
		}
		for _, row := range h.Steps {
			if len(row) != len(h.Buckets) {
				return nil, nil, false
			}
			for _, v := range row {
				if !finite(v) || v < 0 {
					return nil, nil, false
				}
			}
		}
	}
	return canary.Steps, baseline.Steps, true
}

// dispersionWords describes the cluster analysis for a rule sentence.
func dispersionWords(d *Dispersion) string {
	if d == nil {
		return ""
	}
	if d.Estimate == nil {
		if d.Steps == 1 {
			return ", 1 informative step, no dispersion estimated"
		}
		return fmt.Sprintf(", %d informative steps, no dispersion estimated", d.Steps)
	}
	return fmt.Sprintf(", %d steps, dispersion %s", d.Steps, g(*d.Estimate))
}

// tooFewWords says why a significant result on too few steps decides
// nothing.
func tooFewWords(d *Dispersion) string {
	return fmt.Sprintf("only %d informative steps, fewer than the %d needed to estimate the dispersion between steps: "+
		"a regression cannot be told from overdispersion yet", d.Steps, MinClusterSteps)
}
