package argo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/service"
)

// PluginName is the name augur is registered under in Argo Rollouts'
// metricProviderPlugins list and the key of its configuration in
// metric.provider.plugin. It matches Argo's name rule
// ^[a-zA-Z0-9-]+/[a-zA-Z0-9_.-]+$.
const PluginName = "augur/augur"

// MaxTimeout is the longest timeout a configuration may ask for.
const MaxTimeout = 10 * time.Minute

// Config is augur's configuration in metric.provider.plugin["augur/augur"].
// Exactly one of Query, Template and Builtin says what to measure.
type Config struct {
	// Address is the Prometheus base URL (for Query, for Template when its
	// provider has no address, and for Builtin).
	Address string `json:"address,omitempty"`
	// Query is PromQL, rendered as a Flagger MetricTemplate query (Flagger's
	// variables and sprig; see Delims).
	Query string `json:"query,omitempty"`
	// Template is a Flagger MetricTemplate spec: provider and query.
	Template *analysis.MetricTemplateSpec `json:"template,omitempty"`
	// Builtin is Flagger's builtin metric name: request-success-rate (a
	// percentage) or request-duration (milliseconds).
	Builtin string `json:"builtin,omitempty"`

	// Name is the canary name ({{ name }}); default Target, then the metric's name.
	Name string `json:"name,omitempty"`
	// Namespace is {{ namespace }}; default the AnalysisRun's namespace.
	Namespace string `json:"namespace,omitempty"`
	// Target is the workload name ({{ target }}); default Name.
	Target string `json:"target,omitempty"`
	// TargetKind is the workload kind (default Deployment); it selects the
	// builtin query family for some mesh providers.
	TargetKind string `json:"targetKind,omitempty"`
	// Service is {{ service }} (default Target).
	Service string `json:"service,omitempty"`
	// MeshProvider selects the builtin query family (istio, linkerd, …; default istio).
	MeshProvider string `json:"meshProvider,omitempty"`
	// Interval is {{ interval }} (builtin default 1m).
	Interval string `json:"interval,omitempty"`
	// Variables are {{ variables.KEY }}.
	Variables map[string]string `json:"variables,omitempty"`
	// Delims are the template delimiters used instead of "{{" and "}}",
	// which Argo reserves for its {{args.…}} substitution (for example
	// ["[[", "]]"]).
	Delims []string `json:"delims,omitempty"`

	// ThresholdRange is Flagger's inclusive range: outside it the
	// measurement is Failed.
	ThresholdRange *analysis.ThresholdRange `json:"thresholdRange,omitempty"`

	// Headers are sent with every query (values are treated as secrets).
	Headers map[string][]string `json:"headers,omitempty"`
	// Credentials authenticate queries: a bearer token, or basic auth.
	Credentials *Credentials `json:"credentials,omitempty"`
	// InsecureSkipVerify disables TLS verification.
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
	// Timeout bounds the measurement (Go duration, default 30s, at most 10m).
	Timeout string `json:"timeout,omitempty"`
	// Data is the path of recorded data (OpenMetrics text) queried instead
	// of Prometheus, at the data's end: offline tests of AnalysisTemplates.
	Data string `json:"data,omitempty"`

	// Judge judges the metric against the primary (the workload
	// <target>-primary running at the same time) with augur's statistical
	// judges: the flat keys of docs/judges.md (judge, window, alpha,
	// requestsQuery, …) with string, number or boolean values. A pass is
	// Successful, a fail Failed, an undecided judge Inconclusive; with
	// thresholdRange the worse phase wins.
	Judge JudgeConfig `json:"judge,omitempty"`

	// Preflight, instead of a query, runs augur lint's rules on the Rollout
	// (Target or Name, default the AnalysisRun's owner) and what it depends on,
	// read from the cluster: Failed with the error findings, else Successful.
	// It needs `augur argo-plugin --cluster` (docs/lint.md).
	Preflight bool `json:"preflight,omitempty"`
}

// JudgeConfig is the judge configuration: flat keys whose JSON values may
// be strings, numbers or booleans (kept as their text).
type JudgeConfig map[string]string

// UnmarshalJSON reads an object of scalars.
func (j *JudgeConfig) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("judge: want an object of key: value: %w", err)
	}
	out := JudgeConfig{}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		v := bytes.TrimSpace(raw[k])
		var s string
		switch {
		case json.Unmarshal(v, &s) == nil && v[0] == '"':
		case bytes.Equal(v, []byte("true")), bytes.Equal(v, []byte("false")):
			s = string(v)
		default:
			var n json.Number
			if err := json.Unmarshal(v, &n); err != nil {
				errs = append(errs, fmt.Errorf("judge.%s: want a string, number or boolean", k))
				continue
			}
			s = n.String()
		}
		out[k] = s
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*j = out
	return nil
}

// Credentials are a bearer token, or a username and password. They are never
// echoed in a measurement's value, message or metadata.
type Credentials struct {
	// Token is sent as "Authorization: Bearer <token>".
	Token string `json:"token,omitempty"`
	// Username and Password are sent as basic auth.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// Measurement modes.
const (
	modeQuery    = "query"
	modeTemplate = "template"
	modeBuiltin  = "builtin"
)

// parsed is a validated configuration.
type parsed struct {
	Config
	mode    string
	timeout time.Duration
	secrets secrets
}

// configError is a configuration problem; its text is already scrubbed.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, a ...any) error {
	return &configError{msg: fmt.Sprintf("config %q: ", PluginName) + fmt.Sprintf(format, a...)}
}

// parseConfig reads and validates the plugin configuration of metric.
// Errors never contain credential or header values.
func parseConfig(metric v1alpha1.Metric, defaultTimeout time.Duration) (*parsed, error) {
	raw, ok := metric.Provider.Plugin[PluginName]
	if !ok || len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		keys := make([]string, 0, len(metric.Provider.Plugin))
		for k := range metric.Provider.Plugin {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, configErrorf("metric %q has no configuration under provider.plugin[%q] (found keys %q); "+
			"the key must equal the plugin's name in the argo-rollouts-config ConfigMap", metric.Name, PluginName, keys)
	}
	if err := manifest.DuplicateJSONKey(raw, ""); err != nil {
		// encoding/json would take the last one silently.
		return nil, configErrorf("%s", rawSecrets(raw).scrub(err.Error()))
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&c)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("unexpected data after the configuration object")
		}
	}
	if err != nil {
		s := rawSecrets(raw)
		return nil, configErrorf("%s", s.scrub(err.Error()))
	}
	p := &parsed{Config: c, secrets: c.secretValues()}
	if err := p.validate(defaultTimeout); err != nil {
		return nil, configErrorf("%s", p.secrets.scrub(err.Error()))
	}
	return p, nil
}

func (p *parsed) validate(defaultTimeout time.Duration) error {
	if p.Preflight {
		return p.validatePreflight(defaultTimeout)
	}
	var modes []string
	if p.Query != "" {
		modes = append(modes, modeQuery)
	}
	if p.Template != nil {
		modes = append(modes, modeTemplate)
	}
	if p.Builtin != "" {
		modes = append(modes, modeBuiltin)
	}
	if len(modes) != 1 {
		return fmt.Errorf("give exactly one of query, template and builtin (got %d: %s)", len(modes), strings.Join(modes, ", "))
	}
	p.mode = modes[0]
	var errs []error
	switch p.mode {
	case modeBuiltin:
		if !analysis.IsBuiltin(p.Builtin) {
			errs = append(errs, fmt.Errorf("builtin %q: want %s or %s", p.Builtin, analysis.MetricRequestSuccessRate, analysis.MetricRequestDuration))
		}
		if len(p.Headers) > 0 || p.Credentials != nil || p.InsecureSkipVerify {
			errs = append(errs, errors.New("headers, credentials and insecureSkipVerify are not supported with builtin "+
				"(Flagger's builtin metrics use an unauthenticated metrics server); use query or template"))
		}
		if p.Name == "" && p.Target == "" {
			errs = append(errs, errors.New("builtin needs target (or name): the workload whose traffic is measured"))
		}
	case modeTemplate:
		if p.Template.Query == "" {
			errs = append(errs, errors.New("template.query is required"))
		}
		if p.Template.Provider.SecretRef != nil {
			errs = append(errs, errors.New("template.provider.secretRef is not supported: put the credentials in credentials (Argo can fill them from a Secret with valueFrom.secretKeyRef)"))
		}
	}
	if p.Data != "" && p.Address != "" {
		errs = append(errs, errors.New("address and data are exclusive"))
	}
	if p.mode != modeBuiltin && p.Data == "" && p.Address == "" && (p.Template == nil || p.Template.Provider.Address == "") {
		errs = append(errs, errors.New("address is required (or data, for recorded data)"))
	}
	if c := p.Credentials; c != nil {
		switch {
		case c.Token != "" && (c.Username != "" || c.Password != ""):
			errs = append(errs, errors.New("credentials: give token or username and password, not both"))
		case c.Token == "" && (c.Username == "" || c.Password == ""):
			errs = append(errs, errors.New("credentials: give token, or both username and password"))
		}
	}
	if r := p.ThresholdRange; r != nil && r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		errs = append(errs, fmt.Errorf("thresholdRange: min %v is greater than max %v", *r.Min, *r.Max))
	}
	if len(p.Delims) != 0 && (len(p.Delims) != 2 || p.Delims[0] == "" || p.Delims[1] == "" || p.Delims[0] == p.Delims[1]) {
		errs = append(errs, fmt.Errorf("delims: want two different non-empty strings, like [\"[[\", \"]]\"], got %q", p.Delims))
	}
	if len(p.Judge) > 0 {
		for _, k := range slices.Sorted(maps.Keys(p.Judge)) {
			if strings.HasSuffix(k, "Query") {
				q, err := p.undelim("judge."+k, p.Judge[k])
				if err != nil {
					errs = append(errs, err)
					continue
				}
				p.Judge[k] = q
			}
		}
		if _, err := engine.ParseJudgeSpec(p.Judge); err != nil {
			errs = append(errs, fmt.Errorf("judge: %w", err))
		}
	}
	p.timeout = defaultTimeout
	if p.Timeout != "" {
		d, err := time.ParseDuration(p.Timeout)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("timeout: %w", err))
		case d <= 0 || d > MaxTimeout:
			errs = append(errs, fmt.Errorf("timeout %s: want more than 0 and at most %s", d, MaxTimeout))
		default:
			p.timeout = d
		}
	}
	return errors.Join(errs...)
}

// undelim rewrites the configured delimiters of a query to Go template's
// "{{" and "}}". With custom delimiters a literal "{{" or "}}" is ambiguous
// and rejected.
func (p *parsed) undelim(field, q string) (string, error) {
	if len(p.Delims) != 2 {
		return q, nil
	}
	if strings.Contains(q, "{{") || strings.Contains(q, "}}") {
		return "", fmt.Errorf("%s contains \"{{\" or \"}}\" although delims are %q", field, p.Delims)
	}
	q = strings.ReplaceAll(q, p.Delims[0], "{{")
	return strings.ReplaceAll(q, p.Delims[1], "}}"), nil
}

// dataAddress is the provider address of recorded data: a file:// URL of
// the absolute path.
func dataAddress(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("data %q: %w", path, err)
	}
	return "file://" + abs, nil
}

// credentialMap is the credentials as a Secret's data (the keys the
// Prometheus provider reads).
func (c *Credentials) credentialMap() map[string]string {
	if c == nil {
		return nil
	}
	if c.Token != "" {
		return map[string]string{"token": c.Token}
	}
	return map[string]string{"username": c.Username, "password": c.Password}
}

// secretValues lists the strings that must never appear in output.
func (c *Config) secretValues() secrets {
	var s secrets
	if cr := c.Credentials; cr != nil {
		s.add(cr.Token, cr.Password, cr.Username)
		if cr.Token != "" {
			s.add("Bearer " + cr.Token)
		}
		if cr.Username != "" || cr.Password != "" {
			s.add(base64.StdEncoding.EncodeToString([]byte(cr.Username + ":" + cr.Password)))
		}
	}
	for _, vs := range c.Headers {
		s.add(vs...)
	}
	for _, a := range []string{c.Address, templateAddress(c.Template)} {
		s.addURL(a)
		if u, err := url.Parse(a); err == nil && u.User != nil {
			pw, _ := u.User.Password()
			s.add(u.User.Username(), pw, u.User.String(),
				base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
		}
	}
	if c.Template != nil {
		for _, vs := range c.Template.Provider.Headers {
			s.add(vs...)
		}
	}
	return s
}

func templateAddress(t *analysis.MetricTemplateSpec) string {
	if t == nil {
		return ""
	}
	return t.Provider.Address
}

// rawSecrets collects every scalar under "credentials" and "headers" (at any
// depth) of a configuration that did not decode, so that decoding errors
// (which can quote a number) are scrubbed too.
func rawSecrets(raw []byte) secrets {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return secrets{}
	}
	var s secrets
	var walk func(v any, secret bool)
	walk = func(v any, secret bool) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(e, secret || k == "credentials" || k == "headers")
			}
		case []any:
			for _, e := range x {
				walk(e, secret)
			}
		case string:
			if secret {
				s.add(x)
			}
		case float64, bool:
			if secret {
				s.add(fmt.Sprint(x))
			}
		}
	}
	walk(v, false)
	return s
}

// request is the service query for this measurement: a Canary whose single
// metric is the configured one, with its MetricTemplate for query and template.
func (p *parsed) request(runNS, metricName string) (service.QueryRequest, error) {
	c, tmpl, err := p.canary(runNS, metricName)
	if err != nil {
		return service.QueryRequest{}, configErrorf("%s", p.secrets.scrub(err.Error()))
	}
	req := service.QueryRequest{Canary: c}
	if len(p.Judge) > 0 {
		req.Judges = map[string]map[string]string{c.Spec.Analysis.Metrics[0].Name: p.Judge}
	}
	if tmpl != nil {
		req.MetricTemplates = []analysis.MetricTemplate{*tmpl}
	}
	return req, nil
}

// canary builds the Canary (and, for query and template, the MetricTemplate)
// whose single metric is this measurement.
func (p *parsed) canary(runNS, metricName string) (analysis.Canary, *analysis.MetricTemplate, error) {
	ns := firstNonEmpty(p.Namespace, runNS, "default")
	name := firstNonEmpty(p.Name, p.Target, metricName)
	target := firstNonEmpty(p.Target, name)
	c := analysis.Canary{
		APIVersion: analysis.APIVersion, Kind: analysis.KindCanary,
		Metadata: analysis.ObjectMeta{Name: name, Namespace: ns},
		Spec: analysis.CanarySpec{
			Provider:  p.MeshProvider,
			TargetRef: analysis.CrossNamespaceObjectReference{Kind: firstNonEmpty(p.TargetKind, "Deployment"), Name: target},
			Service:   analysis.CanaryService{Name: p.Service},
		},
	}
	m := analysis.Metric{
		Name:              metricName,
		Interval:          p.Interval,
		ThresholdRange:    p.ThresholdRange,
		TemplateVariables: p.Variables,
	}
	if p.mode == modeBuiltin {
		m.Name = p.Builtin
		addr := p.Address
		if p.Data != "" {
			var err error
			if addr, err = dataAddress(p.Data); err != nil {
				return c, nil, err
			}
		}
		c.Spec.MetricsServer = addr
		c.Spec.Analysis = &analysis.Analysis{Metrics: []analysis.Metric{m}}
		return c, nil, nil
	}
	if analysis.IsBuiltin(m.Name) || m.Name == "" {
		// The engine treats the builtin names as builtin metrics.
		m.Name = "augur-" + m.Name
	}
	spec := analysis.MetricTemplateSpec{Provider: analysis.MetricTemplateProvider{Type: "prometheus"}, Query: p.Query}
	field := "query"
	if p.Template != nil {
		spec = *p.Template
		field = "template.query"
		if spec.Provider.Type == "" {
			spec.Provider.Type = "prometheus"
		}
	}
	q, err := p.undelim(field, spec.Query)
	if err != nil {
		return c, nil, err
	}
	spec.Query = q
	if spec.Provider.Address == "" {
		spec.Provider.Address = p.Address
	}
	if p.Data != "" {
		addr, err := dataAddress(p.Data)
		if err != nil {
			return c, nil, err
		}
		spec.Provider.Address = addr
	}
	if len(p.Headers) > 0 {
		h := make(map[string][]string, len(p.Headers)+len(spec.Provider.Headers))
		for k, v := range spec.Provider.Headers {
			h[k] = v
		}
		for k, v := range p.Headers {
			h[k] = v
		}
		spec.Provider.Headers = h
	}
	spec.Provider.InsecureSkipVerify = spec.Provider.InsecureSkipVerify || p.InsecureSkipVerify
	if p.Credentials != nil {
		spec.Provider.SecretRef = &analysis.LocalObjectReference{Name: credentialSecret}
	}
	tmplName := firstNonEmpty(metricName, "augur")
	tmpl := &analysis.MetricTemplate{
		APIVersion: analysis.APIVersion, Kind: analysis.KindMetricTemplate,
		Metadata: analysis.ObjectMeta{Name: tmplName, Namespace: ns},
		Spec:     spec,
	}
	m.TemplateRef = &analysis.CrossNamespaceObjectReference{Name: tmplName, Namespace: ns}
	c.Spec.Analysis = &analysis.Analysis{Metrics: []analysis.Metric{m}}
	return c, tmpl, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
