package judges

import (
	"fmt"
	"testing"
)

func benchSamples(n int, shift float64, seed uint64) []float64 {
	r := newRand(seed)
	v := make([]float64, n)
	for i := range v {
		v[i] = 100 + shift + 15*r.NormFloat64()
	}
	return v
}

// BenchmarkJudgeMannWhitney is one metric through Kayenta's classifier:
// NaN handling, IQR outlier filter, rank-sum test, Hodges–Lehmann estimate
// and 98% interval without materialising the n² differences.
func BenchmarkJudgeMannWhitney(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		in := samples(benchSamples(n, 3, 1), benchSamples(n, 0, 2))
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Judge(Config{}, in)
			}
		})
	}
}

func BenchmarkRankSum(b *testing.B) {
	for _, tc := range []struct {
		n      int
		method Method
	}{{40, MethodExact}, {10000, MethodNormal}} {
		x, y := benchSamples(tc.n, 3, 3), benchSamples(tc.n, 0, 4)
		b.Run(fmt.Sprintf("n=%d/%s", tc.n, tc.method), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := RankSum(x, y, RankSumOptions{Method: tc.method}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkJudgeHistogram(b *testing.B) {
	r := newRand(5)
	in := histInput(simulateLatency(r, 2250, 1.1, promBuckets), simulateLatency(r, 2250, 1, promBuckets))
	b.ReportAllocs()
	for b.Loop() {
		Judge(Config{Judge: KindHistogram}, in)
	}
}

func BenchmarkJudgeSequential(b *testing.B) {
	in := counts(15000, 148, 15000, 151)
	cfg := Config{Judge: KindSequential, Margin: 0.005}
	b.ReportAllocs()
	for b.Loop() {
		Judge(cfg, in)
	}
}

func BenchmarkScore(b *testing.B) {
	var results []Result
	for i := range 50 {
		results = append(results, res(fmt.Sprint("m", i), fmt.Sprint("g", i%5), nil, []Classification{ClassPass, ClassHigh, ClassNodata}[i%3], false, false))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Score(ScoreConfig{}, results); err != nil {
			b.Fatal(err)
		}
	}
}
