package manifest

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
)

// CRD enums and patterns (Flagger v1.44 artifacts/flagger/crd.yaml).
var (
	// crdDuration is the CRD's pattern for analysis.interval, metrics[].interval
	// and webhooks[].timeout. It is anchored only at the start.
	crdDuration = regexp.MustCompile(`^[0-9]+(m|s)`)
	// meshProviders is the spec.provider enum.
	meshProviders = []string{
		"apisix", "appmesh", "appmesh:v1beta2", "contour", "gatewayapi:v1", "gatewayapi:v1beta1", "gloo",
		"istio", "knative", "kubernetes", "kuma", "linkerd", "nginx", "osm", "skipper",
		"smi:v1alpha1", "smi:v1alpha2", "smi:v1alpha3", "traefik",
	}
	// targetKinds is the spec.targetRef.kind enum.
	targetKinds = []string{"DaemonSet", "Deployment", "Service"}
	// metricProviders is the MetricTemplate spec.provider.type enum.
	metricProviders = []string{
		"prometheus", "influxdb", "datadog", "externalmetrics", "stackdriver", "cloudwatch",
		"newrelic", "graphite", "dynatrace", "keptn", "splunk",
	}
	// hookTypes is the webhook type enum ("" means rollout).
	hookTypes = []analysis.HookType{
		"", analysis.HookConfirmRollout, analysis.HookPreRollout, analysis.HookRollout,
		analysis.HookConfirmPromotion, analysis.HookPostRollout, analysis.HookEvent,
		analysis.HookRollback, analysis.HookConfirmTrafficIncrease,
	}
	// alertSeverities is the alerts[].severity enum.
	alertSeverities = []string{"", "info", "warn", "error"}
	// phases is the status.phase enum.
	phases = []analysis.Phase{
		"", analysis.PhaseInitializing, analysis.PhaseInitialized, analysis.PhaseWaiting,
		analysis.PhaseProgressing, analysis.PhaseWaitingPromotion, analysis.PhasePromoting,
		analysis.PhaseFinalising, analysis.PhaseSucceeded, analysis.PhaseFailed,
		analysis.PhaseTerminating, analysis.PhaseTerminated,
	}
	// dns1123Subdomain is Kubernetes' rule for object names.
	dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// dns1123Label is Kubernetes' rule for namespaces.
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// Validate checks every object in set and reports all problems at once
// (errors.Join of *Error wrapping ErrInvalid, or ErrDuplicate for two objects
// with the same Key), each naming the source, document, object and field.
//
// A Canary needs metadata.name and spec.targetRef (apiVersion, kind from
// DaemonSet/Deployment/Service, name); spec.provider must be one of the CRD's
// mesh providers. Each of spec.analysis and spec.canaryAnalysis that is set
// needs interval and threshold and exactly one of iterations, stepWeight and
// stepWeights (the CRD's oneOf); interval, metrics[].interval and
// webhooks[].timeout must match the CRD pattern ^[0-9]+(m|s) and, beyond the
// CRD, parse as Go durations. Weights (maxWeight, stepWeight, stepWeights,
// stepWeightPromotion, mirrorWeight) and ready thresholds must lie in
// 0..100, stepWeights must increase strictly, counts must not be negative.
// Metrics need a unique name, a thresholdRange with min <= max, and must be
// builtin (request-success-rate, request-duration) or have a query or a
// templateRef with a name — Flagger's "no usable metrics template and query
// were configured". Webhooks need a name, an absolute http(s) url and a type
// from the CRD enum; alerts a name, a providerRef name and a severity from
// the enum. A MetricTemplate needs metadata.name, spec.provider.type from the
// CRD enum and spec.query; whether augur supports the provider is the
// engine's business. Whether a field is set is read from the input when the
// Set has its Sources, else a zero value counts as unset.
func Validate(set *Set) error {
	var errs []error
	seen := map[Key]int{}
	for i := range set.Canaries {
		c := &set.Canaries[i]
		v := set.checker(CanaryKey(c), &errs)
		v.dup(seen)
		v.canary(c)
	}
	for i := range set.Templates {
		t := &set.Templates[i]
		v := set.checker(TemplateKey(t), &errs)
		v.dup(seen)
		v.template(t)
	}
	return errors.Join(errs...)
}

// Resolve checks that every templateRef of every Canary's analysis names a
// MetricTemplate in set, in the templateRef's namespace or, when it has
// none, the canary's. It reports all unresolved references at once
// (ErrUnresolved), suggesting templates of the same name in other namespaces.
func Resolve(set *Set) error {
	var errs []error
	for i := range set.Canaries {
		c := &set.Canaries[i]
		a := c.GetAnalysis()
		if a == nil {
			continue
		}
		field := "spec.analysis"
		if c.Spec.Analysis == nil {
			field = "spec.canaryAnalysis"
		}
		v := set.checker(CanaryKey(c), &errs)
		for j := range a.Metrics {
			m := &a.Metrics[j]
			if m.TemplateRef == nil || m.TemplateRef.Name == "" {
				continue
			}
			ns := TemplateNamespace(c, m.TemplateRef)
			if _, ok := set.Template(m.TemplateRef.Name, ns); ok {
				continue
			}
			msg := fmt.Sprintf("MetricTemplate %s/%s is not in the input", ns, m.TemplateRef.Name)
			var elsewhere []string
			for _, t := range set.Templates {
				if t.Metadata.Name == m.TemplateRef.Name {
					elsewhere = append(elsewhere, t.Metadata.Namespace)
				}
			}
			switch {
			case len(elsewhere) > 0:
				msg += fmt.Sprintf(" (a MetricTemplate %s exists in namespace %s: set templateRef.namespace)",
					m.TemplateRef.Name, strings.Join(elsewhere, ", "))
			case m.TemplateRef.Namespace == "":
				msg += " (templateRef.namespace is empty, so Flagger looks in the canary's namespace)"
			}
			v.errorAs(ErrUnresolved, fmt.Sprintf("%s.metrics[%d].templateRef", field, j), "%s", msg)
		}
	}
	return errors.Join(errs...)
}

// checker collects the problems of one object.
type checker struct {
	key    Key
	origin Origin
	known  bool // origin is known
	errs   *[]error
}

func (s *Set) checker(k Key, errs *[]error) *checker {
	o, ok := s.Sources[k]
	return &checker{key: k, origin: o, known: ok, errs: errs}
}

func (v *checker) errorAs(kind error, path, format string, args ...any) {
	*v.errs = append(*v.errs, &Error{
		Source: v.origin.Source, Document: v.origin.Document, Item: v.origin.Item,
		Object: v.key.String(), Path: path, Pos: v.origin.At(path),
		Msg: fmt.Sprintf(format, args...), Err: kind,
	})
}

func (v *checker) errorf(path, format string, args ...any) {
	v.errorAs(ErrInvalid, path, format, args...)
}

// set reports whether the input set the field, or, without an origin,
// whether its value is non-zero.
func (v *checker) set(path string, nonZero bool) bool {
	if v.known {
		return v.origin.Has(path)
	}
	return nonZero
}

func (v *checker) dup(seen map[Key]int) {
	if v.key.Name == "" {
		return
	}
	seen[v.key]++
	if seen[v.key] == 2 {
		*v.errs = append(*v.errs, &Error{
			Source: v.origin.Source, Document: v.origin.Document, Item: v.origin.Item,
			Object: v.key.String(), Pos: v.origin.Pos,
			Msg: "defined more than once in the set", Err: ErrDuplicate,
		})
	}
}

// required reports an empty required string.
func (v *checker) required(path, value string) bool {
	if value == "" {
		v.errorf(path, "required")
		return false
	}
	return true
}

// oneOf reports a value outside an enum.
func oneOf[T ~string](v *checker, path string, value T, allowed []T) {
	if slices.Contains(allowed, value) {
		return
	}
	names := make([]string, 0, len(allowed))
	for _, a := range allowed {
		if a != "" {
			names = append(names, string(a))
		}
	}
	msg := fmt.Sprintf("%q is not one of %s", value, strings.Join(names, ", "))
	if s := suggest(string(value), names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	v.errorf(path, "%s", msg)
}

// inRange reports an integer outside lo..hi.
func (v *checker) inRange(path string, value, lo, hi int) {
	if value < lo || value > hi {
		v.errorf(path, "%d is outside %d..%d", value, lo, hi)
	}
}

// nonNegative reports a negative integer.
func (v *checker) nonNegative(path string, value int) {
	if value < 0 {
		v.errorf(path, "%d must not be negative", value)
	}
}

// duration checks a CRD duration field: the pattern, then that Go can parse it.
func (v *checker) duration(path, value, consequence string) {
	if !crdDuration.MatchString(value) {
		v.errorf(path, "%q does not match the CRD pattern ^[0-9]+(m|s) (write e.g. 30s, 1m or 1m30s)", value)
		return
	}
	if _, err := time.ParseDuration(value); err != nil {
		v.errorf(path, "%q matches the CRD pattern but is not a duration (%s); %s", value, err.Error(), consequence)
	}
}

func (v *checker) meta(m *analysis.ObjectMeta) {
	if v.required("metadata.name", m.Name) {
		if len(m.Name) > 253 || !dns1123Subdomain.MatchString(m.Name) {
			v.errorf("metadata.name", "%q is not a valid Kubernetes name (lower case letters, digits, '-' and '.', at most 253)", m.Name)
		}
	}
	if m.Namespace != "" && (len(m.Namespace) > 63 || !dns1123Label.MatchString(m.Namespace)) {
		v.errorf("metadata.namespace", "%q is not a valid namespace (lower case letters, digits and '-', at most 63)", m.Namespace)
	}
}

func (v *checker) canary(c *analysis.Canary) {
	v.meta(&c.Metadata)
	s := &c.Spec
	if s.Provider != "" {
		oneOf(v, "spec.provider", s.Provider, meshProviders)
	}
	v.ref("spec.targetRef", &s.TargetRef, targetKinds)
	if s.IngressRef != nil {
		v.ref("spec.ingressRef", s.IngressRef, []string{"Ingress"})
	}
	if s.RouteRef != nil {
		v.ref("spec.routeRef", s.RouteRef, []string{"ApisixRoute"})
	}
	if s.UpstreamRef != nil {
		v.ref("spec.upstreamRef", s.UpstreamRef, []string{"Upstream"})
	}
	if s.ProgressDeadlineSeconds != nil {
		v.nonNegative("spec.progressDeadlineSeconds", int(*s.ProgressDeadlineSeconds))
	}
	if s.Analysis != nil {
		v.analysis("spec.analysis", s.Analysis)
	}
	if s.CanaryAnalysis != nil {
		v.analysis("spec.canaryAnalysis", s.CanaryAnalysis)
	}
	oneOf(v, "status.phase", c.Status.Phase, phases)
}

// ref checks an object reference: the CRD requires apiVersion, kind (from kinds) and name.
func (v *checker) ref(path string, r *analysis.CrossNamespaceObjectReference, kinds []string) {
	v.required(path+".name", r.Name)
	v.required(path+".apiVersion", r.APIVersion)
	if v.required(path+".kind", r.Kind) {
		oneOf(v, path+".kind", r.Kind, kinds)
	}
}

func (v *checker) analysis(path string, a *analysis.Analysis) {
	if v.set(path+".interval", a.Interval != "") {
		v.duration(path+".interval", a.Interval, "Flagger would silently run every 60s")
	} else {
		v.errorf(path+".interval", "required (e.g. 1m)")
	}
	if !v.set(path+".threshold", a.Threshold != 0) {
		v.errorf(path+".threshold", "required: the number of failed checks before rollback")
	}
	v.nonNegative(path+".threshold", a.Threshold)
	var steps []string
	if v.set(path+".iterations", a.Iterations != 0) {
		steps = append(steps, "iterations")
	}
	if v.set(path+".stepWeight", a.StepWeight != 0) {
		steps = append(steps, "stepWeight")
	}
	if v.set(path+".stepWeights", len(a.StepWeights) > 0) {
		steps = append(steps, "stepWeights")
	}
	switch len(steps) {
	case 0:
		v.errorf(path, "set one of iterations (blue/green, A/B testing), stepWeight or stepWeights (canary)")
	case 1:
	default:
		v.errorf(path, "set only one of iterations, stepWeight and stepWeights, not %s", strings.Join(steps, " and "))
	}
	v.nonNegative(path+".iterations", a.Iterations)
	v.inRange(path+".maxWeight", a.MaxWeight, 0, 100)
	v.inRange(path+".stepWeight", a.StepWeight, 0, 100)
	v.inRange(path+".stepWeightPromotion", a.StepWeightPromotion, 0, 100)
	v.inRange(path+".mirrorWeight", a.MirrorWeight, 0, 100)
	for i, w := range a.StepWeights {
		p := path + ".stepWeights[" + strconv.Itoa(i) + "]"
		v.inRange(p, w, 1, 100)
		if i > 0 && w <= a.StepWeights[i-1] {
			v.errorf(p, "%d does not increase on the step before it (%d)", w, a.StepWeights[i-1])
		}
	}
	if a.PrimaryReadyThreshold != nil {
		v.inRange(path+".primaryReadyThreshold", *a.PrimaryReadyThreshold, 0, 100)
	}
	if a.CanaryReadyThreshold != nil {
		v.inRange(path+".canaryReadyThreshold", *a.CanaryReadyThreshold, 0, 100)
	}
	for i := range a.Alerts {
		p := path + ".alerts[" + strconv.Itoa(i) + "]"
		al := &a.Alerts[i]
		v.required(p+".name", al.Name)
		oneOf(v, p+".severity", al.Severity, alertSeverities)
		v.required(p+".providerRef.name", al.ProviderRef.Name)
	}
	if len(a.Metrics) > MaxMetrics {
		v.errorf(path+".metrics", "%d metrics; augur evaluates at most %d per Canary", len(a.Metrics), MaxMetrics)
		return
	}
	if len(a.Webhooks) > MaxWebhooks {
		v.errorf(path+".webhooks", "%d webhooks; augur calls at most %d per Canary", len(a.Webhooks), MaxWebhooks)
		return
	}
	names := map[string]int{}
	for i := range a.Metrics {
		v.metric(path+".metrics["+strconv.Itoa(i)+"]", &a.Metrics[i], i, names)
	}
	for i := range a.Webhooks {
		v.webhook(path+".webhooks["+strconv.Itoa(i)+"]", &a.Webhooks[i])
	}
}

// MaxMetrics and MaxWebhooks bound a Canary's analysis (Flagger sets no
// limit; real canaries have a handful): every metric is a query per tick.
const (
	MaxMetrics  = 500
	MaxWebhooks = 500
)

func (v *checker) metric(p string, m *analysis.Metric, i int, names map[string]int) {
	if v.required(p+".name", m.Name) {
		if first, dup := names[m.Name]; dup {
			v.errorf(p+".name", "%q is also the name of metrics[%d]; metric names must be unique", m.Name, first)
		} else {
			names[m.Name] = i
		}
	}
	if m.Interval != "" {
		v.duration(p+".interval", m.Interval, "it would render into the query as {{ interval }}")
	}
	if r := m.ThresholdRange; r != nil && r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		v.errorf(p+".thresholdRange", "min %g is greater than max %g: every value would fail", *r.Min, *r.Max)
	}
	if m.TemplateRef != nil {
		v.required(p+".templateRef.name", m.TemplateRef.Name)
	}
	if m.Name != "" && !analysis.IsBuiltin(m.Name) && m.Query == "" && m.TemplateRef == nil {
		v.errorf(p, "metric %q is not builtin (%s, %s) and has neither query nor templateRef: "+
			"Flagger fails it with \"no usable metrics template and query were configured\"",
			m.Name, analysis.MetricRequestSuccessRate, analysis.MetricRequestDuration)
	}
}

func (v *checker) webhook(p string, h *analysis.Webhook) {
	v.required(p+".name", h.Name)
	if v.required(p+".url", h.URL) {
		u, err := url.Parse(h.URL)
		switch {
		case err != nil:
			v.errorf(p+".url", "%q is not a URL: %s", h.URL, err.Error())
		case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.errorf(p+".url", "%q is not an absolute http:// or https:// URL", h.URL)
		}
	}
	oneOf(v, p+".type", h.Type, hookTypes)
	if h.Timeout != "" {
		v.duration(p+".timeout", h.Timeout, "the webhook call would fail")
	}
	v.nonNegative(p+".retries", h.Retries)
}

func (v *checker) template(t *analysis.MetricTemplate) {
	v.meta(&t.Metadata)
	if v.required("spec.provider.type", t.Spec.Provider.Type) {
		oneOf(v, "spec.provider.type", t.Spec.Provider.Type, metricProviders)
	}
	if t.Spec.Provider.SecretRef != nil {
		v.required("spec.provider.secretRef.name", t.Spec.Provider.SecretRef.Name)
	}
	if strings.TrimSpace(t.Spec.Query) == "" {
		v.errorf("spec.query", "required: the query template")
	}
}
