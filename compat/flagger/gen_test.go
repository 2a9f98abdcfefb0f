package flagger

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "unsafe" // go:linkname

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	_ "github.com/fluxcd/flagger/pkg/controller" // toMetricModel

	"github.com/augurproj/augur/analysis"
)

// flaggerMetricModel is Flagger's own toMetricModel (pkg/controller), the
// model every builtin, inline and template query is rendered with.
//
//go:linkname flaggerMetricModel github.com/fluxcd/flagger/pkg/controller.toMetricModel
func flaggerMetricModel(r *flaggerv1.Canary, interval string, variables map[string]string) flaggerv1.MetricTemplateModel

// seed returns the run's seed (AUGUR_COMPAT_SEED, else the clock) and logs
// it so that any failure can be replayed.
func seed(t *testing.T) uint64 {
	t.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("AUGUR_COMPAT_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("AUGUR_COMPAT_SEED=%q: %v", v, err)
		}
		s = n
	}
	t.Logf("seed %d (replay with AUGUR_COMPAT_SEED=%d)", s, s)
	return s
}

// count is how many generated cases a test runs (AUGUR_COMPAT_N, else def).
func count(t *testing.T, def int) int {
	if v := os.Getenv("AUGUR_COMPAT_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("AUGUR_COMPAT_N=%q: want a positive integer", v)
		}
		return n
	}
	return def
}

const nameChars = "abcdefghijklmnopqrstuvwxyz0123456789-._"

// name is a Kubernetes-like name: a letter, then letters, digits, "-", "."
// and "_", sometimes exactly 63 characters long.
func name(r *rand.Rand) string {
	n := 1 + r.IntN(20)
	if r.IntN(8) == 0 {
		n = 63
	}
	var b strings.Builder
	b.WriteByte(nameChars[r.IntN(26)])
	for b.Len() < n {
		b.WriteByte(nameChars[r.IntN(len(nameChars))])
	}
	return b.String()
}

var intervals = []string{"", "10s", "15s", "30s", "1m", "90s", "2m", "5m", "10m", "30m", "1h"}

// genCanary is one generated canary: its object as JSON (decoded by both
// sides) and the global mesh provider.
type genCanary struct {
	JSON []byte
	Mesh string
}

// canaryProviders are spec.provider values; knative is left out because
// Flagger then reads {{ route }} from the Knative Service in the cluster
// (augur documents its fallback), observers are still compared directly.
var canaryProviders = []string{"", "istio", "linkerd", "appmesh", "appmesh:v1beta2", "contour", "gloo", "gloo:v1",
	"nginx", "kubernetes", "gatewayapi", "gatewayapi:v1beta1", "skipper", "traefik", "osm", "kuma", "apisix",
	"smi", "smi:v1alpha3", "other"}

var meshProviders = []string{"istio", "linkerd", "smi:crossover", "kubernetes", "skipper", "nginx", "appmesh", ""}

// generate builds a canary with builtin metrics, an inline query and a
// templateRef metric, random names, refs, intervals and providers.
func generate(r *rand.Rand) genCanary {
	target := name(r)
	spec := map[string]any{
		"targetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
		"service":   map[string]any{"port": 9898},
	}
	switch r.IntN(5) {
	case 0:
		spec["targetRef"] = map[string]any{"apiVersion": "v1", "kind": "Service", "name": target}
	case 1:
		spec["targetRef"] = map[string]any{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": target}
	}
	if r.IntN(2) == 0 {
		spec["service"] = map[string]any{"port": 9898, "name": name(r)}
	}
	if r.IntN(2) == 0 {
		spec["ingressRef"] = map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": name(r)}
	}
	if r.IntN(2) == 0 {
		spec["routeRef"] = map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "name": name(r)}
	}
	if p := canaryProviders[r.IntN(len(canaryProviders))]; p != "" {
		spec["provider"] = p
	}
	vars := map[string]string{}
	for i := range r.IntN(3) {
		vars["v"+strconv.Itoa(i)] = name(r)
	}
	metric := func(m map[string]any) map[string]any {
		if iv := intervals[r.IntN(len(intervals))]; iv != "" {
			m["interval"] = iv
		}
		if len(vars) > 0 {
			m["templateVariables"] = vars
		}
		return m
	}
	spec["analysis"] = map[string]any{
		"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10,
		"metrics": []any{
			metric(map[string]any{"name": "request-success-rate", "thresholdRange": map[string]any{"min": 99}}),
			metric(map[string]any{"name": "request-duration", "thresholdRange": map[string]any{"max": 500}}),
			metric(map[string]any{"name": "inline", "query": inlineQuery(r, vars), "thresholdRange": map[string]any{"max": 1}}),
			metric(map[string]any{"name": "custom", "templateRef": map[string]any{"name": "t", "namespace": "tmpl"}, "thresholdRange": map[string]any{"max": 1}}),
		},
	}
	obj := map[string]any{
		"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
		"metadata": map[string]any{"name": name(r), "namespace": name(r)},
		"spec":     spec,
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	return genCanary{JSON: b, Mesh: meshProviders[r.IntN(len(meshProviders))]}
}

// templateParts are template fragments both sides must render alike: every
// variable, and the text/template builtins (no sprig: Flagger has none).
var templateParts = []string{
	`{{ name }}`, `{{ namespace }}`, `{{ target }}`, `{{ service }}`, `{{ ingress }}`, `{{ route }}`, `{{ interval }}`,
	`{{ printf "%s-%s" namespace target }}`, `{{ len target }}`, `{{ if eq namespace "x" }}a{{ else }}b{{ end }}`,
	`{{ print name "/" interval }}`, `{{ html service }}`, `{{ urlquery ingress }}`, `{{ js route }}`,
	"\n\t  ", `  `, `{{- " trimmed " -}}`, `sum(rate(x{a="b"}[1m]))`, `{{ and name namespace }}`, `{{ or "" target }}`,
	`{{ not false }}`, `{{ index (slice "abc" 1) 0 }}`, `{{ with target }}{{ . }}{{ end }}`,
}

// inlineQuery builds a random query from templateParts and the variables.
func inlineQuery(r *rand.Rand, vars map[string]string) string {
	var b strings.Builder
	for range 1 + r.IntN(8) {
		b.WriteString(templateParts[r.IntN(len(templateParts))])
		if len(vars) > 0 && r.IntN(3) == 0 {
			b.WriteString(`{{ variables.v0 }}`)
		}
	}
	return b.String()
}

// decode reads the generated object into Flagger's and augur's types.
func decode(t *testing.T, g genCanary) (*flaggerv1.Canary, *analysis.Canary) {
	t.Helper()
	var f flaggerv1.Canary
	if err := json.Unmarshal(g.JSON, &f); err != nil {
		t.Fatalf("flagger decode %s: %v", g.JSON, err)
	}
	var a analysis.Canary
	if err := json.Unmarshal(g.JSON, &a); err != nil {
		t.Fatalf("augur decode %s: %v", g.JSON, err)
	}
	return &f, &a
}
