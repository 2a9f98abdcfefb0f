package recorded

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
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

// TestLoadOpenMetricsReaderMatchesBytes checks that streaming, with blocks
// as small as one line, loads the same series and reports the same errors
// (line numbers included) as parsing the whole text at once.
func TestLoadOpenMetricsReaderMatchesBytes(t *testing.T) {
	defer func(n int) { blockSize = n }(blockSize)
	for _, bs := range []int{4 << 20, 1, 7, 40, 200} {
		blockSize = bs
		for _, c := range loadCases(t, "openmetrics") {
			t.Run(fmt.Sprintf("block%d/%s", bs, c.name()), func(t *testing.T) {
				in := c.section(t, "input.om")
				s1, err1 := ParseOpenMetrics(in)
				s2, err2 := LoadOpenMetrics(iotest.OneByteReader(strings.NewReader(string(in))))
				if got, want := dump(s2, err2), dump(s1, err1); got != want {
					t.Errorf("LoadOpenMetrics = %s, ParseOpenMetrics = %s", got, want)
				}
			})
		}
	}
}

// TestLoadOpenMetricsStreamsDatasets loads every podinfo dataset in small
// blocks and from gzip, and compares with the whole-text parse.
func TestLoadOpenMetricsStreamsDatasets(t *testing.T) {
	defer func(n int) { blockSize = n }(blockSize)
	blockSize = 4096
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "podinfo", "*.om"))
	if err != nil || len(paths) == 0 {
		t.Fatal(paths, err)
	}
	for _, path := range paths[:2] {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ParseOpenMetrics(data)
		if err != nil {
			t.Fatal(err)
		}
		gz := filepath.Join(t.TempDir(), filepath.Base(path)+".gz")
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		var calls int
		for _, p := range []string{path, gz} {
			got, err := LoadOpenMetricsFileWith(p, LoadOptions{Progress: func(read, size int64) {
				calls++
				if read > size {
					t.Errorf("progress %d of %d", read, size)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.Series(), got.Series()); diff != "" {
				t.Errorf("%s (-whole +streamed):\n%s", p, diff)
			}
		}
		if calls == 0 {
			t.Error("no progress reported")
		}
	}
}

func TestLoadOpenMetricsLimits(t *testing.T) {
	long := "up{x=\"" + strings.Repeat("a", MaxLineBytes) + "\"} 1 60\n# EOF\n"
	_, err := LoadOpenMetrics(strings.NewReader("up 1 30\n" + long))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("long line: %v", err)
	}
	for _, in := range []string{"up 1 1e300\n# EOF\n", "up 1 -1e17\n# EOF\n"} {
		if _, err := LoadOpenMetrics(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "line 1: sample up: timestamp out of range") {
			t.Errorf("%q: %v", in, err)
		}
	}
	if _, err := LoadOpenMetricsFile(writeTemp(t, "\x1f\x8bnot gzip")); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("bad gzip: %v", err)
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data.om")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
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
