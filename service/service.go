package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
)

// Webhook modes a request may ask for.
const (
	WebhooksCall = "call"
	WebhooksPass = "pass"
	WebhooksFail = "fail"
)

// DecideRequest asks for one tick's decision.
type DecideRequest struct {
	// Canary is the whole Canary object (or at least its metadata and spec).
	Canary analysis.Canary `json:"canary"`
	// MetricTemplates resolve the Canary's templateRefs (searched before any
	// cluster source the service was started with).
	MetricTemplates []analysis.MetricTemplate `json:"metricTemplates,omitempty"`
	// Status is the canary's current status.
	Status analysis.CanaryStatus `json:"status"`
	// NewRevision: the target changed since the last promotion.
	NewRevision bool               `json:"newRevision,omitempty"`
	Readiness   analysis.Readiness `json:"readiness,omitzero"`
	// Checksum is passed through to webhook payloads.
	Checksum string `json:"checksum,omitempty"`
	// At is when metrics are evaluated (default: now; for recorded data: the data's end).
	At *time.Time `json:"at,omitempty"`
	// Webhooks is call (default), pass or fail.
	Webhooks string `json:"webhooks,omitempty"`
	// Values gives metric values by metric name instead of querying them
	// (what-if analysis, tests); other metrics are queried as usual.
	Values map[string]engine.Value `json:"values,omitempty"`
	// Judges judges metrics against the primary: per metric name, the flat
	// judge keys of docs/judges.md (judge, window, alpha, requestsQuery, …),
	// merged over the Canary's judge.augur.dev annotations (a metric's
	// entry that sets judge replaces them; judge: threshold turns judging
	// off for the metric).
	Judges map[string]map[string]string `json:"judges,omitempty"`
	// Score holds the judged metrics' score thresholds (pass, marginal),
	// merged over the Canary's augur.dev/score annotation.
	Score map[string]string `json:"score,omitempty"`
}

// QueryRequest asks for one metric's value and check.
type QueryRequest struct {
	// Canary gives the template model (name, namespace, target, service, …)
	// and, when Metric is empty, every metric of its analysis is evaluated.
	Canary analysis.Canary `json:"canary"`
	// Metric, when set, is the only metric evaluated (a builtin name, an
	// inline query or a templateRef), as if it were the canary's only metric.
	Metric *analysis.Metric `json:"metric,omitempty"`
	// MetricTemplates resolve templateRefs.
	MetricTemplates []analysis.MetricTemplate `json:"metricTemplates,omitempty"`
	// At is the evaluation time (default: now / the data's end).
	At *time.Time `json:"at,omitempty"`
	// Judges judges metrics against the primary, as in DecideRequest.
	Judges map[string]map[string]string `json:"judges,omitempty"`
	// AnalysisStart is when the analysis started: the sequential judge
	// reads the data since then (default: one analysis interval).
	AnalysisStart *time.Time `json:"analysisStart,omitempty"`
	// Data, set by a transport (never by a request's JSON), bounds the
	// recorded data this request reads when it is not the service's own
	// (the Argo plugin's per-metric data file).
	Data *DataBounds `json:"-"`
}

// QueryResponse is the rendered queries, values and checks.
type QueryResponse struct {
	// Checks are the metric checks in Flagger's order; judged metrics carry
	// their judgement (verdict and explanation).
	Checks []analysis.Check `json:"checks"`
}

// Options configures a Service.
type Options struct {
	// Engine evaluates requests. Required.
	Engine *engine.Engine
	// Hooks answers webhooks in "call" mode (default: the engine's own caller).
	Hooks engine.HookCaller
	// Now is the clock (default time.Now).
	Now func() time.Time
	// DefaultAt, when set, gives the evaluation time of requests without one
	// (recorded data: the end of the data).
	DefaultAt func() time.Time
	// Data, when set, bounds the recorded data the engine reads: an
	// evaluation time or a judge window outside it is a bad request.
	Data *DataBounds
	// TemplatesInCluster: templateRefs may resolve in a cluster (the
	// service has a cluster source), so a missing MetricTemplate is what
	// Flagger makes of it, a failed check (hold). Without a cluster, a
	// templateRef naming a MetricTemplate neither the request nor the
	// service's files hold is a bad request, refused before any hook or
	// query (MissingTemplates).
	TemplatesInCluster bool
}

// Service answers decide and query requests.
type Service struct {
	opts Options
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Engine == nil {
		return nil, errors.New("service: Options.Engine is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts}, nil
}

// ErrBadRequest marks errors caused by the request (HTTP 400, plugin code InvalidArgument).
var ErrBadRequest = errors.New("bad request")

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, a...))
}

func (s *Service) times(at *time.Time) (evalAt, now time.Time) {
	switch {
	case at != nil:
		evalAt = *at
	case s.opts.DefaultAt != nil:
		evalAt = s.opts.DefaultAt()
	}
	now = evalAt
	if now.IsZero() {
		now = s.opts.Now()
	}
	return evalAt, now
}

func validateCanary(c *analysis.Canary) error {
	var errs []error
	if c.Metadata.Name == "" {
		errs = append(errs, bad("canary.metadata.name is required"))
	}
	if c.Spec.TargetRef.Name == "" {
		errs = append(errs, bad("canary.spec.targetRef.name is required"))
	}
	if c.Metadata.Namespace == "" {
		c.Metadata.Namespace = "default"
	}
	return errors.Join(errs...)
}

// Decide runs one tick.
func (s *Service) Decide(ctx context.Context, req DecideRequest) (analysis.Decision, error) {
	if err := validateCanary(&req.Canary); err != nil {
		return analysis.Decision{}, err
	}
	var hooks engine.HookCaller
	switch req.Webhooks {
	case "", WebhooksCall:
		hooks = s.opts.Hooks
	case WebhooksPass:
		hooks = engine.StaticHooks{Pass: true}
	case WebhooksFail:
		hooks = engine.StaticHooks{Pass: false}
	default:
		return analysis.Decision{}, bad("webhooks %q: want call, pass or fail", req.Webhooks)
	}
	if err := validateJudges(&req.Canary, req.Judges, req.Score); err != nil {
		return analysis.Decision{}, err
	}
	if err := analysis.ValidateStatus(req.Status); err != nil {
		return analysis.Decision{}, bad("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if err := analysis.CheckMirror(&req.Canary, s.opts.Engine.MeshProvider()); err != nil {
		return analysis.Decision{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err := analysis.CheckPromotionSteps(&req.Canary, s.opts.Engine.MeshProvider()); err != nil {
		return analysis.Decision{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	evalAt, now := s.times(req.At)
	tr := engine.TickRequest{
		Canary: req.Canary, Status: req.Status, NewRevision: req.NewRevision, Readiness: req.Readiness,
		Checksum: req.Checksum, At: evalAt, Now: now, Hooks: hooks, Values: req.Values,
		Judges: req.Judges, Score: req.Score,
	}
	if len(req.MetricTemplates) > 0 {
		tr.Templates = engine.StaticTemplates(req.MetricTemplates)
	}
	if s.opts.Data != nil || !s.opts.TemplatesInCluster {
		// Check the plans before any hook is called or metric queried.
		plans, err := s.opts.Engine.PlanFor(ctx, &req.Canary, engine.PlanOptions{Templates: tr.Templates, Judges: req.Judges})
		if err != nil {
			return analysis.Decision{}, err
		}
		queried := withoutValues(plans, req.Values)
		if err := s.checkPlans(&req.Canary, queried); err != nil {
			return analysis.Decision{}, err
		}
		if err := s.checkData(nil, queried, now, req.At != nil); err != nil {
			return analysis.Decision{}, err
		}
		tr.Plans = plans
	}
	return s.opts.Engine.Tick(ctx, tr)
}

// Query renders and runs metrics and checks each value against its range.
func (s *Service) Query(ctx context.Context, req QueryRequest) (QueryResponse, error) {
	c := req.Canary
	if req.Metric != nil {
		if req.Metric.Name == "" {
			return QueryResponse{}, bad("metric.name is required")
		}
		a := analysis.Analysis{}
		if orig := c.GetAnalysis(); orig != nil {
			a = *orig
		}
		a.Metrics = []analysis.Metric{*req.Metric}
		c.Spec.Analysis = &a
		c.Spec.CanaryAnalysis = nil
		c.Metadata.Annotations = judgeAnnotationsOf(c.Metadata.Annotations, req.Metric.Name)
	}
	if err := validateCanary(&c); err != nil {
		return QueryResponse{}, err
	}
	if c.GetAnalysis() == nil || len(c.GetAnalysis().Metrics) == 0 {
		return QueryResponse{}, bad("no metric to query: give metric, or a canary with analysis.metrics")
	}
	if err := validateJudges(&c, req.Judges, nil); err != nil {
		return QueryResponse{}, err
	}
	var extra engine.TemplateSource
	if len(req.MetricTemplates) > 0 {
		extra = engine.StaticTemplates(req.MetricTemplates)
	}
	plans, err := s.opts.Engine.PlanFor(ctx, &c, engine.PlanOptions{Templates: extra, Judges: req.Judges})
	if err != nil {
		return QueryResponse{}, err
	}
	if err := s.checkPlans(&c, plans); err != nil {
		return QueryResponse{}, err
	}
	evalAt, now := s.times(req.At)
	if err := s.checkData(req.Data, plans, now, req.At != nil && req.Data == nil); err != nil {
		return QueryResponse{}, err
	}
	opts := engine.EvalOptions{At: evalAt, JudgeAt: now, Interval: c.GetAnalysis().IntervalDuration()}
	if req.AnalysisStart != nil {
		opts.AnalysisStart = *req.AnalysisStart
	}
	resp := QueryResponse{Checks: []analysis.Check{}}
	for _, o := range s.opts.Engine.EvaluateFor(ctx, plans, opts) {
		resp.Checks = append(resp.Checks, analysis.CheckObservation(o))
	}
	return resp, nil
}

// withoutValues drops the plans of metrics the request gives values for
// (they are not queried).
func withoutValues(plans []engine.MetricPlan, values map[string]engine.Value) []engine.MetricPlan {
	if len(values) == 0 {
		return plans
	}
	var out []engine.MetricPlan
	for _, p := range plans {
		if _, given := values[p.Name]; !given {
			out = append(out, p)
		}
	}
	return out
}

// validateJudges rejects judge settings and score thresholds that name no
// metric of the canary, use unknown keys or bad values (the canary's own
// annotations included).
func validateJudges(c *analysis.Canary, judges map[string]map[string]string, score map[string]string) error {
	if err := engine.ValidateJudges(c, judges); err != nil {
		return bad("%v", err)
	}
	if _, err := engine.ScoreConfig(c, score); err != nil {
		return bad("%v", err)
	}
	return nil
}

// judgeAnnotationsOf drops the judge annotations of metrics other than
// metric (the canary's other metrics are not evaluated).
func judgeAnnotationsOf(ann map[string]string, metric string) map[string]string {
	out := map[string]string{}
	for k, v := range ann {
		name, isJudge := strings.CutPrefix(k, engine.JudgeAnnotationPrefix)
		if isJudge && name != metric && !strings.HasPrefix(name, metric+".") {
			continue
		}
		out[k] = v
	}
	return out
}
