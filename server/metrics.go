package server

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/metrics"
)

// DefaultMaxCanaries bounds how many distinct canaries get per-canary series
// (flagger_canary_*): request bodies carry arbitrary names, and every name
// would otherwise become a series that lives until the process restarts.
const DefaultMaxCanaries = 1000

// MaxMetricSeriesPerCanary bounds the flagger_canary_metric_analysis series
// of one canary: a request invents its metric names, and 60,000 of them
// used to become 60,000 series.
const MaxMetricSeriesPerCanary = 50

// Query error kinds counted by augur_query_errors_total.
const (
	// QueryErrNoValues is an empty result or NaN.
	QueryErrNoValues = "no-values"
	// QueryErrMultipleValues is a result with several series, or a matrix.
	QueryErrMultipleValues = "multiple-values"
	// QueryErrTimeout is a query that ran past its deadline.
	QueryErrTimeout = "timeout"
	// QueryErrCanceled is a query whose request went away.
	QueryErrCanceled = "canceled"
	// QueryErrProvider is a provider that could not be built (bad address, missing credentials).
	QueryErrProvider = "provider"
	// QueryErrQuery is any other failure (HTTP, PromQL, …).
	QueryErrQuery = "query"
)

// Metrics are the server's Prometheus metrics, on a registry of their own
// (never the global default). Create them before the engine so that
// InstrumentRegistry can count query errors; a Metrics is safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	decisions   *prometheus.CounterVec
	queryErrors *prometheus.CounterVec
	checks      *prometheus.CounterVec
	analysis    *prometheus.GaugeVec
	status      *prometheus.GaugeVec
	weight      *prometheus.GaugeVec
	tick        *prometheus.HistogramVec

	mu      sync.Mutex
	metricN map[string]map[string]struct{} // canary → metric names with a series
	max     int
	tracked map[string]struct{}
	warned  bool
	log     *slog.Logger
}

// NewMetrics returns the server's metrics with the Go runtime and process
// collectors. maxCanaries bounds the canaries with per-canary series (zero
// or negative means DefaultMaxCanaries); logger (nil: discard) is told once
// when that bound is reached.
func NewMetrics(maxCanaries int, logger *slog.Logger) *Metrics {
	if maxCanaries <= 0 {
		maxCanaries = DefaultMaxCanaries
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "augur_http_request_duration_seconds",
			Help:    "Time from reading the request line to writing the last byte of the answer, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "method"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_decisions_total",
			Help: "Decisions answered by POST /v1/decide, by action (advance, hold, promote, rollback).",
		}, []string{"action"}),
		queryErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_query_errors_total",
			Help: "Metric queries that returned no number, by kind (no-values, multiple-values, timeout, canceled, provider, query).",
		}, []string{"kind"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "augur_webhook_checks_total",
			Help: "Flagger webhook calls answered, by endpoint (check, gate) and result (pass, fail, malformed).",
		}, []string{"endpoint", "result"}),
		analysis: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagger_canary_metric_analysis",
			Help: "Last value of each canary metric, as Flagger reports it (request-duration in seconds); name is the target's name.",
		}, []string{"name", "namespace", "metric"}),
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagger_canary_status",
			Help: "Canary status after the last decision, as Flagger reports it: 0 Progressing, 2 Failed, 1 otherwise; name is the target's name.",
		}, []string{"name", "namespace"}),
		weight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "flagger_canary_weight",
			Help: "Traffic weight after the last decision, as Flagger reports it: workload <target>-primary and <target>.",
		}, []string{"workload", "namespace"}),
		tick: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "flagger_canary_duration_seconds",
			Help:    "Time taken by each decision (one analysis tick), as Flagger reports it; name is the target's name.",
			Buckets: prometheus.DefBuckets,
		}, []string{"name", "namespace"}),
		max:     maxCanaries,
		tracked: map[string]struct{}{},
		metricN: map[string]map[string]struct{}{},
		log:     logger,
	}
	m.reg.MustRegister(m.requests, m.latency, m.decisions, m.queryErrors, m.checks,
		m.analysis, m.status, m.weight, m.tick, buildInfo(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.zeroSeries()
	return m
}

// Registry returns the Prometheus registry the metrics are registered on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func (m *Metrics) observeRequest(route, method string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

func (m *Metrics) observeWebhook(endpoint, result string) {
	m.checks.WithLabelValues(endpoint, result).Inc()
}

// track reports whether the canary may have per-canary series.
func (m *Metrics) track(namespace, name string) bool {
	key := namespace + "/" + name
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tracked[key]; ok {
		return true
	}
	if len(m.tracked) >= m.max {
		if !m.warned {
			m.warned = true
			m.log.Warn("per-canary metrics limit reached; new canaries get no flagger_canary_* series", "limit", m.max)
		}
		return false
	}
	m.tracked[key] = struct{}{}
	return true
}

// trackMetric reports whether a tracked canary's metric may have a series:
// at most MaxMetricSeriesPerCanary names per canary.
func (m *Metrics) trackMetric(namespace, name, metric string) bool {
	key := namespace + "/" + name
	m.mu.Lock()
	defer m.mu.Unlock()
	names := m.metricN[key]
	if names == nil {
		names = map[string]struct{}{}
		m.metricN[key] = names
	}
	if _, ok := names[metric]; ok {
		return true
	}
	if len(names) >= MaxMetricSeriesPerCanary {
		return false
	}
	names[metric] = struct{}{}
	return true
}

// metricValue is a check's value the way Flagger's gauge holds it.
func metricValue(c analysis.Check) (float64, bool) {
	if c.Value == nil {
		return 0, false
	}
	if c.Kind == analysis.KindDuration {
		return *c.Value / 1000, true
	}
	return *c.Value, true
}

// observeChecks records each check's value under the canary's target name.
func (m *Metrics) observeChecks(target, namespace string, checks []analysis.Check) {
	if !m.track(namespace, target) {
		return
	}
	for _, c := range checks {
		if v, ok := metricValue(c); ok && m.trackMetric(namespace, target, c.Metric) {
			m.analysis.WithLabelValues(target, namespace, c.Metric).Set(v)
		}
	}
}

// statusValue is Flagger's flagger_canary_status encoding of a phase.
func statusValue(p analysis.Phase) float64 {
	switch p {
	case analysis.PhaseProgressing:
		return 0
	case analysis.PhaseFailed:
		return 2
	}
	return 1
}

// observeDecision records a decision for canary c.
func (m *Metrics) observeDecision(c *analysis.Canary, d analysis.Decision, took time.Duration) {
	m.decisions.WithLabelValues(string(d.Action)).Inc()
	target, ns := c.Spec.TargetRef.Name, c.Metadata.Namespace
	if !m.track(ns, target) {
		return
	}
	m.status.WithLabelValues(target, ns).Set(statusValue(d.Status.Phase))
	m.weight.WithLabelValues(target+"-primary", ns).Set(float64(d.Weights.Primary))
	m.weight.WithLabelValues(target, ns).Set(float64(d.Weights.Canary))
	m.tick.WithLabelValues(target, ns).Observe(took.Seconds())
	for _, ch := range d.Checks {
		if v, ok := metricValue(ch); ok && m.trackMetric(ns, target, ch.Metric) {
			m.analysis.WithLabelValues(target, ns, ch.Metric).Set(v)
		}
	}
}

// queryErrorKind classifies a provider's error for augur_query_errors_total.
func queryErrorKind(err error) string {
	switch {
	case errors.Is(err, metrics.ErrNoValues):
		return QueryErrNoValues
	case errors.Is(err, metrics.ErrMultipleValues):
		return QueryErrMultipleValues
	case errors.Is(err, context.DeadlineExceeded):
		return QueryErrTimeout
	case errors.Is(err, context.Canceled):
		return QueryErrCanceled
	}
	return QueryErrQuery
}

// InstrumentRegistry returns a registry with the same provider types as r
// whose providers count their failed queries in augur_query_errors_total.
// Errors and values are passed through unchanged, error texts included.
// Types registered on r later are not seen.
func (m *Metrics) InstrumentRegistry(r *metrics.Registry) *metrics.Registry {
	out := &metrics.Registry{}
	for _, typ := range r.Types() {
		out.Register(typ, func(cfg metrics.Config) (metrics.Provider, error) {
			p, err := r.New(cfg)
			if err != nil {
				m.queryErrors.WithLabelValues(QueryErrProvider).Inc()
				// r.New wrapped the constructor's error as "<type> provider:
				// …"; out.New wraps it again the same way, so unwrap once to
				// keep the text identical to an uninstrumented registry's.
				if inner := errors.Unwrap(err); inner != nil {
					return nil, inner
				}
				return nil, err
			}
			ip := &instrumented{p: p, m: m}
			if rq, ok := p.(metrics.RangeQuerier); ok {
				ir := &instrumentedRange{instrumented: ip, rq: rq}
				if raw, ok := p.(metrics.RawQuerier); ok {
					return &instrumentedRaw{instrumentedRange: ir, raw: raw}, nil
				}
				return ir, nil
			}
			return ip, nil
		})
	}
	return out
}

// instrumented counts a provider's failed queries.
type instrumented struct {
	p metrics.Provider
	m *Metrics
}

// Query implements metrics.Provider.
func (i *instrumented) Query(ctx context.Context, q string, at time.Time) (float64, error) {
	v, err := i.p.Query(ctx, q, at)
	switch {
	case err != nil:
		i.m.queryErrors.WithLabelValues(queryErrorKind(err)).Inc()
	case math.IsNaN(v):
		i.m.queryErrors.WithLabelValues(QueryErrNoValues).Inc()
	}
	return v, err
}

// instrumentedRange is instrumented for providers that answer range queries.
type instrumentedRange struct {
	*instrumented
	rq metrics.RangeQuerier
}

// QueryRange implements metrics.RangeQuerier.
func (i *instrumentedRange) QueryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	s, err := i.rq.QueryRange(ctx, q, start, end, step)
	if err != nil {
		i.m.queryErrors.WithLabelValues(queryErrorKind(err)).Inc()
	}
	return s, err
}

// instrumentedRaw is instrumentedRange for providers that also return raw
// samples (exact counts of judged metrics).
type instrumentedRaw struct {
	*instrumentedRange
	raw metrics.RawQuerier
}

// QueryRaw implements metrics.RawQuerier.
func (i *instrumentedRaw) QueryRaw(ctx context.Context, sel string, start, end time.Time) ([]metrics.Series, error) {
	s, err := i.raw.QueryRaw(ctx, sel, start, end)
	if err != nil {
		i.m.queryErrors.WithLabelValues(queryErrorKind(err)).Inc()
	}
	return s, err
}
