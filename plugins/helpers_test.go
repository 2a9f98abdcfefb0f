package plugins

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/service"
)

var update = flag.Bool("update", false, "rewrite golden files")

// t0 is the start of the recorded test data.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// podinfoSeries is ten minutes of Istio telemetry for podinfo in namespace
// test at 15s resolution: 200 req/s, errPerSec 5xx req/s, and a latency
// histogram whose requests all take between 100 and 250 ms.
func podinfoSeries(errPerSec float64) []metrics.Series {
	base := map[string]string{
		"reporter":                       "destination",
		"destination_workload_namespace": "test",
		"destination_workload":           "podinfo",
	}
	with := func(name string, extra ...string) map[string]string {
		l := map[string]string{"__name__": name}
		for k, v := range base {
			l[k] = v
		}
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	counter := func(labels map[string]string, perSec float64) metrics.Series {
		s := metrics.Series{Labels: labels}
		for i := 0; i <= 40; i++ {
			s.Samples = append(s.Samples, metrics.Sample{T: t0.Add(time.Duration(i) * 15 * time.Second), V: perSec * 15 * float64(i)})
		}
		return s
	}
	total := 200 + errPerSec
	return []metrics.Series{
		counter(with("istio_requests_total", "response_code", "200"), 200),
		counter(with("istio_requests_total", "response_code", "500"), errPerSec),
		counter(with("istio_request_duration_milliseconds_bucket", "le", "100"), 0),
		counter(with("istio_request_duration_milliseconds_bucket", "le", "250"), total),
		counter(with("istio_request_duration_milliseconds_bucket", "le", "+Inf"), total),
	}
}

// writeData writes series as OpenMetrics text into dir and returns the path.
func writeData(t testing.TB, dir string, series []metrics.Series) string {
	t.Helper()
	path := filepath.Join(dir, "data.om")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := recorded.WriteOpenMetrics(f, series); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// newService builds the service `augur plugin --data path` builds: every
// prometheus provider reads the recorded data, evaluated at its end.
func newService(t testing.TB, path string) *service.Service {
	t.Helper()
	store, err := recorded.LoadOpenMetricsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := recorded.New(store, recorded.Options{})
	reg := &metrics.Registry{}
	reg.Register(engine.PrometheusType, func(metrics.Config) (metrics.Provider, error) { return p, nil })
	eng, err := engine.New(engine.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Options{Engine: eng, DefaultAt: store.End})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func ptr[T any](v T) *T { return &v }

// podinfoCanary is Flagger's podinfo walkthrough canary with both builtin
// metrics and a MetricTemplate metric.
func podinfoCanary() analysis.Canary {
	return analysis.Canary{
		APIVersion: analysis.APIVersion, Kind: analysis.KindCanary,
		Metadata: analysis.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: analysis.CanarySpec{
			TargetRef: analysis.CrossNamespaceObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis: &analysis.Analysis{
				Interval: "1m", Threshold: 5, MaxWeight: 50, StepWeight: 10,
				Metrics: []analysis.Metric{
					{Name: analysis.MetricRequestSuccessRate, Interval: "1m", ThresholdRange: &analysis.ThresholdRange{Min: ptr(99.0)}},
					{Name: analysis.MetricRequestDuration, Interval: "1m", ThresholdRange: &analysis.ThresholdRange{Max: ptr(500.0)}},
					{Name: "error-rate", Interval: "1m", ThresholdRange: &analysis.ThresholdRange{Max: ptr(1.0)},
						TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "error-rate", Namespace: "test"}},
				},
			},
		},
	}
}

func errorRateTemplate() analysis.MetricTemplate {
	return analysis.MetricTemplate{
		APIVersion: analysis.APIVersion, Kind: analysis.KindMetricTemplate,
		Metadata: analysis.ObjectMeta{Name: "error-rate", Namespace: "test"},
		Spec: analysis.MetricTemplateSpec{
			Provider: analysis.MetricTemplateProvider{Type: "prometheus", Address: "http://prometheus.istio-system:9090"},
			Query: `100 - sum(rate(istio_requests_total{destination_workload_namespace="{{ namespace }}",` +
				`destination_workload="{{ target }}",response_code!~"5.*"}[{{ interval }}])) / ` +
				`sum(rate(istio_requests_total{destination_workload_namespace="{{ namespace }}",destination_workload="{{ target }}"}[{{ interval }}])) * 100`,
		},
	}
}

// decideRequest is a Progressing canary at 10% asking for its next tick.
func decideRequest() service.DecideRequest {
	return service.DecideRequest{
		Canary:          podinfoCanary(),
		MetricTemplates: []analysis.MetricTemplate{errorRateTemplate()},
		Status:          analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10},
		Webhooks:        service.WebhooksPass,
	}
}

// blocking is an Analyzer that waits for its context and reports how it ended.
type blocking struct{ done chan ended }

// ended is how a handler's context ended.
type ended struct {
	err         error
	hasDeadline bool
	deadline    time.Time
}

func (b blocking) wait(ctx context.Context) error {
	<-ctx.Done()
	dl, ok := ctx.Deadline()
	b.done <- ended{err: ctx.Err(), hasDeadline: ok, deadline: dl}
	return fmt.Errorf("blocked until: %w", ctx.Err())
}

func (b blocking) Decide(ctx context.Context, _ service.DecideRequest) (analysis.Decision, error) {
	return analysis.Decision{}, b.wait(ctx)
}

func (b blocking) Query(ctx context.Context, _ service.QueryRequest) (service.QueryResponse, error) {
	return service.QueryResponse{}, b.wait(ctx)
}
