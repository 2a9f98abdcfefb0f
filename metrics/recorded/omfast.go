package recorded

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/value"
)

// The fast path of the OpenMetrics loader.
//
// Prometheus's textparse lexes every byte of every sample line, which is most
// of a load's CPU. Recorded data repeats one series line thousands of times
// with only the value and the timestamp changing, so the loader parses a
// series' text with textparse the first time it appears in a family and, for
// every later line that is exactly that series text followed by
// " VALUE TIMESTAMP\n", reads the two numbers itself.
//
// Why the result is the same as one textparse pass over the whole input:
// lines are parsed in order, each starting where textparse's lexer is back in
// its initial state (the previous line ended with its newline). A line that
// is not on the fast path is handed to textparse alone — the text
// "# TYPE x T\n" (T the type of the latest TYPE line, the only parser state
// that carries from one line to the next: it decides how le and quantile
// label values are normalised) + the line + "# EOF\n" — and its entries go
// through the same rules as before. When textparse cannot parse the line
// alone (an error, or a quoted name that spans lines), or when the next line
// starts with a NUL byte (which textparse's lexer joins to a HELP, TYPE, UNIT
// or EOF line before it), the rest of the block is parsed by textparse in one
// piece, as the loader always did. A fast line
// starts with bytes textparse already lexed as a whole series in this family
// (under the same type, since a family's type cannot change once it has
// samples), followed by one space, a value token, one space and a timestamp
// token; the numbers are read with the same rules as textparse (its
// parseFloat, the canonical NaN, int64(seconds*1000), NaN and infinite
// timestamps refused). Anything else — an exemplar, a missing timestamp, a
// number textparse would refuse — leaves the fast path, so textparse says
// what is wrong. The differential test and FuzzFastPathMatchesTextparse check
// this against textparse itself.

// parseBlock loads the lines of text, whose first line is number base; final
// says text ends the input (its last line is then always parsed by textparse,
// which checks the "# EOF" ending). It returns the number of newlines in
// text (where the next block's first line is).
func (l *omLoader) parseBlock(text []byte, final bool, base int) (int, error) {
	line := base
	rest := func(off int) (int, error) {
		return line - base + bytes.Count(text[off:], newline), l.slowRest(text[off:], final, line)
	}
	for off := 0; off < len(text) || (final && off == 0); line++ {
		end := len(text)
		if i := bytes.IndexByte(text[off:], '\n'); i >= 0 {
			end = off + i + 1
		}
		if n := end - off; n > MaxLineBytes+1 || (n == MaxLineBytes+1 && text[end-1] != '\n') {
			return 0, &ParseError{Line: line, Err: fmt.Errorf("line is longer than %d bytes", MaxLineBytes)}
		}
		last := final && end == len(text)
		if end < len(text) && text[end] == 0 {
			// textparse's lexer skips NUL bytes after the newline of a
			// HELP, TYPE, UNIT or EOF line, joining the lines.
			return rest(off)
		}
		if !last {
			if ok, err := l.fastSample(text[off:end], line); ok || err != nil {
				off = end
				if err != nil {
					return 0, err
				}
				continue
			}
		}
		switch err := l.slowLine(text[off:end], last, line); {
		case err == nil:
		case l.lexFailed && l.entries == l.synth:
			// textparse could not take the line alone: the rest of the block
			// in one piece, with its own error if there is one.
			return rest(off)
		default:
			return 0, err
		}
		off = end
		if last {
			if end > 0 && text[end-1] == '\n' {
				line++
			}
			break
		}
	}
	return line - base, nil
}

var newline = []byte{'\n'}

// slowLine parses one line with textparse (see parseBlock).
func (l *omLoader) slowLine(lineText []byte, last bool, line int) error {
	doc := append(l.resumeLine(l.scratch[:0]), lineText...)
	skip := len(doc) - len(lineText)
	if !last {
		doc = append(doc, eofLine...)
	}
	l.scratch = doc[:0]
	l.synth = 0
	if skip > 0 {
		l.synth = 1
	}
	return l.parse(doc, skip, line)
}

// slowRest parses the rest of a block with textparse in one piece.
func (l *omLoader) slowRest(rest []byte, final bool, line int) error {
	if err := checkLineLengths(rest, line); err != nil {
		return err
	}
	doc := append(l.resumeLine(nil), rest...)
	skip := len(doc) - len(rest)
	if !final {
		doc = append(doc, eofLine...)
	}
	return l.parse(doc, skip, line)
}

// fastSample loads lineText if it is a sample of a series already seen in
// this family with a plain value and timestamp; ok is false (and nothing is
// loaded) when the line needs textparse.
func (l *omLoader) fastSample(lineText []byte, line int) (ok bool, err error) {
	n := len(lineText) - 1
	if n < 0 || lineText[n] != '\n' {
		return false, nil
	}
	sp2 := bytes.LastIndexByte(lineText[:n], ' ')
	if sp2 <= 0 {
		return false, nil
	}
	sp1 := bytes.LastIndexByte(lineText[:sp2], ' ')
	if sp1 <= 0 {
		return false, nil
	}
	series := lineText[:sp1]
	var ref int
	if l.lastOK && bytes.Equal(series, l.lastKey) {
		ref = l.lastRef
	} else {
		r, hit := l.cache[string(series)]
		if !hit {
			return false, nil
		}
		ref = r
		l.lastKey, l.lastRef, l.lastOK = append(l.lastKey[:0], series...), r, true
	}
	v, ok := parseValue(lineText[sp1+1 : sp2])
	if !ok {
		return false, nil
	}
	secs, ok := parseValue(lineText[sp2+1 : n])
	if !ok || math.IsNaN(secs) || math.IsInf(secs, 0) {
		return false, nil
	}
	ts := int64(secs * 1000)
	if ts < -maxTimestamp || ts > maxTimestamp {
		return false, nil
	}
	if math.IsNaN(v) {
		v = math.Float64frombits(value.NormalNaN)
	}
	if err := l.b.append(ref, ts, v); err != nil {
		return true, &ParseError{Line: line, Err: fmt.Errorf("series %s: %w (previous sample on line %d)", formatSeries(l.b.series[ref].lset), err, l.lastLine[ref])}
	}
	l.lastLine[ref] = line
	l.fastLines++
	return true, nil
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseValue reads a number token as textparse does (its parseFloat:
// strconv.ParseFloat without the p exponent and underscores of Go 1.13);
// ok is false where textparse would fail. Plain decimals of at most 15
// digits take a shortcut that gives the same float: the digits as an exact
// integer divided by an exact power of ten, one correctly rounded operation
// (strconv's own exact fast path).
func parseValue(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 64 {
		if len(b) == 0 {
			return 0, false
		}
		return parseValueSlow(b)
	}
	i, neg := 0, false
	switch b[0] {
	case '-':
		neg, i = true, 1
	case '+':
		i = 1
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return parseValueSlow(b)
		}
	}
	if digits == 0 || digits > 15 {
		return parseValueSlow(b)
	}
	f := float64(m)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	return f, true
}

// parseValueSlow is textparse's parseFloat.
func parseValueSlow(b []byte) (float64, bool) {
	s := string(b)
	if strings.ContainsAny(s, "pP_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}
