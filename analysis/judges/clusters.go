package judges

import (
	"math"
)

// Overdispersion: each step is a cluster.
//
// Requests of one scrape interval share its conditions (a GC pause, a noisy
// neighbour, an error burst), so counts and latencies vary more from step to
// step than independent requests would. Both sides share most of it. The
// judges therefore compare the sides *within* each step and combine the steps,
// then widen the test by the dispersion left between the steps:
//
//   - Each step t gives a score contribution S_t (observed minus expected
//     under "no difference", given the step's totals) with its variance V_t
//     for independent requests: for error counts the Mantel–Haenszel
//     (hypergeometric) terms, for histogram buckets the step's Mann–Whitney
//     U − n₁n₀/2 and its tie-corrected variance (a stratified rank-sum test).
//     Shared step effects cancel inside each step.
//   - The dispersion φ is the Pearson statistic of the steps around a common
//     effect, φ̂ = Σ (S_t − β̂V_t)²/V_t / (K − 1), β̂ = ΣS_t/ΣV_t, over the
//     K informative steps (quasi-likelihood; Wedderburn 1974, McCullagh &
//     Nelder 1989 §4.5 and §9.2). φ = 1 for independent requests.
//   - Z = ΣS_t / √(max(1, φ̂)·ΣV_t), referred to Student's t with K − 1
//     degrees of freedom (as quasi-likelihood tests are). Under normality
//     this is valid for every φ ≥ 1: the flooring only makes it conservative
//     when φ < 1.
//   - A dispersion estimated from a few steps is noise: its relative standard
//     error is about √(2/(K − 1)), 100% at K = 3. With fewer than
//     MinClusterSteps informative steps augur estimates none: the test runs
//     under independence (φ = 1, the normal distribution) and is marked
//     TooFew. Widening can only lower a test's significance, so a result
//     that is not significant under independence is not significant for any
//     φ ≥ 1 and may pass; a significant one cannot tell a regression from
//     overdispersion, and the judges report it as too little data
//     (inconclusive), never as a failure.

// MinClusterSteps is the fewest informative steps from which the judges
// estimate the dispersion between steps (df = MinClusterSteps − 1 = 4: the
// t quantile 2.13 at 95% is within 30% of the normal 1.645, and φ̂'s
// relative standard error √(2/4) ≈ 71%). Below it a step-clustered test can
// pass but not fail.
const MinClusterSteps = 5

// Dispersion is the cluster analysis of a judge's steps, reported in its
// explanation.
type Dispersion struct {
	// Steps is the number of informative steps (clusters): steps where both
	// sides have data and the step carries information (for error counts: an
	// error on some side and a success on some side).
	Steps int `json:"steps"`
	// Estimate is φ̂, the estimated dispersion (1 = independent requests);
	// nil with fewer than MinClusterSteps informative steps.
	Estimate *float64 `json:"estimate,omitempty"`
	// TooFew reports fewer than MinClusterSteps informative steps: no
	// dispersion was estimated and the test ran under independence, so it
	// can pass but not fail.
	TooFew bool `json:"tooFew,omitempty"`
	// MinSteps is MinClusterSteps, for the reader of a TooFew explanation.
	MinSteps int `json:"minSteps,omitempty"`
	// Applied is the factor the variance was multiplied by: max(1, φ̂), or 1.
	Applied float64 `json:"applied"`
	// DF is the degrees of freedom of the t reference (Steps − 1); 0 when the
	// normal distribution was used.
	DF int `json:"df,omitempty"`
	// Method names the stratified statistic.
	Method string `json:"method"`
}

// stratum is one step's score contribution and its null variance.
type stratum struct{ s, v float64 }

// clusterTest combines the steps' contributions. ok is false when no step is
// informative. z is the standardized statistic (positive: canary higher).
func clusterTest(st []stratum, alt Alternative, method string) (z, p float64, d Dispersion, ok bool) {
	var S, V float64
	k := 0
	for _, x := range st {
		if x.v > 0 && finite(x.v) && finite(x.s) {
			S += x.s
			V += x.v
			k++
		}
	}
	d = Dispersion{Steps: k, Applied: 1, Method: method, TooFew: k < MinClusterSteps}
	if d.TooFew {
		d.MinSteps = MinClusterSteps
	}
	if k == 0 || !(V > 0) {
		return 0, 1, d, false
	}
	if !d.TooFew {
		phi, _ := pearsonDispersion(st)
		d.Estimate = num(phi)
		d.Applied = math.Max(1, phi)
		d.DF = k - 1
	}
	z = S / math.Sqrt(d.Applied*V)
	upper := func(z float64) float64 {
		if d.DF > 0 {
			return ptUpper(z, float64(d.DF))
		}
		return pnormUpper(z)
	}
	switch alt {
	case Less:
		p = upper(-z)
	case TwoSided:
		p = math.Min(1, 2*upper(math.Abs(z)))
	default:
		p = upper(z)
	}
	return z, clamp01(p), d, true
}

// pearsonDispersion is the Pearson dispersion of the informative strata
// around their common effect, Σ(S_t − β̂V_t)²/V_t / (K − 1), β̂ = ΣS_t/ΣV_t,
// and K; NaN with fewer than two informative strata.
func pearsonDispersion(st []stratum) (float64, int) {
	var S, V float64
	k := 0
	for _, x := range st {
		if x.v > 0 && finite(x.v) && finite(x.s) {
			S += x.s
			V += x.v
			k++
		}
	}
	if k < 2 || !(V > 0) {
		return math.NaN(), k
	}
	beta := S / V
	var x2 float64
	for _, x := range st {
		if x.v > 0 && finite(x.v) && finite(x.s) {
			r := x.s - beta*x.v
			x2 += r * r / x.v
		}
	}
	return x2 / float64(k-1), k
}

// proportionStrata are the Mantel–Haenszel terms of each step: S = x₁ −
// n₁X/N, V = n₁n₀X(N − X)/(N²(N − 1)). Steps without information (a side
// without requests, no errors or no successes) give V = 0.
func proportionStrata(canary, baseline []Counts) []stratum {
	out := make([]stratum, min(len(canary), len(baseline)))
	for i := range out {
		n1, x1 := canary[i].Requests, min(canary[i].Errors, canary[i].Requests)
		n0, x0 := baseline[i].Requests, min(baseline[i].Errors, baseline[i].Requests)
		N, X := n1+n0, x1+x0
		if !(n1 > 0 && n0 > 0 && X > 0 && X < N && N > 1) {
			continue
		}
		out[i] = stratum{s: x1 - n1*X/N, v: n1 * n0 * X * (N - X) / (N * N * (N - 1))}
	}
	return out
}

// bucketStrata are each step's Mann–Whitney U − n₁n₀/2 and its
// tie-corrected variance, from the step's cumulative bucket counts (raised to
// their running maximum).
func bucketStrata(canary, baseline [][]float64) []stratum {
	out := make([]stratum, min(len(canary), len(baseline)))
	for i := range out {
		c, b := canary[i], baseline[i]
		if len(c) != len(b) || len(c) == 0 {
			continue
		}
		var u, ties, below, prevC, prevB, n1, n0 float64
		for k := range c {
			cc, bb := math.Max(c[k], prevC), math.Max(b[k], prevB)
			ck, bk := cc-prevC, bb-prevB
			prevC, prevB = cc, bb
			u += ck * (below + bk/2)
			below += bk
			t := ck + bk
			ties += t*t*t - t
		}
		n1, n0 = prevC, prevB
		N := n1 + n0
		if !(n1 > 0 && n0 > 0 && N > 1) {
			continue
		}
		v := n1 * n0 / 12 * ((N + 1) - ties/(N*(N-1)))
		if !(v > 0) {
			continue
		}
		out[i] = stratum{s: u - n1*n0/2, v: v}
	}
	return out
}

// ptUpper is P(T > t) for Student's t with df degrees of freedom.
func ptUpper(t, df float64) float64 {
	x := df / (df + t*t)
	tail := 0.5 * betaInc(df/2, 0.5, x)
	if t < 0 {
		return 1 - tail
	}
	return tail
}

// betaInc is the regularized incomplete beta function I_x(a, b), by the
// continued fraction of Numerical Recipes (§6.4), accurate to ~1e-14.
func betaInc(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log(1-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		aa := fm * (b - fm) * x / ((qam + 2*fm) * (a + 2*fm))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + 2*fm) * (qap + 2*fm))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return h
}
