package engine

import (
	"context"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/augurproj/augur/metrics"
)

// MaxRangePoints is the most points one prefetching range query asks for:
// Prometheus refuses a query_range of more than 11,000 points per series.
const MaxRangePoints = 11000

// prefetchKey carries a replay's *prefetch in the context of its ticks.
type prefetchKey struct{}

// prefetch serves a replay's instant queries from range queries: for each
// distinct (provider, query) it fetches the values of up to MaxRangePoints
// ticks at once with query_range, start = a tick's time and step = the tick
// interval, so every point is evaluated exactly as the instant query at that
// tick (same time, same lookback). A tick whose point is missing (no series,
// several series, NaN, a failed range query, a time off the grid) is not
// served: the engine then runs the instant query, which answers or fails as
// it always did. Values are never guessed.
type prefetch struct {
	start time.Time     // the first tick
	step  time.Duration // the tick interval
	ticks int           // ticks the replay may run (bounds the last chunk)
	last  time.Time     // no point is fetched after this time (zero: none)
	chunk int           // ticks per range query, at most MaxRangePoints

	mu      sync.Mutex
	entries map[prefetchEntryKey]*prefetchChunk
	ranges  map[rangeKey]*rangeEntry // judged metrics' shared range queries
}

type prefetchEntryKey struct {
	provider, query string
	chunk           int
}

// prefetchChunk is one range query's points, by tick within the chunk.
type prefetchChunk struct {
	once   sync.Once
	values []float64
	ok     []bool
}

// newPrefetch returns a prefetch for ticks start + i·step, i < ticks, none
// later than last (when set), chunk ticks per range query (MaxRangePoints
// when chunk is not in 1..MaxRangePoints); nil when the grid is not in whole
// milliseconds (the API's time resolution), so nothing is served from it.
func newPrefetch(start time.Time, step time.Duration, ticks int, last time.Time, chunk int) *prefetch {
	if step <= 0 || step%time.Millisecond != 0 || !start.Equal(start.Truncate(time.Millisecond)) || ticks <= 0 {
		return nil
	}
	if chunk <= 0 || chunk > MaxRangePoints {
		chunk = MaxRangePoints
	}
	return &prefetch{start: start, step: step, ticks: ticks, last: last, chunk: chunk, entries: map[prefetchEntryKey]*prefetchChunk{}}
}

// prefetchable reports whether a query's range evaluation equals its
// instant evaluation at every step. The @ modifier's start() and end() are
// the range's ends in a range query but the evaluation time in an instant
// query, so a query with any @ is left to instant queries.
func prefetchable(query string) bool {
	return !strings.Contains(query, "@")
}

// value returns the prefetched value of p's query at at, fetching its chunk
// through rq on first use; ok is false when the tick must be queried.
// onErr, when set, is told when the chunk's range query fails.
func (f *prefetch) value(ctx context.Context, rq metrics.RangeQuerier, providerKey, query string, at time.Time, timeout time.Duration, onErr func(error)) (float64, bool) {
	if at.Before(f.start) || !prefetchable(query) {
		return 0, false
	}
	d := at.Sub(f.start)
	if d%f.step != 0 {
		return 0, false
	}
	i := int(d / f.step)
	if i >= f.ticks {
		return 0, false
	}
	c := i / f.chunk
	f.mu.Lock()
	k := prefetchEntryKey{providerKey, query, c}
	ch, found := f.entries[k]
	if !found {
		ch = &prefetchChunk{}
		f.entries[k] = ch
	}
	f.mu.Unlock()
	ch.once.Do(func() {
		if err := ch.fetch(ctx, rq, query, f.chunkRange(c), f.step, timeout); err != nil && onErr != nil {
			onErr(err)
		}
	})
	j := i - c*f.chunk
	if j >= len(ch.ok) || !ch.ok[j] {
		return 0, false
	}
	return ch.values[j], true
}

// chunkRange is the first and last tick time of chunk c, the last one capped
// at f.last.
func (f *prefetch) chunkRange(c int) [2]time.Time {
	first := c * f.chunk
	n := min(f.chunk, f.ticks-first)
	start := f.start.Add(time.Duration(first) * f.step)
	end := start.Add(time.Duration(n-1) * f.step)
	if !f.last.IsZero() && end.After(f.last) {
		end = f.last
	}
	return [2]time.Time{start, end}
}

// fetch runs the chunk's range query and keeps, for every step, the value
// of the one series holding a point there; a step with no point, several
// series or NaN stays unserved, and so does the whole chunk when the range
// query fails.
func (ch *prefetchChunk) fetch(ctx context.Context, rq metrics.RangeQuerier, query string, r [2]time.Time, step time.Duration, timeout time.Duration) error {
	if r[1].Before(r[0]) {
		return nil
	}
	n := int(r[1].Sub(r[0])/step) + 1
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	series, err := rq.QueryRange(qctx, query, r[0], r[0].Add(time.Duration(n-1)*step), step)
	if err != nil {
		return err
	}
	values := make([]float64, n)
	count := make([]int, n)
	start := r[0].UnixMilli()
	stepMS := step.Milliseconds()
	for _, s := range series {
		for _, sp := range s.Samples {
			d := sp.T.UnixMilli() - start
			if d < 0 || d%stepMS != 0 || d/stepMS >= int64(n) {
				continue
			}
			j := int(d / stepMS)
			count[j]++
			values[j] = sp.V
		}
	}
	ok := make([]bool, n)
	for j := range n {
		ok[j] = count[j] == 1 && !math.IsNaN(values[j])
	}
	ch.values, ch.ok = values, ok
	return nil
}

// withPrefetch returns ctx carrying f (ctx itself when f is nil).
func withPrefetch(ctx context.Context, f *prefetch) context.Context {
	if f == nil {
		return ctx
	}
	return context.WithValue(ctx, prefetchKey{}, f)
}

func prefetchFrom(ctx context.Context) *prefetch {
	f, _ := ctx.Value(prefetchKey{}).(*prefetch)
	return f
}

// prefetched serves p's instant query at at from the replay's prefetch,
// when the context carries one and the provider answers range queries.
func (e *Engine) prefetched(ctx context.Context, p *MetricPlan, prov metrics.Provider, at time.Time) (float64, bool) {
	f := prefetchFrom(ctx)
	if f == nil || at.IsZero() {
		return 0, false
	}
	rq, ok := prov.(metrics.RangeQuerier)
	if !ok {
		return 0, false
	}
	return f.value(ctx, rq, providerKey(p.Provider), p.Query, at, e.opts.QueryTimeout, func(err error) {
		e.opts.Logger.Warn("range query for the replay failed; its ticks use instant queries",
			"metric", p.Name, "query", p.Query, "error", providerSecrets(p).String(err.Error()))
	})
}

// rangeKey names one shared range query of a replay's judged metrics.
type rangeKey struct {
	provider, query string
	step            time.Duration
}

// rangeEntry is the latest shared range query of a key: its points run from
// from to to on the grid from + k·step; failed means it failed (its ticks
// then query on their own).
type rangeEntry struct {
	mu       sync.Mutex
	from, to time.Time
	series   []metrics.Series
	failed   bool
	fetched  bool
}

// queryRange serves a judged metric's range query (points first, first +
// step, …, end) from a range query shared by the replay's ticks: the first
// tick that needs the query fetches its points from first up to the last
// tick the replay may reach (at most f.chunk ticks ahead and MaxRangePoints
// points), and each later tick whose window lies inside on the same grid
// gets the points of its window, series without a point in it dropped —
// what its own range query returns, since a range query's every point is
// evaluated on its own. ok is false when the tick must query itself: a query
// with @, a grid off whole milliseconds, a window outside the shared one on
// another grid, or a shared query that failed.
func (f *prefetch) queryRange(ctx context.Context, rq metrics.RangeQuerier, providerKey, query string, first, end time.Time, step, timeout time.Duration) ([]metrics.Series, bool) {
	if !prefetchable(query) || step <= 0 || step%time.Millisecond != 0 || end.Before(first) ||
		!first.Equal(first.Truncate(time.Millisecond)) || !end.Equal(end.Truncate(time.Millisecond)) {
		return nil, false
	}
	f.mu.Lock()
	if f.ranges == nil {
		f.ranges = map[rangeKey]*rangeEntry{}
	}
	k := rangeKey{providerKey, query, step}
	e, found := f.ranges[k]
	if !found {
		e = &rangeEntry{}
		f.ranges[k] = e
	}
	f.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	inside := e.fetched && !first.Before(e.from) && !end.After(e.to) && first.Sub(e.from)%step == 0
	if !inside {
		to := end
		horizon := f.start.Add(time.Duration(f.ticks-1) * f.step)
		if ahead := end.Add(time.Duration(f.chunk) * f.step); ahead.Before(horizon) {
			horizon = ahead
		}
		if !f.last.IsZero() && f.last.Before(horizon) {
			horizon = f.last
		}
		if limit := first.Add(time.Duration(MaxRangePoints-1) * step); limit.Before(horizon) {
			horizon = limit
		}
		if horizon.After(to) {
			to = first.Add(horizon.Sub(first) / step * step)
		}
		qctx, cancel := context.WithTimeout(ctx, timeout)
		series, err := rq.QueryRange(qctx, query, first, to, step)
		cancel()
		e.from, e.to, e.series, e.failed, e.fetched = first, to, series, err != nil, true
	}
	if e.failed {
		return nil, false
	}
	lo, hi := first.UnixMilli(), end.UnixMilli()
	out := make([]metrics.Series, 0, len(e.series))
	for _, s := range e.series {
		i := sort.Search(len(s.Samples), func(i int) bool { return s.Samples[i].T.UnixMilli() >= lo })
		j := sort.Search(len(s.Samples), func(i int) bool { return s.Samples[i].T.UnixMilli() > hi })
		if i < j {
			out = append(out, metrics.Series{Labels: s.Labels, Samples: s.Samples[i:j:j]})
		}
	}
	return out, true
}
