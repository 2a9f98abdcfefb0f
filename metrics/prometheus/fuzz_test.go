package prometheus

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
)

// seedBodies are the testdata bodies with the status each is served with.
var seedBodies = []struct {
	file   string
	status int
}{
	{"scalar.json", 200}, {"vector-1.json", 200}, {"vector-2.json", 200},
	{"vector-empty.json", 200}, {"vector-warnings.json", 200}, {"vector-histogram.json", 200},
	{"matrix.json", 200}, {"nan.json", 200}, {"inf.json", 200}, {"neg-inf.json", 200},
	{"string.json", 200}, {"invalid.json", 200}, {"range-matrix.json", 200},
	{"bad-data-400.json", 400}, {"bad-data-400.json", 200}, {"execution-422.json", 422},
	{"timeout-503.json", 503}, {"unavailable-503.txt", 503}, {"http-500.txt", 500},
}

// FuzzQueryResponse feeds arbitrary statuses and bodies through the whole
// client path (client_golang's decoding, wireClient, reduce) in memory.
func FuzzQueryResponse(f *testing.F) {
	for _, s := range seedBodies {
		b, err := os.ReadFile(filepath.Join("testdata", s.file))
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		f.Add(uint16(s.status), b)
	}
	f.Add(uint16(200), []byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1e309"]}]}}`))
	f.Add(uint16(200), []byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}`))
	f.Add(uint16(204), []byte(``))
	f.Fuzz(func(t *testing.T, status uint16, body []byte) {
		code := 200 + int(status)%400 // 200..599
		p := newCanned(t, code, body)
		v, err := p.Query(t.Context(), "up", time.Time{})
		if err == nil {
			if code/100 != 2 {
				t.Fatalf("status %d accepted with value %v", code, v)
			}
			if math.IsNaN(v) {
				t.Fatalf("NaN returned without ErrNoValues")
			}
			if !strings.Contains(string(body), "scalar") && !strings.Contains(string(body), "vector") {
				t.Fatalf("value %v from a body naming neither scalar nor vector: %q", v, body)
			}
			return
		}
		if v != 0 {
			t.Errorf("value %v returned with error %v", v, err)
		}
		if !strings.HasPrefix(err.Error(), `prometheus query "up": `) {
			t.Errorf("error %q lacks the query context", err)
		}
		noValues, multiple := errors.Is(err, metrics.ErrNoValues), errors.Is(err, metrics.ErrMultipleValues)
		if noValues && multiple {
			t.Errorf("error %q wraps both sentinels", err)
		}
		if code/100 != 2 {
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != code {
				t.Fatalf("status %d: error %q is not an *APIError with that status", code, err)
			}
			if noValues || multiple {
				t.Errorf("status %d: error %q wraps a result sentinel", code, err)
			}
			if len(apiErr.Body) > maxErrorBody+len("…") {
				t.Errorf("status %d: error body is %d bytes, over the cap", code, len(apiErr.Body))
			}
		}
	})
}

// FuzzCollapseSpace checks collapseSpace against Flagger's regexp rule.
func FuzzCollapseSpace(f *testing.F) {
	for _, s := range []string{"", "a", "sum(\n  rate(x[1m])\n)", " \t\r\n\f ", "a\vb", "a\u00a0\u2003b", "x\xff  y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := collapseSpace(in)
		if want := flaggerTrim.ReplaceAllString(in, " "); got != want {
			t.Fatalf("collapseSpace(%q) = %q, Flagger's regexp gives %q", in, got, want)
		}
		if again := collapseSpace(got); again != got {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
		if strings.ContainsAny(got, "\t\n\f\r") || strings.Contains(got, "  ") {
			t.Fatalf("collapseSpace(%q) = %q still has a whitespace run", in, got)
		}
		if len(got) > len(in) {
			t.Fatalf("collapseSpace grew %q to %q", in, got)
		}
	})
}
