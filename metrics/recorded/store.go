package recorded

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/augurproj/augur/metrics"
)

// Store holds recorded series in memory: per series its label set (held
// once) and its samples in strictly increasing time order (millisecond
// timestamps, float values, staleness markers kept as Prometheus's stale NaN),
// compressed in chunks of up to chunkSamples samples with Prometheus's
// XOR ("Gorilla") encoding from tsdb/chunkenc — a few bytes per sample
// instead of sixteen. A Store is immutable once built and safe for
// concurrent use.
type Store struct {
	series  []memSeries      // sorted by label set
	byName  map[string][]int // metric name → indexes into series, ascending
	minT    int64
	maxT    int64
	samples int
	bytes   int // chunk bytes in use
}

// chunkSamples is how many samples one chunk holds at most: Prometheus's
// own choice for its head chunks, which keeps a Seek within a chunk short.
const chunkSamples = 120

// chunk is one XOR-encoded run of samples of a series; data is the chunk's
// bytes as chunkenc writes them (a two-byte sample count, then the stream).
type chunk struct {
	data       []byte
	minT, maxT int64
}

type memSeries struct {
	lset   labels.Labels
	chunks []chunk
	n      int // samples

	// While a loader appends: the open chunk and its appender.
	head     *chunkenc.XORChunk
	app      chunkenc.Appender
	headN    int
	headMinT int64
	lastT    int64
}

// Start is the time of the oldest sample, or the zero time for an empty store.
func (s *Store) Start() time.Time {
	if s.samples == 0 {
		return time.Time{}
	}
	return time.UnixMilli(s.minT).UTC()
}

// End is the time of the newest sample (staleness markers included), or the
// zero time for an empty store.
func (s *Store) End() time.Time {
	if s.samples == 0 {
		return time.Time{}
	}
	return time.UnixMilli(s.maxT).UTC()
}

// SeriesCount is the number of series in the store.
func (s *Store) SeriesCount() int { return len(s.series) }

// SampleCount is the number of samples in the store, staleness markers included.
func (s *Store) SampleCount() int { return s.samples }

// Series returns a copy of every series, sorted by label set. Staleness
// markers appear as samples whose value satisfies IsStale.
func (s *Store) Series() []metrics.Series {
	out := make([]metrics.Series, len(s.series))
	var it chunkenc.Iterator
	var xc chunkenc.XORChunk
	for i, ms := range s.series {
		samples := make([]metrics.Sample, 0, ms.n)
		for _, c := range ms.chunks {
			xc.Reset(c.data)
			it = xc.Iterator(it)
			for it.Next() != chunkenc.ValNone {
				t, v := it.At()
				samples = append(samples, metrics.Sample{T: time.UnixMilli(t).UTC(), V: v})
			}
		}
		out[i] = metrics.Series{Labels: ms.lset.Map(), Samples: samples}
	}
	return out
}

// ChunkBytes is the size of the compressed samples (chunk data only; the
// label sets and per-chunk bookkeeping of about 40 bytes per chunk come on
// top).
func (s *Store) ChunkBytes() int { return s.bytes }

// IsStale reports whether v is Prometheus's staleness marker (a specific NaN).
func IsStale(v float64) bool { return value.IsStaleNaN(v) }

// FromSeries builds a Store from labelled series, for example the result of a
// range query. Labels with empty values are dropped (as Prometheus does);
// every series' samples must be in strictly increasing time order, at
// millisecond resolution, and two series may not share a label set.
func FromSeries(series []metrics.Series) (*Store, error) {
	b := newBuilder()
	for i, in := range series {
		lset := labels.FromMap(in.Labels).WithoutEmpty()
		if err := checkLabels(lset); err != nil {
			return nil, fmt.Errorf("series %d %s: %w", i, formatSeries(lset), err)
		}
		ref, isNew := b.ref(lset)
		if !isNew {
			return nil, fmt.Errorf("series %d %s: label set given twice", i, formatSeries(lset))
		}
		for j, smp := range in.Samples {
			if err := b.append(ref, smp.T.UnixMilli(), smp.V); err != nil {
				return nil, fmt.Errorf("series %d %s: sample %d: %w", i, formatSeries(lset), j, err)
			}
		}
	}
	return b.build(), nil
}

// builder accumulates series while a loader runs. Samples go straight into
// XOR chunks; closed chunks are copied into a shared arena.
type builder struct {
	series []memSeries
	index  map[uint64][]int // labels hash → indexes into series
	arena  []byte           // free space for closed chunks
	bytes  int
}

// arenaBlock is the size of one arena allocation for closed chunks.
const arenaBlock = 1 << 20

func newBuilder() *builder {
	return &builder{index: map[uint64][]int{}}
}

// ref returns the index of the series with label set lset, creating it if
// needed; isNew reports whether it was created.
func (b *builder) ref(lset labels.Labels) (ref int, isNew bool) {
	h := lset.Hash()
	for _, i := range b.index[h] {
		if labels.Equal(b.series[i].lset, lset) {
			return i, false
		}
	}
	b.series = append(b.series, memSeries{lset: lset})
	ref = len(b.series) - 1
	b.index[h] = append(b.index[h], ref)
	return ref, true
}

// errNotIncreasing is the cause of an out-of-order append.
var errNotIncreasing = errors.New("timestamps must be strictly increasing per series")

// orderError says which timestamp came after which.
type orderError struct{ prev, t int64 }

func (e *orderError) Error() string {
	return fmt.Sprintf("timestamp %s is not after the previous sample's %s: %v", formatTime(e.t), formatTime(e.prev), errNotIncreasing)
}

func (e *orderError) Unwrap() error { return errNotIncreasing }

// append adds one sample to series ref; timestamps must strictly increase.
func (b *builder) append(ref int, t int64, v float64) error {
	ms := &b.series[ref]
	if ms.n > 0 && t <= ms.lastT {
		return &orderError{prev: ms.lastT, t: t}
	}
	if ms.head == nil || ms.headN >= chunkSamples {
		b.closeHead(ms)
		ms.head = chunkenc.NewXORChunk()
		app, err := ms.head.Appender()
		if err != nil {
			return fmt.Errorf("opening a chunk: %w", err)
		}
		ms.app, ms.headN, ms.headMinT = app, 0, t
	}
	ms.app.Append(0, t, v)
	ms.headN++
	ms.n++
	ms.lastT = t
	return nil
}

// closeHead moves the open chunk of ms, if any, into the arena.
func (b *builder) closeHead(ms *memSeries) {
	if ms.head == nil || ms.headN == 0 {
		return
	}
	src := ms.head.Bytes()
	if len(src) > cap(b.arena)-len(b.arena) {
		b.arena = make([]byte, 0, max(arenaBlock, len(src)))
	}
	start := len(b.arena)
	b.arena = append(b.arena, src...)
	ms.chunks = append(ms.chunks, chunk{data: b.arena[start:len(b.arena):len(b.arena)], minT: ms.headMinT, maxT: ms.lastT})
	b.bytes += len(src)
	ms.head, ms.app, ms.headN = nil, nil, 0
}

// build closes every chunk, sorts the series, drops empty ones and indexes
// them by metric name.
func (b *builder) build() *Store {
	s := &Store{byName: map[string][]int{}, minT: math.MaxInt64, maxT: math.MinInt64}
	s.series = make([]memSeries, 0, len(b.series))
	for i := range b.series {
		ms := &b.series[i]
		b.closeHead(ms)
		if ms.n == 0 {
			continue
		}
		ms.chunks = slices.Clip(ms.chunks)
		s.series = append(s.series, *ms)
		s.samples += ms.n
		s.minT = min(s.minT, ms.chunks[0].minT)
		s.maxT = max(s.maxT, ms.chunks[len(ms.chunks)-1].maxT)
	}
	s.bytes = b.bytes
	sort.Slice(s.series, func(i, j int) bool { return labels.Compare(s.series[i].lset, s.series[j].lset) < 0 })
	for i, ms := range s.series {
		name := ms.lset.Get(labels.MetricName)
		s.byName[name] = append(s.byName[name], i)
	}
	if s.samples == 0 {
		s.minT, s.maxT = 0, 0
	}
	return s
}

// checkLabels rejects label sets Prometheus could not store.
func checkLabels(lset labels.Labels) error {
	if name, dup := lset.HasDuplicateLabelNames(); dup {
		return fmt.Errorf("label %q appears twice", name)
	}
	if lset.IsEmpty() {
		return errors.New("series has no labels")
	}
	return nil
}

// formatSeries renders a label set the way PromQL users write it:
// name{a="b", c="d"}.
func formatSeries(lset labels.Labels) string {
	var sb strings.Builder
	name := lset.Get(labels.MetricName)
	sb.WriteString(name)
	if lset.Len() == 1 && name != "" {
		return sb.String()
	}
	sb.WriteByte('{')
	first := true
	lset.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if !first {
			sb.WriteString(", ")
		}
		first = false
		sb.WriteString(l.Name)
		sb.WriteByte('=')
		sb.WriteString(strconv.Quote(l.Value))
	})
	sb.WriteByte('}')
	return sb.String()
}

// formatTime renders a millisecond timestamp as OpenMetrics seconds and as
// RFC 3339 UTC, e.g. "1793527207.5 (2026-11-01T09:58:07.5Z)".
func formatTime(ms int64) string {
	return formatSeconds(ms) + " (" + time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) + ")"
}

// formatSeconds renders a millisecond timestamp as the shortest decimal
// number of seconds that Prometheus's OpenMetrics parser (which computes
// int64(seconds*1000)) reads back as exactly ms.
func formatSeconds(ms int64) string {
	f := float64(ms) / 1000
	for _, dir := range []float64{math.Inf(1), math.Inf(-1)} {
		g := f
		for range 4 {
			if int64(g*1000) == ms {
				return strconv.FormatFloat(g, 'f', -1, 64)
			}
			g = math.Nextafter(g, dir)
		}
	}
	// Not reached for timestamps within ±2^53 ms.
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// EvalTime is augur's one evaluation-time rule for recorded data, used by
// every command and transport when no time is given: the newest sample's
// time truncated to a whole minute (end itself when it is on a minute). Off
// the sample grid, Prometheus 2.x (closed range windows) and 3.x
// (left-open) agree, and the same file gives the same numbers whichever
// command reads it. A zero end stays zero.
func EvalTime(end time.Time) time.Time {
	if end.IsZero() {
		return end
	}
	return end.Truncate(time.Minute)
}
