package recorded

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
)

// benchSeries returns n counter series of m samples each, 15s apart.
func benchSeries(n, m int) []metrics.Series {
	start := time.Date(2026, 11, 1, 0, 0, 7, 500_000_000, time.UTC)
	out := make([]metrics.Series, n)
	for i := range out {
		samples := make([]metrics.Sample, m)
		v := 0.0
		for j := range samples {
			v += float64((i*31+j*17)%100 + 1)
			samples[j] = metrics.Sample{T: start.Add(time.Duration(j) * 15 * time.Second), V: v}
		}
		out[i] = metrics.Series{
			Labels:  map[string]string{"__name__": "bench_requests_total", "series": strconv.Itoa(i), "job": "bench", "code": "200"},
			Samples: samples,
		}
	}
	return out
}

// BenchmarkLoad1M loads one million samples in 100 series, from OpenMetrics
// text and from in-memory series.
func BenchmarkLoad1M(b *testing.B) {
	series := benchSeries(100, 10_000)
	var text bytes.Buffer
	if err := WriteOpenMetrics(&text, series); err != nil {
		b.Fatal(err)
	}
	b.Run("openmetrics", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(text.Len()))
		for b.Loop() {
			s, err := ParseOpenMetrics(text.Bytes())
			if err != nil || s.SampleCount() != 1_000_000 {
				b.Fatal(s, err)
			}
		}
	})
	b.Run("openmetrics-textparse-only", func(b *testing.B) {
		// The loader without its fast path (as before issue 15's parser).
		b.ReportAllocs()
		b.SetBytes(int64(text.Len()))
		for b.Loop() {
			s, err := parseTextparseOnly(text.Bytes())
			if err != nil || s.SampleCount() != 1_000_000 {
				b.Fatal(s, err)
			}
		}
	})
	b.Run("series", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := FromSeries(series)
			if err != nil || s.SampleCount() != 1_000_000 {
				b.Fatal(s, err)
			}
		}
	})
}

// BenchmarkInstantQuery runs Flagger-style instant queries on the podinfo
// dataset (132 series × 128 samples) and on one million samples.
func BenchmarkInstantQuery(b *testing.B) {
	podinfo, err := LoadOpenMetricsFile(filepath.Join("..", "..", "testdata", "podinfo", "healthy.om"))
	if err != nil {
		b.Fatal(err)
	}
	big, err := FromSeries(benchSeries(100, 10_000))
	if err != nil {
		b.Fatal(err)
	}
	podinfoAt := time.Date(2026, 11, 1, 10, 15, 0, 0, time.UTC)
	tests := []struct {
		name  string
		store *Store
		query string
		at    time.Time
	}{
		{"podinfo/success-rate", podinfo, `sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo",response_code!~"5.*"}[1m])) / sum(rate(istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo"}[1m])) * 100`, podinfoAt},
		{"podinfo/p99", podinfo, `histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="test",destination_workload=~"podinfo"}[30s])) by (le))`, podinfoAt},
		{"1M/sum-rate-all-series", big, `sum(rate(bench_requests_total[5m]))`, big.End()},
		{"1M/sum-rate-every-sample", big, `sum(rate(bench_requests_total[2d]))`, big.End()},
		{"1M/one-series", big, `rate(bench_requests_total{series="42"}[5m])`, big.End()},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			p := New(tt.store, Options{})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Query(ctx, tt.query, tt.at); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadPodinfo loads one committed podinfo dataset (4.4 MB of text,
// 132 series × 128 samples).
func BenchmarkLoadPodinfo(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "podinfo", "healthy.om"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseOpenMetrics(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScaleLoad loads the file named by $AUGUR_SCALE_DATA (the 24-hour
// dataset of scripts/scale-bench.sh; skipped without it) and reports the
// heap the loaded store keeps per sample, labels and chunks included.
func BenchmarkScaleLoad(b *testing.B) {
	path := os.Getenv("AUGUR_SCALE_DATA")
	if path == "" {
		b.Skip("set AUGUR_SCALE_DATA to an OpenMetrics file (scripts/scale-bench.sh generates one)")
	}
	var s *Store
	for b.Loop() {
		s = nil
		var err error
		if s, err = LoadOpenMetricsFile(path); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	s = nil
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := LoadOpenMetricsFile(path)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(s.SampleCount()), "resident-B/sample")
	b.ReportMetric(float64(s.ChunkBytes())/float64(s.SampleCount()), "chunk-B/sample")
	b.ReportMetric(float64(s.SampleCount()), "samples")
	runtime.KeepAlive(s)
}

// BenchmarkScaleLoadTextparseOnly loads the file named by $AUGUR_SCALE_DATA
// without the fast path (read whole: textparse needs the text in one
// piece), for the ratio with BenchmarkScaleLoad in the same run.
func BenchmarkScaleLoadTextparseOnly(b *testing.B) {
	path := os.Getenv("AUGUR_SCALE_DATA")
	if path == "" {
		b.Skip("set AUGUR_SCALE_DATA to an OpenMetrics file (scripts/scale-bench.sh generates one)")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parseTextparseOnly(data); err != nil {
			b.Fatal(err)
		}
	}
}
