package flagger

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/fluxcd/flagger/pkg/metrics/observers"
	"github.com/fluxcd/flagger/pkg/metrics/providers"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	augurprom "github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/templates"
)

// observerFamily maps Flagger's observer types to augur's families.
var observerFamily = map[string]string{
	"AppMeshObserver": templates.ObserverAppMesh, "LinkerdObserver": templates.ObserverLinkerd,
	"IstioObserver": templates.ObserverIstio, "ContourObserver": templates.ObserverContour,
	"GlooObserver": templates.ObserverGloo, "NginxObserver": templates.ObserverNginx,
	"HttpObserver": templates.ObserverHTTP, "SkipperObserver": templates.ObserverSkipper,
	"TraefikObserver": templates.ObserverTraefik, "OsmObserver": templates.ObserverOSM,
	"KumaObserver": templates.ObserverKuma, "ApisixObserver": templates.ObserverAPISIX,
	"KnativeObserver": templates.ObserverKnative,
}

func flaggerProm(t *testing.T, address string) *providers.PrometheusProvider {
	t.Helper()
	p, err := providers.NewPrometheusProvider(flaggerv1.MetricTemplateProvider{Type: "prometheus", Address: address}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRenderObserversDirect renders every observer × builtin metric with
// generated models through Flagger's observers (captured on the wire of its
// own Prometheus provider) and through augur's templates, and requires the
// same query text.
func TestRenderObserversDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 1))
	srv := newCapture(t)
	factory := observers.Factory{Client: flaggerProm(t, srv.srv.URL)}
	providersByFamily := map[string]string{
		templates.ObserverAppMesh: "appmesh", templates.ObserverLinkerd: "linkerd", templates.ObserverIstio: "istio",
		templates.ObserverContour: "contour", templates.ObserverGloo: "gloo", templates.ObserverNginx: "nginx",
		templates.ObserverHTTP: "kubernetes", templates.ObserverSkipper: "skipper", templates.ObserverTraefik: "traefik",
		templates.ObserverOSM: "osm", templates.ObserverKuma: "kuma", templates.ObserverAPISIX: "apisix",
		templates.ObserverKnative: "knative",
	}
	n := count(t, 300)
	compared := 0
	for _, fam := range templates.Observers() {
		obs := factory.Observer(providersByFamily[fam])
		if got := observerFamily[reflect.TypeOf(obs).Elem().Name()]; got != fam {
			t.Fatalf("Flagger's observer for %q is %T, augur's family is %s", providersByFamily[fam], obs, fam)
		}
		for range n {
			m := flaggerv1.MetricTemplateModel{
				Name: name(r), Namespace: name(r), Target: name(r), Service: name(r), Ingress: name(r), Route: name(r),
				Interval: intervals[1+r.IntN(len(intervals)-1)],
			}
			am := templates.Model{Name: m.Name, Namespace: m.Namespace, Target: m.Target, Service: m.Service,
				Ingress: m.Ingress, Route: m.Route, Interval: m.Interval}
			for _, metric := range []string{templates.MetricRequestSuccessRate, templates.MetricRequestDuration} {
				var err error
				if metric == templates.MetricRequestSuccessRate {
					_, err = obs.GetRequestSuccessRate(m)
				} else {
					_, err = obs.GetRequestDuration(m)
				}
				if err != nil {
					t.Fatalf("%s/%s: Flagger: %v", fam, metric, err)
				}
				fq := srv.queries()
				text, err := templates.BuiltinQuery(fam, metric)
				if err != nil {
					t.Fatal(err)
				}
				out, err := templates.Render(fam+"/"+metric, text, templates.BuiltinModel(fam, am))
				if err != nil {
					t.Fatalf("%s/%s: augur: %v", fam, metric, err)
				}
				if len(fq) != 1 || fq[0] != templates.Collapse(out) {
					t.Fatalf("%s/%s model %+v:\nFlagger sent %q\naugur renders %q", fam, metric, m, fq, templates.Collapse(out))
				}
				compared++
			}
		}
	}
	t.Logf("%d builtin queries identical (13 observers × 2 metrics × %d models)", compared, n)
}

// TestRenderCanaries generates canaries (names with "-", "." and "_",
// 63-character names, Service targets, ingress/route refs set and unset,
// metric intervals 10s…1h, every provider and mesh provider) and compares,
// metric by metric, the query Flagger's own code puts on the wire (its
// observer or RenderQuery with its toMetricModel, through its Prometheus
// provider) with the query augur's engine plans and sends.
func TestRenderCanaries(t *testing.T) {
	r := rand.New(rand.NewPCG(seed(t), 2))
	fsrv, asrv := newCapture(t), newCapture(t)
	fprom := flaggerProm(t, fsrv.srv.URL)
	factory := observers.Factory{Client: fprom}
	reg := &metrics.Registry{}
	augurprom.Register(reg)
	n := count(t, 1000)
	compared := 0
	for i := range n {
		g := generate(r)
		fc, ac := decode(t, g)
		tmplQuery := inlineQuery(r, fc.GetAnalysis().Metrics[3].TemplateVariables)
		tmpl := analysis.MetricTemplate{
			Metadata: analysis.ObjectMeta{Name: "t", Namespace: "tmpl"},
			Spec:     analysis.MetricTemplateSpec{Provider: analysis.MetricTemplateProvider{Type: "prometheus", Address: asrv.srv.URL}, Query: tmplQuery},
		}
		// Flagger, in its order: builtin and inline metrics, then templates.
		sel := templates.ObserverFor(g.Mesh, fc.Spec.Provider, fc.Spec.TargetRef.Kind, fc.Spec.TargetRef.APIVersion)
		obs := factory.Observer(sel.Provider)
		var want []string
		var wantErr []bool
		for _, m := range fc.GetAnalysis().Metrics {
			if m.Interval == "" && m.TemplateRef == nil {
				m.Interval = fc.GetMetricInterval()
			}
			model := flaggerMetricModel(fc, m.Interval, m.TemplateVariables)
			var err error
			switch {
			case m.Name == "request-success-rate":
				_, err = obs.GetRequestSuccessRate(model)
			case m.Name == "request-duration":
				_, err = obs.GetRequestDuration(model)
			case m.Query != "":
				var q string
				q, err = observers.RenderQuery(m.Query, model)
				if err == nil {
					_, err = fprom.RunQuery(q)
				}
			default:
				continue
			}
			want, wantErr = appendResult(want, wantErr, fsrv, err)
		}
		for _, m := range fc.GetAnalysis().Metrics {
			if m.TemplateRef == nil {
				continue
			}
			q, err := observers.RenderQuery(tmplQuery, flaggerMetricModel(fc, m.Interval, m.TemplateVariables))
			if err == nil {
				_, err = fprom.RunQuery(q)
			}
			want, wantErr = appendResult(want, wantErr, fsrv, err)
		}

		eng, err := engine.New(engine.Options{Registry: reg, MeshProvider: g.Mesh, MetricsServer: asrv.srv.URL, Templates: engine.StaticTemplates{tmpl}})
		if err != nil {
			t.Fatal(err)
		}
		plans, err := eng.Plan(context.Background(), ac)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range plans {
			if p.Kind != analysis.KindQuery && p.Kind != analysis.KindTemplate && p.Observer != sel.Observer {
				t.Fatalf("case %d: augur's observer %s, Flagger's %T", i, p.Observer, obs)
			}
			got = append(got, p.Query)
		}
		if len(got) != len(want) {
			t.Fatalf("case %d %s: %d plans, Flagger ran %d queries", i, g.JSON, len(got), len(want))
		}
		for j := range want {
			if wantErr[j] != (plans[j].Err != nil) {
				t.Fatalf("case %d %s metric %s: Flagger error %v, augur %v", i, g.JSON, plans[j].Name, wantErr[j], plans[j].Err)
			}
			if !wantErr[j] && got[j] != want[j] {
				t.Fatalf("case %d (mesh %q) %s metric %s:\nFlagger sent %q\naugur plans  %q", i, g.Mesh, g.JSON, plans[j].Name, want[j], got[j])
			}
			compared++
		}
		// augur's provider puts the planned queries on the wire unchanged.
		eng.Evaluate(context.Background(), plans, time.Time{})
		sent := asrv.queries()
		var planned []string
		for _, p := range plans {
			if p.Err == nil {
				planned = append(planned, p.Query)
			}
		}
		slices.Sort(sent)
		slices.Sort(planned)
		if !slices.Equal(sent, planned) {
			t.Fatalf("case %d: augur sent %q, planned %q", i, sent, planned)
		}
	}
	t.Logf("%d metric queries identical over %d generated canaries", compared, n)
}

// appendResult records one Flagger metric: the query it sent, or that it
// failed before sending one.
func appendResult(want []string, wantErr []bool, srv *capture, err error) ([]string, []bool) {
	q := srv.queries()
	if err != nil && len(q) == 0 {
		return append(want, ""), append(wantErr, true)
	}
	return append(want, strings.Join(q, "\x00")), append(wantErr, false)
}
