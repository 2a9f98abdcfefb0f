package testfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics/recorded"
)

// benchSeries are 10 series of 1000 samples (10k samples): five source
// workloads of the podinfo canary, each answering 98 requests with 200 and 2
// with 404 every 15s, so the 404 share is exactly 2%.
func benchSeries() []recorded.SeriesInput {
	var out []recorded.SeriesInput
	for k := range 5 {
		for _, rc := range []struct{ code, values string }{{"200", "0+98x999"}, {"404", "0+2x999"}} {
			out = append(out, recorded.SeriesInput{
				Series: fmt.Sprintf(`istio_requests_total{reporter="destination", source_workload="s%d", destination_workload_namespace="test", destination_workload="podinfo", response_code="%s"}`, k, rc.code),
				Values: rc.values,
			})
		}
	}
	return out
}

// writeBenchFile writes a test file of 100 cases over 10k samples: each
// case either has its own 10k input series (sharedFile false) or reads one
// recorded 10k-sample file, and asserts three things.
func writeBenchFile(b *testing.B, sharedFile bool) string {
	b.Helper()
	dir := b.TempDir()
	manifests, err := filepath.Abs("../../examples/podinfo/manifests")
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "manifests: [%q]\ntests:\n", manifests)
	if sharedFile {
		store, err := recorded.LoadSeries(benchSeries(), time.Unix(0, 0), 15*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := recorded.WriteOpenMetrics(&buf, store.Series()); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "data.om"), buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		fmt.Fprintf(&sb, "  - name: case %d\n", i)
		if sharedFile {
			sb.WriteString("    input_file: data.om\n    start_timestamp: 0\n")
		} else {
			sb.WriteString("    interval: 15s\n    input_series:\n")
			for _, s := range benchSeries() {
				fmt.Fprintf(&sb, "      - series: '%s'\n        values: '%s'\n", s.Series, s.Values)
			}
		}
		fmt.Fprintf(&sb, `    metric_tests:
      - metric: not-found-percentage
        eval_time: %dm
        exp_value: 2
        tolerance: 0.000001
        exp_check: pass
      - metric: request-success-rate
        eval_time: %dm
        exp_check: pass
`, 10+i, 10+i)
	}
	path := filepath.Join(dir, "bench.test.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkRunFile parses, loads and runs a test file of 100 cases over
// 10k samples (see docs/benchmarks.md).
func BenchmarkRunFile(b *testing.B) {
	for _, bc := range []struct {
		name   string
		shared bool
	}{
		{"100-cases-each-10k-series-samples", false},
		{"100-cases-one-10k-sample-file", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := writeBenchFile(b, bc.shared)
			check := func(rep Report) {
				passed, failed, errored := rep.Counts()
				if passed != 100 || failed+errored != 0 {
					var out bytes.Buffer
					_ = WriteText(&out, &rep)
					b.Fatalf("%d passed, %d failed, %d errors:\n%s", passed, failed, errored, out.String())
				}
			}
			check(RunFiles(b.Context(), []string{path}, RunOptions{}))
			b.ReportAllocs()
			for b.Loop() {
				check(RunFiles(b.Context(), []string{path}, RunOptions{}))
			}
		})
	}
}

// BenchmarkParse measures Parse alone on the 100-case file with input
// series (notation expansion included).
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(writeBenchFile(b, false))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "bench.test.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}
