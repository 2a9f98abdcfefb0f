package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/service"
)

// Metadata keys of the Flagger webhook endpoints. Flagger keeps a webhook's
// metadata as map[string]string, so every key is flat and every value a string.
const (
	// KeyQuery is an inline PromQL query (Flagger's metric query), rendered
	// with Flagger's template variables.
	KeyQuery = "query"
	// KeyTemplate names a MetricTemplate as namespace/name, or name in the
	// canary's namespace.
	KeyTemplate = "template"
	// KeyMetrics is a YAML (or JSON) list of Flagger CanaryMetric objects,
	// exactly as under a Canary's analysis.metrics.
	KeyMetrics = "metrics"
	// KeyName names the query or template metric in answers and metrics.
	KeyName = "name"
	// KeyMin is the query or template metric's inclusive lower bound
	// (thresholdRange.min).
	KeyMin = "min"
	// KeyMax is the query or template metric's inclusive upper bound
	// (thresholdRange.max).
	KeyMax = "max"
	// KeyInterval is the query or template metric's {{ interval }}
	// (default 1m, for templates too).
	KeyInterval = "interval"
	// KeyVarPrefix prefixes the query or template metric's template
	// variables: var.<key> is {{ variables.<key> }}.
	KeyVarPrefix = "var."
	// KeyTarget is the {{ target }} (the canary's targetRef.name).
	KeyTarget = "target"
	// KeyService is the {{ service }} (the canary's service.name).
	KeyService = "service"
	// KeyMeshProvider is Flagger's spec.provider, which picks the builtin
	// queries of request-success-rate and request-duration.
	KeyMeshProvider = "meshProvider"
	// KeyMetricsServer is Flagger's spec.metricsServer: the Prometheus of
	// builtin and inline-query metrics.
	KeyMetricsServer = "metricsServer"
	// KeyToken carries the bearer token, since Flagger cannot send headers
	// to webhooks.
	KeyToken = "token"
	// KeyJudges judges metrics against the primary: a YAML (or JSON) map
	// from metric name to the flat judge keys of docs/judges.md, for the
	// metrics key's list or the Canary's own metrics. The query and
	// template forms take the judge keys (judge, window, alpha, …) directly.
	KeyJudges = "judges"
)

var metadataKeys = append([]string{KeyQuery, KeyTemplate, KeyMetrics, KeyName, KeyMin, KeyMax, KeyInterval,
	KeyVarPrefix + "<key>", KeyTarget, KeyService, KeyMeshProvider, KeyMetricsServer, KeyToken, KeyJudges}, engine.JudgeKeys()...)

// maxReason bounds a webhook answer's text; Flagger puts it in an event.
const maxReason = 1000

// payload is Flagger's CanaryWebhookPayload.
type payload struct {
	Name      string
	Namespace string
	Phase     string
	Checksum  string
	Metadata  map[string]string
}

// decodePayload reads Flagger's webhook payload. Members other than Flagger's
// five are ignored (Flagger owns this format); the five must have their
// types, and name is required.
func decodePayload(b []byte) (payload, error) {
	var p payload
	fields, err := objectFields(b, bodyPath)
	if err != nil {
		return p, err
	}
	var msgs []string
	note := func(err error) {
		if err != nil {
			msgs = append(msgs, strings.TrimPrefix(err.Error(), service.ErrBadRequest.Error()+": "))
		}
	}
	for _, f := range fields {
		switch f.name {
		case "name":
			note(strictUnmarshal(f.raw, &p.Name, "name"))
		case "namespace":
			note(strictUnmarshal(f.raw, &p.Namespace, "namespace"))
		case "phase":
			note(strictUnmarshal(f.raw, &p.Phase, "phase"))
		case "checksum":
			note(strictUnmarshal(f.raw, &p.Checksum, "checksum"))
		case "metadata":
			var md map[string]json.RawMessage
			if err := strictUnmarshal(f.raw, &md, "metadata"); err != nil {
				note(err)
				continue
			}
			for _, k := range sortedKeys(md) {
				var s string
				if err := json.Unmarshal(md[k], &s); err != nil || isNull(md[k]) {
					msgs = append(msgs, fmt.Sprintf("metadata.%s: want a string (Flagger's webhook metadata is a map of strings: quote numbers)", k))
					continue
				}
				if p.Metadata == nil {
					p.Metadata = map[string]string{}
				}
				p.Metadata[k] = s
			}
		}
	}
	if p.Name == "" && len(msgs) == 0 {
		msgs = append(msgs, "name: required (the canary's name)")
	}
	if len(msgs) > 0 {
		return p, badList(msgs)
	}
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	return p, nil
}

// checkSpec is what a webhook's metadata asks for.
type checkSpec struct {
	// metrics to evaluate; nil means none were given.
	metrics []analysis.Metric
	// Overrides of the canary's fields; empty means keep.
	target, service, meshProvider, metricsServer string
	// judges are judge settings by metric name (service.QueryRequest.Judges).
	judges map[string]map[string]string
}

// parseMetadata reads the metadata keys of the check and gate endpoints.
// Errors say which key is malformed and why, all on one line.
func parseMetadata(md map[string]string) (checkSpec, error) {
	var spec checkSpec
	var msgs []string
	vars := map[string]string{}
	judgeKV := map[string]string{}
	var modes []string
	unknown := false
	for _, k := range sortedKeys(md) {
		v := md[k]
		switch {
		case slices.Contains(engine.JudgeKeys(), k):
			judgeKV[k] = v
			continue
		case k == KeyJudges:
			j, err := metadataJudges(v)
			if err != nil {
				msgs = append(msgs, err.Error())
				continue
			}
			spec.judges = j
			continue
		case k == KeyQuery || k == KeyTemplate || k == KeyMetrics:
			modes = append(modes, k)
		case k == KeyName || k == KeyMin || k == KeyMax || k == KeyInterval || k == KeyToken:
		case k == KeyTarget:
			spec.target = v
		case k == KeyService:
			spec.service = v
		case k == KeyMeshProvider:
			spec.meshProvider = v
		case k == KeyMetricsServer:
			spec.metricsServer = v
		case strings.HasPrefix(k, KeyVarPrefix):
			name := strings.TrimPrefix(k, KeyVarPrefix)
			if name == "" {
				msgs = append(msgs, "metadata."+k+": want var.<name>")
				continue
			}
			vars[name] = v
			continue
		default:
			unknown = true
			msg := fmt.Sprintf("metadata.%s: unknown key", k)
			if s := suggest(k, metadataKeys); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known: " + strings.Join(metadataKeys, ", ") + ")"
			}
			msgs = append(msgs, msg)
			continue
		}
		if strings.TrimSpace(v) == "" && k != KeyToken {
			msgs = append(msgs, "metadata."+k+": empty")
		}
	}
	if spec.metricsServer != "" {
		if u, err := url.Parse(spec.metricsServer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			msgs = append(msgs, fmt.Sprintf("metadata.%s: %q is not an absolute http:// or https:// URL", KeyMetricsServer, spec.metricsServer))
		}
	}
	if spec.meshProvider != "" {
		if err := checkMeshProvider(spec.meshProvider); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	single := len(vars) > 0
	for _, k := range []string{KeyName, KeyMin, KeyMax, KeyInterval} {
		_, ok := md[k]
		single = single || ok
	}
	switch {
	case unknown:
		// A misspelt key is the likely cause of whatever else looks wrong.
	case len(modes) > 1:
		msgs = append(msgs, fmt.Sprintf("metadata: give one of query, template and metrics, not %s", strings.Join(modes, " and ")))
	case len(modes) == 0 && single:
		msgs = append(msgs, "metadata: name, min, max, interval and var.* describe a query or template metric; give query or template too")
	case len(modes) == 1 && modes[0] == KeyMetrics && single:
		msgs = append(msgs, "metadata: name, min, max, interval and var.* go with query or template; with metrics, put them in the list entries")
	case len(judgeKV) > 0 && (len(modes) == 0 || modes[0] == KeyMetrics):
		msgs = append(msgs, fmt.Sprintf("metadata: the judge keys (%s) go with query or template; for the metrics list or the Canary's own metrics, use %s (metric: {key: value})",
			strings.Join(sortedKeys(judgeKV), ", "), KeyJudges))
	case len(judgeKV) > 0 && spec.judges != nil:
		msgs = append(msgs, fmt.Sprintf("metadata: give the judge keys directly or %s, not both", KeyJudges))
	}
	if len(msgs) > 0 {
		return spec, badList(msgs)
	}
	if len(modes) == 0 {
		return spec, nil
	}
	var err error
	if modes[0] == KeyMetrics {
		spec.metrics, err = metadataMetrics(md[KeyMetrics])
	} else {
		spec.metrics, err = singleMetric(md, modes[0], vars, len(judgeKV) > 0)
		if err == nil && len(judgeKV) > 0 {
			spec.judges = map[string]map[string]string{spec.metrics[0].Name: judgeKV}
		}
	}
	return spec, err
}

// metadataJudges decodes the judges key: metric name to flat judge keys,
// with string, number or boolean values.
func metadataJudges(text string) (map[string]map[string]string, error) {
	j, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("metadata.%s: not YAML: %s", KeyJudges, oneLine(err.Error()))
	}
	var raw map[string]map[string]any
	if err := json.Unmarshal(j, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("metadata.%s: want a map from metric name to {key: value}", KeyJudges)
	}
	out := map[string]map[string]string{}
	var msgs []string
	for _, metric := range sortedKeys(raw) {
		out[metric] = map[string]string{}
		for _, k := range sortedKeys(raw[metric]) {
			switch v := raw[metric][k].(type) {
			case string:
				out[metric][k] = v
			case float64:
				out[metric][k] = strconv.FormatFloat(v, 'g', -1, 64)
			case bool:
				out[metric][k] = strconv.FormatBool(v)
			default:
				msgs = append(msgs, fmt.Sprintf("metadata.%s.%s.%s: want a string, number or boolean", KeyJudges, metric, k))
			}
		}
	}
	if len(msgs) > 0 {
		return nil, errors.New(strings.Join(msgs, "; "))
	}
	return out, nil
}

// metadataMetrics decodes the metrics key.
func metadataMetrics(text string) ([]analysis.Metric, error) {
	j, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		return nil, badf("metadata.metrics: not YAML: %s", oneLine(err.Error()))
	}
	return decodeMetrics(j, func(rest string) string { return "metadata.metrics" + rest })
}

// singleMetric builds the one metric of the query and template keys. A
// judged metric may go without bounds: its judge alone decides.
func singleMetric(md map[string]string, mode string, vars map[string]string, judged bool) ([]analysis.Metric, error) {
	m := map[string]any{}
	var msgs []string
	var tr = map[string]float64{}
	for _, k := range []string{KeyMin, KeyMax} {
		s, ok := md[k]
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			msgs = append(msgs, fmt.Sprintf("metadata.%s: %q is not a finite number", k, s))
			continue
		}
		tr[k] = f
	}
	_, hasMin := md[KeyMin]
	_, hasMax := md[KeyMax]
	if !hasMin && !hasMax && !judged {
		msgs = append(msgs, "metadata: give min, max or both (the bounds the value must stay within), or judge keys")
	}
	name := md[KeyName]
	switch mode {
	case KeyQuery:
		m["query"] = md[KeyQuery]
		if name == "" {
			name = KeyQuery
		}
	case KeyTemplate:
		ref := md[KeyTemplate]
		ns, tname, hasNS := strings.Cut(ref, "/")
		if !hasNS {
			ns, tname = "", ref
		}
		if tname == "" || strings.Contains(tname, "/") || (hasNS && ns == "") {
			msgs = append(msgs, fmt.Sprintf("metadata.template: %q: want namespace/name or name", ref))
		}
		tref := map[string]string{"name": tname}
		if ns != "" {
			tref["namespace"] = ns
		}
		m["templateRef"] = tref
		if name == "" {
			name = tname
		}
	}
	if analysis.IsBuiltin(name) {
		msgs = append(msgs, fmt.Sprintf("metadata.name: %q is a Flagger builtin metric name, which would run the builtin query instead; pick another name", name))
	}
	if len(msgs) > 0 {
		return nil, badList(msgs)
	}
	m["name"] = name
	m["interval"] = analysis.DefaultMetricInterval
	if iv, ok := md[KeyInterval]; ok {
		m["interval"] = iv
	}
	if hasMin || hasMax {
		m["thresholdRange"] = tr
	}
	if len(vars) > 0 {
		m["templateVariables"] = vars
	}
	b, err := json.Marshal([]any{m})
	if err != nil {
		return nil, badf("metadata: %v", err)
	}
	return decodeMetrics(b, singleKey)
}

// singleKey maps a field path inside the one metric to its metadata key.
func singleKey(rest string) string {
	rest = strings.TrimPrefix(rest, "[0]")
	switch {
	case rest == "":
		return "metadata"
	case rest == ".thresholdRange":
		return "metadata.min/max"
	case strings.HasPrefix(rest, ".thresholdRange."):
		return "metadata." + strings.TrimPrefix(rest, ".thresholdRange.")
	case strings.HasPrefix(rest, ".templateRef"):
		return "metadata.template"
	case strings.HasPrefix(rest, ".templateVariables["):
		return "metadata." + KeyVarPrefix + strings.TrimSuffix(strings.TrimPrefix(rest, ".templateVariables["), "]")
	}
	return "metadata" + rest
}

// checkMeshProvider validates a mesh provider with the Canary CRD's enum.
func checkMeshProvider(p string) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	raw := `{"metadata":{"name":"provider"},"spec":{"provider":` + string(b) +
		`,"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"provider"}}}`
	_, err = decodeObjects(json.RawMessage(raw), nil)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), service.ErrBadRequest.Error()+": ")
		msg = strings.Replace(msg, "canary.spec.provider", "metadata."+KeyMeshProvider, 1)
		return errors.New(msg)
	}
	return nil
}

// oneLine makes s fit on one line of a Flagger event, at most maxReason bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxReason {
		return s
	}
	cut := maxReason - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// CanarySource finds a Canary by namespace and name: the Canaries loaded at
// startup, or a cluster (kube.Source implements it). A missing Canary is an
// error wrapping engine.ErrNotFound.
type CanarySource interface {
	Canary(ctx context.Context, namespace, name string) (analysis.Canary, error)
}

// StaticCanaries is a CanarySource over a fixed list, e.g. decoded files.
type StaticCanaries []analysis.Canary

// Canary returns the Canary with that namespace and name.
func (s StaticCanaries) Canary(_ context.Context, namespace, name string) (analysis.Canary, error) {
	for _, c := range s {
		if c.Metadata.Name == name && c.Metadata.Namespace == namespace {
			return c, nil
		}
	}
	return analysis.Canary{}, fmt.Errorf("canary %s/%s %w", namespace, name, engine.ErrNotFound)
}

// lookup asks the canary sources in order; found is false when none knows it.
func (s *Server) lookup(ctx context.Context, namespace, name string) (c analysis.Canary, found bool, err error) {
	for _, src := range s.opts.Canaries {
		c, err := src.Canary(ctx, namespace, name)
		if err == nil {
			return c, true, nil
		}
		if !errors.Is(err, engine.ErrNotFound) {
			return analysis.Canary{}, false, fmt.Errorf("reading Canary %s/%s: %w", namespace, name, err)
		}
	}
	return analysis.Canary{}, false, nil
}

// checkCanary is the canary a webhook's metrics are evaluated for: the known
// Canary, or one made from the payload, with the metadata's overrides.
func checkCanary(p payload, spec checkSpec, known *analysis.Canary) analysis.Canary {
	var c analysis.Canary
	if known != nil {
		c = *known
	} else {
		c.Metadata = analysis.ObjectMeta{Name: p.Name, Namespace: p.Namespace}
		c.Spec.TargetRef = analysis.CrossNamespaceObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: p.Name}
	}
	if spec.target != "" {
		c.Spec.TargetRef.Name = spec.target
	}
	if spec.service != "" {
		c.Spec.Service.Name = spec.service
	}
	if spec.meshProvider != "" {
		c.Spec.Provider = spec.meshProvider
	}
	if spec.metricsServer != "" {
		c.Spec.MetricsServer = spec.metricsServer
	}
	if spec.metrics != nil {
		a := analysis.Analysis{}
		if orig := c.GetAnalysis(); orig != nil {
			a = *orig
		}
		a.Metrics = spec.metrics
		c.Spec.Analysis = &a
		c.Spec.CanaryAnalysis = nil
	}
	return c
}

// Webhook endpoint names (the endpoint label of augur_webhook_checks_total).
const (
	endpointCheck = "check"
	endpointGate  = "gate"
)

// Webhook results (the result label of augur_webhook_checks_total).
const (
	resultPass      = "pass"
	resultFail      = "fail"
	resultMalformed = "malformed"
)

// answerText writes a Flagger webhook answer: one line of text.
func answerText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(oneLine(msg) + "\n"))
}

// webhookRequest reads, authorizes and parses a Flagger webhook call. On
// failure it has answered and returns ok false.
func (s *Server) webhookRequest(w http.ResponseWriter, r *http.Request, endpoint string) (p payload, spec checkSpec, ok bool) {
	b, err := readBody(w, r, s.opts.MaxBody)
	if err != nil {
		s.webhookError(w, r, endpoint, err)
		return p, spec, false
	}
	if !s.authorizedBody(r, b) {
		s.unauthorized(w, false)
		return p, spec, false
	}
	p, err = decodePayload(b)
	if err != nil {
		s.webhookError(w, r, endpoint, err)
		return p, spec, false
	}
	delete(p.Metadata, KeyToken)
	spec, err = parseMetadata(p.Metadata)
	if err != nil {
		s.webhookError(w, r, endpoint, badf("malformed metadata: %s", trimBad(err.Error())))
		return p, spec, false
	}
	return p, spec, true
}

// webhookError answers a request that could not be checked.
func (s *Server) webhookError(w http.ResponseWriter, r *http.Request, endpoint string, err error) {
	code := statusOf(err)
	result := resultFail
	if code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge {
		result = resultMalformed
	}
	s.metrics.observeWebhook(endpoint, result)
	s.opts.Logger.InfoContext(r.Context(), "webhook not checked", "endpoint", endpoint, "status", code, "error", err.Error())
	answerText(w, code, "augur: "+trimBad(err.Error()))
}

// trimBad drops the "bad request: " prefix where the status code says it.
func trimBad(msg string) string {
	return strings.Replace(msg, service.ErrBadRequest.Error()+": ", "", 1)
}

// handleCheck is POST /flagger/v1/check: a rollout (or any gating) webhook
// that passes when the metrics in its metadata, or the Canary's own, pass.
func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	p, spec, ok := s.webhookRequest(w, r, endpointCheck)
	if !ok {
		return
	}
	s.runChecks(w, r, endpointCheck, p, spec, "")
}

// handleGate is POST /flagger/v1/gate: a confirm-* webhook that passes once
// the gate of the canary was opened for its current revision and the
// metrics in the metadata, if any, pass.
func (s *Server) handleGate(w http.ResponseWriter, r *http.Request) {
	p, spec, ok := s.webhookRequest(w, r, endpointGate)
	if !ok {
		return
	}
	open, why, err := s.gates.check(r.Context(), p.Namespace, p.Name, p.Checksum)
	if err != nil {
		// Never pass a gate on an error: hold, and say why.
		s.gateError(w, r, endpointGate, err)
		return
	}
	if !open {
		s.metrics.observeWebhook(endpointGate, resultFail)
		s.opts.Logger.InfoContext(r.Context(), "gate closed", "canary", p.Namespace+"/"+p.Name, "reason", why)
		answerText(w, http.StatusForbidden, why)
		return
	}
	if spec.metrics == nil {
		s.metrics.observeWebhook(endpointGate, resultPass)
		answerText(w, http.StatusOK, why)
		return
	}
	s.runChecks(w, r, endpointGate, p, spec, why+"; ")
}

// runChecks evaluates the metrics of a webhook call and answers 200 or 403.
func (s *Server) runChecks(w http.ResponseWriter, r *http.Request, endpoint string, p payload, spec checkSpec, passPrefix string) {
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	known, found, err := s.lookup(ctx, p.Namespace, p.Name)
	if err != nil {
		s.metrics.observeWebhook(endpoint, resultFail)
		s.opts.Logger.WarnContext(ctx, "webhook check failed", "endpoint", endpoint, "canary", p.Namespace+"/"+p.Name, "error", err.Error())
		answerText(w, http.StatusForbidden, "augur: "+err.Error())
		return
	}
	if spec.metrics == nil && !found {
		s.webhookError(w, r, endpoint, badf("the metadata gives no query, template or metrics, and augur does not know Canary %s/%s "+
			"(load it with -f, or give augur cluster access) to check its own metrics", p.Namespace, p.Name))
		return
	}
	if a := known.GetAnalysis(); spec.metrics == nil && (a == nil || len(a.Metrics) == 0) {
		s.webhookError(w, r, endpoint, badf("Canary %s/%s has no analysis.metrics: give query, template or metrics in the webhook metadata", p.Namespace, p.Name))
		return
	}
	var kp *analysis.Canary
	if found {
		kp = &known
	}
	c := checkCanary(p, spec, kp)
	resp, err := s.svc.Query(ctx, service.QueryRequest{Canary: c, Judges: spec.judges})
	if err != nil {
		if errors.Is(err, service.ErrBadRequest) {
			s.webhookError(w, r, endpoint, err)
			return
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("the check did not finish within %s (--request-timeout): %w", s.opts.RequestTimeout, err)
		}
		s.metrics.observeWebhook(endpoint, resultFail)
		s.opts.Logger.WarnContext(ctx, "webhook check failed", "endpoint", endpoint, "canary", p.Namespace+"/"+p.Name, "error", err.Error())
		answerText(w, http.StatusForbidden, "augur: "+err.Error())
		return
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		s.opts.Logger.InfoContext(ctx, "webhook check cancelled", "endpoint", endpoint, "canary", p.Namespace+"/"+p.Name)
		answerText(w, http.StatusServiceUnavailable, "augur: the check was cancelled")
		return
	}
	if ctx.Err() != nil {
		// The queries that ran out of time are failed checks, but the
		// reason to give is the time limit.
		s.metrics.observeWebhook(endpoint, resultFail)
		s.opts.Logger.WarnContext(ctx, "webhook check timed out", "endpoint", endpoint, "canary", p.Namespace+"/"+p.Name, "timeout", s.opts.RequestTimeout)
		answerText(w, http.StatusForbidden, fmt.Sprintf("augur: the check did not finish within %s (--request-timeout)", s.opts.RequestTimeout))
		return
	}
	s.metrics.observeChecks(c.Spec.TargetRef.Name, c.Metadata.Namespace, resp.Checks)
	var failed, passed []string
	for _, ch := range resp.Checks {
		switch {
		case ch.Passed:
			passed = append(passed, ch.Reason)
		case ch.Inconclusive:
			// Flagger has no "hold without counting" answer for a rollout
			// hook: an inconclusive judge refuses (never passes without
			// data) and says so.
			failed = append(failed, "inconclusive: "+ch.Reason)
		default:
			failed = append(failed, ch.Reason)
		}
	}
	canary := p.Namespace + "/" + p.Name
	if len(failed) > 0 {
		s.metrics.observeWebhook(endpoint, resultFail)
		reason := strings.Join(failed, "; ")
		s.opts.Logger.InfoContext(ctx, "webhook check", "endpoint", endpoint, "canary", canary, "phase", p.Phase, "passed", false, "reason", reason)
		answerText(w, http.StatusForbidden, reason)
		return
	}
	s.metrics.observeWebhook(endpoint, resultPass)
	reason := passPrefix + "passed: " + strings.Join(passed, "; ")
	s.opts.Logger.InfoContext(ctx, "webhook check", "endpoint", endpoint, "canary", canary, "phase", p.Phase, "passed", true, "reason", reason)
	answerText(w, http.StatusOK, reason)
}

// gateChange answers POST /flagger/v1/gate/open and /close.
func (s *Server) gateChange(w http.ResponseWriter, r *http.Request, open bool) {
	s.storeChange(w, r, s.gates, open, manualWords{noun: "gate", opened: "open", closed: "closed",
		logOpened: "gate opened", logClosed: "gate closed"})
}

// manualWords are how a manual store's changes read in answers and logs.
type manualWords struct {
	noun, opened, closed string
	logOpened, logClosed string
}

// flaggerPayload reads a Flagger webhook call's body and authorizes it (a
// bounded scan for the metadata token, before any decoding), then decodes
// it. It answers the call itself when it reports false.
func (s *Server) flaggerPayload(w http.ResponseWriter, r *http.Request) (payload, bool) {
	b, err := readBody(w, r, s.opts.MaxBody)
	if err != nil {
		answerText(w, statusOf(err), "augur: "+trimBad(err.Error()))
		return payload{}, false
	}
	if !s.authorizedBody(r, b) {
		s.unauthorized(w, false)
		return payload{}, false
	}
	p, err := decodePayload(b)
	if err != nil {
		answerText(w, statusOf(err), "augur: "+trimBad(err.Error()))
		return payload{}, false
	}
	return p, true
}

// storeChange opens or closes a canary's entry of a manual store (approval
// gates, rollback requests) for the payload's revision.
func (s *Server) storeChange(w http.ResponseWriter, r *http.Request, g *gates, open bool, words manualWords) {
	p, ok := s.flaggerPayload(w, r)
	if !ok {
		return
	}
	k := gateKey(p.Namespace, p.Name)
	if !open {
		if err := g.close(r.Context(), p.Namespace, p.Name); err != nil {
			s.gateError(w, r, "", err)
			return
		}
		s.opts.Logger.InfoContext(r.Context(), words.logClosed, "canary", k)
		answerText(w, http.StatusAccepted, words.noun+" "+k+" "+words.closed)
		return
	}
	if err := g.open(r.Context(), p.Namespace, p.Name, p.Checksum); err != nil {
		s.gateError(w, r, "", err)
		return
	}
	s.opts.Logger.InfoContext(r.Context(), words.logOpened, "canary", k, "checksum", p.Checksum)
	msg := words.noun + " " + k + " " + words.opened
	if p.Checksum != "" {
		msg += " for revision " + p.Checksum
	}
	answerText(w, http.StatusAccepted, msg)
}

// gateJSON is GET /flagger/v1/gate/{namespace}/{name}'s answer.
type gateJSON struct {
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	Open      bool       `json:"open"`
	Checksum  string     `json:"checksum,omitempty"`
	OpenedAt  *time.Time `json:"openedAt,omitempty"`
}

func (s *Server) handleGateGet(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r, "") {
		s.unauthorized(w, true)
		return
	}
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	st, open, err := s.gates.get(r.Context(), ns, name)
	if err != nil {
		if errors.Is(err, errBadGateName) {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		s.apiError(w, r, fmt.Errorf("reading the gate store (%s): %w", s.gates.kv.Describe().Kind, err))
		return
	}
	out := gateJSON{Namespace: ns, Name: name, Open: open, Checksum: st.Checksum}
	if open {
		t := st.OpenedAt
		out.OpenedAt = &t
	}
	writeJSON(w, http.StatusOK, out)
}
