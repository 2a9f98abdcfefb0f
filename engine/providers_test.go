package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics/metricstest"
)

// TestProvidersOnline pins the initialising tick's first event, Flagger's
// checkMetricProviderAvailability: builtin metrics probe the metrics server
// with vector(1), templateRef metrics their template's provider, inline
// queries nothing; the first failure is the event, in Flagger's words; the
// canary initialises either way; given values query nothing (compat
// TestSchedulerScenarios runs the same against Flagger's controller).
func TestProvidersOnline(t *testing.T) {
	builtin := analysis.Metric{Name: "request-success-rate", ThresholdRange: &analysis.ThresholdRange{Min: ptr(99.0)}}
	tmpl := analysis.Metric{Name: "errors", TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "errors"}, Threshold: 1}
	inline := analysis.Metric{Name: "inline", Query: "up", Threshold: 1}
	templates := engine.StaticTemplates{{
		Metadata: analysis.ObjectMeta{Name: "errors", Namespace: "test"},
		Spec:     analysis.MetricTemplateSpec{Provider: analysis.MetricTemplateProvider{Type: "prometheus", Address: "http://t"}, Query: "errors"},
	}}
	tests := []struct {
		name    string
		metrics []analysis.Metric
		probe   metricstest.Result
		values  map[string]engine.Value
		want    string
		probes  int
	}{
		{"every provider answers", []analysis.Metric{builtin, tmpl}, metricstest.Result{Value: 1}, nil,
			"Normal: all the metrics providers are available!", 2},
		{"inline queries are not probed", []analysis.Metric{inline}, metricstest.Result{Err: errors.New("down")}, nil,
			"Normal: all the metrics providers are available!", 0},
		{"the metrics server fails", []analysis.Metric{builtin, tmpl}, metricstest.Result{Err: errors.New("connection refused")}, nil,
			"Warning: Error checking metric providers: prometheus not avaiable: running query failed: connection refused", 1},
		{"a template's provider answers something else", []analysis.Metric{tmpl}, metricstest.Result{Value: 0}, nil,
			"Warning: Error checking metric providers: prometheus in metric template errors.test not avaiable: value is not 1 for query: vector(1)", 1},
		{"a missing template", []analysis.Metric{{Name: "x", TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "nope"}}}, metricstest.Result{Value: 1}, nil,
			"Warning: Error checking metric providers: metric template nope.test error: ", 0},
		{"given values query nothing", []analysis.Metric{builtin}, metricstest.Result{Err: errors.New("down")}, map[string]engine.Value{"request-success-rate": {Value: ptr(99.5)}},
			"Normal: all the metrics providers are available!", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &metricstest.Provider{}
			fake.Set("vector(1)", tt.probe)
			eng, err := engine.New(engine.Options{Registry: fakeRegistry(fake), Templates: templates, MetricsServer: "http://prom"})
			if err != nil {
				t.Fatal(err)
			}
			c := canaryWith(0)
			c.Spec.Analysis.Metrics = tt.metrics
			d, err := eng.Tick(context.Background(), engine.TickRequest{Canary: c, Values: tt.values})
			if err != nil {
				t.Fatal(err)
			}
			if d.Status.Phase != analysis.PhaseInitialized || len(d.Events) != 2 {
				t.Fatalf("phase %s, events %+v: want Initialized with two events", d.Status.Phase, d.Events)
			}
			got := string(d.Events[0].Type) + ": " + d.Events[0].Message
			if len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
				t.Errorf("first event %q, want it to start with %q", got, tt.want)
			}
			if n := len(fake.Calls()); n != tt.probes {
				t.Errorf("%d probe queries, want %d", n, tt.probes)
			}
		})
	}
}
