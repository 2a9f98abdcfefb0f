package recorded

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite golden files")

// dump renders a load result for golden comparison: the error text, or every
// series with its samples.
func dump(s *Store, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "series %d, samples %d, start %s, end %s\n", s.SeriesCount(), s.SampleCount(), fmtTime(s.Start()), fmtTime(s.End()))
	for _, ser := range s.Series() {
		sb.WriteString(fmtLabels(ser.Labels))
		sb.WriteByte('\n')
		for _, smp := range ser.Samples {
			fmt.Fprintf(&sb, "  %s %s\n", fmtTime(smp.T), fmtValue(smp.V))
		}
	}
	return sb.String()
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func fmtValue(v float64) string {
	if IsStale(v) {
		return "stale"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func fmtLabels(m map[string]string) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+"="+strconv.Quote(m[n]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// goldenCase is one txtar file of a loader corpus.
type goldenCase struct {
	path string
	ar   *txtar.Archive
}

func loadCases(t testing.TB, dir string) []goldenCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no test cases in testdata/%s", dir)
	}
	out := make([]goldenCase, 0, len(files))
	for _, f := range files {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, goldenCase{path: f, ar: ar})
	}
	return out
}

func (c goldenCase) name() string { return strings.TrimSuffix(filepath.Base(c.path), ".txtar") }

func (c goldenCase) section(t testing.TB, name string) []byte {
	t.Helper()
	for _, f := range c.ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	t.Fatalf("%s: no section %q", c.path, name)
	return nil
}

// check compares got with the "want" section, or rewrites it under -update.
func (c goldenCase) check(t *testing.T, got string) {
	t.Helper()
	if *update {
		for i := range c.ar.Files {
			if c.ar.Files[i].Name == "want" {
				c.ar.Files[i].Data = []byte(got)
			}
		}
		if err := os.WriteFile(c.path, txtar.Format(c.ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(c.section(t, "want")), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", c.path, diff)
	}
}

// sameSeries compares series sample by sample; NaNs are equal when both are
// ordinary NaNs or both staleness markers.
var sameSeries = cmp.Options{
	cmp.Comparer(func(a, b float64) bool {
		if math.IsNaN(a) || math.IsNaN(b) {
			return math.IsNaN(a) && math.IsNaN(b) && IsStale(a) == IsStale(b)
		}
		return a == b
	}),
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
}
