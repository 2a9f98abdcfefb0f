package argo

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
)

var update = flag.Bool("update", false, "rewrite golden files")

// t0 is the start of the recorded test data.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is the fixed time of StartedAt/FinishedAt in tests.
var clock = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

func series(labels map[string]string, value func(i int) float64) metrics.Series {
	s := metrics.Series{Labels: labels}
	for i := 0; i <= 40; i++ {
		s.Samples = append(s.Samples, metrics.Sample{T: t0.Add(time.Duration(i) * 15 * time.Second), V: value(i)})
	}
	return s
}

func constant(v float64) func(int) float64 { return func(int) float64 { return v } }

func rate(perSec float64) func(int) float64 {
	return func(i int) float64 { return perSec * 15 * float64(i) }
}

// testSeries is ten minutes of data: gauges for the query scenarios and
// Istio telemetry (200 req/s, 1 error/s, all requests 100–250 ms) for
// podinfo in namespace test.
func testSeries() []metrics.Series {
	istio := func(name string, kv ...string) map[string]string {
		l := map[string]string{
			"__name__": name, "reporter": "destination",
			"destination_workload_namespace": "test", "destination_workload": "podinfo",
		}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return l
	}
	return []metrics.Series{
		series(map[string]string{"__name__": "success_ratio", "namespace": "test", "app": "podinfo"}, constant(0.995)),
		series(map[string]string{"__name__": "success_ratio", "namespace": "test", "app": "broken"}, constant(0.9)),
		series(map[string]string{"__name__": "nan_gauge"}, constant(math.NaN())),
		series(map[string]string{"__name__": "inf_gauge"}, constant(math.Inf(1))),
		series(map[string]string{"__name__": "multi", "instance": "a"}, constant(1)),
		series(map[string]string{"__name__": "multi", "instance": "b"}, constant(2)),
		series(istio("istio_requests_total", "response_code", "200"), rate(200)),
		series(istio("istio_requests_total", "response_code", "500"), rate(1)),
		series(istio("istio_request_duration_milliseconds_bucket", "le", "100"), rate(0)),
		series(istio("istio_request_duration_milliseconds_bucket", "le", "250"), rate(201)),
		series(istio("istio_request_duration_milliseconds_bucket", "le", "+Inf"), rate(201)),
	}
}

// writeData writes testSeries as OpenMetrics text and returns the path.
func writeData(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.om")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := recorded.WriteOpenMetrics(f, testSeries()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// metric is an Argo metric with cfg as augur's plugin configuration.
func metric(t testing.TB, name string, cfg any, success, failure string) v1alpha1.Metric {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v1alpha1.Metric{
		Name: name, SuccessCondition: success, FailureCondition: failure,
		Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{PluginName: raw}},
	}
}

func analysisRun(ns string) *v1alpha1.AnalysisRun {
	return &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Name: "podinfo-abc123-2", Namespace: ns}}
}

func newProvider(t testing.TB) *Provider {
	t.Helper()
	p, err := New(Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// obj is a JSON object literal.
type obj = map[string]any
