package judges

import (
	"flag"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// near reports whether got is within tol of want (absolute).
func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol
}

func assertNear(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !near(got, want, tol) {
		t.Errorf("%s = %.12g, want %.12g (±%g)", what, got, want, tol)
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// enumerateU returns the exact null distribution of U for sizes m, n by
// enumerating every choice of the m ranks (out of m+n) held by x — an
// implementation independent of wilcoxDist.
func enumerateU(m, n int) []float64 {
	counts := make([]float64, m*n+1)
	var total float64
	var rec func(start, left, rankSum int)
	rec = func(start, left, rankSum int) {
		if left == 0 {
			counts[rankSum-m*(m+1)/2]++
			total++
			return
		}
		for r := start; r <= m+n-left+1; r++ {
			rec(r+1, left-1, rankSum+r)
		}
	}
	rec(1, m, 0)
	for i := range counts {
		counts[i] /= total
	}
	return counts
}

// allDiffs returns every x[i] − y[j], sorted.
func allDiffs(x, y []float64) []float64 {
	d := make([]float64, 0, len(x)*len(y))
	for _, a := range x {
		for _, b := range y {
			d = append(d, a-b)
		}
	}
	sort.Float64s(d)
	return d
}

// naiveRanks ranks v with midranks in O(N²), independently of rankSumStat.
func naiveRanks(v []float64) []float64 {
	r := make([]float64, len(v))
	for i, a := range v {
		less, equal := 0, 0
		for _, b := range v {
			switch {
			case b < a:
				less++
			case b == a:
				equal++
			}
		}
		r[i] = float64(less) + float64(equal+1)/2
	}
	return r
}

// rWdiff is R's wdiff(d, zq) from wilcox.test, written out naively.
func rWdiff(x, y []float64, d, zq float64, alt Alternative, correct bool) float64 {
	comb := make([]float64, 0, len(x)+len(y))
	for _, v := range x {
		comb = append(comb, v-d)
	}
	comb = append(comb, y...)
	r := naiveRanks(comb)
	m, n := float64(len(x)), float64(len(y))
	var sx float64
	for i := range x {
		sx += r[i]
	}
	dz := sx - m*(m+1)/2 - m*n/2
	// Tie groups of the combined sample.
	sorted := slices.Clone(comb)
	sort.Float64s(sorted)
	var ties float64
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	N := m + n
	sigma := math.Sqrt(m * n / 12 * ((N + 1) - ties/(N*(N-1))))
	corr := 0.0
	if correct {
		switch alt {
		case Greater:
			corr = 0.5
		case Less:
			corr = -0.5
		default:
			if dz > 0 {
				corr = 0.5
			} else if dz < 0 {
				corr = -0.5
			}
		}
	}
	return (dz-corr)/sigma - zq
}

// rRoot is R's root(zq): the range's end when wdiff does not change sign
// there, else a bisection (to 1e-12 relative, tighter than R's uniroot).
func rRoot(x, y []float64, zq float64, alt Alternative, correct bool) float64 {
	mumin := slices.Min(x) - slices.Max(y)
	mumax := slices.Max(x) - slices.Min(y)
	f := func(d float64) float64 { return rWdiff(x, y, d, zq, alt, correct) }
	if f(mumin) <= 0 {
		return mumin
	}
	if f(mumax) >= 0 {
		return mumax
	}
	lo, hi := mumin, mumax
	for i := 0; i < 200 && hi-lo > 1e-12*math.Max(1, math.Abs(lo)); i++ {
		mid := lo + (hi-lo)/2
		if f(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}

// newRand is the tests' seeded generator.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
