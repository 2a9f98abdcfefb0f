package recorded

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// notationInput is the input.yaml section of a testdata/notation case: the
// parts of a promtool unit-test file that describe input series.
type notationInput struct {
	Start       time.Time     `yaml:"start"`
	Interval    string        `yaml:"interval"`
	InputSeries []SeriesInput `yaml:"input_series"`
}

// TestLoadSeries runs the corpus in testdata/notation; -update rewrites the
// wanted sections.
func TestLoadSeries(t *testing.T) {
	for _, c := range loadCases(t, "notation") {
		t.Run(c.name(), func(t *testing.T) {
			var in notationInput
			dec := yaml.NewDecoder(strings.NewReader(string(c.section(t, "input.yaml"))))
			dec.KnownFields(true)
			if err := dec.Decode(&in); err != nil {
				t.Fatal(err)
			}
			interval, err := time.ParseDuration(in.Interval)
			if err != nil {
				t.Fatal(err)
			}
			s, err := LoadSeries(in.InputSeries, in.Start, interval)
			c.check(t, dump(s, err))
		})
	}
}

func TestLoadSeriesTimestamps(t *testing.T) {
	start := time.Date(2026, 11, 1, 10, 0, 7, 500_000_000, time.UTC)
	s, err := LoadSeries([]SeriesInput{{Series: `c_total`, Values: `0+15x120`}}, start, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"samples", s.SampleCount(), 121},
		{"series", s.SeriesCount(), 1},
		{"start", s.Start(), start},
		{"end", s.End(), start.Add(120 * 15 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		})
	}
}

func TestExpansionBound(t *testing.T) {
	tests := []struct {
		values string
		want   uint64
		ok     bool
	}{
		{"", 0, true},
		{"1 2 3", 5, true},
		{"0+10x3", 6 + 4, true},
		{"_x2 1x0", 7 + 3 + 1, true},
		{"1x18446744073709551615", 0, false},
		{"1x99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.values, func(t *testing.T) {
			got, ok := expansion(tt.values)
			if got != tt.want || ok != tt.ok {
				t.Errorf("expansion(%q) = %d, %v; want %d, %v", tt.values, got, ok, tt.want, tt.ok)
			}
		})
	}
}
