package manifest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/augurproj/augur/analysis"
)

// validCanary is a canary built in code (no Sources) that passes Validate.
func validCanary() analysis.Canary {
	c := wantPodinfoCanary()
	return c
}

func TestValidateCanaryRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *analysis.Canary)
		want   []string // substrings of the errors, in order; none means valid
	}{
		{"valid", func(*analysis.Canary) {}, nil},
		{"name required", func(c *analysis.Canary) { c.Metadata.Name = "" }, []string{"metadata.name: required"}},
		{"name format", func(c *analysis.Canary) { c.Metadata.Name = "Pod_Info" }, []string{`metadata.name: "Pod_Info" is not a valid Kubernetes name`}},
		{"name too long", func(c *analysis.Canary) { c.Metadata.Name = strings.Repeat("a", 254) }, []string{"metadata.name:"}},
		{"namespace format", func(c *analysis.Canary) { c.Metadata.Namespace = "a.b" }, []string{`metadata.namespace: "a.b" is not a valid namespace`}},
		{"targetRef", func(c *analysis.Canary) { c.Spec.TargetRef = analysis.CrossNamespaceObjectReference{} },
			[]string{"spec.targetRef.name: required", "spec.targetRef.apiVersion: required", "spec.targetRef.kind: required"}},
		{"targetRef kind", func(c *analysis.Canary) { c.Spec.TargetRef.Kind = "deployment" },
			[]string{`spec.targetRef.kind: "deployment" is not one of DaemonSet, Deployment, Service (did you mean "Deployment"?)`}},
		{"service target", func(c *analysis.Canary) { c.Spec.TargetRef.Kind = "Service" }, nil},
		{"provider", func(c *analysis.Canary) { c.Spec.Provider = "nginx-ingress" }, []string{`spec.provider: "nginx-ingress" is not one of`}},
		{"provider ok", func(c *analysis.Canary) { c.Spec.Provider = "gatewayapi:v1beta1" }, nil},
		{"ingressRef kind", func(c *analysis.Canary) {
			c.Spec.IngressRef = &analysis.CrossNamespaceObjectReference{APIVersion: "v1", Kind: "Service", Name: "x"}
		}, []string{`spec.ingressRef.kind: "Service" is not one of Ingress`}},
		{"routeRef", func(c *analysis.Canary) { c.Spec.RouteRef = &analysis.CrossNamespaceObjectReference{} },
			[]string{"spec.routeRef.name: required", "spec.routeRef.apiVersion: required", "spec.routeRef.kind: required"}},
		{"upstreamRef ok", func(c *analysis.Canary) {
			c.Spec.UpstreamRef = &analysis.CrossNamespaceObjectReference{APIVersion: "gloo.solo.io/v1", Kind: "Upstream", Name: "u", Namespace: "gloo"}
		}, nil},
		{"negative deadline", func(c *analysis.Canary) { c.Spec.ProgressDeadlineSeconds = ptr(int32(-1)) },
			[]string{"spec.progressDeadlineSeconds: -1 must not be negative"}},
		{"no analysis is allowed (skip analysis)", func(c *analysis.Canary) { c.Spec.Analysis = nil }, nil},
		{"interval required", func(c *analysis.Canary) { c.Spec.Analysis.Interval = "" }, []string{"spec.analysis.interval: required"}},
		{"interval pattern", func(c *analysis.Canary) { c.Spec.Analysis.Interval = "1h" },
			[]string{`spec.analysis.interval: "1h" does not match the CRD pattern`}},
		{"interval prefix-only match", func(c *analysis.Canary) { c.Spec.Analysis.Interval = "10sx" },
			[]string{`spec.analysis.interval: "10sx" matches the CRD pattern but is not a duration`}},
		{"interval ms", func(c *analysis.Canary) { c.Spec.Analysis.Interval = "500ms" }, nil},
		{"interval compound", func(c *analysis.Canary) { c.Spec.Analysis.Interval = "1m30s" }, nil},
		{"threshold required", func(c *analysis.Canary) { c.Spec.Analysis.Threshold = 0 }, []string{"spec.analysis.threshold: required"}},
		{"threshold negative", func(c *analysis.Canary) { c.Spec.Analysis.Threshold = -1 },
			[]string{"spec.analysis.threshold: -1 must not be negative"}},
		{"no step", func(c *analysis.Canary) { c.Spec.Analysis.StepWeight = 0 },
			[]string{"spec.analysis: set one of iterations (blue/green, A/B testing), stepWeight or stepWeights"}},
		{"two steps", func(c *analysis.Canary) { c.Spec.Analysis.Iterations = 5 },
			[]string{"spec.analysis: set only one of iterations, stepWeight and stepWeights, not iterations and stepWeight"}},
		{"iterations only", func(c *analysis.Canary) { c.Spec.Analysis.StepWeight, c.Spec.Analysis.Iterations = 0, 10 }, nil},
		{"step weights", func(c *analysis.Canary) {
			c.Spec.Analysis.StepWeight, c.Spec.Analysis.StepWeights = 0, []int{1, 5, 100}
		}, nil},
		{"step weights out of range and not increasing", func(c *analysis.Canary) {
			c.Spec.Analysis.StepWeight, c.Spec.Analysis.StepWeights = 0, []int{10, 10, 101}
		}, []string{"spec.analysis.stepWeights[1]: 10 does not increase on the step before it (10)", "spec.analysis.stepWeights[2]: 101 is outside 1..100"}},
		{"weights", func(c *analysis.Canary) {
			a := c.Spec.Analysis
			a.MaxWeight, a.StepWeight, a.StepWeightPromotion, a.MirrorWeight = 101, -1, 200, -5
		}, []string{"maxWeight: 101 is outside 0..100", "stepWeight: -1 is outside 0..100", "stepWeightPromotion: 200 is outside 0..100", "mirrorWeight: -5 is outside 0..100"}},
		{"weights at the bounds", func(c *analysis.Canary) {
			a := c.Spec.Analysis
			a.MaxWeight, a.StepWeight, a.StepWeightPromotion, a.MirrorWeight = 100, 100, 0, 100
		}, nil},
		{"ready thresholds", func(c *analysis.Canary) {
			c.Spec.Analysis.PrimaryReadyThreshold, c.Spec.Analysis.CanaryReadyThreshold = ptr(-1), ptr(101)
		}, []string{"primaryReadyThreshold: -1 is outside 0..100", "canaryReadyThreshold: 101 is outside 0..100"}},
		{"negative iterations", func(c *analysis.Canary) { c.Spec.Analysis.StepWeight, c.Spec.Analysis.Iterations = 0, -2 },
			[]string{"spec.analysis.iterations: -2 must not be negative"}},
		{"alerts", func(c *analysis.Canary) { c.Spec.Analysis.Alerts = []analysis.Alert{{Severity: "fatal"}} },
			[]string{"alerts[0].name: required", `alerts[0].severity: "fatal" is not one of info, warn, error`, "alerts[0].providerRef.name: required"}},
		{"alert ok", func(c *analysis.Canary) {
			c.Spec.Analysis.Alerts = []analysis.Alert{{Name: "a", ProviderRef: analysis.CrossNamespaceObjectReference{Name: "slack"}}}
		}, nil},
		{"metric name required", func(c *analysis.Canary) { c.Spec.Analysis.Metrics[0].Name = "" }, []string{"metrics[0].name: required"}},
		{"metric names unique", func(c *analysis.Canary) { c.Spec.Analysis.Metrics[1].Name = "request-success-rate" },
			[]string{`metrics[1].name: "request-success-rate" is also the name of metrics[0]`}},
		{"metric interval", func(c *analysis.Canary) { c.Spec.Analysis.Metrics[0].Interval = "5" },
			[]string{`metrics[0].interval: "5" does not match the CRD pattern`}},
		{"metric interval may be empty", func(c *analysis.Canary) { c.Spec.Analysis.Metrics[0].Interval = "" }, nil},
		{"threshold range inverted", func(c *analysis.Canary) {
			c.Spec.Analysis.Metrics[0].ThresholdRange = &analysis.ThresholdRange{Min: ptr(2.0), Max: ptr(1.0)}
		}, []string{"metrics[0].thresholdRange: min 2 is greater than max 1"}},
		{"threshold range equal bounds", func(c *analysis.Canary) {
			c.Spec.Analysis.Metrics[0].ThresholdRange = &analysis.ThresholdRange{Min: ptr(1.0), Max: ptr(1.0)}
		}, nil},
		{"unusable metric", func(c *analysis.Canary) { c.Spec.Analysis.Metrics[2].TemplateRef = nil },
			[]string{`metrics[2]: metric "not-found-percentage" is not builtin (request-success-rate, request-duration) and has neither query nor templateRef`}},
		{"inline query", func(c *analysis.Canary) {
			c.Spec.Analysis.Metrics[2].TemplateRef, c.Spec.Analysis.Metrics[2].Query = nil, "up"
		}, nil},
		{"templateRef name", func(c *analysis.Canary) { c.Spec.Analysis.Metrics[2].TemplateRef.Name = "" },
			[]string{"metrics[2].templateRef.name: required"}},
		{"webhook", func(c *analysis.Canary) {
			c.Spec.Analysis.Webhooks[0] = analysis.Webhook{Type: "pre", Timeout: "1h", Retries: -1}
		},
			[]string{"webhooks[0].name: required", "webhooks[0].url: required", `webhooks[0].type: "pre" is not one of`, `webhooks[0].timeout: "1h" does not match`, "webhooks[0].retries: -1 must not be negative"}},
		{"webhook url", func(c *analysis.Canary) { c.Spec.Analysis.Webhooks[0].URL = "ftp://x/" },
			[]string{`webhooks[0].url: "ftp://x/" is not an absolute http:// or https:// URL`}},
		{"webhook url unparsable", func(c *analysis.Canary) { c.Spec.Analysis.Webhooks[0].URL = "http://a b/%zz" },
			[]string{`webhooks[0].url: "http://a b/%zz" is not a URL`}},
		{"every hook type", func(c *analysis.Canary) {
			c.Spec.Analysis.Webhooks = nil
			for _, ty := range hookTypes {
				c.Spec.Analysis.Webhooks = append(c.Spec.Analysis.Webhooks, analysis.Webhook{Name: "h", Type: ty, URL: "https://h/"})
			}
		}, nil},
		{"canaryAnalysis is checked too", func(c *analysis.Canary) { c.Spec.CanaryAnalysis = &analysis.Analysis{Interval: "1m", Threshold: 1} },
			[]string{"spec.canaryAnalysis: set one of iterations"}},
		{"status phase", func(c *analysis.Canary) { c.Status.Phase = "progressing" },
			[]string{`status.phase: "progressing" is not one of`, `(did you mean "Progressing"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCanary()
			tt.mutate(&c)
			err := Validate(&Set{Canaries: []analysis.Canary{c}})
			checkMessages(t, err, tt.want)
		})
	}
}

// checkMessages checks that err's text contains want in order, and that
// every joined error is an ErrInvalid *Error.
func checkMessages(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	checkErrorsFrom(t, err, false)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("%v does not wrap ErrInvalid", err)
	}
	text := err.Error()
	for _, w := range want {
		i := strings.Index(text, w)
		if i < 0 {
			t.Fatalf("error\n%s\ndoes not contain (in order) %q", err, w)
		}
		text = text[i+len(w):]
	}
}

func TestValidateTemplateRules(t *testing.T) {
	valid := func() analysis.MetricTemplate {
		return analysis.MetricTemplate{
			Metadata: analysis.ObjectMeta{Name: "t", Namespace: "test"},
			Spec:     analysis.MetricTemplateSpec{Provider: analysis.MetricTemplateProvider{Type: "prometheus"}, Query: "up"},
		}
	}
	tests := []struct {
		name   string
		mutate func(*analysis.MetricTemplate)
		want   []string
	}{
		{"valid", func(*analysis.MetricTemplate) {}, nil},
		{"name", func(m *analysis.MetricTemplate) { m.Metadata.Name = "" }, []string{"metadata.name: required"}},
		{"type required", func(m *analysis.MetricTemplate) { m.Spec.Provider.Type = "" }, []string{"spec.provider.type: required"}},
		{"type enum", func(m *analysis.MetricTemplate) { m.Spec.Provider.Type = "Prometheus" },
			[]string{`spec.provider.type: "Prometheus" is not one of`, `(did you mean "prometheus"?)`}},
		{"every CRD provider", func(m *analysis.MetricTemplate) { m.Spec.Provider.Type = "splunk" }, nil},
		{"query required", func(m *analysis.MetricTemplate) { m.Spec.Query = "\n" }, []string{"spec.query: required"}},
		{"secretRef name", func(m *analysis.MetricTemplate) { m.Spec.Provider.SecretRef = &analysis.LocalObjectReference{} },
			[]string{"spec.provider.secretRef.name: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			tt.mutate(&m)
			checkMessages(t, Validate(&Set{Templates: []analysis.MetricTemplate{m}}), tt.want)
		})
	}
	for _, p := range metricProviders {
		m := valid()
		m.Spec.Provider.Type = p
		if err := Validate(&Set{Templates: []analysis.MetricTemplate{m}}); err != nil {
			t.Errorf("provider %s: %v", p, err)
		}
	}
}

// TestValidatePresence: with Sources, "set" means present in the input, as
// for the API server; without, a zero value counts as unset.
func TestValidatePresence(t *testing.T) {
	const doc = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  analysis:
    interval: 1m
    threshold: 0
    stepWeight: 0
`
	set, err := DecodeBytes([]byte(doc), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(set); err != nil {
		t.Errorf("with sources: %v", err)
	}
	set.Sources = nil
	checkMessages(t, Validate(set), []string{"spec.analysis.threshold: required", "spec.analysis: set one of"})

	set, err = DecodeBytes([]byte(strings.Replace(doc, "    stepWeight: 0\n", "    stepWeight: 0\n    iterations: 0\n", 1)), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkMessages(t, Validate(set), []string{"p.yaml:7:5: document 1, Canary default/podinfo: spec.analysis: set only one of iterations, stepWeight and stepWeights, not iterations and stepWeight"})
}

func TestValidateDuplicates(t *testing.T) {
	c := validCanary()
	m := analysis.MetricTemplate{
		Metadata: analysis.ObjectMeta{Name: "t", Namespace: "n"},
		Spec:     analysis.MetricTemplateSpec{Provider: analysis.MetricTemplateProvider{Type: "prometheus"}, Query: "up"},
	}
	set := &Set{Canaries: []analysis.Canary{c, c, c}, Templates: []analysis.MetricTemplate{m, m}}
	err := Validate(set)
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("err = %v, want ErrDuplicate", err)
	}
	want := "<input>: Canary test/podinfo: defined more than once in the set\n<input>: MetricTemplate n/t: defined more than once in the set"
	if err.Error() != want {
		t.Errorf("err =\n%s\nwant\n%s", err, want)
	}
}

func TestResolve(t *testing.T) {
	tmpl := func(name, ns string) analysis.MetricTemplate {
		return analysis.MetricTemplate{Metadata: analysis.ObjectMeta{Name: name, Namespace: ns}}
	}
	ref := func(name, ns string) analysis.Metric {
		return analysis.Metric{Name: "m", TemplateRef: &analysis.CrossNamespaceObjectReference{Name: name, Namespace: ns}}
	}
	canary := func(ns string, deprecated bool, ms ...analysis.Metric) analysis.Canary {
		c := analysis.Canary{Metadata: analysis.ObjectMeta{Name: "c", Namespace: ns}}
		if deprecated {
			c.Spec.CanaryAnalysis = &analysis.Analysis{Metrics: ms}
		} else {
			c.Spec.Analysis = &analysis.Analysis{Metrics: ms}
		}
		return c
	}
	tests := []struct {
		name      string
		canaries  []analysis.Canary
		templates []analysis.MetricTemplate
		want      string
	}{
		{"explicit namespace", []analysis.Canary{canary("a", false, ref("t", "b"))}, []analysis.MetricTemplate{tmpl("t", "b")}, ""},
		{"canary namespace", []analysis.Canary{canary("a", false, ref("t", ""))}, []analysis.MetricTemplate{tmpl("t", "a")}, ""},
		{"default namespace", []analysis.Canary{canary("", false, ref("t", ""))}, []analysis.MetricTemplate{tmpl("t", "default")}, ""},
		{"no analysis", []analysis.Canary{{}}, nil, ""},
		{"builtin and query metrics need nothing", []analysis.Canary{canary("a", false,
			analysis.Metric{Name: "request-success-rate"}, analysis.Metric{Name: "q", Query: "up"})}, nil, ""},
		{"empty templateRef name is Validate's business", []analysis.Canary{canary("a", false, ref("", ""))}, nil, ""},
		{"missing", []analysis.Canary{canary("a", false, ref("t", "b"))}, nil,
			"<input>: Canary a/c: spec.analysis.metrics[0].templateRef: MetricTemplate b/t is not in the input"},
		{"missing, empty namespace", []analysis.Canary{canary("a", false, ref("t", ""))}, nil,
			"<input>: Canary a/c: spec.analysis.metrics[0].templateRef: MetricTemplate a/t is not in the input (templateRef.namespace is empty, so Flagger looks in the canary's namespace)"},
		{"other namespace", []analysis.Canary{canary("a", false, ref("t", ""))}, []analysis.MetricTemplate{tmpl("t", "x"), tmpl("t", "y")},
			"<input>: Canary a/c: spec.analysis.metrics[0].templateRef: MetricTemplate a/t is not in the input (a MetricTemplate t exists in namespace x, y: set templateRef.namespace)"},
		{"deprecated canaryAnalysis", []analysis.Canary{canary("a", true, ref("ok", "a"), ref("t", "b"))}, []analysis.MetricTemplate{tmpl("ok", "a")},
			"<input>: Canary a/c: spec.canaryAnalysis.metrics[1].templateRef: MetricTemplate b/t is not in the input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Resolve(&Set{Canaries: tt.canaries, Templates: tt.templates})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
			if !errors.Is(err, ErrUnresolved) {
				t.Error("not ErrUnresolved")
			}
		})
	}
}

// jsonFields lists the json names of a struct type's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "-" && f.IsExported() {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// carried lists the fields of a struct schema that reach the analysis type.
func carried(s *schema) []string {
	var out []string
	for _, n := range s.names {
		if !s.fields[n].drop {
			out = append(out, n)
		}
	}
	return out
}

// TestSchemaFollowsAnalysisTypes fails when package analysis gains or loses
// a field the decoder's patched schema does not know about.
func TestSchemaFollowsAnalysisTypes(t *testing.T) {
	tests := []struct {
		name string
		s    *schema
		typ  reflect.Type
	}{
		{"Canary", canarySchema, reflect.TypeFor[analysis.Canary]()},
		{"metadata", canarySchema.field("metadata"), reflect.TypeFor[analysis.ObjectMeta]()},
		{"spec", canarySchema.field("spec"), reflect.TypeFor[analysis.CanarySpec]()},
		{"status", canarySchema.field("status"), reflect.TypeFor[analysis.CanaryStatus]()},
		{"analysis", canarySchema.field("spec").field("analysis"), reflect.TypeFor[analysis.Analysis]()},
		{"canaryAnalysis", canarySchema.field("spec").field("canaryAnalysis"), reflect.TypeFor[analysis.Analysis]()},
		{"metric", canarySchema.field("spec").field("analysis").field("metrics").elem, reflect.TypeFor[analysis.Metric]()},
		{"webhook", canarySchema.field("spec").field("analysis").field("webhooks").elem, reflect.TypeFor[analysis.Webhook]()},
		{"alert", canarySchema.field("spec").field("analysis").field("alerts").elem, reflect.TypeFor[analysis.Alert]()},
		{"upstreamRef", canarySchema.field("spec").field("upstreamRef"), reflect.TypeFor[analysis.CrossNamespaceObjectReference]()},
		{"MetricTemplate", templateSchema, reflect.TypeFor[analysis.MetricTemplate]()},
		{"template spec", templateSchema.field("spec"), reflect.TypeFor[analysis.MetricTemplateSpec]()},
		{"provider", templateSchema.field("spec").field("provider"), reflect.TypeFor[analysis.MetricTemplateProvider]()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := carried(tt.s)
			if tt.name == "Canary" || tt.name == "MetricTemplate" {
				got = slices.DeleteFunc(slices.Clone(tt.s.names), func(n string) bool { return n == "status" && tt.name == "MetricTemplate" })
			}
			if want := jsonFields(tt.typ); !slices.Equal(got, want) {
				t.Errorf("schema carries %v, the Go type has %v", got, want)
			}
		})
	}
	// The local references are the cross-namespace one without namespace.
	local := carried(canarySchema.field("spec").field("targetRef"))
	want := slices.DeleteFunc(jsonFields(reflect.TypeFor[analysis.CrossNamespaceObjectReference]()), func(n string) bool { return n == "namespace" })
	if !slices.Equal(local, want) {
		t.Errorf("targetRef carries %v, want %v", local, want)
	}
	// The two analysis fields share one schema, so patches apply to both.
	if canarySchema.field("spec").field("analysis") != canarySchema.field("spec").field("canaryAnalysis") {
		t.Error("analysis and canaryAnalysis have different schemas")
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"interval", "threshold", "thresholdRange", "min", "max", "metadata", "stepWeights", "stepWeight"}
	tests := map[string]string{
		"mni":                    "min",
		"intervall":              "interval",
		"Interval":               "interval",
		"treshold":               "threshold",
		"metdata":                "metadata",
		"stepweights":            "stepWeights",
		"stepweight":             "stepWeight",
		"x":                      "",
		"completely":             "",
		"maxWeight":              "",
		strings.Repeat("a", 100): "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := suggest(in, known); got != want {
				t.Errorf("suggest(%q) = %q, want %q", in, got, want)
			}
		})
	}
}
