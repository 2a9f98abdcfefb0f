package testfile

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRunGolden runs every file in testdata/run and compares the text
// report with the golden *.txt, and the JSON and JUnit reports with *.json
// and *.junit.xml.
func TestRunGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/run/*.test.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		path := filepath.ToSlash(file)
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			rep := RunFiles(t.Context(), []string{path}, RunOptions{})
			base := strings.TrimSuffix(path, ".test.yaml")
			var text, js, junit bytes.Buffer
			if err := WriteText(&text, &rep); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&js, &rep); err != nil {
				t.Fatal(err)
			}
			if err := WriteJUnit(&junit, &rep); err != nil {
				t.Fatal(err)
			}
			if !json.Valid(js.Bytes()) {
				t.Errorf("JSON report is not JSON:\n%s", js.String())
			}
			var parsed junitSuites
			if err := xml.Unmarshal(junit.Bytes(), &parsed); err != nil {
				t.Errorf("JUnit report does not parse: %v", err)
			}
			golden(t, base+".txt", text.String())
			golden(t, base+".json", js.String())
			golden(t, base+".junit.xml", timeAttrs.ReplaceAllString(junit.String(), `time="T"`))
		})
	}
}

var timeAttrs = regexp.MustCompile(`time="[0-9.]+"`)

// TestRunCounts checks each case's result and the report's counts: a
// failed assertion fails its case, a case that cannot run is an error, and
// neither is ever a pass.
func TestRunCounts(t *testing.T) {
	rep := RunFiles(t.Context(), []string{"testdata/run/failures.test.yaml", "testdata/run/errors.test.yaml", "testdata/parse/syntax.bad.test.yaml"}, RunOptions{})
	got := map[string]Result{}
	for _, f := range rep.Files {
		for _, c := range f.Cases {
			got[c.Name] = c.Result
		}
	}
	want := map[string]Result{
		"healthy":                         ResultPass,
		"wrong expectations":              ResultFail,
		"unknown metric":                  ResultError,
		"missing template":                ResultError,
		"missing template, expected":      ResultPass,
		"missing variable":                ResultError,
		"variable set by the case":        ResultPass,
		"another provider":                ResultError,
		"another provider, expected":      ResultPass,
		"bad promql fails its assertions": ResultFail,
		"bad promql, expected":            ResultPass,
		"replay with a missing template":  ResultError,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	passed, failed, errored := rep.Counts()
	if passed != 5 || failed != 2 || errored != 6 {
		t.Errorf("counts = %d passed, %d failed, %d errors; want 5, 2, 6 (5 cases and a file)", passed, failed, errored)
	}
	for _, f := range rep.Files {
		for _, c := range f.Cases {
			if c.Result == ResultError {
				checkErrors(t, c.Err, f.Path)
				for _, e := range Errors(c.Err) {
					if e.Case != c.Name || e.Line == 0 {
						t.Errorf("case error without case name or line: %v", e)
					}
				}
			}
			if c.Result == ResultFail && len(c.Failures) == 0 {
				t.Errorf("case %q failed without failures", c.Name)
			}
		}
	}
}

func TestRunSelectsCases(t *testing.T) {
	tests := []struct {
		re   string
		want []string
	}{
		{re: "^healthy$", want: []string{"healthy"}},
		{re: "expect", want: []string{"wrong expectations"}},
		{re: "nothing matches", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.re, func(t *testing.T) {
			rep := RunFiles(t.Context(), []string{"testdata/run/failures.test.yaml"}, RunOptions{Run: regexp.MustCompile(tt.re)})
			var got []string
			for _, c := range rep.Files[0].Cases {
				got = append(got, c.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("cases run (-want +got):\n%s", diff)
			}
		})
	}
	var out bytes.Buffer
	rep := RunFiles(t.Context(), []string{"testdata/run/failures.test.yaml"}, RunOptions{Run: regexp.MustCompile("none")})
	if err := WriteText(&out, &rep); err != nil {
		t.Fatal(err)
	}
	if want := "ok    testdata/run/failures.test.yaml  [no cases to run]\n0 passed, 0 failed\n"; out.String() != want {
		t.Errorf("text = %q, want %q", out.String(), want)
	}
}

func TestRunHonoursCancellation(t *testing.T) {
	f, err := ParseFile("testdata/run/failures.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rep := Run(ctx, f, RunOptions{})
	for _, c := range rep.Cases {
		if c.Result != ResultError {
			t.Errorf("case %q ran after cancellation: %s", c.Name, c.Result)
		}
	}
}
