package recorded

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// checkStore asserts the invariants every loaded store has.
func checkStore(t *testing.T, s *Store) {
	t.Helper()
	n := 0
	for _, ser := range s.Series() {
		if len(ser.Samples) == 0 {
			t.Fatalf("series %v has no samples", ser.Labels)
		}
		for i := 1; i < len(ser.Samples); i++ {
			if !ser.Samples[i].T.After(ser.Samples[i-1].T) {
				t.Fatalf("series %v: sample %d at %s is not after %s", ser.Labels, i, ser.Samples[i].T, ser.Samples[i-1].T)
			}
		}
		for _, smp := range ser.Samples {
			if smp.T.Before(s.Start()) || smp.T.After(s.End()) {
				t.Fatalf("series %v: sample at %s outside [%s, %s]", ser.Labels, smp.T, s.Start(), s.End())
			}
		}
		n += len(ser.Samples)
	}
	if n != s.SampleCount() {
		t.Fatalf("SampleCount = %d, but the series hold %d samples", s.SampleCount(), n)
	}
}

func FuzzLoadOpenMetrics(f *testing.F) {
	for _, c := range loadCases(f, "openmetrics") {
		for _, file := range c.ar.Files {
			if file.Name == "input.om" {
				f.Add(file.Data)
			}
		}
	}
	f.Add([]byte("# TYPE a counter\na_total{x=\"1\"} 1 1\na_total{x=\"1\"} 2 2\n# EOF\n"))
	f.Add([]byte("# TYPE \"quoted.name\" gauge\n{\"quoted.name\",a=\"b\"} 1 1\n# EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseOpenMetrics(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if lines := bytes.Count(data, []byte{'\n'}) + 1; pe.Line < 1 || pe.Line > lines {
				t.Fatalf("error line %d outside 1..%d: %v", pe.Line, lines, err)
			}
			return
		}
		checkStore(t, s)
		// Whatever the writer accepts must read back as the same samples.
		var buf bytes.Buffer
		if err := WriteOpenMetrics(&buf, s.Series()); err != nil {
			return
		}
		back, err := ParseOpenMetrics(buf.Bytes())
		if err != nil {
			t.Fatalf("reading back the written text: %v\n%s", err, buf.Bytes())
		}
		if diff := cmp.Diff(s.Series(), back.Series(), sameSeries); diff != "" {
			t.Fatalf("round trip (-loaded +reloaded):\n%s", diff)
		}
	})
}

func FuzzSeriesNotation(f *testing.F) {
	seeds := []struct{ series, values string }{
		{`up{job="a"}`, `0+10x30 _ stale 5 1-2x3`},
		{`x`, `_x3 1x2 -1.5 +2 1e3 Inf -Inf NaN`},
		{`a{b="c", d="e"}`, `1 2 3`},
		{`{}`, `1`},
		{`up`, `0+1x99999999999`},
		{`h`, `{{schema:0 sum:1 count:1}}x2`},
		{`up{`, `1`},
		{`up`, `1 x 2`},
	}
	for _, s := range seeds {
		f.Add(s.series, s.values)
	}
	start := time.Date(2026, 11, 1, 10, 0, 7, 500_000_000, time.UTC)
	const interval = 15 * time.Second
	f.Fuzz(func(t *testing.T, series, values string) {
		s, err := LoadSeries([]SeriesInput{{Series: series, Values: values}}, start, interval)
		if err != nil {
			return
		}
		checkStore(t, s)
		if s.SeriesCount() > 1 || s.SampleCount() > MaxNotationSamples {
			t.Fatalf("%d series, %d samples from one input", s.SeriesCount(), s.SampleCount())
		}
		for _, ser := range s.Series() {
			for _, smp := range ser.Samples {
				if d := smp.T.Sub(start); d < 0 || d%interval != 0 {
					t.Fatalf("sample at %s is not on the %s grid from %s", smp.T, interval, start)
				}
				if IsStale(smp.V) && !strings.Contains(values, "stale") {
					t.Fatalf("staleness marker without stale in %q", values)
				}
			}
		}
	})
}
