package recorded

import (
	"context"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// Queryable exposes the store as a Prometheus storage.Queryable, for callers
// that run their own PromQL engine over the recorded data.
func (s *Store) Queryable() storage.Queryable { return queryable{s} }

type queryable struct{ s *Store }

// Querier returns a querier over the samples in [mint, maxt] (milliseconds, inclusive).
func (q queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{s: q.s, mint: mint, maxt: maxt}, nil
}

type querier struct {
	s          *Store
	mint, maxt int64
}

var _ storage.Querier = (*querier)(nil)

// candidates returns the indexes of the series that may match ms, using the
// metric-name index when a matcher pins __name__ to one value.
func (q *querier) candidates(ms []*labels.Matcher) []int {
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return q.s.byName[m.Value]
		}
	}
	return nil
}

// each calls f for every series matching all of ms, in label order.
func (q *querier) each(ms []*labels.Matcher, f func(ms *memSeries)) {
	visit := func(i int) {
		s := &q.s.series[i]
		for _, m := range ms {
			if !m.Matches(s.lset.Get(m.Name)) {
				return
			}
		}
		f(s)
	}
	if idx := q.candidates(ms); idx != nil {
		for _, i := range idx {
			visit(i)
		}
		return
	}
	for i := range q.s.series {
		visit(i)
	}
}

// Select returns the matching series restricted to the hinted time range
// (the querier's range without hints). Series are always sorted.
func (q *querier) Select(ctx context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	if err := ctx.Err(); err != nil {
		return storage.ErrSeriesSet(err)
	}
	mint, maxt := q.mint, q.maxt
	limit := 0
	if hints != nil {
		mint, maxt, limit = hints.Start, hints.End, hints.Limit
	}
	var out []storage.Series
	q.each(ms, func(s *memSeries) {
		if limit > 0 && len(out) >= limit {
			return
		}
		lo := sort.Search(len(s.ts), func(i int) bool { return s.ts[i] >= mint })
		hi := sort.Search(len(s.ts), func(i int) bool { return s.ts[i] > maxt })
		if lo >= hi {
			return
		}
		out = append(out, &seriesView{lset: s.lset, ts: s.ts[lo:hi], vs: s.vs[lo:hi]})
	})
	return &seriesSet{list: out, i: -1}
}

// LabelValues returns the sorted distinct non-empty values of label name
// among the series matching ms.
func (q *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	seen := map[string]struct{}{}
	q.each(ms, func(s *memSeries) {
		if v := s.lset.Get(name); v != "" {
			seen[v] = struct{}{}
		}
	})
	return limited(seen, hints), nil, nil
}

// LabelNames returns the sorted label names of the series matching ms.
func (q *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	seen := map[string]struct{}{}
	q.each(ms, func(s *memSeries) {
		s.lset.Range(func(l labels.Label) { seen[l.Name] = struct{}{} })
	})
	return limited(seen, hints), nil, nil
}

// Close releases nothing: the store outlives its queriers.
func (*querier) Close() error { return nil }

func limited(set map[string]struct{}, hints *storage.LabelHints) []string {
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	if hints != nil && hints.Limit > 0 && len(out) > hints.Limit {
		out = out[:hints.Limit]
	}
	return out
}

type seriesSet struct {
	list []storage.Series
	i    int
}

func (s *seriesSet) Next() bool {
	if s.i+1 >= len(s.list) {
		s.i = len(s.list)
		return false
	}
	s.i++
	return true
}

func (s *seriesSet) At() storage.Series              { return s.list[s.i] }
func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }
func (v *seriesView) Labels() labels.Labels          { return v.lset }
func (v *seriesView) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	if si, ok := it.(*sampleIterator); ok {
		si.reset(v.ts, v.vs)
		return si
	}
	si := &sampleIterator{}
	si.reset(v.ts, v.vs)
	return si
}

// seriesView is one series restricted to a time range.
type seriesView struct {
	lset labels.Labels
	ts   []int64
	vs   []float64
}

// sampleIterator walks float samples held in two parallel slices.
type sampleIterator struct {
	ts []int64
	vs []float64
	i  int // -1 before the first Next/Seek; len(ts) once exhausted
}

var _ chunkenc.Iterator = (*sampleIterator)(nil)

func (it *sampleIterator) reset(ts []int64, vs []float64) {
	it.ts, it.vs, it.i = ts, vs, -1
}

func (it *sampleIterator) Next() chunkenc.ValueType {
	if it.i+1 >= len(it.ts) {
		it.i = len(it.ts)
		return chunkenc.ValNone
	}
	it.i++
	return chunkenc.ValFloat
}

// millis is an int64 millisecond timestamp. Seek takes it under this alias
// name only so that vet's stdmethods check does not mistake chunkenc's Seek
// for io.Seeker's; the types are identical.
type millis = int64

func (it *sampleIterator) Seek(t millis) chunkenc.ValueType {
	if it.i >= len(it.ts) {
		return chunkenc.ValNone
	}
	it.i = max(it.i, 0)
	if it.ts[it.i] >= t {
		return chunkenc.ValFloat
	}
	rest := it.ts[it.i:]
	it.i += sort.Search(len(rest), func(j int) bool { return rest[j] >= t })
	if it.i >= len(it.ts) {
		return chunkenc.ValNone
	}
	return chunkenc.ValFloat
}

func (it *sampleIterator) At() (int64, float64) { return it.ts[it.i], it.vs[it.i] }

// AtHistogram is never called: the iterator only yields floats.
func (it *sampleIterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	return it.ts[it.i], nil
}

// AtFloatHistogram is never called: the iterator only yields floats.
func (it *sampleIterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	return it.ts[it.i], nil
}

func (it *sampleIterator) AtT() int64 { return it.ts[it.i] }
func (*sampleIterator) AtST() int64   { return 0 }
func (*sampleIterator) Err() error    { return nil }
