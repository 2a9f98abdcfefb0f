package templates

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

var builtinMetrics = []string{MetricRequestSuccessRate, MetricRequestDuration}

func goldenPath(observer, metric string) string {
	return filepath.Join("testdata", "builtin", observer+"."+metric+".golden")
}

// TestBuiltinGolden renders every observer × metric with podinfo and
// compares the collapsed query, byte for byte, to its golden file.
func TestBuiltinGolden(t *testing.T) {
	for _, o := range Observers() {
		for _, m := range builtinMetrics {
			t.Run(o+"/"+m, func(t *testing.T) {
				text, err := BuiltinQuery(o, m)
				if err != nil {
					t.Fatal(err)
				}
				out, err := Render(o+"/"+m, text, BuiltinModel(o, podinfo))
				if err != nil {
					t.Fatal(err)
				}
				got := Collapse(out)
				path := goldenPath(o, m)
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
				}
			})
		}
	}
	// No stale golden files.
	files, err := filepath.Glob(filepath.Join("testdata", "builtin", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".golden")
		o, m, _ := strings.Cut(name, ".")
		if !slices.Contains(Observers(), o) || !slices.Contains(builtinMetrics, m) {
			t.Errorf("stale golden file %s", f)
		}
	}
}

// readBuiltinJSON decodes the verbatim query file directly, without the
// package's loader.
func readBuiltinJSON(t *testing.T) map[string]map[string]string {
	t.Helper()
	raw, err := os.ReadFile(builtinFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Observers map[string]map[string]string `json:"observers"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", builtinFile, err)
	}
	return doc.Observers
}

// TestBuiltinIndependent checks Render against a rendering that does not
// trust it: plain substitution of the variables in the verbatim JSON text,
// collapsed with Flagger's own regexp.
func TestBuiltinIndependent(t *testing.T) {
	all := readBuiltinJSON(t)
	var names []string
	for o, metrics := range all {
		names = append(names, o)
		var got []string
		for m := range metrics {
			got = append(got, m)
		}
		slices.Sort(got)
		if want := []string{MetricRequestDuration, MetricRequestSuccessRate}; !slices.Equal(got, want) {
			t.Errorf("observer %s has metrics %v, want %v", o, got, want)
		}
	}
	slices.Sort(names)
	want := Observers()
	slices.Sort(want)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("observers in %s (-Observers() +file):\n%s", builtinFile, diff)
	}

	simple := strings.NewReplacer(
		"{{ name }}", podinfo.Name, "{{ namespace }}", podinfo.Namespace, "{{ target }}", podinfo.Target,
		"{{ service }}", podinfo.Service, "{{ ingress }}", podinfo.Ingress, "{{ route }}", podinfo.Route,
		"{{ interval }}", podinfo.Interval,
	)
	// Skipper derives $route with printf; substitute it by hand.
	// Its model is encoded (Flagger's encodeModelForSkipper): "-" becomes "_".
	enc := func(s string) string { return strings.ReplaceAll(s, "-", "_") }
	skipperRoute := fmt.Sprintf("kube(ew)?_%s__%s_canary__.*__%s_canary(_[0-9]+)?", enc(podinfo.Namespace), enc(podinfo.Ingress), enc(podinfo.Service))
	skipper := strings.NewReplacer(
		`{{- $route := printf "kube(ew)?_%s__%s_canary__.*__%s_canary(_[0-9]+)?" namespace ingress service }}`, "",
		"{{ $route }}", skipperRoute,
		"{{ interval }}", podinfo.Interval,
	)
	count := 0
	for o, metrics := range all {
		for m, text := range metrics {
			count++
			t.Run(o+"/"+m, func(t *testing.T) {
				expect := simple.Replace(text)
				if o == ObserverSkipper {
					expect = skipper.Replace(text)
				}
				if strings.Contains(expect, "{{") || strings.Contains(expect, "}}") {
					t.Fatalf("template uses more than the simple variables: %q", expect)
				}
				expect = flaggerSpace.ReplaceAllString(expect, " ")
				out, err := Render(o+"/"+m, text, BuiltinModel(o, podinfo))
				if err != nil {
					t.Fatal(err)
				}
				if got := Collapse(out); got != expect {
					t.Errorf("rendered\n%q\nsubstituted\n%q", got, expect)
				}
			})
		}
	}
	if count != 26 {
		t.Errorf("%s holds %d queries, want 26", builtinFile, count)
	}
}

// TestBuiltinQuirks spot-checks the byte-level quirks flagger.md §2.2.1 says
// must be reproduced.
func TestBuiltinQuirks(t *testing.T) {
	tests := []struct {
		observer, metric, contains string
	}{
		{ObserverIstio, MetricRequestSuccessRate, `istio_requests_total{ reporter="destination", destination_workload_namespace="test", destination_workload=~"podinfo", response_code!~"5.*" }[1m]`},
		{ObserverLinkerd, MetricRequestDuration, `response_latency_ms_bucket{ namespace="test", deployment=~"podinfo", direction="inbound" }[1m]`},
		{ObserverAppMesh, MetricRequestSuccessRate, `kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)",`},
		{ObserverHTTP, MetricRequestDuration, `kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)" }[1m]`},
		{ObserverContour, MetricRequestSuccessRate, `envoy_cluster_name=~"test_podinfo-svc-canary_[0-9a-zA-Z-]+", }[1m]`},
		{ObserverGloo, MetricRequestDuration, `envoy_cluster_name=~"test-podinfo-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+", }[1m]`},
		{ObserverKuma, MetricRequestSuccessRate, `service=~"podinfo-canary_test_svc_[0-9a-zA-Z-]+", }[1m]`},
		{ObserverKnative, MetricRequestDuration, `envoy_cluster_name=~"test/podinfo-route", }[1m]`},
		{ObserverNginx, MetricRequestDuration, `ingress="podinfo-ing", canary!="" }[1m] ) ) * 1000`},
		{ObserverSkipper, MetricRequestSuccessRate, ` sum(rate(skipper_response_duration_seconds_bucket{route=~"kube(ew)?_test__podinfo_ing_canary__.*__podinfo_svc_canary(_[0-9]+)?",code!~"5..",le="+Inf"}[1m])) / sum(`},
		{ObserverTraefik, MetricRequestDuration, `service=~"test-podinfo-canary-[0-9a-zA-Z-]+@kubernetescrd" }[1m] ) ) by (le) ) * 1000`},
		{ObserverOSM, MetricRequestSuccessRate, `destination_kind="Deployment", destination_name="podinfo", response_code!~"5.*" }[1m]`},
		{ObserverAPISIX, MetricRequestSuccessRate, `apisix_http_status{ route=~"test_podinfo-route-podinfo-canary_.+", code!~"5.." }[1m]`},
	}
	for _, tc := range tests {
		t.Run(tc.observer+"/"+tc.metric, func(t *testing.T) {
			text, err := BuiltinQuery(tc.observer, tc.metric)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Render("q", text, BuiltinModel(tc.observer, podinfo))
			if err != nil {
				t.Fatal(err)
			}
			if got := Collapse(out); !strings.Contains(got, tc.contains) {
				t.Errorf("%s does not contain %s", got, tc.contains)
			}
		})
	}
}

func TestBuiltinQueryUnknown(t *testing.T) {
	tests := []struct{ observer, metric, msg string }{
		{"smi", MetricRequestSuccessRate, `builtin metric "request-success-rate" for observer "smi": no builtin query`},
		{ObserverIstio, "error-rate", `builtin metric "error-rate" for observer "istio": no builtin query`},
		{"", "", `builtin metric "" for observer "": no builtin query`},
		{"_about", MetricRequestDuration, `builtin metric "request-duration" for observer "_about": no builtin query`},
	}
	for _, tc := range tests {
		t.Run(tc.observer+"/"+tc.metric, func(t *testing.T) {
			q, err := BuiltinQuery(tc.observer, tc.metric)
			if err == nil {
				t.Fatalf("BuiltinQuery = %q, want an error", q)
			}
			if !errors.Is(err, ErrUnknownBuiltin) || err.Error() != tc.msg {
				t.Errorf("error %q, want %q wrapping ErrUnknownBuiltin", err, tc.msg)
			}
		})
	}
}

func TestDurationUnit(t *testing.T) {
	for _, o := range append(Observers(), "", "kubernetes", "unknown") {
		want := 1.0
		if o == ObserverHTTP {
			want = 1000
		}
		if got := DurationUnit(o); got != want {
			t.Errorf("DurationUnit(%q) = %v, want %v", o, got, want)
		}
	}
}

func TestObserversIsACopy(t *testing.T) {
	a := Observers()
	a[0] = "mutated"
	if Observers()[0] == "mutated" {
		t.Error("Observers() returned the package's slice")
	}
	if n := len(Observers()); n != 13 {
		t.Errorf("len(Observers()) = %d, want 13", n)
	}
}

// TestObserverFor covers every row of flagger.md §2.1.
func TestObserverFor(t *testing.T) {
	const (
		deploy  = "Deployment"
		apps    = "apps/v1"
		svc     = "Service"
		knative = "serving.knative.dev/v1"
	)
	tests := []struct {
		name                       string
		mesh, provider, kind, apiV string
		wantProvider, wantObserver string
	}{
		{"default istio", "istio", "", deploy, apps, "istio", ObserverIstio},
		{"empty mesh falls through to istio", "", "", deploy, apps, "", ObserverIstio},
		{"appmesh", "istio", "appmesh", deploy, apps, "appmesh", ObserverAppMesh},
		{"appmesh:v1beta2 by prefix", "istio", "appmesh:v1beta2", deploy, apps, "appmesh:v1beta2", ObserverAppMesh},
		{"global appmesh:v1beta2", "appmesh:v1beta2", "", deploy, apps, "appmesh:v1beta2", ObserverAppMesh},
		{"appmesh Service target keeps appmesh", "appmesh", "", svc, "v1", "appmesh:service", ObserverAppMesh},
		{"linkerd", "istio", "linkerd", deploy, apps, "linkerd", ObserverLinkerd},
		{"global linkerd", "linkerd", "", deploy, apps, "linkerd", ObserverLinkerd},
		{"global linkerd wins over canary istio", "linkerd", "istio", deploy, apps, "linkerd", ObserverLinkerd},
		{"global linkerd2 wins over canary nginx", "linkerd2", "nginx", deploy, apps, "linkerd", ObserverLinkerd},
		{"global linkerd2 alone is not linkerd", "linkerd2", "", deploy, apps, "linkerd2", ObserverIstio},
		{"linkerd Service target", "linkerd", "", svc, "v1", "linkerd:service", ObserverIstio},
		{"canary istio", "nginx", "istio", deploy, apps, "istio", ObserverIstio},
		{"contour", "istio", "contour", deploy, apps, "contour", ObserverContour},
		{"gloo", "istio", "gloo", deploy, apps, "gloo", ObserverGloo},
		{"gloo:v1 by prefix", "istio", "gloo:v1", deploy, apps, "gloo:v1", ObserverGloo},
		{"gloo Service target keeps gloo", "gloo", "", svc, "v1", "gloo:service", ObserverGloo},
		{"nginx", "istio", "nginx", deploy, apps, "nginx", ObserverNginx},
		{"nginx Service target", "istio", "nginx", svc, "v1", "nginx:service", ObserverIstio},
		{"kubernetes", "istio", "kubernetes", deploy, apps, "kubernetes", ObserverHTTP},
		{"kubernetes Service target", "kubernetes", "", svc, "v1", "kubernetes:service", ObserverIstio},
		{"gatewayapi:v1", "istio", "gatewayapi:v1", deploy, apps, "gatewayapi:v1", ObserverHTTP},
		{"gatewayapi:v1beta1", "gatewayapi:v1beta1", "", deploy, apps, "gatewayapi:v1beta1", ObserverHTTP},
		{"gatewayapi Service target stays http", "istio", "gatewayapi:v1", svc, "v1", "gatewayapi:v1:service", ObserverHTTP},
		{"skipper", "istio", "skipper", deploy, apps, "skipper", ObserverSkipper},
		{"traefik", "istio", "traefik", deploy, apps, "traefik", ObserverTraefik},
		{"osm", "istio", "osm", deploy, apps, "osm", ObserverOSM},
		{"kuma", "istio", "kuma", deploy, apps, "kuma", ObserverKuma},
		{"apisix", "istio", "apisix", deploy, apps, "apisix", ObserverAPISIX},
		{"knative", "istio", "knative", deploy, apps, "knative", ObserverKnative},
		{"knative Service target", "istio", "knative", svc, knative, "knative", ObserverKnative},
		{"global knative Service target", "knative", "", svc, knative, "knative", ObserverKnative},
		{"knative v1alpha1 Service target", "istio", "knative", svc, "serving.knative.dev/v1alpha1", "knative:service", ObserverIstio},
		{"knative apiVersion but not a Service", "istio", "knative", "Configuration", knative, "knative", ObserverKnative},
		{"smi:v1alpha3", "istio", "smi:v1alpha3", deploy, apps, "smi:v1alpha3", ObserverIstio},
		{"global smi:v1alpha2", "smi:v1alpha2", "", deploy, apps, "smi:v1alpha2", ObserverIstio},
		{"crossover", "crossover", "", deploy, apps, "crossover", ObserverIstio},
		{"crossover by substring", "smi:crossover", "", deploy, apps, "crossover", ObserverIstio},
		{"canary provider beats crossover", "crossover", "contour", deploy, apps, "contour", ObserverContour},
		{"crossover Service target", "crossover", "", svc, "v1", "crossover:service", ObserverIstio},
		{"istio Service target", "istio", "", svc, "v1", "istio:service", ObserverIstio},
		{"unknown provider", "istio", "consul", deploy, apps, "consul", ObserverIstio},
		{"exact match is case sensitive", "istio", "Linkerd", deploy, apps, "Linkerd", ObserverIstio},
		{"kind match is case sensitive", "kubernetes", "", "service", "v1", "kubernetes", ObserverHTTP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ObserverFor(tc.mesh, tc.provider, tc.kind, tc.apiV)
			want := Selection{Provider: tc.wantProvider, Observer: tc.wantObserver}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ObserverFor(%q, %q, %q, %q) (-want +got):\n%s", tc.mesh, tc.provider, tc.kind, tc.apiV, diff)
			}
			if _, err := BuiltinQuery(got.Observer, MetricRequestSuccessRate); err != nil {
				t.Errorf("selected observer has no query: %v", err)
			}
		})
	}
}

// TestBuiltinModelSkipper pins Flagger's encodeModelForSkipper: every
// non-word rune of name, namespace, ingress, service and target becomes "_"
// (Go's ASCII \W, one "_" per rune); route and interval are kept, and other
// observers see the model unchanged.
func TestBuiltinModelSkipper(t *testing.T) {
	in := Model{
		Name: "pod-info.v2", Namespace: "team-a", Target: "pod.info", Service: "svc-é",
		Ingress: "ing_1-x", Route: "route-x", Interval: "1m", Variables: map[string]string{"k": "a-b"},
	}
	want := Model{
		Name: "pod_info_v2", Namespace: "team_a", Target: "pod_info", Service: "svc__",
		Ingress: "ing_1_x", Route: "route-x", Interval: "1m", Variables: map[string]string{"k": "a-b"},
	}
	if diff := cmp.Diff(want, BuiltinModel(ObserverSkipper, in)); diff != "" {
		t.Errorf("skipper model (-want +got):\n%s", diff)
	}
	for _, o := range Observers() {
		if o == ObserverSkipper {
			continue
		}
		if diff := cmp.Diff(in, BuiltinModel(o, in)); diff != "" {
			t.Errorf("%s model changed (-want +got):\n%s", o, diff)
		}
	}
}
