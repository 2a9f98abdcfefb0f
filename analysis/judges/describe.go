package judges

import (
	"math"
	"slices"
)

// mean returns the arithmetic mean of v (NaN for an empty slice). It sums
// with compensation so 10⁴ similar values keep full precision.
func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var sum, c float64
	for _, x := range v {
		y := x - c
		t := sum + y
		c = (t - sum) - y
		sum = t
	}
	return sum / float64(len(v))
}

// variance returns the unbiased sample variance of v (NaN below two values).
func variance(v []float64) float64 {
	if len(v) < 2 {
		return math.NaN()
	}
	mu := mean(v)
	var ss float64
	for _, x := range v {
		d := x - mu
		ss += d * d
	}
	return ss / float64(len(v)-1)
}

// medianSorted returns the median of a sorted slice (NaN when empty).
func medianSorted(s []float64) float64 {
	n := len(s)
	switch {
	case n == 0:
		return math.NaN()
	case n%2 == 1:
		return s[n/2]
	}
	return s[n/2-1]/2 + s[n/2]/2
}

// percentileSorted is Apache Commons Math's default (legacy) percentile,
// the one Kayenta's StatUtils.percentile uses: position p·(n+1)/100 with
// linear interpolation, clamped to the minimum below position 1 and to the
// maximum at or beyond position n. s is sorted and non-empty; p in (0, 100].
func percentileSorted(s []float64, p float64) float64 {
	n := len(s)
	if n == 1 {
		return s[0]
	}
	pos := p * float64(n+1) / 100
	if pos < 1 {
		return s[0]
	}
	if pos >= float64(n) {
		return s[n-1]
	}
	f := math.Floor(pos)
	lo, hi := s[int(f)-1], s[int(f)]
	return lo + (pos-f)*(hi-lo)
}

// iqrFences returns Kayenta's IQRDetector fences with reduceSensitivity on
// (the NetflixACAJudge setting): the Tukey fences Q1 − k·IQR and
// Q3 + k·IQR, widened to the 1st and 99th percentiles when those lie
// further out. With Apache's percentile definition the 1st/99th percentiles
// are the minimum and maximum below 99 points, so small samples lose
// nothing.
func iqrFences(sorted []float64, k float64) (lo, hi float64) {
	q1 := percentileSorted(sorted, 25)
	q3 := percentileSorted(sorted, 75)
	iqr := q3 - q1
	lo, hi = q1-k*iqr, q3+k*iqr
	lo = math.Min(lo, percentileSorted(sorted, 1))
	hi = math.Max(hi, percentileSorted(sorted, 99))
	return lo, hi
}

// cleaned is one side's samples after the NaN strategy and the outlier
// filter, sorted, with what was done.
type cleaned struct {
	values   []float64 // sorted
	nans     int
	outliers int
}

// clean applies the NaN strategy (to NaN and ±Inf alike) and, when factor
// > 0, Kayenta's outlier filter, in Kayenta's order.
func clean(v []float64, strategy NaNStrategy, factor float64) cleaned {
	out := make([]float64, 0, len(v))
	var c cleaned
	for _, x := range v {
		if finite(x) {
			out = append(out, x)
			continue
		}
		c.nans++
		if strategy == NaNReplace {
			out = append(out, 0)
		}
	}
	slices.Sort(out)
	if factor > 0 && len(out) > 0 {
		lo, hi := iqrFences(out, factor)
		kept := out[:0]
		for _, x := range out {
			if x < lo || x > hi {
				c.outliers++
				continue
			}
			kept = append(kept, x)
		}
		out = kept
	}
	c.values = out
	return c
}

// describe fills a Side from sorted samples.
func describe(c cleaned) Side {
	return Side{
		Count:    float64(len(c.values)),
		Mean:     num(mean(c.values)),
		Median:   num(medianSorted(c.values)),
		NaNs:     c.nans,
		Outliers: c.outliers,
	}
}
