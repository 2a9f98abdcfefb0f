package flagger

import (
	"context"
	"net/http"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/fluxcd/flagger/pkg/metrics/observers"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	augurprom "github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/templates"
)

// TestPrometheusErrorText answers every query with an HTTP error and
// requires the error text in augur's observation (what its event quotes)
// to be the one Flagger's observer or provider returns, for every observer
// family's builtin metrics and for an inline query.
func TestPrometheusErrorText(t *testing.T) {
	srv := newCapture(t)
	srv.status = http.StatusInternalServerError
	fprom := flaggerProm(t, srv.srv.URL)
	factory := observers.Factory{Client: fprom}
	reg := &metrics.Registry{}
	augurprom.Register(reg)
	for _, provider := range []string{"istio", "linkerd", "appmesh", "contour", "gloo", "nginx", "kubernetes", "skipper", "traefik", "osm", "kuma", "apisix"} {
		t.Run(provider, func(t *testing.T) {
			fc := flaggerv1.Canary{}
			fc.Name, fc.Namespace = "podinfo", "test"
			fc.Spec.TargetRef.Name = "podinfo"
			model := flaggerMetricModel(&fc, "1m", nil)
			obs := factory.Observer(provider)
			_, fsr := obs.GetRequestSuccessRate(model)
			_, fd := obs.GetRequestDuration(model)
			_, fq := fprom.RunQuery("up")
			srv.take()

			ac := analysis.Canary{Metadata: analysis.ObjectMeta{Name: "podinfo", Namespace: "test"}, Spec: analysis.CanarySpec{
				Provider: provider, TargetRef: analysis.CrossNamespaceObjectReference{Kind: "Deployment", Name: "podinfo"},
				Analysis: &analysis.Analysis{Metrics: []analysis.Metric{
					{Name: templates.MetricRequestSuccessRate}, {Name: templates.MetricRequestDuration}, {Name: "inline", Query: "up"}}},
			}}
			eng, err := engine.New(engine.Options{Registry: reg, MetricsServer: srv.srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			plans, err := eng.Plan(context.Background(), &ac)
			if err != nil {
				t.Fatal(err)
			}
			got := eng.Evaluate(context.Background(), plans, time.Time{})
			srv.take()
			for i, want := range []error{fsr, fd, fq} {
				if want == nil || got[i].Err == nil {
					t.Fatalf("%s: Flagger %v, augur %+v", got[i].Metric, want, got[i].Err)
				}
				if got[i].Err.Message != want.Error() {
					t.Errorf("%s:\nFlagger %q\naugur   %q", got[i].Metric, want.Error(), got[i].Err.Message)
				}
				if got[i].Err.Detail == "" {
					t.Errorf("%s: augur's detail is empty", got[i].Metric)
				}
			}
		})
	}
}
