package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/redact"
	"github.com/augurproj/augur/templates"
)

// DefaultConcurrency bounds how many metric queries of one tick run at once.
const DefaultConcurrency = 16

// DefaultQueryTimeout bounds one metric query (Flagger's Prometheus provider uses 5s).
const DefaultQueryTimeout = 5 * time.Second

// Options configures an Engine.
type Options struct {
	// Registry builds metric providers by type. Required.
	Registry *metrics.Registry
	// Hooks calls webhooks. Nil means every hook call fails with an error.
	Hooks HookCaller
	// Templates resolves templateRef metrics.
	Templates TemplateSource
	// Secrets resolves MetricTemplate secretRefs.
	Secrets SecretSource
	// MeshProvider is Flagger's global -mesh-provider (default istio).
	MeshProvider string
	// MetricsServer is Flagger's global -metrics-server (default http://prometheus:9090).
	MetricsServer string
	// Concurrency bounds parallel queries (default DefaultConcurrency).
	Concurrency int
	// QueryTimeout bounds each metric query (default DefaultQueryTimeout).
	QueryTimeout time.Duration
	// Logger receives what the engine decided and why (default: discard).
	Logger *slog.Logger
	// Now is the clock for judged metrics evaluated without a time (a live
	// backend's "now"); default time.Now.
	Now func() time.Time
}

// Engine is augur's imperative shell: it renders queries, runs them
// concurrently, calls the webhooks a tick needs and asks the pure core.
// An Engine is safe for concurrent use.
type Engine struct {
	opts     Options
	compiled templateCache

	mu        sync.Mutex
	providers map[string]metrics.Provider
}

// New returns an Engine.
func New(opts Options) (*Engine, error) {
	if opts.Registry == nil {
		return nil, errors.New("engine: Options.Registry is required")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	if opts.MeshProvider == "" {
		opts.MeshProvider = analysis.DefaultMeshProvider
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Engine{opts: opts, providers: map[string]metrics.Provider{}}, nil
}

// provider returns the (cached) provider for cfg.
func (e *Engine) provider(cfg metrics.Config) (metrics.Provider, error) {
	key := providerKey(cfg)
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.providers[key]; ok {
		return p, nil
	}
	p, err := e.opts.Registry.New(cfg)
	if err != nil {
		return nil, err
	}
	if len(e.providers) >= maxCachedProviders {
		// Bounded: request bodies can carry arbitrary provider headers,
		// and the key holds header and credential values.
		clear(e.providers)
	}
	e.providers[key] = p
	return p, nil
}

// maxCachedProviders bounds the provider cache.
const maxCachedProviders = 256

// Evaluate runs every plan's query at time at (zero: now) concurrently,
// bounded by Options.Concurrency, each under its own timeout, and returns the
// observations in plan order.
func (e *Engine) Evaluate(ctx context.Context, plans []MetricPlan, at time.Time) []analysis.Observation {
	return e.EvaluateWith(ctx, plans, at, nil)
}

// Value is a metric's value given by the caller instead of a query ("what
// if the success rate were 95?"): exactly one of Value and Error is set;
// Error is an analysis.ErrorKind (no-values, query, …) or a message.
type Value struct {
	Value *float64 `json:"value,omitempty"`
	Error string   `json:"error,omitempty"`
}

// EvaluateWith is Evaluate where metrics named in values take the given
// value (or error) instead of running their query.
func (e *Engine) EvaluateWith(ctx context.Context, plans []MetricPlan, at time.Time, values map[string]Value) []analysis.Observation {
	return e.EvaluateFor(ctx, plans, EvalOptions{At: at, Values: values})
}

// EvalOptions are the inputs of EvaluateFor.
type EvalOptions struct {
	// At is when the metrics are evaluated; zero means now (the provider's
	// now for instant queries, Options.Now for judged metrics' data).
	At time.Time
	// JudgeAt, when set, is where judged metrics' data ends when At is zero
	// (the tick's time); with both zero it is Options.Now.
	JudgeAt time.Time
	// AnalysisStart is when the running analysis started
	// (status.analysisStart): the sequential judge reads the data since
	// then. Zero means unknown: one analysis interval.
	AnalysisStart time.Time
	// Interval is the analysis interval (the sequential judge's window when
	// AnalysisStart is unknown); zero means the default 60s.
	Interval time.Duration
	// Values gives metrics' values by name instead of their instant query.
	Values map[string]Value
}

// EvaluateFor runs every plan concurrently, bounded by Options.Concurrency,
// each query under its own timeout: a metric's instant query (unless it is
// judged and sets no threshold, or takes a given value) and, for a judged
// metric, the range queries of both sides' data over its window. It
// returns the observations in plan order.
func (e *Engine) EvaluateFor(ctx context.Context, plans []MetricPlan, opts EvalOptions) []analysis.Observation {
	at, values := opts.At, opts.Values
	end := at
	if end.IsZero() {
		end = opts.JudgeAt
	}
	if end.IsZero() {
		end = e.opts.Now()
	}
	interval := opts.Interval
	if interval <= 0 {
		interval = analysis.DefaultAnalysisInterval
	}
	out := make([]analysis.Observation, len(plans))
	sem := make(chan struct{}, e.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range plans {
		p := &plans[i]
		out[i] = observationFor(p)
		if p.Judge != nil && p.Err == nil {
			w := judgeWindow(p.Judge, end, opts.AnalysisStart, interval)
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i].Judged = e.judged(ctx, p, w, sem)
			}()
			if !p.Judge.Threshold {
				continue
			}
		}
		if v, ok := values[p.Name]; ok {
			out[i].Value, out[i].Err = given(p, v)
			continue
		}
		if p.Err != nil {
			out[i].Err = p.Err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i].Err = classify(p, ctx.Err())
				return
			}
			defer func() { <-sem }()
			v, err := e.query(ctx, p, at)
			if err != nil {
				out[i].Err = classify(p, err)
				return
			}
			out[i].Value = v * p.Scale
		}()
	}
	wg.Wait()
	for _, o := range out {
		switch {
		case o.Err != nil:
			e.opts.Logger.Debug("metric failed", "metric", o.Metric, "kind", o.Kind, "query", o.Query, "error", o.Err.Message)
		case o.Judged != nil && o.Judged.Err != nil:
			e.opts.Logger.Debug("judged metric data failed", "metric", o.Metric, "error", o.Judged.Err.Message)
		case o.Judged != nil:
			e.opts.Logger.Debug("judged metric data", "metric", o.Metric, "start", o.Judged.Window.Start, "end", o.Judged.Window.End)
		default:
			e.opts.Logger.Debug("metric value", "metric", o.Metric, "kind", o.Kind, "query", o.Query, "value", o.Value)
		}
	}
	return out
}

func (e *Engine) query(ctx context.Context, p *MetricPlan, at time.Time) (float64, error) {
	prov, err := e.provider(p.Provider)
	if err != nil {
		return 0, &providerError{err: err}
	}
	if v, ok := e.prefetched(ctx, p, prov, at); ok {
		return v, nil
	}
	qctx, cancel := context.WithTimeout(ctx, e.opts.QueryTimeout)
	defer cancel()
	v, err := prov.Query(qctx, p.Query, at)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return 0, fmt.Errorf("query timed out after %s: %w", e.opts.QueryTimeout, err)
		}
		return 0, err
	}
	if math.IsNaN(v) {
		// Providers map NaN to ErrNoValues; guard against one that does not,
		// since NaN would pass every comparison.
		return 0, fmt.Errorf("provider returned NaN: %w", metrics.ErrNoValues)
	}
	return v, nil
}

// given turns a caller-given value into an observation's value or error.
func given(p *MetricPlan, v Value) (float64, *analysis.ObservationError) {
	switch {
	case v.Error != "":
		switch analysis.ErrorKind(v.Error) {
		case analysis.ErrKindNoValues:
			return 0, classify(p, metrics.ErrNoValues)
		case analysis.ErrKindMultipleValues:
			return 0, classify(p, metrics.ErrMultipleValues)
		}
		return 0, &analysis.ObservationError{Kind: analysis.ErrKindQuery, Message: v.Error}
	case v.Value == nil || math.IsNaN(*v.Value):
		return 0, classify(p, metrics.ErrNoValues)
	}
	return *v.Value, nil
}

type providerError struct{ err error }

func (e *providerError) Error() string { return e.err.Error() }
func (e *providerError) Unwrap() error { return e.err }

func observationFor(p *MetricPlan) analysis.Observation {
	return analysis.Observation{
		Metric:         p.Name,
		Kind:           p.Kind,
		Observer:       cmp.Or(p.MetricsProvider, p.Observer),
		Template:       p.Template,
		Secret:         p.Secret,
		ProviderType:   p.Provider.Type,
		Query:          p.Query,
		ThresholdRange: p.Metric.ThresholdRange,
		Threshold:      p.Metric.Threshold,
	}
}

// classify turns a query error into the observation's error, with every
// credential of the metric's provider scrubbed from its text (a backend or
// a proxy may echo request headers; the provider scrubs too, but not every
// provider is ours).
func classify(p *MetricPlan, err error) *analysis.ObservationError {
	oe := classifyRaw(p, err)
	oe.Message = providerSecrets(p).String(oe.Message)
	return oe
}

// providerSecrets are the credentials of the plan's provider.
func providerSecrets(p *MetricPlan) *redact.Set {
	s := redact.New(nil)
	p.Provider.Redact(s)
	return s
}

func classifyRaw(p *MetricPlan, err error) *analysis.ObservationError {
	kind := analysis.ErrKindQuery
	var pe *providerError
	switch {
	case errors.Is(err, metrics.ErrNoValues):
		// The query is in the observation already. Flagger's observers wrap
		// the sentinel as "running query failed: …" (all but the http
		// observer's success rate), which ends up in its event text.
		msg := metrics.ErrNoValues.Error()
		if (p.Kind == analysis.KindSuccessRate && p.Observer != templates.ObserverHTTP) || p.Kind == analysis.KindDuration {
			msg = "running query failed: " + msg
		}
		return &analysis.ObservationError{Kind: analysis.ErrKindNoValues, Message: msg}
	case errors.Is(err, metrics.ErrMultipleValues):
		kind = analysis.ErrKindMultipleValues
	case errors.As(err, &pe):
		kind = analysis.ErrKindProvider
	}
	var ft metrics.FlaggerTexter
	if kind == analysis.ErrKindQuery && errors.As(err, &ft) {
		// Flagger's event quotes its provider's error (wrapped by the
		// observers for builtin metrics); the check keeps augur's account.
		msg := ft.FlaggerText()
		if (p.Kind == analysis.KindSuccessRate && p.Observer != templates.ObserverHTTP) || p.Kind == analysis.KindDuration {
			msg = "running query failed: " + msg
		}
		return &analysis.ObservationError{Kind: kind, Message: msg, Detail: err.Error()}
	}
	return &analysis.ObservationError{Kind: kind, Message: err.Error()}
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	return slices.Sorted(maps.Keys(m))
}

// maxCachedTemplates bounds the compiled-template cache.
const maxCachedTemplates = 1024

// templateCache compiles each distinct template text once.
type templateCache struct {
	mu sync.Mutex
	m  map[string]*templates.Template
}

func (c *templateCache) render(name, text string, m templates.Model) (string, error) {
	key := name + "\x00" + text
	c.mu.Lock()
	t, ok := c.m[key]
	c.mu.Unlock()
	if !ok {
		var err error
		t, err = templates.Compile(name, text)
		if err != nil {
			return "", err
		}
		c.mu.Lock()
		if c.m == nil || len(c.m) >= maxCachedTemplates {
			// Bounded: request bodies can carry arbitrary templates.
			c.m = map[string]*templates.Template{}
		}
		c.m[key] = t
		c.mu.Unlock()
	}
	return t.Execute(m)
}

// MeshProvider is the global mesh provider the engine was built with
// (Options.MeshProvider; empty means istio).
func (e *Engine) MeshProvider() string { return e.opts.MeshProvider }
