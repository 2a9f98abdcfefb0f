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
		lo := sort.Search(len(s.chunks), func(i int) bool { return s.chunks[i].maxT >= mint })
		hi := sort.Search(len(s.chunks), func(i int) bool { return s.chunks[i].minT > maxt })
		if lo >= hi {
			return
		}
		out = append(out, &seriesView{lset: s.lset, chunks: s.chunks[lo:hi], mint: mint, maxt: maxt})
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
		si.reset(v)
		return si
	}
	si := &sampleIterator{}
	si.reset(v)
	return si
}

// seriesView is one series restricted to a time range: the chunks that
// overlap it, whose samples outside [mint, maxt] the iterator skips.
type seriesView struct {
	lset       labels.Labels
	chunks     []chunk
	mint, maxt int64
}

// sampleIterator walks the float samples of a seriesView, decoding one chunk
// at a time.
type sampleIterator struct {
	chunks     []chunk
	mint, maxt int64
	ci         int // index of the open chunk; len(chunks) once exhausted
	xc         chunkenc.XORChunk
	it         chunkenc.Iterator // over chunks[ci]
	valid      bool              // t, v hold the current sample
	t          int64
	v          float64
}

var _ chunkenc.Iterator = (*sampleIterator)(nil)

func (it *sampleIterator) reset(v *seriesView) {
	it.chunks, it.mint, it.maxt = v.chunks, v.mint, v.maxt
	it.ci, it.valid = -1, false
}

// open makes chunks[ci] the current chunk; it reports false past the last.
func (it *sampleIterator) open(ci int) bool {
	it.ci = ci
	if ci >= len(it.chunks) {
		it.valid = false
		return false
	}
	it.xc.Reset(it.chunks[ci].data)
	it.it = it.xc.Iterator(it.it)
	return true
}

// finish marks the iterator exhausted.
func (it *sampleIterator) finish() chunkenc.ValueType {
	it.ci, it.valid = len(it.chunks), false
	return chunkenc.ValNone
}

// settle accepts the open chunk's current sample unless it lies after maxt.
func (it *sampleIterator) settle() chunkenc.ValueType {
	t, v := it.it.At()
	if t > it.maxt {
		return it.finish()
	}
	it.t, it.v, it.valid = t, v, true
	return chunkenc.ValFloat
}

func (it *sampleIterator) Next() chunkenc.ValueType {
	if it.ci < 0 {
		return it.Seek(it.mint)
	}
	for it.ci < len(it.chunks) {
		if it.it.Next() == chunkenc.ValFloat {
			return it.settle()
		}
		if err := it.it.Err(); err != nil {
			return it.finish()
		}
		if !it.open(it.ci + 1) {
			return chunkenc.ValNone
		}
	}
	return it.finish()
}

// millis is an int64 millisecond timestamp. Seek takes it under this alias
// name only so that vet's stdmethods check does not mistake chunkenc's Seek
// for io.Seeker's; the types are identical.
type millis = int64

func (it *sampleIterator) Seek(t millis) chunkenc.ValueType {
	if it.ci >= len(it.chunks) {
		return chunkenc.ValNone
	}
	if it.valid && it.t >= t {
		return chunkenc.ValFloat
	}
	t = max(t, it.mint)
	ci := max(it.ci, 0)
	for ci < len(it.chunks) && it.chunks[ci].maxT < t {
		ci++
	}
	if ci >= len(it.chunks) {
		return it.finish()
	}
	if ci != it.ci {
		it.open(ci)
	}
	if it.it.Seek(t) == chunkenc.ValFloat {
		return it.settle()
	}
	return it.finish()
}

func (it *sampleIterator) At() (int64, float64) { return it.t, it.v }

// AtHistogram is never called: the iterator only yields floats.
func (it *sampleIterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	return it.t, nil
}

// AtFloatHistogram is never called: the iterator only yields floats.
func (it *sampleIterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	return it.t, nil
}

func (it *sampleIterator) AtT() int64 { return it.t }
func (*sampleIterator) AtST() int64   { return 0 }

// Err reports a chunk that could not be decoded (not expected: the store
// encodes every chunk itself).
func (it *sampleIterator) Err() error {
	if it.it != nil {
		return it.it.Err()
	}
	return nil
}
