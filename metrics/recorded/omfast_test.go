package recorded

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// parseTextparseOnly is the loader without its fast path: one textparse pass
// over the whole text, every entry through the same family rules.
func parseTextparseOnly(data []byte) (*Store, error) {
	if err := checkLineLengths(data, 1); err != nil {
		return nil, err
	}
	l := newOMLoader()
	if err := l.parse(data, 0, 1); err != nil {
		return nil, err
	}
	return l.b.build(), nil
}

// textparseSample is one sample as Prometheus's textparse reads it.
type textparseSample struct {
	t int64
	v uint64 // bits
}

// textparseSeries reads data with textparse alone (no augur rules) and
// returns every series' samples in order, keyed by the label set without
// empty labels; series without a timestamp are an error here.
func textparseSeries(data []byte) (map[string][]textparseSample, error) {
	p := textparse.NewOpenMetricsParser(data, labels.NewSymbolTable())
	out := map[string][]textparseSample{}
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if et != textparse.EntrySeries {
			continue
		}
		_, ts, v := p.Series()
		if ts == nil {
			return nil, errors.New("no timestamp")
		}
		var lset labels.Labels
		p.Labels(&lset)
		k := lset.WithoutEmpty().String()
		out[k] = append(out[k], textparseSample{*ts, math.Float64bits(v)})
	}
}

// storeSeries is textparseSeries for a loaded store.
func storeSeries(s *Store) map[string][]textparseSample {
	out := map[string][]textparseSample{}
	for _, ser := range s.Series() {
		k := labels.FromMap(ser.Labels).String()
		for _, smp := range ser.Samples {
			out[k] = append(out[k], textparseSample{smp.T.UnixMilli(), math.Float64bits(smp.V)})
		}
	}
	return out
}

// compareWithTextparse requires the loader (whole text, and streamed one byte
// at a time in blocks of blockSize) to give exactly what the loader without
// the fast path gives — the same series and samples, or the same error text
// (line included) — and, when it accepts the text, the same samples as a
// bare textparse pass. It returns how many lines took the fast path.
func compareWithTextparse(t *testing.T, data []byte) int {
	t.Helper()
	want, wantErr := parseTextparseOnly(data)
	got, gotErr := ParseOpenMetrics(data)
	if g, w := dump(got, gotErr), dump(want, wantErr); g != w {
		t.Fatalf("with the fast path: %s\nwithout: %s\ninput:\n%q", g, w, data)
	}
	l := newOMLoader()
	n, err := l.parseBlock(data, true, 1)
	if (err == nil) != (gotErr == nil) {
		t.Fatalf("parseBlock: %v, ParseOpenMetrics: %v", err, gotErr)
	}
	if lines := bytes.Count(data, newline); err == nil && n != lines {
		t.Fatalf("parseBlock counted %d newlines, the text has %d", n, lines)
	}
	streamed, streamErr := LoadOpenMetrics(iotest.OneByteReader(bytes.NewReader(data)))
	if g, w := dump(streamed, streamErr), dump(want, wantErr); g != w {
		t.Fatalf("streamed with the fast path: %s\nwithout: %s\ninput:\n%q", g, w, data)
	}
	if gotErr != nil {
		return l.fastLines
	}
	raw, err := textparseSeries(data)
	if err != nil {
		t.Fatalf("the loader accepted text that textparse refuses (%v):\n%q", err, data)
	}
	if g := storeSeries(got); fmt.Sprint(g) != fmt.Sprint(raw) {
		t.Fatalf("loaded %v\ntextparse %v\ninput:\n%q", g, raw, data)
	}
	return l.fastLines
}

// fastPathCases exercise the fast path's edges: number spellings, exemplars,
// label normalisation that depends on the latest TYPE line, quoted names
// spanning lines, errors on repeated lines.
var fastPathCases = map[string]string{
	"numbers": "# TYPE g gauge\n" +
		"g{a=\"1\"} 1 1\ng{a=\"1\"} -0 2\ng{a=\"1\"} +.5 3\ng{a=\"1\"} 5. 4\ng{a=\"1\"} 1e3 5\ng{a=\"1\"} NaN 6\n" +
		"g{a=\"1\"} -Inf 7\ng{a=\"1\"} +inf 8\ng{a=\"1\"} 0x1p3 9\ng{a=\"1\"} 1_0 10\ng{a=\"1\"} 0x10 11\n# EOF\n",
	"more-numbers":        "g 1 1\ng 123456789012345.5 1.0005\ng 1234567890123456789 2.25\ng 0.1 3.0000000001\ng 1e400 4\ng -1e-400 5\ng 00012.3400 6\n# EOF\n",
	"timestamps":          "g 1 1.001\ng 2 1.002\ng 3 1e1\ng 4 NaN\n# EOF\n",
	"timestamp-inf":       "g 1 1\ng 2 +Inf\n# EOF\n",
	"timestamp-huge":      "g 1 1\ng 2 1e300\n# EOF\n",
	"timestamp-hex":       "g 1 1\ng 2 0x1p4\n# EOF\n",
	"out-of-order":        "g 1 2\ng 2 1\n# EOF\n",
	"exemplar":            "# TYPE c counter\nc_total 1 1\nc_total 2 2 # {t=\"x\"} 1 1\nc_total 3 3 # {t=\"x\"} 1\n# EOF\n",
	"no-timestamp":        "g 1 1\ng 2\n# EOF\n",
	"extra-token":         "g 1 1\ng 2 3 4\n# EOF\n",
	"two-spaces":          "g 1 1\ng  2 3\ng 2  3\n# EOF\n",
	"trailing-space":      "g 1 1\ng 2 3 \n# EOF\n",
	"le-after-histogram":  "# TYPE h histogram\nh_bucket{le=\"1\"} 1 1\nh_bucket{le=\"1\"} 2 2\nu{le=\"1\"} 1 1\nu{le=\"1\"} 2 2\n# TYPE s summary\ns{quantile=\"0.50\"} 1 1\ns{quantile=\"0.50\"} 1 2\n# EOF\n",
	"quoted-multiline":    "{\"a\nb\",x=\"1\"} 1 1\n{\"a\nb\",x=\"1\"} 2 2\n# EOF\n",
	"quoted-label-name":   "{\"my.metric\",\"my.label\"=\"v\"} 1 1\n{\"my.metric\",\"my.label\"=\"v\"} 2 2\n# EOF\n",
	"space-in-value":      "g{a=\"x 1\"} 1 1\ng{a=\"x 1\"} 2 2\ng{a=\"x\"} 1 1\n# EOF\n",
	"family-again":        "a 1 1\nb 1 1\na 2 2\n# EOF\n",
	"eof-in-middle":       "g 1 1\n# EOF\ng 2 2\n# EOF\n",
	"eof-without-newline": "g 1 1\ng 2 2\n# EOF",
	"no-eof":              "g 1 1\ng 2 2\n",
	"no-eof-no-newline":   "g 1 1\ng 2 2",
	"empty":               "",
	"blank-line":          "g 1 1\n\ng 2 2\n# EOF\n",
	"nul":                 "g 1 1\ng 2\x00 2\n# EOF\n",
	"cr":                  "g 1 1\ng 2 2\r\n# EOF\n",
	"comment":             "g 1 1\n# hello\ng 2 2\n# EOF\n",
	"help-after":          "g 1 1\n# HELP g x\ng 2 2\n# EOF\n",
	"counter-created":     "# TYPE c counter\nc_total 1 1\nc_created 1 1\nc_total 2 2\nc_created 1 2\n# EOF\n",
	"duplicate-label":     "g{a=\"1\",a=\"2\"} 1 1\ng{a=\"1\",a=\"2\"} 2 2\n# EOF\n",
	"empty-label":         "g{a=\"\"} 1 1\ng{a=\"\"} 2 2\ng 3 3\n# EOF\n",
	"trailing-comma":      "g{a=\"1\",} 1 1\ng{a=\"1\",} 2 2\ng{a=\"1\"} 3 3\n# EOF\n",
}

// TestFastPathMatchesTextparse is the differential test of the fast path
// against Prometheus's textparse: the corpus of testdata/openmetrics, the
// cases above and every committed dataset.
func TestFastPathMatchesTextparse(t *testing.T) {
	for _, c := range loadCases(t, "openmetrics") {
		t.Run(c.name(), func(t *testing.T) { compareWithTextparse(t, c.section(t, "input.om")) })
	}
	for name, in := range fastPathCases {
		t.Run(name, func(t *testing.T) { compareWithTextparse(t, []byte(in)) })
	}
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "*", "*.om"))
	if err != nil || len(paths) < 3 {
		t.Fatal(paths, err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fast := compareWithTextparse(t, data)
			// Not vacuous: nearly every line of a recording is a repeat.
			if lines := bytes.Count(data, []byte{'\n'}); fast < lines*9/10 {
				t.Errorf("only %d of %d lines took the fast path", fast, lines)
			}
		})
	}
}

// TestFastPathErrorsNameLines checks that errors found on fast lines name
// the file and line.
func TestFastPathErrorsNameLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.om")
	text := "# TYPE g gauge\ng{a=\"1\"} 1 10\ng{a=\"1\"} 2 20\ng{a=\"1\"} 3 15\n# EOF\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOpenMetricsFile(path)
	want := path + ": line 4: series g{a=\"1\"}: timestamp 15 (1970-01-01T00:00:15Z) is not after the previous sample's 20 (1970-01-01T00:00:20Z)"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "(previous sample on line 3)") {
		t.Fatalf("error %v, want it to start with %q", err, want)
	}
}

// FuzzFastPathMatchesTextparse feeds the same text to the loader with its
// fast path, to the loader without it, and to textparse alone: the same
// series and samples, or the same error.
func FuzzFastPathMatchesTextparse(f *testing.F) {
	for _, c := range loadCases(f, "openmetrics") {
		f.Add(c.section(f, "input.om"))
	}
	for _, in := range fastPathCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithTextparse(t, data)
	})
}
