package judges

import (
	"fmt"
	"math"
)

// The histogram judge's tail test.
//
// A rank test weighs every pair of observations alike, so a regression of the
// slowest 1% alone moves it little. Beside it the histogram judge tests the
// share of observations above a high bucket bound — the smallest finite
// bound above which at most TailShare of both sides' observations fall (the
// pooled p99's bucket bound) — as an error rate: an observation above the
// bound is an "error". With per-step buckets it is the Mantel–Haenszel test
// stratified by step and widened by the dispersion between steps, exactly as
// the error-rate judge (clusterTest); without steps the pooled
// two-proportion score test. The bound is chosen from the pooled counts,
// which do not depend on which side an observation came from, so under "no
// difference" the choice does not favour either side.
//
// The two p-values are combined by the weighted Bonferroni rule (Holm 1979;
// Benjamini & Hochberg 1997, "Multiple hypotheses testing with weights"):
// p = min(p_rank/RankWeight, p_tail/TailWeight), RankWeight + TailWeight = 1,
// so P(p < α) ≤ RankWeight·α + TailWeight·α = α whatever the dependence
// between the two tests. The component with the smaller weighted p-value is
// the one that fired.

const (
	// TailShare is the pooled share of observations above the tail bound:
	// the bound is at the pooled 99th percentile's bucket.
	TailShare = 0.01
	// RankWeight and TailWeight are the weighted Bonferroni weights of the
	// rank and tail tests: the rank test keeps most of alpha (it carries
	// shifts of the whole distribution), the tail test needs little (a tail
	// regression moves the share above the bound many-fold).
	RankWeight = 0.8
	TailWeight = 0.2
)

// Component is one test of a judge that combines several.
type Component struct {
	// Name is "rank" or "tail".
	Name string `json:"name"`
	// Method names the test.
	Method string `json:"method"`
	// Statistic is the component's statistic.
	Statistic *Statistic `json:"statistic,omitempty"`
	// PValue is the component's own p-value.
	PValue float64 `json:"pValue"`
	// Weight is its share of alpha (weighted Bonferroni).
	Weight float64 `json:"weight"`
	// Dispersion is the component's per-step analysis.
	Dispersion *Dispersion `json:"dispersion,omitempty"`
	// Tail holds the tail test's numbers.
	Tail *TailDetail `json:"tail,omitempty"`
	// Fired marks the component that decided a failure.
	Fired bool `json:"fired,omitempty"`
	// Higher says the canary is higher: slower, or more observations above
	// the bound.
	Higher bool `json:"higher,omitempty"`
}

// TailDetail is what the tail test compared.
type TailDetail struct {
	// Le is the bucket bound the shares are above.
	Le string `json:"le"`
	// Share is the targeted pooled share above the bound (TailShare).
	Share float64 `json:"share"`
	// CanaryAbove and BaselineAbove are the observations above the bound.
	CanaryAbove   float64 `json:"canaryAbove"`
	BaselineAbove float64 `json:"baselineAbove"`
	// CanaryCount and BaselineCount are all observations.
	CanaryCount   float64 `json:"canaryCount"`
	BaselineCount float64 `json:"baselineCount"`
}

// tailBound picks the index of the tail bound in the sorted, monotonic
// cumulative buckets of both sides: the smallest finite bound with at most
// TailShare of the pooled observations above it, else the largest finite
// bound. ok is false without a finite bound or without observations above
// the chosen one.
func tailBound(cb, bb []Bucket) (int, bool) {
	last := len(cb) - 1
	if last < 1 {
		return 0, false
	}
	total := cb[last].Count + bb[last].Count
	if !(total > 0) {
		return 0, false
	}
	k := last - 1
	for i := 0; i < last; i++ {
		if total-(cb[i].Count+bb[i].Count) <= TailShare*total {
			k = i
			break
		}
	}
	if !(total-(cb[k].Count+bb[k].Count) > 0) {
		return k, false
	}
	return k, true
}

// tailTest runs the tail component. cb and bb are the normalized cumulative
// buckets; cs and bs the per-step cumulative counts (nil without steps), in
// the same order of bounds.
func tailTest(cb, bb []Bucket, cs, bs [][]float64, alt Alternative) (Component, bool) {
	k, ok := tailBound(cb, bb)
	if !ok {
		return Component{}, false
	}
	last := len(cb) - 1
	n1, n0 := cb[last].Count, bb[last].Count
	x1, x0 := n1-cb[k].Count, n0-bb[k].Count
	comp := Component{
		Name:   "tail",
		Weight: TailWeight,
		Tail: &TailDetail{
			Le: formatLE(cb[k].UpperBound), Share: TailShare,
			CanaryAbove: x1, BaselineAbove: x0, CanaryCount: n1, BaselineCount: n0,
		},
	}
	if cs != nil {
		above := func(rows [][]float64) []Counts {
			out := make([]Counts, len(rows))
			for i, row := range rows {
				// Cumulative counts raised to their running maximum, as
				// bucketStrata reads them.
				var run, atK float64
				for j, v := range row {
					run = math.Max(run, v)
					if j == k {
						atK = run
					}
				}
				out[i] = Counts{Requests: run, Errors: run - atK}
			}
			return out
		}
		if z, p, d, ok := clusterTest(proportionStrata(above(cs), above(bs)), alt, "Mantel-Haenszel per step"); ok {
			comp.Method = fmt.Sprintf("share above le=%s, Mantel-Haenszel test stratified by step, variance widened by the dispersion between steps", comp.Tail.Le)
			comp.Statistic = &Statistic{Name: "z", Value: z}
			comp.PValue = p
			comp.Dispersion = &d
			comp.Higher = z > 0
			return comp, true
		}
		// No step with both sides and an observation above the bound on some
		// side: nothing to compare within steps, and nothing to fail on.
		return Component{}, false
	}
	pr, err := TwoProportions(Counts{Requests: n1, Errors: x1}, Counts{Requests: n0, Errors: x0}, ProportionOptions{Alternative: alt})
	if err != nil {
		return Component{}, false
	}
	comp.Method = fmt.Sprintf("share above le=%s, two-proportion score test on the window's counts", comp.Tail.Le)
	if pr.Z != nil {
		comp.Statistic = &Statistic{Name: "z", Value: *pr.Z}
	}
	comp.PValue = pr.PValue
	comp.Higher = pr.Difference > 0
	return comp, true
}

// weighted is the component's weighted Bonferroni p-value, p/weight.
func (c Component) weighted() float64 { return math.Min(1, c.PValue/c.Weight) }

// tailWords describes the tail test for a rule sentence.
func tailWords(c Component) string {
	t := c.Tail
	return fmt.Sprintf("%s vs %s above le=%s, tail p = %s%s", pct(t.CanaryAbove/t.CanaryCount), pct(t.BaselineAbove/t.BaselineCount),
		t.Le, g(c.PValue), dispersionWords(c.Dispersion))
}
