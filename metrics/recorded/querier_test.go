package recorded

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

func querierStore(t *testing.T) *Store {
	return mustLoad(t, sec(0), 10*time.Second,
		SeriesInput{Series: `req_total{code="200", job="api"}`, Values: `0+1x5`},     // 0s..50s
		SeriesInput{Series: `req_total{code="500", job="api"}`, Values: `_x3 0+1x2`}, // 30s..50s
		SeriesInput{Series: `req_total{code="200", job="web"}`, Values: `1x1`},       // 0s, 10s
		SeriesInput{Series: `up{job="api"}`, Values: `1x5`},
	)
}

type selected struct {
	Labels  string
	Samples []int64
}

func selectAll(t *testing.T, ss storage.SeriesSet) []selected {
	t.Helper()
	var out []selected
	var it chunkenc.Iterator
	for ss.Next() {
		s := ss.At()
		it = s.Iterator(it)
		sel := selected{Labels: s.Labels().String()}
		for it.Next() == chunkenc.ValFloat {
			ts, _ := it.At()
			sel.Samples = append(sel.Samples, ts/1000)
		}
		out = append(out, sel)
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSelect(t *testing.T) {
	q, err := querierStore(t).Queryable().Querier(0, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	m := labels.MustNewMatcher
	tests := []struct {
		name     string
		hints    *storage.SelectHints
		matchers []*labels.Matcher
		want     []selected
	}{
		{
			name:     "name and regex, via the name index",
			matchers: []*labels.Matcher{m(labels.MatchEqual, "__name__", "req_total"), m(labels.MatchRegexp, "code", "5..")},
			want:     []selected{{`{__name__="req_total", code="500", job="api"}`, []int64{30, 40, 50}}},
		},
		{
			name:     "without a name matcher scans everything",
			matchers: []*labels.Matcher{m(labels.MatchEqual, "job", "web")},
			want:     []selected{{`{__name__="req_total", code="200", job="web"}`, []int64{0, 10}}},
		},
		{
			name:     "not-equal and sorted output",
			matchers: []*labels.Matcher{m(labels.MatchNotEqual, "code", "500"), m(labels.MatchRegexp, "__name__", "req.*")},
			want: []selected{
				{`{__name__="req_total", code="200", job="api"}`, []int64{0, 10, 20, 30, 40, 50}},
				{`{__name__="req_total", code="200", job="web"}`, []int64{0, 10}},
			},
		},
		{
			name:     "hints narrow the time range and drop series without samples in it",
			hints:    &storage.SelectHints{Start: 15_000, End: 30_000},
			matchers: []*labels.Matcher{m(labels.MatchEqual, "__name__", "req_total")},
			want: []selected{
				{`{__name__="req_total", code="200", job="api"}`, []int64{20, 30}},
				{`{__name__="req_total", code="500", job="api"}`, []int64{30}},
			},
		},
		{
			name:     "limit",
			hints:    &storage.SelectHints{Start: 0, End: 100_000, Limit: 1},
			matchers: []*labels.Matcher{m(labels.MatchEqual, "__name__", "req_total")},
			want:     []selected{{`{__name__="req_total", code="200", job="api"}`, []int64{0, 10, 20, 30, 40, 50}}},
		},
		{
			name:     "unknown name",
			matchers: []*labels.Matcher{m(labels.MatchEqual, "__name__", "nope")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := selectAll(t, q.Select(context.Background(), true, tt.hints, tt.matchers...))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Select (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQuerierRangeAndLabels(t *testing.T) {
	ctx := context.Background()
	q, err := querierStore(t).Queryable().Querier(35_000, 45_000)
	if err != nil {
		t.Fatal(err)
	}
	got := selectAll(t, q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, "job", "api")))
	want := []selected{
		{`{__name__="req_total", code="200", job="api"}`, []int64{40}},
		{`{__name__="req_total", code="500", job="api"}`, []int64{40}},
		{`{__name__="up", job="api"}`, []int64{40}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Select without hints uses the querier range (-want +got):\n%s", diff)
	}

	vals, _, err := q.LabelValues(ctx, "code", nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "req_total"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"200", "500"}, vals); diff != "" {
		t.Errorf("LabelValues (-want +got):\n%s", diff)
	}
	names, _, err := q.LabelNames(ctx, &storage.LabelHints{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"__name__", "code"}, names); diff != "" {
		t.Errorf("LabelNames (-want +got):\n%s", diff)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if ss := q.Select(canceled, false, nil); ss.Next() || ss.Err() == nil {
		t.Errorf("Select on a canceled context: Next or no error")
	}
}

// viewOf encodes samples (ts[i], vs[i]) into chunks, as a loader does, and
// returns the view of them restricted to [mint, maxt].
func viewOf(t *testing.T, ts []int64, vs []float64, mint, maxt int64) *seriesView {
	t.Helper()
	b := newBuilder()
	ref, _ := b.ref(labels.FromStrings("__name__", "x"))
	for i := range ts {
		if err := b.append(ref, ts[i], vs[i]); err != nil {
			t.Fatal(err)
		}
	}
	s := b.build()
	if len(s.series) == 0 {
		return &seriesView{mint: mint, maxt: maxt}
	}
	return &seriesView{lset: s.series[0].lset, chunks: s.series[0].chunks, mint: mint, maxt: maxt}
}

func TestIteratorSeek(t *testing.T) {
	it := &sampleIterator{}
	it.reset(viewOf(t, []int64{10, 20, 30}, []float64{1, 2, 3}, math.MinInt64, math.MaxInt64))
	type step struct {
		op   string // "next" or "seek"
		arg  int64
		want chunkenc.ValueType
		at   int64 // timestamp after the step, when want is ValFloat
	}
	steps := []step{
		{"seek", 5, chunkenc.ValFloat, 10},
		{"seek", 10, chunkenc.ValFloat, 10},
		{"seek", 0, chunkenc.ValFloat, 10}, // never moves back
		{"seek", 21, chunkenc.ValFloat, 30},
		{"next", 0, chunkenc.ValNone, 0},
		{"next", 0, chunkenc.ValNone, 0},
		{"seek", 0, chunkenc.ValNone, 0},
	}
	for i, s := range steps {
		var got chunkenc.ValueType
		if s.op == "next" {
			got = it.Next()
		} else {
			got = it.Seek(s.arg)
		}
		if got != s.want {
			t.Fatalf("step %d %s(%d) = %v, want %v", i, s.op, s.arg, got, s.want)
		}
		if got == chunkenc.ValFloat {
			if ts, v := it.At(); ts != s.at || it.AtT() != s.at || v != float64(ts/10) {
				t.Fatalf("step %d: At = %d, %v; want %d", i, ts, v, s.at)
			}
		}
	}
	it.reset(viewOf(t, []int64{10}, []float64{1}, math.MinInt64, math.MaxInt64))
	if it.Seek(11) != chunkenc.ValNone {
		t.Errorf("Seek past the end of a fresh iterator found a sample")
	}
}

// TestIteratorMatchesSlices walks random operations over series spanning
// several chunks, restricted to random windows, and compares every step with
// the same walk over plain slices.
func TestIteratorMatchesSlices(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := r.IntN(4 * chunkSamples)
		ts, vs := make([]int64, n), make([]float64, n)
		var at int64 = r.Int64N(100)
		for i := range n {
			at += 1 + r.Int64N(30)
			ts[i] = at
			switch r.IntN(10) {
			case 0:
				vs[i] = math.Float64frombits(value.StaleNaN)
			default:
				vs[i] = float64(r.IntN(1000)) / 8
			}
		}
		mint := r.Int64N(at + 50)
		maxt := mint + r.Int64N(at+50)
		var want []int // indexes in [mint, maxt]
		for i, t := range ts {
			if t >= mint && t <= maxt {
				want = append(want, i)
			}
		}
		it := &sampleIterator{}
		it.reset(viewOf(t, ts, vs, mint, maxt))
		pos := -1 // index into want of the current sample
		for step := range 60 {
			var got chunkenc.ValueType
			if r.IntN(2) == 0 {
				got = it.Next()
				pos++
			} else {
				target := r.Int64N(at + 100)
				got = it.Seek(target)
				if pos < 0 || pos >= len(want) || ts[want[pos]] < target {
					p := max(pos, 0)
					for p < len(want) && ts[want[p]] < target {
						p++
					}
					pos = p
				}
			}
			if pos >= len(want) {
				pos = len(want)
				if got != chunkenc.ValNone {
					t.Fatalf("round %d step %d: got a sample past the end", round, step)
				}
				continue
			}
			if got != chunkenc.ValFloat {
				t.Fatalf("round %d step %d: got %v, want sample %d", round, step, got, want[pos])
			}
			gt, gv := it.At()
			if gt != ts[want[pos]] || math.Float64bits(gv) != math.Float64bits(vs[want[pos]]) {
				t.Fatalf("round %d step %d: At = %d %v, want %d %v", round, step, gt, gv, ts[want[pos]], vs[want[pos]])
			}
		}
	}
}
