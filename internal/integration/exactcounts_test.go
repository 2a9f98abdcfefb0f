package integration

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
)

// TestIntegrationExactCounts reads the judges' exact counts — each
// counter's increase from its raw samples, per step — from a real
// Prometheus holding a recorded dataset and from the same file evaluated by
// the embedded engine: both must give the same whole numbers for requests,
// 5xx and every bucket, at 1m and 30s steps and windows off the scrape grid.
func TestIntegrationExactCounts(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	file := filepath.Join(root, podinfoDir, "latency-regression.om")
	srv := startServer(t, root, file)
	live, err := prometheus.New(metrics.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	embedded := recorded.New(loadStore(t, file), recorded.Options{})
	sel := func(target, extra string) string {
		return fmt.Sprintf(`reporter="destination",destination_workload_namespace="test",destination_workload=~"%s"%s`, target, extra)
	}
	var queries []string
	for _, target := range []string{"podinfo", "podinfo-primary"} {
		queries = append(queries,
			`sum(increase(istio_requests_total{`+sel(target, "")+`}[1m]))`,
			`sum(increase(istio_requests_total{`+sel(target, `,response_code=~"5.*"`)+`}[1m]))`,
			`sum by (le) (increase(istio_request_duration_milliseconds_bucket{`+sel(target, "")+`}[1m]))`,
			`sum(increase(istio_request_duration_milliseconds_sum{`+sel(target, "")+`}[1m]))`)
	}
	checked := 0
	for _, step := range []time.Duration{time.Minute, 30 * time.Second} {
		// Windows and their 5m lookback inside the recording (it begins
		// at 09:58:07; before that the embedded provider takes the first
		// samples as starting values, a live server cannot know).
		for _, end := range []time.Time{windowStart.Add(16 * time.Minute), windowStart.Add(17*time.Minute + 7*time.Second), windowEnd} {
			start := end.Add(-10 * step)
			for _, q := range queries {
				a, err := engine.ExactCounts(t.Context(), live, q, start, end, step)
				if err != nil {
					t.Fatalf("real Prometheus: %v", err)
				}
				b, err := engine.ExactCounts(t.Context(), embedded, q, start, end, step)
				if err != nil {
					t.Fatalf("embedded: %v", err)
				}
				if diff := cmp.Diff(b, a); diff != "" {
					t.Fatalf("%s over (%s, %s] step %s: counts differ (-embedded +server):\n%s", q, start, end, step, diff)
				}
				if len(a) == 0 {
					t.Fatalf("%s: no data", q)
				}
				for _, s := range a {
					for _, p := range s.Samples {
						if p.V < 0 {
							t.Fatalf("%s: negative count %v", q, p.V)
						}
						checked++
					}
				}
			}
		}
	}
	t.Logf("%d per-step counts agree between the real Prometheus and the embedded engine", checked)
}
