package testfile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
)

// Record defaults.
const (
	// DefaultLookbackDelta is how far back an instant selector looks, as on
	// a Prometheus server with default flags and in the recorded provider.
	DefaultLookbackDelta = recorded.DefaultLookbackDelta
	// DefaultChunk is the longest range one raw-sample request asks for.
	DefaultChunk = time.Hour
)

// Source is a live Prometheus as Record needs it. *prometheus.Provider
// implements it.
type Source interface {
	// QuerySamples runs an instant query whose result is a range vector
	// (`sel[5m]`) at time at and returns the raw samples of every series.
	QuerySamples(ctx context.Context, query string, at time.Time) ([]metrics.Series, error)
	metrics.RangeQuerier
}

// RecordOptions configure Record.
type RecordOptions struct {
	// Start and End bound the evaluation times the recording must serve
	// (the ticks of a later replay). The samples fetched reach further back,
	// as far as each query's ranges, offsets and lookback need.
	Start, End time.Time
	// Step, when positive, fetches each selector with a range query at this
	// resolution instead of raw samples. Raw samples (the default) replay
	// exactly as the server evaluates; resampled data only approximates.
	Step time.Duration
	// LookbackDelta is the server's --query.lookback-delta (default 5m).
	LookbackDelta time.Duration
	// Chunk is the longest range one raw-sample request covers (default 1h).
	Chunk time.Duration
	// Beyond, when positive, also fetches up to this long after End and
	// keeps every sample up to End plus one scrape interval (the most common
	// gap between a series' samples, estimated from what was fetched): each
	// series' next scrape after End. Recorded data covers evaluations up to
	// its last sample (service.DataBounds.CoveredUntil), and with a scrape
	// grid off the tick grid the last sample up to End is before End: with
	// one more scrape the recording covers an evaluation at End.
	// The cut is one moment for every series, as the data's own end is, so
	// no series misses a scrape another series' later sample would imply.
	Beyond time.Duration
}

// Selector is a series selector a query reads.
type Selector struct {
	// Expr is the selector without range, offset or @ modifier, with its
	// matchers sorted: `istio_requests_total{reporter="destination"}`.
	Expr string
	// From and Through bound, inclusively, the samples that evaluations of
	// the query over the recorded window can read.
	From, Through time.Time
}

// Recording is what Record captured.
type Recording struct {
	// Series are the samples, merged per label set, sorted by labels.
	Series []metrics.Series
	// Selectors are the distinct selectors fetched, in query order.
	Selectors []Selector
}

// Samples counts the recorded samples.
func (r *Recording) Samples() int {
	n := 0
	for _, s := range r.Series {
		n += len(s.Samples)
	}
	return n
}

// Selectors parses a PromQL query and returns the series selectors it reads,
// each with the time range that evaluations of the query at any time in
// [start, end] can touch: back by the longest range (or the lookback delta
// for an instant selector), offsets and enclosing subqueries, as
// Prometheus's engine computes it for the whole query (so the selectors of
// one query share the range). A selector written twice is returned once.
func Selectors(query string, start, end time.Time, lookback time.Duration) ([]Selector, error) {
	if lookback <= 0 {
		lookback = DefaultLookbackDelta
	}
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		return nil, fmt.Errorf("parsing query %q: %w", query, err)
	}
	minT, maxT := promql.FindMinMaxTime(&parser.EvalStmt{Expr: expr, Start: start, End: end, LookbackDelta: lookback})
	var out []Selector
	seen := map[string]int{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		bare := &parser.VectorSelector{Name: vs.Name, LabelMatchers: vs.LabelMatchers}
		s := Selector{Expr: bare.String(), From: time.UnixMilli(minT).UTC(), Through: time.UnixMilli(maxT).UTC()}
		if i, dup := seen[s.Expr]; dup {
			out[i] = union(out[i], s)
			return nil
		}
		seen[s.Expr] = len(out)
		out = append(out, s)
		return nil
	})
	return out, nil
}

func union(a, b Selector) Selector {
	if b.From.Before(a.From) {
		a.From = b.From
	}
	if b.Through.After(a.Through) {
		a.Through = b.Through
	}
	return a
}

// Record fetches from src every sample that the queries read when they are
// evaluated anywhere in [opts.Start, opts.End], and returns them merged per
// series, ready for recorded.WriteOpenMetrics. Staleness markers, which
// OpenMetrics cannot express, are dropped.
func Record(ctx context.Context, src Source, queries []string, opts RecordOptions) (*Recording, error) {
	switch {
	case opts.Start.IsZero() || opts.End.IsZero():
		return nil, errors.New("record: a start and an end time are required")
	case opts.End.Before(opts.Start):
		return nil, fmt.Errorf("record: end %s is before start %s", opts.End.Format(time.RFC3339), opts.Start.Format(time.RFC3339))
	case opts.Step < 0:
		return nil, fmt.Errorf("record: step %s must not be negative", opts.Step)
	}
	if opts.Chunk <= 0 {
		opts.Chunk = DefaultChunk
	}
	var sels []Selector
	seen := map[string]int{}
	for _, q := range queries {
		ss, err := Selectors(q, opts.Start, opts.End, opts.LookbackDelta)
		if err != nil {
			return nil, fmt.Errorf("record: %w", err)
		}
		for _, s := range ss {
			if i, dup := seen[s.Expr]; dup {
				sels[i] = union(sels[i], s)
				continue
			}
			seen[s.Expr] = len(sels)
			sels = append(sels, s)
		}
	}
	if opts.Beyond > 0 {
		for i := range sels {
			if sels[i].Through.Before(opts.End) {
				sels[i].Through = opts.End
			}
			sels[i].Through = sels[i].Through.Add(opts.Beyond)
		}
	}
	m := merger{series: map[string]*metrics.Series{}}
	for _, s := range sels {
		var err error
		if opts.Step > 0 {
			err = m.fetchRange(ctx, src, s, opts.Step)
		} else {
			err = m.fetchRaw(ctx, src, s, opts.Chunk)
		}
		if err != nil {
			return nil, fmt.Errorf("record: selector %s: %w", s.Expr, err)
		}
	}
	series := m.result()
	if opts.Beyond > 0 {
		series = cutAt(series, opts.End.Add(min(scrapeInterval(series), opts.Beyond)))
	}
	return &Recording{Series: series, Selectors: sels}, nil
}

// scrapeInterval is the most common gap between consecutive samples of a
// series (the smallest on a tie), or 0 when no series has two samples.
func scrapeInterval(series []metrics.Series) time.Duration {
	counts := map[time.Duration]int{}
	for _, s := range series {
		for i := 1; i < len(s.Samples); i++ {
			counts[s.Samples[i].T.Sub(s.Samples[i-1].T)]++
		}
	}
	var best time.Duration
	for gap, n := range counts {
		if n > counts[best] || (n == counts[best] && gap < best) {
			best = gap
		}
	}
	return best
}

// cutAt drops the samples after through, and the series left empty.
func cutAt(series []metrics.Series, through time.Time) []metrics.Series {
	out := series[:0]
	for _, s := range series {
		n := len(s.Samples)
		for n > 0 && s.Samples[n-1].T.After(through) {
			n--
		}
		if n > 0 {
			s.Samples = s.Samples[:n]
			out = append(out, s)
		}
	}
	return out
}

// merger collects samples per label set.
type merger struct {
	series map[string]*metrics.Series
}

// fetchRaw asks for the raw samples of s, newest chunk first: `expr[r]` at
// t covers (t-r, t] on Prometheus 3 and [t-r, t] on Prometheus 2; either
// way the chunks tile [From, Through] and shared edge samples are merged.
func (m *merger) fetchRaw(ctx context.Context, src Source, s Selector, chunk time.Duration) error {
	from := s.From.UnixMilli()
	for t := s.Through.UnixMilli(); t >= from; {
		r := min(chunk.Milliseconds(), t-from+1)
		q := s.Expr + "[" + model.Duration(time.Duration(r)*time.Millisecond).String() + "]"
		got, err := src.QuerySamples(ctx, q, time.UnixMilli(t).UTC())
		if err != nil {
			return err
		}
		m.add(got, from, s.Through.UnixMilli())
		t -= r
	}
	return nil
}

// fetchRange resamples s with a range query at step resolution.
func (m *merger) fetchRange(ctx context.Context, src Source, s Selector, step time.Duration) error {
	got, err := src.QueryRange(ctx, s.Expr, s.From, s.Through, step)
	if err != nil {
		return err
	}
	m.add(got, s.From.UnixMilli(), s.Through.UnixMilli())
	return nil
}

// add keeps the samples within [from, through] (milliseconds).
func (m *merger) add(series []metrics.Series, from, through int64) {
	for _, in := range series {
		key := labelKey(in.Labels)
		out, ok := m.series[key]
		if !ok {
			out = &metrics.Series{Labels: maps.Clone(in.Labels)}
			m.series[key] = out
		}
		for _, smp := range in.Samples {
			if t := smp.T.UnixMilli(); t >= from && t <= through && !recorded.IsStale(smp.V) {
				out.Samples = append(out.Samples, metrics.Sample{T: time.UnixMilli(t).UTC(), V: smp.V})
			}
		}
	}
}

// result sorts each series' samples, drops repeated timestamps and empty
// series, and orders the series by labels.
func (m *merger) result() []metrics.Series {
	keys := slices.Sorted(maps.Keys(m.series))
	out := make([]metrics.Series, 0, len(keys))
	for _, k := range keys {
		s := m.series[k]
		slices.SortStableFunc(s.Samples, func(a, b metrics.Sample) int { return a.T.Compare(b.T) })
		s.Samples = slices.CompactFunc(s.Samples, func(a, b metrics.Sample) bool { return a.T.Equal(b.T) })
		if len(s.Samples) > 0 {
			out = append(out, *s)
		}
	}
	return out
}

// labelKey is a canonical text for a label set.
func labelKey(ls map[string]string) string {
	names := slices.Sorted(maps.Keys(ls))
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
		b.WriteString(ls[n])
		b.WriteByte(0)
	}
	return b.String()
}

// StoreSource is a Source over recorded data that answers as a Prometheus 3
// server holding the same samples would: a range selector at t returns the
// raw samples in (t-range, t]. It lets `augur record --data` cut the window
// a Canary needs out of a larger recording.
type StoreSource struct {
	store *recorded.Store
	prov  *recorded.Provider
}

var _ Source = (*StoreSource)(nil)

// NewStoreSource returns a Source over store.
func NewStoreSource(store *recorded.Store) *StoreSource {
	return &StoreSource{store: store, prov: recorded.New(store, recorded.Options{})}
}

// QuerySamples answers a range selector (`sel[5m]`) at time at (zero: the
// newest sample) with the raw samples of every matching series.
func (s *StoreSource) QuerySamples(ctx context.Context, query string, at time.Time) ([]metrics.Series, error) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	if err != nil {
		return nil, fmt.Errorf("recorded query %q: %w", query, err)
	}
	ms, ok := expr.(*parser.MatrixSelector)
	if !ok {
		return nil, fmt.Errorf("recorded query %q: want a range selector such as x[5m]", query)
	}
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok || vs.Timestamp != nil || vs.StartOrEnd != 0 || vs.OriginalOffset != 0 {
		return nil, fmt.Errorf("recorded query %q: want a plain range selector, without offset or @", query)
	}
	if at.IsZero() {
		at = s.store.End()
	}
	maxT := at.UnixMilli()
	minT := maxT - ms.Range.Milliseconds() + 1
	q, err := s.store.Queryable().Querier(minT, maxT)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	set := q.Select(ctx, true, nil, vs.LabelMatchers...)
	var out []metrics.Series
	var it chunkenc.Iterator
	for set.Next() {
		sr := set.At()
		it = sr.Iterator(it)
		var samples []metrics.Sample
		for it.Next() == chunkenc.ValFloat {
			t, v := it.At()
			samples = append(samples, metrics.Sample{T: time.UnixMilli(t).UTC(), V: v})
		}
		if len(samples) > 0 {
			out = append(out, metrics.Series{Labels: sr.Labels().Map(), Samples: samples})
		}
	}
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("recorded query %q: %w", query, err)
	}
	return out, nil
}

// QueryRange evaluates query over the recorded data at step resolution.
func (s *StoreSource) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	return s.prov.QueryRange(ctx, query, start, end, step)
}
