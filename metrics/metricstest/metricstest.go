package metricstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/augurproj/augur/metrics"
)

// ErrNoResult is wrapped by the error for a query that has no canned result
// and no default.
var ErrNoResult = errors.New("metricstest: no canned result")

// Result is a canned answer: Value, or Err when Err is not nil.
type Result struct {
	// Value is returned when Err is nil.
	Value float64
	// Err, when not nil, is returned (unwrapped) instead of Value.
	Err error
}

// Call is one recorded Query call.
type Call struct {
	// Query is the query string exactly as passed to Query.
	Query string
	// At is the evaluation time exactly as passed to Query (zero means now).
	At time.Time
}

// Provider is an in-memory metrics.Provider. The zero value is ready to use
// and answers every query with an error wrapping ErrNoResult. All methods are
// safe for concurrent use.
type Provider struct {
	// Latency is a fixed simulated delay per query, cut short when the
	// query's context is done. Set it before the first Query.
	Latency time.Duration

	mu          sync.Mutex
	byQuery     map[string]Result
	byQueryAt   map[key]Result
	fallback    *Result
	calls       []Call
	inFlight    int
	maxInFlight int
}

type key struct {
	query string
	at    time.Time
}

var _ metrics.Provider = (*Provider)(nil)

// normalize makes equal instants equal map keys (no location, no monotonic
// clock reading).
func normalize(t time.Time) time.Time { return t.Round(0).UTC() }

// Set cans r for query at any evaluation time.
func (p *Provider) Set(query string, r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byQuery == nil {
		p.byQuery = map[string]Result{}
	}
	p.byQuery[query] = r
}

// SetAt cans r for query evaluated at exactly at (compared as instants); it
// takes precedence over Set for that time. A zero at matches calls whose at
// is zero ("now").
func (p *Provider) SetAt(query string, at time.Time, r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byQueryAt == nil {
		p.byQueryAt = map[key]Result{}
	}
	p.byQueryAt[key{query, normalize(at)}] = r
}

// SetDefault cans r for every query without a result of its own.
func (p *Provider) SetDefault(r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fallback = &r
}

// Query records the call, waits Latency (or until ctx is done) and returns
// the canned result: the one set for (query, at), else for query, else the
// default. A canned error is returned as is, so errors.Is works on it.
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	p.mu.Lock()
	p.calls = append(p.calls, Call{Query: query, At: at})
	p.inFlight++
	p.maxInFlight = max(p.maxInFlight, p.inFlight)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()

	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("metricstest: query %q: %w", query, err)
	}
	if p.Latency > 0 {
		timer := time.NewTimer(p.Latency)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("metricstest: query %q: %w", query, ctx.Err())
		case <-timer.C:
		}
	}

	r, ok := p.lookup(query, at)
	if !ok {
		return 0, fmt.Errorf("%w for query %q", ErrNoResult, query)
	}
	if r.Err != nil {
		return 0, r.Err
	}
	return r.Value, nil
}

func (p *Provider) lookup(query string, at time.Time) (Result, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.byQueryAt[key{query, normalize(at)}]; ok {
		return r, true
	}
	if r, ok := p.byQuery[query]; ok {
		return r, true
	}
	if p.fallback != nil {
		return *p.fallback, true
	}
	return Result{}, false
}

// Calls returns a copy of the calls so far, in arrival order.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// InFlight reports how many Query calls are running now.
func (p *Provider) InFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight
}

// MaxInFlight reports the most Query calls that ever ran at once.
func (p *Provider) MaxInFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxInFlight
}
