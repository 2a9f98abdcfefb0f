package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/service"
)

func newService(t *testing.T, fake *metricstest.Provider) *service.Service {
	t.Helper()
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return fake, nil })
	eng, err := engine.New(engine.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Options{Engine: eng, Now: func() time.Time { return time.Unix(1e9, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func canary() analysis.Canary {
	max := 5.0
	return analysis.Canary{
		Metadata: analysis.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: analysis.CanarySpec{
			TargetRef: analysis.CrossNamespaceObjectReference{Kind: "Deployment", Name: "podinfo"},
			Analysis: &analysis.Analysis{Interval: "1m", Threshold: 2, MaxWeight: 50, StepWeight: 10,
				Metrics: []analysis.Metric{{Name: "errors", Query: `sum(rate(errors{ns="{{ namespace }}"}[{{ interval }}]))`,
					ThresholdRange: &analysis.ThresholdRange{Max: &max}}}},
		},
	}
}

func TestDecide(t *testing.T) {
	fake := &metricstest.Provider{}
	fake.Set(`sum(rate(errors{ns="test"}[1m]))`, metricstest.Result{Value: 7})
	svc := newService(t, fake)
	ctx := context.Background()
	st := analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10}

	d, err := svc.Decide(ctx, service.DecideRequest{Canary: canary(), Status: st})
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != analysis.ActionHold || d.Status.FailedChecks != 1 {
		t.Errorf("queried value 7 > 5: got %s with %d failed checks", d.Action, d.Status.FailedChecks)
	}

	one := 1.0
	d, err = svc.Decide(ctx, service.DecideRequest{Canary: canary(), Status: st,
		Values: map[string]engine.Value{"errors": {Value: &one}}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != analysis.ActionAdvance || d.Status.CanaryWeight != 20 {
		t.Errorf("given value 1 ≤ 5: got %s at weight %d", d.Action, d.Status.CanaryWeight)
	}
}

func TestDecideRejectsBadRequests(t *testing.T) {
	svc := newService(t, &metricstest.Provider{})
	ctx := context.Background()
	noName := canary()
	noName.Metadata.Name = ""
	noTarget := canary()
	noTarget.Spec.TargetRef.Name = ""
	for name, req := range map[string]service.DecideRequest{
		"no name":       {Canary: noName},
		"no target":     {Canary: noTarget},
		"webhooks mode": {Canary: canary(), Webhooks: "sometimes"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := svc.Decide(ctx, req); !errors.Is(err, service.ErrBadRequest) {
				t.Errorf("got %v, want ErrBadRequest", err)
			}
		})
	}
}

func TestQueryOneMetric(t *testing.T) {
	fake := &metricstest.Provider{}
	fake.Set(`up{job="podinfo"}`, metricstest.Result{Value: 1})
	svc := newService(t, fake)
	min := 1.0
	resp, err := svc.Query(context.Background(), service.QueryRequest{Canary: canary(),
		Metric: &analysis.Metric{Name: "up", Query: `up{job="{{ target }}"}`, ThresholdRange: &analysis.ThresholdRange{Min: &min}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Checks) != 1 || !resp.Checks[0].Passed || resp.Checks[0].Query != `up{job="podinfo"}` {
		t.Fatalf("checks %+v", resp.Checks)
	}
	if _, err := svc.Query(context.Background(), service.QueryRequest{Canary: canary(), Metric: &analysis.Metric{}}); !errors.Is(err, service.ErrBadRequest) {
		t.Errorf("a metric without a name: got %v", err)
	}
}

// TestDecideMissingTemplate: without a cluster, a templateRef no request or
// file resolves is a bad request naming the Canary, metric and template,
// unless the request gives the metric's value (what-if: nothing is
// queried); with TemplatesInCluster it is Flagger's failed check.
func TestDecideMissingTemplate(t *testing.T) {
	c := canary()
	max := 5.0
	c.Spec.Analysis.Metrics = append(c.Spec.Analysis.Metrics, analysis.Metric{Name: "nf",
		TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "not-found"}, ThresholdRange: &analysis.ThresholdRange{Max: &max}})
	fake := &metricstest.Provider{}
	fake.Set(`sum(rate(errors{ns="test"}[1m]))`, metricstest.Result{Value: 1})
	st := analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10}
	ctx := context.Background()

	_, err := newService(t, fake).Decide(ctx, service.DecideRequest{Canary: c, Status: st})
	want := "canary test/podinfo: metric nf: MetricTemplate test/not-found not found"
	if !errors.Is(err, service.ErrBadRequest) || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("no cluster: %v, want a bad request containing %q", err, want)
	}
	two := 2.0
	d, err := newService(t, fake).Decide(ctx, service.DecideRequest{Canary: c, Status: st, Values: map[string]engine.Value{"nf": {Value: &two}}})
	if err != nil || d.Action != analysis.ActionAdvance {
		t.Errorf("with the metric's value: %v %v, want an advance", d.Action, err)
	}

	reg := &metrics.Registry{}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return fake, nil })
	eng, err := engine.New(engine.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Options{Engine: eng, TemplatesInCluster: true})
	if err != nil {
		t.Fatal(err)
	}
	d, err = svc.Decide(ctx, service.DecideRequest{Canary: c, Status: st})
	if err != nil || d.Action != analysis.ActionHold || d.Status.FailedChecks != 1 {
		t.Errorf("templates in a cluster: %v %+v %v, want Flagger's hold with a failed check", d.Action, d.Status, err)
	}
}
