package argo

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/augurproj/augur/metrics"
)

// service.Query reports a metric as a check: its value when finite, or the
// error text. Argo's conditions need more — `result` is [] for an empty
// result but [NaN] for NaN (augur, like Flagger, calls both "no values"),
// ±Inf is a value, and a query that returned several series deserves a
// hint — so the provider's registry wraps every metrics provider in a probe
// that records, in the measurement's context, what the provider itself
// returned.

type probeKey struct{}

// outcome is what the measurement's query returned at the provider.
type outcome struct {
	// ran reports that a query reached the provider.
	ran   bool
	value float64
	err   error
	// scalar reports that the query returned a scalar, which Argo's own
	// Prometheus provider hands to conditions as a bare number.
	scalar bool
}

// noValues reports an empty result or NaN (metrics.ErrNoValues).
func (o outcome) noValues() bool {
	return o.ran && (errors.Is(o.err, metrics.ErrNoValues) || (o.err == nil && math.IsNaN(o.value)))
}

// nan reports that the "no values" was a NaN value: returned as a value, or
// as metrics.ErrNoValues whose text says NaN (metrics/prometheus: "no values
// found: value is NaN", metrics/recorded: "NaN: no values found"; the tests
// check both providers).
func (o outcome) nan() bool {
	return o.ran && ((o.err == nil && math.IsNaN(o.value)) ||
		(errors.Is(o.err, metrics.ErrNoValues) && strings.Contains(o.err.Error(), "NaN")))
}

// probe collects the outcome of a measurement's query.
type probe struct {
	mu  sync.Mutex
	out outcome
}

func (p *probe) set(v float64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out = outcome{ran: true, value: v, err: err}
}

func (p *probe) outcome() outcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out
}

func withProbe(ctx context.Context) (context.Context, *probe) {
	p := &probe{}
	return context.WithValue(ctx, probeKey{}, p), p
}

// probing wraps a metrics.Provider and records each query's outcome in the
// context's probe.
type probing struct{ metrics.Provider }

func (p probing) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	v, err := p.Provider.Query(ctx, query, at)
	if pr, ok := ctx.Value(probeKey{}).(*probe); ok {
		pr.set(v, err)
	}
	return v, err
}

// probingRange is probing for a provider that also runs range queries
// (they are not probed: a judged metric's verdict carries its own data).
type probingRange struct {
	probing
	rq metrics.RangeQuerier
}

// QueryRange forwards to the wrapped provider.
func (p probingRange) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	return p.rq.QueryRange(ctx, query, start, end, step)
}

// probingRaw is probingRange for a provider that also returns raw samples
// (exact counts of judged metrics).
type probingRaw struct {
	probingRange
	raw metrics.RawQuerier
}

// QueryRaw forwards to the wrapped provider.
func (p probingRaw) QueryRaw(ctx context.Context, sel string, start, end time.Time) ([]metrics.Series, error) {
	return p.raw.QueryRaw(ctx, sel, start, end)
}

// probed returns a registry with the types of reg whose providers are
// wrapped in probing.
func probed(reg *metrics.Registry) *metrics.Registry {
	out := &metrics.Registry{}
	for _, typ := range reg.Types() {
		out.Register(typ, func(cfg metrics.Config) (metrics.Provider, error) {
			p, err := reg.New(cfg)
			if err != nil {
				// reg.New prefixed "<type> provider: "; out.New adds it again.
				if inner := errors.Unwrap(err); inner != nil {
					return nil, inner
				}
				return nil, err
			}
			if rq, ok := p.(metrics.RangeQuerier); ok {
				// Judged metrics read both sides' series with range queries.
				if raw, ok := p.(metrics.RawQuerier); ok {
					return probingRaw{probingRange{probing{p}, rq}, raw}, nil
				}
				return probingRange{probing{p}, rq}, nil
			}
			return probing{p}, nil
		})
	}
	return out
}
