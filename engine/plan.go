package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/redact"
	"github.com/augurproj/augur/templates"
)

// DefaultMetricsServer is Flagger's -metrics-server default, used by builtin
// and inline-query metrics when the canary sets no spec.metricsServer.
const DefaultMetricsServer = "http://prometheus:9090"

// intervalProviders are the MetricTemplate provider types whose Flagger
// constructors parse the metric's interval (and so fail without one).
var intervalProviders = map[string]bool{"datadog": true, "newrelic": true, "dynatrace": true, "cloudwatch": true, "splunk": true}

// PrometheusType is the provider type of builtin and inline-query metrics.
const PrometheusType = "prometheus"

// MetricPlan is one metric evaluation of a tick, fully resolved: the rendered
// query, the provider to send it to and the bounds to check it against. A
// metric that has both a builtin name (or an inline query) and a templateRef
// yields two plans, as Flagger evaluates it on both paths.
type MetricPlan struct {
	// Metric is the spec entry this plan comes from.
	Metric analysis.Metric `json:"-"`
	// Name is analysis.metrics[].name.
	Name string `json:"name"`
	// Kind is the evaluation path.
	Kind analysis.MetricKind `json:"kind"`
	// Observer and MetricsProvider are set for builtin kinds.
	Observer        string `json:"observer,omitempty"`
	MetricsProvider string `json:"-"`
	// Template is "<name>.<namespace>" for template kinds.
	Template string `json:"template,omitempty"`
	// Secret is the template provider's secretRef name, if any.
	Secret string `json:"-"`
	// Interval is the {{ interval }} the query rendered with.
	Interval string `json:"interval"`
	// Query is the rendered, whitespace-collapsed query as it is sent.
	Query string `json:"query"`
	// Provider is the provider the query goes to (credentials resolved).
	Provider metrics.Config `json:"-"`
	// Scale converts the provider's value to the check's unit (1000 for
	// request-duration in seconds, else 1).
	Scale float64 `json:"-"`
	// Err is set when the plan could not be built (render error, missing
	// template, bad secret, invalid judge configuration); the metric then
	// counts as a failed check.
	Err *analysis.ObservationError `json:"error,omitempty"`
	// Judge is set for a metric judged against the primary.
	Judge *JudgePlan `json:"judge,omitempty"`
}

// PlanOptions are the optional inputs of PlanFor.
type PlanOptions struct {
	// Templates are searched for templateRefs before Options.Templates.
	Templates TemplateSource
	// Judges are judge settings by metric name (a request's judges, CLI
	// flags), merged key by key over the Canary's judge annotations.
	Judges map[string]map[string]string
}

// TemplateSource finds MetricTemplates by namespace and name.
type TemplateSource interface {
	MetricTemplate(ctx context.Context, namespace, name string) (*analysis.MetricTemplate, error)
}

// SecretSource reads a Secret's data (decoded) by namespace and name.
type SecretSource interface {
	Secret(ctx context.Context, namespace, name string) (map[string]string, error)
}

// ErrNotFound is returned by sources for a missing object.
var ErrNotFound = errors.New("not found")

// StaticTemplates is a TemplateSource over a fixed list, e.g. decoded files.
type StaticTemplates []analysis.MetricTemplate

// MetricTemplate returns the template with that namespace and name.
func (s StaticTemplates) MetricTemplate(_ context.Context, namespace, name string) (*analysis.MetricTemplate, error) {
	for i := range s {
		if s[i].Metadata.Name == name && s[i].Metadata.Namespace == namespace {
			t := s[i]
			return &t, nil
		}
	}
	return nil, fmt.Errorf("MetricTemplate %s/%s %w", namespace, name, ErrNotFound)
}

// Plan resolves every metric of the canary into the evaluations Flagger would
// run, in Flagger's order: first the builtin and inline-query metrics in spec
// order (runBuiltinMetricChecks), then the templateRef metrics in spec order
// (runMetricChecks). Problems that belong to one metric are recorded in that
// plan's Err; Plan itself fails only when the context is done.
func (e *Engine) Plan(ctx context.Context, c *analysis.Canary) ([]MetricPlan, error) {
	return e.PlanWith(ctx, c, nil)
}

// PlanWith is Plan with extra MetricTemplates (for example sent along with
// a request) that are searched before Options.Templates.
func (e *Engine) PlanWith(ctx context.Context, c *analysis.Canary, extra TemplateSource) ([]MetricPlan, error) {
	return e.PlanFor(ctx, c, PlanOptions{Templates: extra})
}

// PlanFor is Plan with options. Metrics the Canary's judge annotations or
// opts.Judges configure are judged against the primary: their plans carry
// a JudgePlan (the data queries of both sides); an invalid judge
// configuration is the plan's Err (kind judge), and so is a judge
// annotation or setting that names no metric of the canary, on every plan.
func (e *Engine) PlanFor(ctx context.Context, c *analysis.Canary, opts PlanOptions) ([]MetricPlan, error) {
	extra := opts.Templates
	a := c.GetAnalysis()
	if a == nil {
		return nil, nil
	}
	judgeSettings, judgeErr := CanaryJudges(c, opts.Judges)
	sel := templates.ObserverFor(e.opts.MeshProvider, c.Spec.Provider, c.Spec.TargetRef.Kind, c.Spec.TargetRef.APIVersion)
	server := e.opts.MetricsServer
	if server == "" {
		server = DefaultMetricsServer
	}
	if c.Spec.MetricsServer != "" {
		server = c.Spec.MetricsServer
	}
	builtinProvider := metrics.Config{Type: PrometheusType, Address: server, Timeout: e.opts.QueryTimeout}
	builtinProvider.Redact(redact.FromContext(ctx))

	var plans []MetricPlan
	for _, m := range a.Metrics {
		var p MetricPlan
		var src judgeSource
		switch {
		case analysis.IsBuiltin(m.Name):
			p, src = e.planBuiltin(c, m, sel, builtinProvider)
		case m.Query != "":
			p, src = e.planInline(c, m, builtinProvider)
		default:
			continue
		}
		e.planJudge(c, &p, judgeSettings[m.Name], src)
		plans = append(plans, p)
	}
	for _, m := range a.Metrics {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch {
		case m.TemplateRef != nil:
			p, src, tj := e.planTemplate(ctx, c, m, extra)
			if p.Err == nil {
				if settings := mergeJudges(tj, judgeSettings[m.Name]); settings != nil {
					e.planJudge(c, &p, settings, src)
				}
			}
			plans = append(plans, p)
		case !analysis.IsBuiltin(m.Name) && m.Query == "":
			plans = append(plans, MetricPlan{
				Metric: m, Name: m.Name, Kind: analysis.KindTemplate, Scale: 1,
				Err: &analysis.ObservationError{
					Kind:    analysis.ErrKindNoMetric,
					Message: "no usable metrics template and query were configured",
				},
			})
		}
	}
	if judgeErr != nil {
		// A misspelt metric name or key in a judge annotation must not
		// silently leave a metric unjudged: every metric fails.
		for i := range plans {
			if plans[i].Err == nil {
				plans[i].Err = &analysis.ObservationError{Kind: analysis.ErrKindJudge, Message: judgeErr.Error()}
			}
			plans[i].Judge = nil
		}
	}
	return plans, nil
}

func model(c *analysis.Canary, interval string, vars map[string]string) templates.Model {
	return templates.Model{
		Name:      c.Metadata.Name,
		Namespace: c.Metadata.Namespace,
		Target:    c.Spec.TargetRef.Name,
		Service:   c.ServiceName(),
		Ingress:   c.IngressName(),
		Route:     c.RouteName(),
		Interval:  interval,
		Variables: vars,
	}
}

func builtinInterval(m analysis.Metric) string {
	if m.Interval == "" {
		return analysis.DefaultMetricInterval
	}
	return m.Interval
}

func (e *Engine) planBuiltin(c *analysis.Canary, m analysis.Metric, sel templates.Selection, prov metrics.Config) (MetricPlan, judgeSource) {
	kind := analysis.KindSuccessRate
	scale := 1.0
	if m.Name == analysis.MetricRequestDuration {
		kind = analysis.KindDuration
		scale = templates.DurationUnit(sel.Observer)
	}
	p := MetricPlan{
		Metric: m, Name: m.Name, Kind: kind, Observer: sel.Observer, MetricsProvider: sel.Provider,
		Interval: builtinInterval(m), Provider: prov, Scale: scale,
	}
	text, err := templates.BuiltinQuery(sel.Observer, m.Name)
	if err != nil {
		p.Err = &analysis.ObservationError{Kind: analysis.ErrKindRender, Message: err.Error()}
		return p, judgeSource{}
	}
	src := judgeSource{text: text, name: sel.Observer + "/" + m.Name, model: model(c, p.Interval, m.TemplateVariables), observer: sel.Observer}
	// Skipper's queries see Flagger's encoded model; src keeps the plain one so
	// that the judge's baseline target is derived before encoding.
	p.Query, p.Err = e.render(src.name, text, templates.BuiltinModel(sel.Observer, src.model))
	return p, src
}

func (e *Engine) planInline(c *analysis.Canary, m analysis.Metric, prov metrics.Config) (MetricPlan, judgeSource) {
	p := MetricPlan{
		Metric: m, Name: m.Name, Kind: analysis.KindQuery, Interval: builtinInterval(m), Provider: prov, Scale: 1,
	}
	src := judgeSource{text: m.Query, name: m.Name, model: model(c, p.Interval, m.TemplateVariables)}
	p.Query, p.Err = e.render(src.name, m.Query, src.model)
	return p, src
}

// planTemplate plans a templateRef metric; it also returns the template's
// judge annotations.
func (e *Engine) planTemplate(ctx context.Context, c *analysis.Canary, m analysis.Metric, extra TemplateSource) (MetricPlan, judgeSource, map[string]string) {
	ns := m.TemplateRef.Namespace
	if ns == "" {
		ns = c.Metadata.Namespace
	}
	p := MetricPlan{
		Metric: m, Name: m.Name, Kind: analysis.KindTemplate, Template: m.TemplateRef.Name + "." + ns,
		Interval: m.Interval, Scale: 1,
	}
	mt, err := e.findTemplate(ctx, extra, ns, m.TemplateRef.Name)
	if err != nil {
		p.Err = &analysis.ObservationError{Kind: analysis.ErrKindTemplate, Message: err.Error()}
		return p, judgeSource{}, nil
	}
	tj, err := templateJudges(mt)
	if err != nil {
		p.Err = &analysis.ObservationError{Kind: analysis.ErrKindJudge, Message: fmt.Sprintf("metric %s: %v", m.Name, err)}
		return p, judgeSource{}, nil
	}
	prov := metrics.Config{
		Type:               mt.Spec.Provider.Type,
		Address:            mt.Spec.Provider.Address,
		Headers:            mt.Spec.Provider.Headers,
		InsecureSkipVerify: mt.Spec.Provider.InsecureSkipVerify,
		Timeout:            e.opts.QueryTimeout,
		Region:             mt.Spec.Provider.Region,
	}
	p.Provider.Type = prov.Type
	if prov.Type != PrometheusType && (m.Interval != "" || intervalProviders[prov.Type]) {
		// Vendor providers query the window the metric's interval defines;
		// Flagger passes a templateRef metric's interval through undefaulted
		// and the constructors that read it refuse an empty one (graphite's
		// and influxdb's take none: their queries carry their own range).
		d, err := time.ParseDuration(m.Interval)
		if !intervalFree[prov.Type] && (err != nil || d <= 0) {
			p.Err = &analysis.ObservationError{Kind: analysis.ErrKindProvider,
				Message: fmt.Sprintf("metric %s: error parsing metric interval %q: provider %s needs analysis.metrics[].interval", m.Name, m.Interval, prov.Type)}
			return p, judgeSource{}, nil
		}
		if err == nil && d > 0 {
			prov.Interval = d
		}
	}
	if ref := mt.Spec.Provider.SecretRef; ref != nil {
		p.Secret = ref.Name
		prov.HasSecret = true
		if e.opts.Secrets == nil {
			p.Err = &analysis.ObservationError{Kind: analysis.ErrKindSecret,
				Message: fmt.Sprintf("secret %s.%s: no Secret source configured (use a cluster source)", ref.Name, mt.Metadata.Namespace)}
			return p, judgeSource{}, nil
		}
		data, err := e.opts.Secrets.Secret(ctx, mt.Metadata.Namespace, ref.Name)
		if err != nil {
			p.Err = &analysis.ObservationError{Kind: analysis.ErrKindSecret,
				Message: fmt.Sprintf("secret %s.%s: %v", ref.Name, mt.Metadata.Namespace, err)}
			return p, judgeSource{}, nil
		}
		prov.Credentials = data
	}
	// Whatever the request's output boundary is scrubs these too.
	prov.Redact(redact.FromContext(ctx))
	p.Provider = prov
	src := judgeSource{text: mt.Spec.Query, name: p.Template, model: model(c, p.Interval, m.TemplateVariables)}
	p.Query, p.Err = e.render(src.name, mt.Spec.Query, src.model)
	return p, src, tj
}

func (e *Engine) render(name, text string, m templates.Model) (string, *analysis.ObservationError) {
	q, err := e.compiled.render(name, text, m)
	if err != nil {
		return "", &analysis.ObservationError{Kind: analysis.ErrKindRender, Message: err.Error()}
	}
	return templates.Collapse(q), nil
}

// providerKey identifies a provider configuration so that one client is
// built per distinct configuration and reused across metrics and ticks.
func providerKey(c metrics.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s\x00%t\x00%t\x00%d\x00%d\x00%s", c.Type, c.Address, c.InsecureSkipVerify, c.HasSecret, c.Timeout, c.Interval, c.Region)
	for _, k := range sortedKeys(c.Headers) {
		fmt.Fprintf(&b, "\x00h:%s=%q", k, c.Headers[k])
	}
	for _, k := range sortedKeys(c.Credentials) {
		fmt.Fprintf(&b, "\x00c:%s=%s", k, c.Credentials[k])
	}
	return b.String()
}

// findTemplate looks in extra, then in Options.Templates.
func (e *Engine) findTemplate(ctx context.Context, extra TemplateSource, ns, name string) (*analysis.MetricTemplate, error) {
	var errs []error
	for _, src := range []TemplateSource{extra, e.opts.Templates} {
		if src == nil {
			continue
		}
		mt, err := src.MetricTemplate(ctx, ns, name)
		if err == nil {
			return mt, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("MetricTemplate %s/%s %w", ns, name, ErrNotFound)
	}
	return nil, errs[0]
}

// intervalFree lists the vendor provider types whose Flagger constructor
// takes no metric interval, so an empty one is no error for them.
var intervalFree = map[string]bool{"graphite": true, "influxdb": true}
