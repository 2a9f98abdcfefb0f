package judges

import (
	"math"
	"sort"
)

// pairDiffs answers order-statistic queries on the m·n pairwise differences
// x[i] − y[j] of two sorted samples without materialising them. Counting
// the differences ≤ d takes one O(m+n) merge. The k-th smallest difference
// is bracketed by such counts until at most about m+n candidates remain,
// which one more merge collects for a quickselect. The bracket narrows by
// probes from a stratified sample, then interpolation on the counts, with
// bisection (by value, then by the order of float64 values) as the
// fallback that bounds the work whatever the data: O((m+n)·log(mn)) per
// query, about ten merges in practice, instead of O(m·n).
type pairDiffs struct {
	x, y []float64 // sorted ascending
	buf  []float64 // scratch for the final selection
}

// countLE returns #{(i, j) : x[i] − y[j] ≤ d}, evaluating the same float64
// subtraction that defines the differences, so the count is exact for them.
func (p *pairDiffs) countLE(d float64) int {
	n := len(p.y)
	idx, count := 0, 0
	for _, xi := range p.x {
		// x[i] − y[j] decreases in j; the j with xi − y[j] ≤ d form a suffix
		// whose start moves right as x[i] grows.
		for idx < n && !(xi-p.y[idx] <= d) {
			idx++
		}
		count += n - idx
	}
	return count
}

// kth returns the k-th smallest pairwise difference, 1 ≤ k ≤ m·n.
func (p *pairDiffs) kth(k int) float64 {
	m, n := len(p.x), len(p.y)
	minD, maxD := p.x[0]-p.y[n-1], p.x[m-1]-p.y[0]
	cLo := p.countLE(minD)
	if cLo >= k {
		return minD
	}
	// The answer lies in (lo, hi]: cLo < k differences are ≤ lo, cHi ≥ k
	// are ≤ hi. Narrow the bracket until at most `limit` candidates remain.
	// Each round probes two points interpolated on the counts, just below
	// and just above where the k-th difference should be; a round that does
	// not halve the candidates is followed by bisection by value, then by
	// the order of float64 values. Every probe narrows the bracket, key
	// bisection halves a range of at most 2⁶⁴ keys, and at most log₂(mn)
	// rounds can halve the candidates, so the loop ends for any data.
	kl, kh := orderKey(minD), orderKey(maxD)
	cHi := m * n
	limit := max(m+n, 64)
	const grid = 128
	gx, gy := min(m, grid), min(n, grid)
	sample := cHi-cLo > 8*limit && m*n >= 16*gx*gy
	need := limit
	if sample {
		need = max(limit, gx*gy)
	}
	if cap(p.buf) < need {
		p.buf = make([]float64, 0, need)
	}
	mode := 0 // 0 interpolate, 1 value bisection, 2 key bisection
	probe := func(key uint64) {
		if key <= kl || key >= kh {
			return
		}
		if c := p.countLE(keyValue(key)); c >= k {
			kh, cHi = key, c
		} else {
			kl, cLo = key, c
		}
	}
	if sample {
		// First probes from a stratified sample: the differences of a
		// G×G grid of evenly spaced quantiles of x and y approximate the
		// distribution of all differences to about 1/G, so the sample's
		// order statistics at k/mn ± 2/G bracket the answer closely.
		buf := p.buf[:0]
		for a := range gx {
			xi := p.x[(2*a+1)*m/(2*gx)]
			for b := range gy {
				buf = append(buf, xi-p.y[(2*b+1)*n/(2*gy)])
			}
		}
		p.buf = buf
		frac, w := float64(k)/float64(m*n), 2.0/float64(min(gx, gy))
		last := len(buf) - 1
		i1 := min(max(int((frac-w)*float64(len(buf))), 0), last)
		i2 := min(max(int((frac+w)*float64(len(buf))), 0), last)
		v1 := selectKth(buf, i1)
		v2 := selectKth(buf, i2)
		probe(orderKey(v1))
		probe(orderKey(v2))
	}
	for kh-kl > 1 && cHi-cLo > limit {
		gap := cHi - cLo
		lo, hi := keyValue(kl), keyValue(kh)
		switch mode {
		case 0:
			w := limit / 4
			if f := float64(k-cLo-w) / float64(gap); f > 0 {
				if v := lo + (hi-lo)*f; !math.IsNaN(v) {
					probe(orderKey(v))
				}
			}
			// The first probe may have moved a bound: interpolate afresh.
			lo, hi = keyValue(kl), keyValue(kh)
			if f := float64(k-cLo+w) / float64(cHi-cLo); f < 1 {
				if v := lo + (hi-lo)*f; !math.IsNaN(v) {
					probe(orderKey(v))
				}
			}
		case 1:
			if v := lo/2 + hi/2; !math.IsNaN(v) && orderKey(v) > kl && orderKey(v) < kh {
				probe(orderKey(v))
			} else {
				probe(kl + (kh-kl)/2)
			}
		default:
			probe(kl + (kh-kl)/2)
		}
		if 2*(cHi-cLo) > gap {
			mode = min(mode+1, 2)
		} else {
			mode = 0
		}
	}
	if kh-kl <= 1 {
		return keyValue(kh) // no float64 lies strictly between the bounds
	}
	// Collect the cHi − cLo differences in (lo, hi] and select among them.
	lo, hi := keyValue(kl), keyValue(kh)
	buf := p.buf[:0]
	a, b := 0, 0 // first j with x[i]−y[j] ≤ hi, and with ≤ lo
	for _, xi := range p.x {
		for a < n && !(xi-p.y[a] <= hi) {
			a++
		}
		for b < n && !(xi-p.y[b] <= lo) {
			b++
		}
		for j := a; j < b; j++ {
			buf = append(buf, xi-p.y[j])
		}
	}
	p.buf = buf
	return selectKth(buf, k-cLo-1)
}

// selectKth returns the element that would be at index i if v were sorted,
// reordering v (iterative quickselect with median-of-three pivots).
func selectKth(v []float64, i int) float64 {
	lo, hi := 0, len(v)-1
	for hi > lo {
		if hi-lo < 16 {
			sort.Float64s(v[lo : hi+1])
			return v[i]
		}
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		l, r := lo, hi
		for l <= r {
			for v[l] < pivot {
				l++
			}
			for v[r] > pivot {
				r--
			}
			if l <= r {
				v[l], v[r] = v[r], v[l]
				l++
				r--
			}
		}
		switch {
		case i <= r:
			hi = r
		case i >= l:
			lo = l
		default:
			return v[i]
		}
	}
	return v[i]
}

// median returns the median of the pairwise differences (the Hodges–Lehmann
// estimate of the shift x − y). For an even count the upper middle value is
// the lower one again or the next larger difference, found in two merges.
func (p *pairDiffs) median() float64 {
	mn := len(p.x) * len(p.y)
	if mn%2 == 1 {
		return p.kth(mn/2 + 1)
	}
	a := p.kth(mn / 2)
	b := a
	if p.countLE(a) < mn/2+1 {
		b = p.nextAbove(a)
	}
	if a == b {
		return a
	}
	return a/2 + b/2
}

// nextAbove returns the smallest difference greater than d; there must be one.
func (p *pairDiffs) nextAbove(d float64) float64 {
	n := len(p.y)
	best := math.Inf(1)
	idx := 0
	for _, xi := range p.x {
		for idx < n && !(xi-p.y[idx] <= d) {
			idx++
		}
		// x[i] − y[j] > d exactly for j < idx; the smallest is at idx−1.
		if idx > 0 {
			best = math.Min(best, xi-p.y[idx-1])
		}
	}
	return best
}

// orderKey maps a non-NaN float64 to a uint64 with the same order.
func orderKey(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// keyValue inverts orderKey.
func keyValue(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// sortedCopy returns a sorted copy of v.
func sortedCopy(v []float64) []float64 {
	s := make([]float64, len(v))
	copy(s, v)
	sort.Float64s(s)
	return s
}
