package recorded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/augurproj/augur/metrics"
)

// Engine defaults; they match a Prometheus server's command-line defaults.
const (
	// DefaultLookbackDelta is how far back an instant selector looks for a sample.
	DefaultLookbackDelta = 5 * time.Minute
	// DefaultMaxSamples is the most samples one query may hold in memory.
	DefaultMaxSamples = 50_000_000
	// DefaultTimeout bounds one query's evaluation.
	DefaultTimeout = 2 * time.Minute
	// noStepSubqueryInterval is the step of a subquery written without one
	// (`x[5m:]`): Prometheus's default evaluation interval.
	noStepSubqueryInterval = time.Minute
)

// Options configure a Provider. The zero value uses the defaults above.
type Options struct {
	// LookbackDelta overrides DefaultLookbackDelta.
	LookbackDelta time.Duration
	// MaxSamples overrides DefaultMaxSamples.
	MaxSamples int
	// Timeout overrides DefaultTimeout.
	Timeout time.Duration
	// Logger receives the engine's annotations for each query (warnings at
	// Warn, informational notes at Debug). Nil discards them.
	Logger *slog.Logger
}

// Provider evaluates PromQL over a Store with Prometheus's engine. It is safe
// for concurrent use.
type Provider struct {
	store   *Store
	engine  *promql.Engine
	timeout time.Duration
	logger  *slog.Logger
}

var (
	_ metrics.Provider     = (*Provider)(nil)
	_ metrics.RangeQuerier = (*Provider)(nil)
)

// New returns a Provider over store with its own PromQL engine (lookback 5m,
// @ modifier and negative offsets enabled, a sample limit and a timeout).
func New(store *Store, opts Options) *Provider {
	if opts.LookbackDelta <= 0 {
		opts.LookbackDelta = DefaultLookbackDelta
	}
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = DefaultMaxSamples
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	engine := promql.NewEngine(promql.EngineOpts{
		Logger:                   opts.Logger,
		MaxSamples:               opts.MaxSamples,
		Timeout:                  opts.Timeout,
		LookbackDelta:            opts.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return noStepSubqueryInterval.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		Parser:                   parser.NewParser(parser.Options{}),
	})
	return &Provider{store: store, engine: engine, timeout: opts.Timeout, logger: logger}
}

// Store returns the data the provider queries.
func (p *Provider) Store() *Store { return p.store }

// Query runs an instant query at time at; a zero at means EvalTime of the
// newest sample in the store (the Unix epoch for an empty store). The query is
// whitespace-collapsed first, as the live Prometheus provider does.
//
// Result rules match the live provider: a scalar or a one-series vector gives
// its value (±Inf included); an empty vector or NaN wraps metrics.ErrNoValues;
// several series or a range vector wrap metrics.ErrMultipleValues.
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	q := collapseSpace(query)
	if at.IsZero() {
		at = p.defaultTime()
	}
	v, err := p.instant(ctx, q, at)
	if err != nil {
		return 0, fmt.Errorf("recorded query %q at %s: %w", q, at.UTC().Format(time.RFC3339Nano), err)
	}
	return v, nil
}

func (p *Provider) defaultTime() time.Time {
	if p.store.SampleCount() == 0 {
		return time.Unix(0, 0).UTC()
	}
	return EvalTime(p.store.End())
}

func (p *Provider) instant(ctx context.Context, q string, at time.Time) (float64, error) {
	qry, err := p.engine.NewInstantQuery(ctx, p.store.Queryable(), nil, q, at)
	if err != nil {
		return 0, err
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return 0, p.execError(res.Err)
	}
	p.log(ctx, q, res.Warnings)
	switch v := res.Value.(type) {
	case promql.Scalar:
		metrics.MarkScalar(ctx)
		return number(v.V)
	case promql.Vector:
		switch len(v) {
		case 0:
			return 0, fmt.Errorf("empty vector: %w", metrics.ErrNoValues)
		case 1:
			if v[0].H != nil {
				return 0, errors.New("result is a native histogram, not a number")
			}
			return number(v[0].F)
		default:
			return 0, fmt.Errorf("%w: vector with %d series", metrics.ErrMultipleValues, len(v))
		}
	case promql.Matrix:
		return 0, fmt.Errorf("%w: range vector with %d series", metrics.ErrMultipleValues, len(v))
	case promql.String:
		return 0, fmt.Errorf("result is the string %q, not a number", v.V)
	default:
		return 0, fmt.Errorf("unexpected result type %s", res.Value.Type())
	}
}

func number(v float64) (float64, error) {
	if math.IsNaN(v) {
		return 0, fmt.Errorf("NaN: %w", metrics.ErrNoValues)
	}
	return v, nil
}

// execError adds the configured limit to timeout errors.
func (p *Provider) execError(err error) error {
	var timeout promql.ErrQueryTimeout
	if errors.As(err, &timeout) {
		return fmt.Errorf("timed out (engine timeout %s): %w", p.timeout, err)
	}
	return err
}

// QueryRange evaluates query at every step from start to end (both included)
// and returns one series per result series. The query is
// whitespace-collapsed first.
func (p *Provider) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	q := collapseSpace(query)
	out, err := p.rangeQuery(ctx, q, start, end, step)
	if err != nil {
		return nil, fmt.Errorf("recorded range query %q from %s to %s step %s: %w", q,
			start.UTC().Format(time.RFC3339Nano), end.UTC().Format(time.RFC3339Nano), step, err)
	}
	return out, nil
}

func (p *Provider) rangeQuery(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	if step <= 0 {
		return nil, errors.New("step must be positive")
	}
	if end.Before(start) {
		return nil, errors.New("end is before start")
	}
	qry, err := p.engine.NewRangeQuery(ctx, p.store.Queryable(), nil, q, start, end, step)
	if err != nil {
		return nil, err
	}
	return p.matrix(ctx, q, qry)
}

// matrix runs a query whose result is a matrix (a range query, or an
// instant query of a range selector) and returns its series.
func (p *Provider) matrix(ctx context.Context, q string, qry promql.Query) ([]metrics.Series, error) {
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, p.execError(res.Err)
	}
	p.log(ctx, q, res.Warnings)
	m, ok := res.Value.(promql.Matrix)
	if !ok {
		return nil, fmt.Errorf("unexpected result type %s", res.Value.Type())
	}
	out := make([]metrics.Series, 0, len(m))
	for _, s := range m {
		if len(s.Histograms) > 0 {
			return nil, fmt.Errorf("series %s holds native histograms, not numbers", s.Metric)
		}
		samples := make([]metrics.Sample, len(s.Floats))
		for i, f := range s.Floats {
			samples[i] = metrics.Sample{T: time.UnixMilli(f.T).UTC(), V: f.F}
		}
		out = append(out, metrics.Series{Labels: labelMap(s.Metric), Samples: samples})
	}
	return out, nil
}

func labelMap(l labels.Labels) map[string]string {
	m := make(map[string]string, l.Len())
	l.Range(func(l labels.Label) { m[l.Name] = l.Value })
	return m
}

// log reports the engine's annotations for query q.
func (p *Provider) log(ctx context.Context, q string, annos annotations.Annotations) {
	for _, err := range annos {
		level := slog.LevelWarn
		if errors.Is(err, annotations.PromQLInfo) {
			level = slog.LevelDebug
		}
		p.logger.Log(ctx, level, "recorded query annotation", "query", q, "annotation", err.Error())
	}
}

// collapseSpace replaces every run of whitespace (RE2 \s: tab, newline, form
// feed, carriage return, space) with one space, without trimming the ends,
// exactly like the live Prometheus provider does before sending a query.
func collapseSpace(q string) string {
	var sb strings.Builder
	sb.Grow(len(q))
	inSpace := false
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case '\t', '\n', '\f', '\r', ' ':
			if !inSpace {
				sb.WriteByte(' ')
			}
			inSpace = true
		default:
			sb.WriteByte(c)
			inSpace = false
		}
	}
	return sb.String()
}

// RecordingStartSlack is how close to the recording's first sample a
// series' first sample must be for the series to count as present when the
// recording began (rather than new).
const RecordingStartSlack = time.Minute

// QueryRaw returns the stored samples of the series selector matches in
// (start, end]: an instant query of selector[end − start] at end, evaluated
// by the PromQL engine over the store's Queryable.
//
// A recording usually begins in the middle of its counters' lives. A series
// whose first sample lies within RecordingStartSlack of the recording's
// start, after start, was not new then: its first value is history, not
// requests of the window. QueryRaw repeats that value at start, so that a
// reader of counter increases takes it as the starting value.
func (p *Provider) QueryRaw(ctx context.Context, selector string, start, end time.Time) ([]metrics.Series, error) {
	q := metrics.RawSelector(collapseSpace(selector), end.Sub(start))
	out, err := p.raw(ctx, q, start, end)
	if err != nil {
		return nil, fmt.Errorf("recorded raw query %q at %s: %w", q, end.UTC().Format(time.RFC3339Nano), err)
	}
	if p.store.SampleCount() > 0 {
		began := p.store.Start()
		for i, s := range out {
			if len(s.Samples) > 0 && s.Samples[0].T.After(start) && s.Samples[0].T.Sub(began) <= RecordingStartSlack {
				out[i].Samples = append([]metrics.Sample{{T: start.UTC(), V: s.Samples[0].V}}, s.Samples...)
			}
		}
	}
	return out, nil
}

func (p *Provider) raw(ctx context.Context, q string, start, end time.Time) ([]metrics.Series, error) {
	if !end.After(start) {
		return nil, errors.New("end is not after start")
	}
	qry, err := p.engine.NewInstantQuery(ctx, p.store.Queryable(), nil, q, end)
	if err != nil {
		return nil, err
	}
	return p.matrix(ctx, q, qry)
}
