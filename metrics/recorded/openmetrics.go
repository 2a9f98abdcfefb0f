package recorded

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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

// LoadOpenMetricsFile reads an OpenMetrics text file, gzip-compressed when
// it starts with gzip's magic bytes (a .om.gz file); errors name the file.
// The file is read as a stream (see LoadOpenMetrics).
func LoadOpenMetricsFile(path string) (*Store, error) {
	return LoadOpenMetricsFileWith(path, LoadOptions{})
}

// LoadOptions tune how a file is loaded.
type LoadOptions struct {
	// Progress, when set, is called now and then with the bytes read from
	// the file so far and the file's size (compressed bytes for gzip).
	Progress func(read, size int64)
}

// LoadOpenMetricsFileWith is LoadOpenMetricsFile with options.
func LoadOpenMetricsFileWith(path string, opts LoadOptions) (*Store, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recorded data: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if opts.Progress != nil {
		var size int64
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		r = &progressReader{r: f, size: size, report: opts.Progress}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", path, err)
		}
		defer zr.Close()
		s, err := LoadOpenMetrics(zr)
		if err != nil {
			return nil, fmt.Errorf("%s (gzip): %w", path, err)
		}
		return s, nil
	}
	s, err := LoadOpenMetrics(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// progressReader reports the bytes read at most every progressEvery bytes.
type progressReader struct {
	r            io.Reader
	read, size   int64
	lastReported int64
	report       func(read, size int64)
}

const progressEvery = 8 << 20

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if p.read-p.lastReported >= progressEvery || (err != nil && p.read != p.lastReported) {
		p.lastReported = p.read
		p.report(p.read, p.size)
	}
	return n, err
}

// Streaming limits: text is parsed in blocks of about blockSize bytes cut at
// line ends; one line may not exceed MaxLineBytes.
var blockSize = 4 << 20 // a variable for tests

const (
	// MaxLineBytes bounds one line of OpenMetrics text (16 MiB label values
	// and the like are refused with an error naming the line).
	MaxLineBytes = 1 << 20
)

// LoadOpenMetrics reads OpenMetrics text from r as a stream: it never holds
// more than a few MiB of text, so memory is that of the loaded Store plus a
// constant. See ParseOpenMetrics for the rules.
func LoadOpenMetrics(r io.Reader) (*Store, error) {
	l := newOMLoader()
	buf := make([]byte, 0, blockSize+MaxLineBytes+256)
	var carry []byte // start of a line not yet complete
	line := 1        // line number of the first line in carry / the next block
	for eof := false; !eof; {
		// Block = carry + fresh text up to the last newline once at least
		// blockSize bytes of text are in.
		buf = append(buf[:0], carry...)
		lastNL := bytes.LastIndexByte(buf, '\n')
		// Read at least once: the carry alone may be a held-back "# EOF".
		for fresh := false; !eof && (!fresh || len(buf) < blockSize || lastNL < 0); fresh = true {
			if lastNL < 0 && len(buf) > MaxLineBytes {
				return nil, &ParseError{Line: line, Err: fmt.Errorf("line is longer than %d bytes", MaxLineBytes)}
			}
			if len(buf) == cap(buf) {
				buf = slices.Grow(buf, blockSize)
			}
			from := len(buf)
			n, err := r.Read(buf[from:min(cap(buf), from+blockSize)])
			buf = buf[:from+n]
			if i := bytes.LastIndexByte(buf[from:], '\n'); i >= 0 {
				lastNL = from + i
			}
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				return nil, fmt.Errorf("reading OpenMetrics text: %w", err)
			}
		}
		end := len(buf)
		if !eof {
			end = lastNL + 1
			// A final "# EOF" waits for the next block: only the end of the
			// input tells whether data follows it.
			if bytes.HasSuffix(buf[:end], eofLine) && (end == len(eofLine) || buf[end-len(eofLine)-1] == '\n') {
				end -= len(eofLine)
			}
		}
		carry = append(carry[:0], buf[end:]...)
		n, err := l.parseBlock(buf[:end], eof, line)
		if err != nil {
			return nil, err
		}
		line += n
	}
	return l.b.build(), nil
}

// ParseOpenMetrics loads OpenMetrics text as promtool's
// `tsdb create-blocks-from openmetrics` reads it: every sample carries a
// timestamp in seconds (fractions allowed), the text ends with "# EOF", and
// per series the timestamps strictly increase. A family's metadata and
// samples are contiguous, and sample names fit the declared type (a counter x
// has samples x_total and x_created; a histogram x has x_bucket with an le
// label, x_sum, x_count and x_created). Labels with empty values are dropped.
// Errors are *ParseError values naming the line.
func ParseOpenMetrics(data []byte) (*Store, error) {
	l := newOMLoader()
	if _, err := l.parseBlock(data, true, 1); err != nil {
		return nil, err
	}
	return l.b.build(), nil
}

var eofLine = []byte("# EOF\n")

// checkLineLengths fails on the first line of text (whose first line is
// number first) longer than MaxLineBytes.
func checkLineLengths(text []byte, first int) error {
	for n := first; len(text) > MaxLineBytes; n++ {
		i := bytes.IndexByte(text, '\n')
		if i < 0 || i > MaxLineBytes {
			return &ParseError{Line: n, Err: fmt.Errorf("line is longer than %d bytes", MaxLineBytes)}
		}
		text = text[i+1:]
	}
	return nil
}

func newOMLoader() *omLoader {
	return &omLoader{
		b:       newBuilder(),
		seen:    map[string]int{},
		cache:   map[string]int{},
		symbols: labels.NewSymbolTable(),
	}
}

// omFamily is the metric family the parser is in.
type omFamily struct {
	name       string
	typ        model.MetricType
	typed      bool // a TYPE line was seen
	hasSamples bool
}

type omLoader struct {
	b       *builder
	symbols *labels.SymbolTable

	cur   omFamily
	seen  map[string]int // family name → line where it started
	cache map[string]int // series text → series ref, for the current family

	lastLine []int // per series ref: line of its newest sample

	// The fast path (omfast.go): the series text of the latest fast line
	// and its ref (lastOK false when unset), textparse's current metric
	// type (that of the latest TYPE line, in any family), whether the
	// latest error came from textparse's lexer, and a buffer for one line.
	lastKey   []byte
	lastRef   int
	lastOK    bool
	pmtype    model.MetricType
	lexFailed bool
	entries   int // entries parse has seen, the synthetic one included
	synth     int // synthetic entries in the latest slowLine document
	fastLines int // lines loaded by the fast path
	scratch   []byte

	// The block being parsed: data, whose first skip bytes are a synthetic
	// TYPE line repeating the current family's type, and whose byte skip is
	// the start of line base. curOff/curLine is a cursor for counting lines
	// forward.
	data            []byte
	skip, base      int
	curOff, curLine int

	// The text the parser returned for the latest entry (a metric name or a
	// series) starts at prevOff and is prevLen bytes long; hasPrev is false
	// before the first entry of the block.
	prevOff, prevLen int
	hasPrev          bool
}

// resumeLine appends to dst the synthetic TYPE line that gives a new
// textparse parser the type of the latest TYPE line (the only parser state
// that carries from one line to the next: it decides how le and quantile
// label values are normalised), if there was one.
func (l *omLoader) resumeLine(dst []byte) []byte {
	if l.pmtype == "" {
		return dst
	}
	dst = append(dst, "# TYPE x "...)
	dst = append(dst, l.pmtype...)
	return append(dst, '\n')
}

// lineOf returns the 1-based line number of byte offset o of the block.
func (l *omLoader) lineOf(o int) int {
	if o < l.skip {
		return l.base
	}
	if o < l.curOff {
		return l.base + bytes.Count(l.data[l.skip:o], []byte{'\n'})
	}
	l.curLine += bytes.Count(l.data[l.curOff:o], []byte{'\n'})
	l.curOff = o
	return l.curLine
}

// entry records that the current entry's text is sub, a subslice of the
// block, and returns its byte offset.
func (l *omLoader) entry(sub []byte) int {
	l.prevOff, l.prevLen, l.hasPrev = cap(l.data)-cap(sub), len(sub), true
	return l.prevOff
}

// nextLine is the line where the entry after the latest one starts: where a
// parse error is.
func (l *omLoader) nextLine() int {
	if !l.hasPrev {
		return l.base
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

// parse loads one block whose first skip bytes are a synthetic TYPE line and
// whose real text starts at line base; a block that is not the last ends in
// a synthetic "# EOF" line (so a real "# EOF" before the end of the text is
// "unexpected data after # EOF").
func (l *omLoader) parse(data []byte, skip, base int) error {
	l.data, l.skip, l.base = data, skip, base
	l.curOff, l.curLine = skip, base
	l.hasPrev = false
	l.lexFailed, l.entries = false, 0
	p := textparse.NewOpenMetricsParser(data, l.symbols)
	synthetic := skip > 0
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			l.lexFailed = true
			return &ParseError{Line: l.nextLine(), Err: err}
		}
		l.entries++
		if synthetic {
			// The repeated TYPE line of the family the previous block ended in.
			synthetic = false
			if et == textparse.EntryType {
				continue
			}
		}
		switch et {
		case textparse.EntryType:
			name, typ := p.Type()
			l.pmtype = typ
			if err := l.metadata(name, "TYPE", typ); err != nil {
				return err
			}
		case textparse.EntryHelp:
			name, _ := p.Help()
			if err := l.metadata(name, "HELP", ""); err != nil {
				return err
			}
		case textparse.EntryUnit:
			name, _ := p.Unit()
			if err := l.metadata(name, "UNIT", ""); err != nil {
				return err
			}
		case textparse.EntrySeries:
			if err := l.sample(p); err != nil {
				return err
			}
		default:
			return &ParseError{Line: l.nextLine(), Err: fmt.Errorf("unsupported entry type %d", et)}
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
		return l.fail(off, "metric family %q appears again (first on line %d); a family's lines must be contiguous", name, first)
	}
	l.seen[name] = l.lineOf(off)
	l.cur = omFamily{name: name, typ: model.MetricTypeUnknown}
	clear(l.cache)
	l.lastOK = false
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
	if *ts < -maxTimestamp || *ts > maxTimestamp {
		return l.fail(off, "sample %s: timestamp out of range (more than 2^53 ms from 1970)", formatSeries(l.b.series[ref].lset))
	}
	line := l.lineOf(off)
	if err := l.b.append(ref, *ts, v); err != nil {
		return &ParseError{Line: line, Err: fmt.Errorf("series %s: %w (previous sample on line %d)", formatSeries(l.b.series[ref].lset), err, l.lastLine[ref])}
	}
	l.lastLine[ref] = line
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
		l.lastLine = append(l.lastLine, 0)
	}
	return ref, nil
}

// maxTimestamp bounds sample timestamps (±2^53 ms, about ±285,000 years):
// Prometheus's parser turns larger seconds into wrapped-around integers.
const maxTimestamp = 1 << 53

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
