package judges

import (
	"math"
	"testing"
)

// kth must agree with sorting all m·n differences, across the code paths:
// small inputs (bisection only), large ones (grid-sample first probes),
// heavy ties, wide dynamic range and signed zeros.
func TestPairDiffsKth(t *testing.T) {
	r := newRand(5)
	gen := map[string]func(n int, shift float64) []float64{
		"normal": func(n int, shift float64) []float64 {
			v := make([]float64, n)
			for i := range v {
				v[i] = shift + 10*r.NormFloat64()
			}
			return v
		},
		"ties": func(n int, shift float64) []float64 {
			v := make([]float64, n)
			for i := range v {
				v[i] = shift + float64(r.IntN(4))
			}
			return v
		},
		"wide range": func(n int, shift float64) []float64 {
			v := make([]float64, n)
			for i := range v {
				v[i] = math.Copysign(math.Pow(10, 60*r.Float64()-30), r.NormFloat64()) + shift
			}
			return v
		},
		"zeros": func(n int, _ float64) []float64 {
			v := make([]float64, n)
			for i := range v {
				if r.IntN(2) == 0 {
					v[i] = math.Copysign(0, -1)
				}
			}
			return v
		},
	}
	for name, g := range gen {
		for _, size := range [][2]int{{1, 1}, {3, 7}, {40, 25}, {600, 700}} {
			x, y := sortedCopy(g(size[0], 1)), sortedCopy(g(size[1], 0))
			all := allDiffs(x, y)
			p := &pairDiffs{x: x, y: y}
			mn := len(all)
			for _, k := range []int{1, 2, mn / 100, mn / 2, mn/2 + 1, mn - mn/100, mn - 1, mn} {
				if k < 1 || k > mn {
					continue
				}
				if got := p.kth(k); got != all[k-1] {
					t.Fatalf("%s %v: kth(%d) = %v, want %v", name, size, k, got, all[k-1])
				}
			}
		}
	}
}

func TestSelectKth(t *testing.T) {
	r := newRand(6)
	for trial := range 200 {
		n := 1 + r.IntN(300)
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(r.IntN(1 + trial%50))
		}
		want := sortedCopy(v)
		i := r.IntN(n)
		if got := selectKth(v, i); got != want[i] {
			t.Fatalf("selectKth(%d) = %v, want %v", i, got, want[i])
		}
	}
}
