package recorded

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/metrics"
)

func writeSeries() []metrics.Series {
	at := func(s float64) time.Time { return sec(1793527207.5 + s) }
	return []metrics.Series{
		{Labels: map[string]string{"__name__": "up", "job": "b"}, Samples: []metrics.Sample{{T: at(0), V: 0}, {T: at(15), V: 1}}},
		{Labels: map[string]string{"__name__": "http_requests_total", "path": "a\\b\"c\nd", "code": "200", "empty": ""}, Samples: []metrics.Sample{
			{T: at(0), V: 1e21}, {T: at(0.001), V: math.Inf(1)}, {T: at(0.123), V: math.NaN()}, {T: at(1), V: -0.25},
		}},
		{Labels: map[string]string{"__name__": "up", "job": "a"}, Samples: []metrics.Sample{{T: at(0), V: 1}}},
		{Labels: map[string]string{"__name__": "no_samples"}},
	}
}

// TestWriteOpenMetricsGolden pins the writer's exact output
// (testdata/write.om; -update rewrites it).
func TestWriteOpenMetricsGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteOpenMetrics(&buf, writeSeries()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "write.om")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("WriteOpenMetrics (-want +got):\n%s", diff)
	}
}

// TestWriteOpenMetricsRoundTrip writes series, loads them back and expects
// the same samples.
func TestWriteOpenMetricsRoundTrip(t *testing.T) {
	notation := mustLoad(t, sec(1793527207.5), 15*time.Second,
		SeriesInput{Series: `istio_requests_total{response_code="200"}`, Values: `0+113x127`},
		SeriesInput{Series: `istio_requests_total{response_code="404"}`, Values: `0 _ 1 _x3 7 -1.5e-7 0.1+0.1x9`},
		SeriesInput{Series: `latency_bucket{le="+Inf"}`, Values: `1 Inf -Inf NaN`},
	)
	podinfo, err := LoadOpenMetricsFile(filepath.Join("..", "..", "testdata", "podinfo", "healthy.om"))
	if err != nil {
		t.Fatal(err)
	}
	withoutEmpty := writeSeries()
	delete(withoutEmpty[1].Labels, "empty")
	tests := []struct {
		name string
		in   []metrics.Series
	}{
		{"series notation", notation.Series()},
		{"podinfo healthy dataset", podinfo.Series()},
		{"odd values and times", withoutEmpty[:3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteOpenMetrics(&buf, tt.in); err != nil {
				t.Fatal(err)
			}
			back, err := ParseOpenMetrics(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			want, err := FromSeries(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.Series(), back.Series(), sameSeries); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after < len(p) {
		return 0, errors.New("disk full")
	}
	w.after -= len(p)
	return len(p), nil
}

func TestWriteOpenMetricsErrors(t *testing.T) {
	ok := []metrics.Sample{{T: sec(1), V: 1}}
	tests := []struct {
		name    string
		w       *failingWriter
		in      []metrics.Series
		wantErr string
	}{
		{name: "no name", in: []metrics.Series{{Labels: map[string]string{"job": "a"}, Samples: ok}}, wantErr: `writing OpenMetrics: series 0 {job="a"}: no __name__ label`},
		{name: "bad metric name", in: []metrics.Series{{Labels: map[string]string{"__name__": "a-b"}, Samples: ok}}, wantErr: `writing OpenMetrics: series 0 a-b: metric name "a-b" is not a classic Prometheus name`},
		{name: "bad label name", in: []metrics.Series{{Labels: map[string]string{"__name__": "a", "b:c": "x"}, Samples: ok}}, wantErr: `writing OpenMetrics: series 0 a{b:c="x"}: label name "b:c" is not a classic Prometheus name`},
		{name: "bad utf8", in: []metrics.Series{{Labels: map[string]string{"__name__": "a", "b": "\xff"}, Samples: ok}}, wantErr: `writing OpenMetrics: series 0 a{b="\xff"}: label b has a value that is not valid UTF-8`},
		{
			name: "stale marker", in: []metrics.Series{{Labels: map[string]string{"__name__": "a"}, Samples: []metrics.Sample{{T: sec(1), V: math.Float64frombits(0x7ff0000000000002)}}}},
			wantErr: `writing OpenMetrics: series 0 a: sample 0 at 1 (1970-01-01T00:00:01Z) is a staleness marker, which OpenMetrics cannot express`,
		},
		{
			name: "out of order", in: []metrics.Series{{Labels: map[string]string{"__name__": "a"}, Samples: []metrics.Sample{{T: sec(2), V: 1}, {T: sec(2.0004), V: 1}}}},
			wantErr: `writing OpenMetrics: series 0 a: sample 1: timestamp 2 (1970-01-01T00:00:02Z) is not after the previous sample's 2 (1970-01-01T00:00:02Z): timestamps must be strictly increasing per series`,
		},
		{
			name: "same labels twice", in: []metrics.Series{{Labels: map[string]string{"__name__": "a", "x": ""}, Samples: ok}, {Labels: map[string]string{"__name__": "a"}, Samples: ok}},
			wantErr: `writing OpenMetrics: series 0 and 1 have the same labels a`,
		},
		{name: "write error", w: &failingWriter{after: 0}, in: []metrics.Series{{Labels: map[string]string{"__name__": "a"}, Samples: ok}}, wantErr: "writing OpenMetrics: disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w interface{ Write([]byte) (int, error) } = &bytes.Buffer{}
			if tt.w != nil {
				w = tt.w
			}
			err := WriteOpenMetrics(w, tt.in)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error:\n got %v\nwant %s", err, tt.wantErr)
			}
		})
	}
}

func TestFromSeries(t *testing.T) {
	tests := []struct {
		name    string
		in      []metrics.Series
		want    string // dump of the store
		wantErr string
	}{
		{
			name: "empty labels dropped, empty series skipped",
			in: []metrics.Series{
				{Labels: map[string]string{"__name__": "b", "x": ""}, Samples: []metrics.Sample{{T: sec(1), V: 2}}},
				{Labels: map[string]string{"__name__": "a"}, Samples: []metrics.Sample{{T: sec(0.5), V: 1}, {T: sec(3), V: 3}}},
				{Labels: map[string]string{"__name__": "c"}},
			},
			want: "series 2, samples 3, start 1970-01-01T00:00:00.5Z, end 1970-01-01T00:00:03Z\n" +
				"{__name__=\"a\"}\n  1970-01-01T00:00:00.5Z 1\n  1970-01-01T00:00:03Z 3\n" +
				"{__name__=\"b\"}\n  1970-01-01T00:00:01Z 2\n",
		},
		{
			name:    "duplicate label set",
			in:      []metrics.Series{{Labels: map[string]string{"__name__": "a"}}, {Labels: map[string]string{"__name__": "a", "x": ""}}},
			wantErr: "series 1 a: label set given twice",
		},
		{
			name:    "out of order",
			in:      []metrics.Series{{Labels: map[string]string{"__name__": "a"}, Samples: []metrics.Sample{{T: sec(2), V: 1}, {T: sec(1), V: 1}}}},
			wantErr: "series 0 a: sample 1: timestamp 1 (1970-01-01T00:00:01Z) is not after the previous sample's 2 (1970-01-01T00:00:02Z): timestamps must be strictly increasing per series",
		},
		{
			name:    "no labels",
			in:      []metrics.Series{{Labels: map[string]string{"x": ""}}},
			wantErr: "series 0 {}: series has no labels",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := FromSeries(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error:\n got %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if got := dump(s, err); got != tt.want {
				t.Errorf("FromSeries:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestFormatSeconds(t *testing.T) {
	for _, ms := range []int64{0, 1, 999, 1001, 1005, 4001, 1793527207123, 1793527207500, -1, -1001, -1793527207123, 1 << 52} {
		s := formatSeconds(ms)
		if strings.ContainsAny(s, "eE") {
			t.Errorf("formatSeconds(%d) = %q uses an exponent", ms, s)
		}
		back, err := ParseOpenMetrics([]byte("x 1 " + s + "\n# EOF\n"))
		if err != nil {
			t.Fatalf("formatSeconds(%d) = %q does not parse: %v", ms, s, err)
		}
		if got := back.Start().UnixMilli(); got != ms {
			t.Errorf("formatSeconds(%d) = %q reads back as %d", ms, s, got)
		}
	}
}
