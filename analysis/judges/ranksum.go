package judges

import (
	"fmt"
	"math"
	"sort"
)

// maxExactPairs bounds m·n for a forced exact distribution.
const maxExactPairs = 20000

// Alternative is the alternative hypothesis of a test, as in R.
type Alternative string

// Alternatives. For RankSum they are about the shift of x relative to y.
const (
	// TwoSided: the shift is not zero.
	TwoSided Alternative = "two-sided"
	// Less: x is shifted below y.
	Less Alternative = "less"
	// Greater: x is shifted above y.
	Greater Alternative = "greater"
)

// String returns the alternative's name.
func (a Alternative) String() string { return string(a) }

// Method says how a rank-sum p-value and interval were computed.
type Method string

// Rank-sum methods.
const (
	// MethodAuto is R's rule: exact when both samples have fewer than
	// ExactLimit values and there are no ties, else normal.
	MethodAuto Method = ""
	// MethodExact uses the exact null distribution. Like R it falls back to
	// normal when there are ties; unlike R also when m·n exceeds 20000, where
	// the O(m²n²) distribution would take too long (the result's Method says
	// which was used).
	MethodExact Method = "exact"
	// MethodNormal uses the normal approximation with tie correction (and continuity correction unless disabled).
	MethodNormal Method = "normal"
)

// RankSumOptions configures RankSum. The zero value is R's default
// wilcox.test(x, y, conf.int = TRUE): two-sided, 95%, mu = 0, automatic
// method, continuity correction on.
type RankSumOptions struct {
	// Alternative is the alternative hypothesis; empty means two-sided.
	Alternative Alternative `json:"alternative,omitempty"`
	// ConfLevel is the interval's confidence level in (0, 1); 0 means 0.95.
	ConfLevel float64 `json:"confLevel,omitempty"`
	// Mu is the shift under the null hypothesis (R's mu).
	Mu float64 `json:"mu,omitempty"`
	// Method chooses exact or normal; empty is R's automatic rule.
	Method Method `json:"method,omitempty"`
	// NoCorrection turns the continuity correction off (R's correct = FALSE).
	NoCorrection bool `json:"noCorrection,omitempty"`
}

// RankSumResult is the outcome of a two-sample Wilcoxon rank-sum
// (Mann–Whitney) test, with the Hodges–Lehmann estimate of the shift
// x − y and its confidence interval.
type RankSumResult struct {
	// W is R's statistic: the rank sum of x minus m(m+1)/2, i.e. the number
	// of pairs with x−mu > y plus half the tied pairs (Mann–Whitney U of x).
	W float64 `json:"w"`
	// PValue is in [0, 1].
	PValue float64 `json:"pValue"`
	// Z is the standardized statistic of the normal approximation (nil for exact).
	Z *float64 `json:"z,omitempty"`
	// Method is MethodExact or MethodNormal: what was actually used.
	Method Method `json:"method"`
	// Ties reports whether x−mu and y have tied values.
	Ties bool `json:"ties"`
	// Estimate is the Hodges–Lehmann estimate: the median of all x[i] − y[j].
	Estimate float64 `json:"estimate"`
	// Lower bounds the confidence interval; nil means unbounded (alternative less).
	Lower *float64 `json:"lower,omitempty"`
	// Upper bounds the confidence interval; nil means unbounded (alternative greater).
	Upper *float64 `json:"upper,omitempty"`
	// ConfLevel is the achieved confidence level (R lowers it when the exact
	// distribution cannot reach the requested level).
	ConfLevel float64 `json:"confLevel"`
	// LowerClamped reports that Lower is where R stops when the data cannot
	// reach the requested level (the smallest difference, or the first order
	// statistic in the exact case).
	LowerClamped bool `json:"lowerClamped,omitempty"`
	// UpperClamped reports the same for Upper.
	UpperClamped bool `json:"upperClamped,omitempty"`
}

// RankSum runs the two-sample Wilcoxon rank-sum (Mann–Whitney U) test of x
// against y as R's wilcox.test(x, y, conf.int = TRUE) does:
//
//   - W is the rank sum of x−mu minus m(m+1)/2 (midranks for ties);
//   - the p-value is exact when both sides have fewer than 50 values and
//     there are no ties, else from the normal approximation with the tie
//     correction of the variance and a continuity correction;
//   - the estimate is the Hodges–Lehmann estimator, the median of the m·n
//     differences x[i] − y[j];
//   - the exact interval takes order statistics of those differences at
//     R's qwilcox quantiles; the normal interval inverts the approximate
//     test, which puts each bound on the pairwise difference where R's
//     root-finder stops (R finds it with uniroot to tolerance 1e-4; here it
//     is found exactly).
//
// Differences are counted and selected in O((m+n)·64) time per quantile, so
// 10⁴ values per side do not need 10⁸ differences. Empty samples and
// non-finite values are errors; it never panics.
func RankSum(x, y []float64, opts RankSumOptions) (RankSumResult, error) {
	alt := opts.Alternative
	if alt == "" {
		alt = TwoSided
	}
	if alt != TwoSided && alt != Less && alt != Greater {
		return RankSumResult{}, fmt.Errorf("rank-sum alternative %q: %w", alt, ErrInvalidValue)
	}
	conf := opts.ConfLevel
	if conf == 0 {
		conf = 0.95
	}
	if !(conf > 0 && conf < 1) {
		return RankSumResult{}, fmt.Errorf("rank-sum confidence level %v: must be in (0, 1): %w", conf, ErrInvalidValue)
	}
	if !finite(opts.Mu) {
		return RankSumResult{}, fmt.Errorf("rank-sum mu %v: %w", opts.Mu, ErrInvalidValue)
	}
	switch opts.Method {
	case MethodAuto, MethodExact, MethodNormal:
	default:
		return RankSumResult{}, fmt.Errorf("rank-sum method %q: %w", opts.Method, ErrInvalidValue)
	}
	if len(x) == 0 {
		return RankSumResult{}, fmt.Errorf("rank-sum x: %w", ErrNoData)
	}
	if len(y) == 0 {
		return RankSumResult{}, fmt.Errorf("rank-sum y: %w", ErrNoData)
	}
	for i, v := range x {
		if !finite(v) {
			return RankSumResult{}, fmt.Errorf("rank-sum x[%d] = %v: %w", i, v, ErrInvalidInput)
		}
	}
	for i, v := range y {
		if !finite(v) {
			return RankSumResult{}, fmt.Errorf("rank-sum y[%d] = %v: %w", i, v, ErrInvalidInput)
		}
	}

	xs, ys := sortedCopy(x), sortedCopy(y)
	m, n := len(xs), len(ys)
	mn := float64(m) * float64(n)
	correct := !opts.NoCorrection

	// Statistic at d = mu: ranks of c(x − mu, y).
	xm := xs
	if opts.Mu != 0 {
		xm = make([]float64, m)
		for i, v := range xs {
			xm[i] = v - opts.Mu
		}
	}
	w, tieSum := rankSumStat(xm, ys)
	ties := tieSum > 0

	res := RankSumResult{W: w, Ties: ties}
	exact := !ties && ((opts.Method == MethodExact && m*n <= maxExactPairs) || (opts.Method == MethodAuto && m < ExactLimit && n < ExactLimit))
	diffs := &pairDiffs{x: xs, y: ys}
	res.Estimate = diffs.median()
	alpha := 1 - conf

	if exact {
		res.Method = MethodExact
		d := wilcoxDist(m, n)
		wi := int(math.Round(w))
		switch alt {
		case TwoSided:
			var p float64
			if w > mn/2 {
				p = pwilcoxUpper(d, wi)
			} else {
				p = pwilcox(d, wi)
			}
			res.PValue = math.Min(2*p, 1)
		case Greater:
			res.PValue = pwilcoxUpper(d, wi)
		case Less:
			res.PValue = pwilcox(d, wi)
		}
		res.exactInterval(d, diffs, alt, alpha, m*n)
		return res, nil
	}

	res.Method = MethodNormal
	N := float64(m + n)
	sigma := math.Sqrt(mn / 12 * ((N + 1) - tieSum/(N*(N-1))))
	dz := w - mn/2
	if sigma > 0 {
		z := (dz - continuity(alt, dz, correct)) / sigma
		res.Z = num(z)
		switch alt {
		case TwoSided:
			res.PValue = math.Min(1, 2*math.Min(pnorm(z), pnormUpper(z)))
		case Greater:
			res.PValue = pnormUpper(z)
		case Less:
			res.PValue = pnorm(z)
		}
		res.PValue = clamp01(res.PValue)
	} else {
		// Every value tied: no evidence of any shift (R reports NaN).
		res.PValue = 1
	}
	res.normalInterval(xs, ys, diffs, alt, alpha, correct)
	return res, nil
}

// continuity is R's continuity correction for the centred statistic dz.
func continuity(alt Alternative, dz float64, correct bool) float64 {
	if !correct {
		return 0
	}
	switch alt {
	case Greater:
		return 0.5
	case Less:
		return -0.5
	}
	switch {
	case dz > 0:
		return 0.5
	case dz < 0:
		return -0.5
	}
	return 0
}

// rankSumStat returns W = Σ ranks(x) − m(m+1)/2 over the combined sample
// (midranks for ties) and Σ(t³ − t) over its tie groups. x and y are sorted.
func rankSumStat(x, y []float64) (w, tieSum float64) {
	i, j := 0, 0
	rank := 0.0 // ranks used so far
	var rx float64
	for i < len(x) || j < len(y) {
		var v float64
		switch {
		case j >= len(y) || (i < len(x) && x[i] <= y[j]):
			v = x[i]
		default:
			v = y[j]
		}
		cx, cy := 0, 0
		for i < len(x) && x[i] == v {
			i++
			cx++
		}
		for j < len(y) && y[j] == v {
			j++
			cy++
		}
		t := float64(cx + cy)
		mid := rank + (t+1)/2
		rx += float64(cx) * mid
		rank += t
		tieSum += t*t*t - t
	}
	m := float64(len(x))
	return rx - m*(m+1)/2, tieSum
}

// groupTieSum returns Σ(t³ − t) over the tie groups within one sorted sample.
func groupTieSum(s []float64) float64 {
	var sum float64
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		t := float64(j - i)
		sum += t*t*t - t
		i = j
	}
	return sum
}

// exactInterval fills the interval from order statistics of the
// differences, as R's exact branch: qu = qwilcox(α/2) (α for one-sided),
// at least 1; bounds D[qu] and D[mn − qu + 1].
func (r *RankSumResult) exactInterval(d []float64, diffs *pairDiffs, alt Alternative, alpha float64, mn int) {
	level := alpha
	if alt == TwoSided {
		level = alpha / 2
	}
	raw := qwilcox(d, level)
	qu := max(raw, 1) // R: if (qu == 0) qu <- 1
	clamped := raw == 0
	achieved := pwilcox(d, qu-1)
	if alt == TwoSided {
		achieved *= 2
	}
	if alt != Less {
		r.Lower, r.LowerClamped = ptr(diffs.kth(qu)), clamped
	}
	if alt != Greater {
		r.Upper, r.UpperClamped = ptr(diffs.kth(mn-qu+1)), clamped
	}
	r.ConfLevel = 1 - alpha
	if achieved-alpha > alpha/2 { // R: "Requested conf.level not achievable".
		r.ConfLevel = 1 - achieved
	}
}

// normalInterval inverts the normal approximation as R does. Between two
// consecutive distinct pairwise differences no x − d ties with a y, so the
// standardized statistic there depends only on c, the number of differences
// above d, and on the ties within each sample:
//
//	f(c) = (c − mn/2 − correction)/σ₀ − zq
//
// f falls as d grows, and R's root is the difference D₍k₎ with the smallest
// k for which f just above D₍k₎ is ≤ 0. When no such k exists the bound is
// the range's end (R's mumin/mumax), reported as clamped.
func (r *RankSumResult) normalInterval(xs, ys []float64, diffs *pairDiffs, alt Alternative, alpha float64, correct bool) {
	m, n := len(xs), len(ys)
	mn := m * n
	N := float64(m + n)
	t0 := groupTieSum(xs) + groupTieSum(ys)
	sigma0 := math.Sqrt(float64(mn) / 12 * ((N + 1) - t0/(N*(N-1))))
	r.ConfLevel = 1 - alpha
	bound := func(zq float64) (float64, bool) {
		k, clamped := signChange(mn, sigma0, zq, alt, correct)
		return diffs.kth(k), clamped
	}
	switch alt {
	case TwoSided:
		lo, lc := bound(qnorm(1 - alpha/2))
		hi, hc := bound(qnorm(alpha / 2))
		r.Lower, r.Upper, r.LowerClamped, r.UpperClamped = ptr(lo), ptr(hi), lc, hc
	case Greater:
		lo, lc := bound(qnorm(1 - alpha))
		r.Lower, r.LowerClamped = ptr(lo), lc
	case Less:
		hi, hc := bound(qnorm(alpha))
		r.Upper, r.UpperClamped = ptr(hi), hc
	}
}

// signChange finds the smallest k in [1, mn] with f(mn − k) ≤ 0 (see
// normalInterval); clamped reports that f is ≤ 0 already below the smallest
// difference (k = 1) or never ≤ 0 (k = mn).
func signChange(mn int, sigma0, zq float64, alt Alternative, correct bool) (k int, clamped bool) {
	half := float64(mn) / 2
	f := func(c int) float64 {
		dz := float64(c) - half
		return (dz-continuity(alt, dz, correct))/sigma0 - zq
	}
	if f(mn) <= 0 {
		return 1, true
	}
	if f(0) > 0 {
		return mn, true
	}
	// f(mn − k) is non-increasing in k; find the first k with f ≤ 0.
	k = sort.Search(mn+1, func(k int) bool { return f(mn-k) <= 0 })
	return max(k, 1), false
}
