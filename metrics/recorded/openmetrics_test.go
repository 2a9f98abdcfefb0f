package recorded

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseOpenMetrics runs the corpus in testdata/openmetrics: each txtar
// file holds an input.om section and the wanted result (the loaded series,
// or the error text). Run with -update to rewrite the wanted sections.
func TestParseOpenMetrics(t *testing.T) {
	for _, c := range loadCases(t, "openmetrics") {
		t.Run(c.name(), func(t *testing.T) {
			s, err := ParseOpenMetrics(c.section(t, "input.om"))
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Line < 1 {
					t.Errorf("error %v is not a *ParseError with a line", err)
				}
			}
			c.check(t, dump(s, err))
		})
	}
}

func TestLoadOpenMetricsReaderMatchesBytes(t *testing.T) {
	for _, c := range loadCases(t, "openmetrics") {
		t.Run(c.name(), func(t *testing.T) {
			in := c.section(t, "input.om")
			s1, err1 := ParseOpenMetrics(in)
			s2, err2 := LoadOpenMetrics(strings.NewReader(string(in)))
			if got, want := dump(s2, err2), dump(s1, err1); got != want {
				t.Errorf("LoadOpenMetrics = %s, ParseOpenMetrics = %s", got, want)
			}
		})
	}
}

func TestLoadOpenMetricsFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.om")
	bad := filepath.Join(dir, "bad.om")
	if err := os.WriteFile(good, []byte("up 1 60\nup 2 75\n# EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("up 1 60\nup 2 45\n# EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr string // substring; "" means success
		wantN   int
	}{
		{name: "good", path: good, wantN: 2},
		{name: "bad names file and line", path: bad, wantErr: bad + ": line 2: series up: timestamp 45 (1970-01-01T00:00:45Z) is not after the previous sample's 60 (1970-01-01T00:01:00Z)"},
		{name: "missing", path: filepath.Join(dir, "nope.om"), wantErr: "recorded data: open " + filepath.Join(dir, "nope.om")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadOpenMetricsFile(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.SampleCount() != tt.wantN {
				t.Errorf("SampleCount = %d, want %d", s.SampleCount(), tt.wantN)
			}
		})
	}
}

// TestParseErrorUnwraps checks that an out-of-order sample can be recognised
// programmatically.
func TestParseErrorUnwraps(t *testing.T) {
	_, err := ParseOpenMetrics([]byte("up 1 60\nup 2 60\n# EOF\n"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Fatalf("error = %v, want a *ParseError at line 2", err)
	}
	if !errors.Is(err, errNotIncreasing) {
		t.Errorf("error %v does not wrap errNotIncreasing", err)
	}
}
