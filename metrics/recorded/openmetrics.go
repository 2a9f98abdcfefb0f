package recorded

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// ParseError is a problem at one line of recorded data.
type ParseError struct {
	// Line is the 1-based line number.
	Line int
	// Err says what is wrong.
	Err error
}

// Error renders "line N: what is wrong".
func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// LoadOpenMetricsFile reads an OpenMetrics text file; errors name the file.
func LoadOpenMetricsFile(path string) (*Store, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("recorded data: %w", err)
	}
	s, err := ParseOpenMetrics(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// LoadOpenMetrics reads OpenMetrics text from r; see ParseOpenMetrics.
func LoadOpenMetrics(r io.Reader) (*Store, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading OpenMetrics text: %w", err)
	}
	return ParseOpenMetrics(data)
}

// ParseOpenMetrics loads OpenMetrics text as promtool's
// `tsdb create-blocks-from openmetrics` reads it: every sample carries a
// timestamp in seconds (fractions allowed), the text ends with "# EOF", and
// per series the timestamps strictly increase. A family's metadata and
// samples are contiguous, and sample names fit the declared type (a counter x
// has samples x_total and x_created; a histogram x has x_bucket with an le
// label, x_sum, x_count and x_created). Labels with empty values are dropped.
// Errors are *ParseError values naming the line.
func ParseOpenMetrics(data []byte) (s *Store, err error) {
	if err := checkLineLengths(data); err != nil {
		return nil, err
	}
	defer func() {
		// The parser and the labels package panic on some inputs (a label
		// value of 16 MiB or more); that is bad input, never a crash.
		if r := recover(); r != nil {
			s, err = nil, &ParseError{Line: 0, Err: fmt.Errorf("the OpenMetrics parser failed: %v", r)}
		}
	}()
	l := &omLoader{
		data:  data,
		b:     newBuilder(),
		seen:  map[string]int{},
		cache: map[string]int{},
	}
	return l.run()
}

// omFamily is the metric family the parser is in.
type omFamily struct {
	name       string
	typ        model.MetricType
	typed      bool // a TYPE line was seen
	hasSamples bool
}

type omLoader struct {
	data []byte
	b    *builder

	cur   omFamily
	seen  map[string]int // family name → byte offset where it started
	cache map[string]int // series text → series ref, for the current family

	lastOff []int // per series ref: byte offset of its newest sample's line

	// The text the parser returned for the latest entry (a metric name or a
	// series) starts at prevOff and is prevLen bytes long; hasPrev is false
	// before the first entry.
	prevOff, prevLen int
	hasPrev          bool
}

// lineOf returns the 1-based line number of byte offset o. It is only needed
// for error messages, so it counts from the start.
func (l *omLoader) lineOf(o int) int {
	return 1 + bytes.Count(l.data[:o], []byte{'\n'})
}

// entry records that the current entry's text is sub, a subslice of the
// input, and returns its byte offset.
func (l *omLoader) entry(sub []byte) int {
	l.prevOff, l.prevLen, l.hasPrev = cap(l.data)-cap(sub), len(sub), true
	return l.prevOff
}

// nextLine is the line where the entry after the latest one starts: where a
// parse error is.
func (l *omLoader) nextLine() int {
	if !l.hasPrev {
		return 1
	}
	end := l.prevOff + l.prevLen
	if nl := bytes.IndexByte(l.data[end:], '\n'); nl >= 0 {
		return l.lineOf(end + nl + 1)
	}
	return l.lineOf(len(l.data))
}

func (l *omLoader) fail(off int, format string, args ...any) error {
	return &ParseError{Line: l.lineOf(off), Err: fmt.Errorf(format, args...)}
}

func (l *omLoader) run() (*Store, error) {
	p := textparse.NewOpenMetricsParser(l.data, labels.NewSymbolTable())
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			return l.b.build(), nil
		}
		if err != nil {
			return nil, &ParseError{Line: l.nextLine(), Err: err}
		}
		switch et {
		case textparse.EntryType:
			name, typ := p.Type()
			if err := l.metadata(name, "TYPE", typ); err != nil {
				return nil, err
			}
		case textparse.EntryHelp:
			name, _ := p.Help()
			if err := l.metadata(name, "HELP", ""); err != nil {
				return nil, err
			}
		case textparse.EntryUnit:
			name, _ := p.Unit()
			if err := l.metadata(name, "UNIT", ""); err != nil {
				return nil, err
			}
		case textparse.EntrySeries:
			if err := l.sample(p); err != nil {
				return nil, err
			}
		default:
			return nil, &ParseError{Line: l.nextLine(), Err: fmt.Errorf("unsupported entry type %d", et)}
		}
	}
}

// metadata handles a HELP, TYPE or UNIT line for family name.
func (l *omLoader) metadata(nameb []byte, kind string, typ model.MetricType) error {
	off := l.entry(nameb)
	name := string(nameb)
	if name != l.cur.name {
		if err := l.startFamily(name, off); err != nil {
			return err
		}
	}
	if kind != "TYPE" {
		return nil
	}
	switch {
	case l.cur.typed:
		return l.fail(off, "second TYPE line for metric family %q", name)
	case l.cur.hasSamples:
		return l.fail(off, "TYPE line for metric family %q comes after its samples", name)
	}
	l.cur.typ, l.cur.typed = typ, true
	return nil
}

// startFamily begins family name at byte offset off; the family must not
// have appeared before.
func (l *omLoader) startFamily(name string, off int) error {
	if first, ok := l.seen[name]; ok {
		return l.fail(off, "metric family %q appears again (first on line %d); a family's lines must be contiguous", name, l.lineOf(first))
	}
	l.seen[name] = off
	l.cur = omFamily{name: name, typ: model.MetricTypeUnknown}
	clear(l.cache)
	return nil
}

// sample handles one sample line.
func (l *omLoader) sample(p textparse.Parser) error {
	series, ts, v := p.Series()
	off := l.entry(series)
	ref, ok := l.cache[string(series)]
	if !ok {
		var err error
		if ref, err = l.newSeries(p, off); err != nil {
			return err
		}
		l.cache[string(series)] = ref
	}
	l.cur.hasSamples = true
	if ts == nil {
		return l.fail(off, "sample %s has no timestamp; recorded data needs one on every sample", formatSeries(l.b.series[ref].lset))
	}
	if err := l.checkTimestamp(off + len(series)); err != nil {
		return l.fail(off, "sample %s: %w", formatSeries(l.b.series[ref].lset), err)
	}
	if err := l.b.append(ref, *ts, v); err != nil {
		return l.fail(off, "series %s: %w (previous sample on line %d)", formatSeries(l.b.series[ref].lset), err, l.lineOf(l.lastOff[ref]))
	}
	l.lastOff[ref] = off
	return nil
}

// newSeries validates the labels of a series seen for the first time in this
// family and returns its ref.
func (l *omLoader) newSeries(p textparse.Parser, off int) (int, error) {
	var lset labels.Labels
	p.Labels(&lset)
	lset = lset.WithoutEmpty()
	if err := checkLabels(lset); err != nil {
		return 0, l.fail(off, "series %s: %w", formatSeries(lset), err)
	}
	name := lset.Get(labels.MetricName)
	switch fam := familyOf(name, l.cur); {
	case fam == "":
		return 0, l.fail(off, "sample %s does not fit %s family %q (want %s)", name, l.cur.typ, l.cur.name, wantNames(l.cur))
	case fam != l.cur.name:
		// A sample without metadata starts an untyped family of its own.
		if err := l.startFamily(fam, off); err != nil {
			return 0, err
		}
	}
	if isHistogram(l.cur.typ) && name == l.cur.name+"_bucket" {
		le := lset.Get(model.BucketLabel)
		if le == "" {
			return 0, l.fail(off, "histogram bucket %s has no le label", formatSeries(lset))
		}
		if _, err := strconv.ParseFloat(le, 64); err != nil {
			return 0, l.fail(off, "histogram bucket %s: le=%q is not a number", formatSeries(lset), le)
		}
	}
	ref, isNew := l.b.ref(lset)
	if isNew {
		l.lastOff = append(l.lastOff, 0)
	}
	return ref, nil
}

// suffixes lists the sample-name suffixes each metric type allows.
var suffixes = map[model.MetricType][]string{
	model.MetricTypeCounter:        {"_total", "_created"},
	model.MetricTypeHistogram:      {"_bucket", "_sum", "_count", "_created"},
	model.MetricTypeGaugeHistogram: {"_bucket", "_gsum", "_gcount"},
	model.MetricTypeSummary:        {"", "_sum", "_count", "_created"},
	model.MetricTypeInfo:           {"_info"},
	model.MetricTypeGauge:          {""},
	model.MetricTypeStateset:       {""},
	model.MetricTypeUnknown:        {""},
}

func isHistogram(t model.MetricType) bool {
	return t == model.MetricTypeHistogram || t == model.MetricTypeGaugeHistogram
}

// familyOf decides which family a sample named name belongs to while the
// parser is in family cur: cur's name if the sample fits it, "" if it carries
// cur's own name but cur's type wants a suffix (a counter x needs x_total),
// or the sample's own name otherwise (a new family without metadata, which
// OpenMetrics allows).
func familyOf(name string, cur omFamily) string {
	if cur.name == "" {
		return name
	}
	for _, suf := range suffixes[cur.typ] {
		if name == cur.name+suf {
			return cur.name
		}
	}
	if name == cur.name {
		return ""
	}
	return name
}

func wantNames(cur omFamily) string {
	names := make([]string, 0, 4)
	for _, suf := range suffixes[cur.typ] {
		names = append(names, cur.name+suf)
	}
	return strings.Join(names, ", ")
}

// MaxLineBytes bounds one line of OpenMetrics text (1 MiB): a label value
// of 16 MiB or more used to crash the loader (and the Argo plugin with it).
const MaxLineBytes = 1 << 20

// checkLineLengths refuses a line over MaxLineBytes, naming it.
func checkLineLengths(data []byte) error {
	line, start := 1, 0
	for start < len(data) {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data) - start
		}
		if end > MaxLineBytes {
			return &ParseError{Line: line, Err: fmt.Errorf("line of %d bytes is longer than %d", end, MaxLineBytes)}
		}
		start += end + 1
		line++
	}
	return nil
}

// checkTimestamp reads the timestamp after the value of the sample line
// whose series text ends at byte offset end, and refuses one whose
// milliseconds do not fit an int64 (the parser wraps them around silently).
func (l *omLoader) checkTimestamp(end int) error {
	rest := l.data[end:]
	if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	if h := bytes.IndexByte(rest, '#'); h >= 0 {
		rest = rest[:h] // an exemplar
	}
	fields := bytes.Fields(rest)
	if len(fields) < 2 {
		return nil
	}
	f, err := strconv.ParseFloat(string(fields[1]), 64)
	if err != nil {
		return nil // the parser has judged it already
	}
	if math.IsNaN(f) || math.Abs(f*1000) >= math.MaxInt64 {
		return fmt.Errorf("timestamp %s is out of range (seconds since 1970 whose milliseconds fit 64 bits)", fields[1])
	}
	return nil
}
