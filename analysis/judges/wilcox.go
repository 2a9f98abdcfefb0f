package judges

// ExactLimit is R's threshold for the exact rank-sum distribution:
// wilcox.test uses it when both samples have fewer than ExactLimit values
// and there are no ties.
const ExactLimit = 50

// wilcoxDist returns P(U = k), k = 0…m·n, for the Mann–Whitney statistic U
// of samples of sizes m and n under the null hypothesis (every ordering of
// the m+n values equally likely).
//
// It uses the recurrence on the largest of the i+j values: it belongs to
// the first sample with probability i/(i+j), adding j to U, else to the
// second, adding nothing:
//
//	p(i,j)(k) = i/(i+j)·p(i−1,j)(k−j) + j/(i+j)·p(i,j−1)(k)
//
// Every step is a convex combination, so there is no cancellation and the
// small tail probabilities keep full relative precision. Cost O(m²n²/4).
func wilcoxDist(m, n int) []float64 {
	// Row i holds the distributions for (i, j), j = 0…n, back to back in one
	// arena: (i, j) has i·j+1 entries starting at off(i, j). Two arenas are
	// swapped between rows.
	off := func(i, j int) int { return i*j*(j-1)/2 + j }
	size := func(i int) int { return off(i, n+1) }
	prev := make([]float64, size(m))
	cur := make([]float64, size(m))
	for j := 0; j <= n; j++ {
		prev[off(0, j)] = 1 // i = 0: U = 0.
	}
	for i := 1; i <= m; i++ {
		clear(cur[:size(i)])
		cur[0] = 1 // j = 0: U = 0.
		for j := 1; j <= n; j++ {
			d := cur[off(i, j) : off(i, j)+i*j+1]
			wx := float64(i) / float64(i+j)
			wy := float64(j) / float64(i+j)
			for k, p := range prev[off(i-1, j) : off(i-1, j)+(i-1)*j+1] { // (i−1, j): shift by j.
				d[k+j] += wx * p
			}
			for k, p := range cur[off(i, j-1) : off(i, j-1)+i*(j-1)+1] { // (i, j−1): no shift.
				d[k] += wy * p
			}
		}
		prev, cur = cur, prev
	}
	out := make([]float64, m*n+1)
	copy(out, prev[off(m, n):off(m, n)+m*n+1])
	return out
}

// pwilcox is P(U ≤ q) for the distribution d returned by wilcoxDist.
func pwilcox(d []float64, q int) float64 {
	if q < 0 {
		return 0
	}
	if q >= len(d)-1 {
		return 1
	}
	var s float64
	for k := 0; k <= q; k++ {
		s += d[k]
	}
	return clamp01(s)
}

// pwilcoxUpper is P(U ≥ q), summed from the upper tail for precision.
func pwilcoxUpper(d []float64, q int) float64 {
	if q <= 0 {
		return 1
	}
	var s float64
	for k := len(d) - 1; k >= q; k-- {
		s += d[k]
	}
	return clamp01(s)
}

// qwilcox is R's qwilcox(p, m, n): the smallest q with P(U ≤ q) ≥ p, with
// R's 10·ε fuzz and its summation from the nearer tail.
func qwilcox(d []float64, p float64) int {
	const eps = 2.220446049250313e-16
	mn := len(d) - 1
	var cum float64
	if p <= 0.5 {
		p -= 10 * eps
		for q := 0; q <= mn; q++ {
			cum += d[q]
			if cum >= p {
				return q
			}
		}
		return mn
	}
	p = 1 - p + 10*eps
	for q := 0; q <= mn; q++ {
		cum += d[q]
		if cum > p {
			return mn - q
		}
	}
	return 0
}
