package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// TestTestExamples runs `augur test` on the shipped examples from the
// repository root, as CI does: the passing example exits 0, the failing one
// exits 1 and prints examples/podinfo/failing.golden (rewritten with -update).
func TestTestExamples(t *testing.T) {
	t.Chdir("../..")
	code, out, errOut := run(t, "", "test", "examples/podinfo/podinfo.test.yaml")
	if code != ExitOK {
		t.Errorf("passing example: exit %d, want 0\n%s%s", code, out, errOut)
	}
	if !strings.HasSuffix(out, "ok    examples/podinfo/podinfo.test.yaml  6 cases\n6 passed, 0 failed\n") {
		t.Errorf("passing example output:\n%s", out)
	}
	code, out, errOut = run(t, "", "test", "examples/podinfo/failing.test.yaml")
	if code != ExitCheckFail || errOut != "" {
		t.Errorf("failing example: exit %d, want 1; stderr %q", code, errOut)
	}
	path := "examples/podinfo/failing.golden"
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), out); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
		}
	}
	// A directory runs every test file below it.
	code, out, _ = run(t, "", "test", "examples/")
	if code != ExitCheckFail || !strings.HasSuffix(out, "11 passed, 1 failed\n") {
		t.Errorf("examples/: exit %d, output:\n%s", code, out)
	}
}

func TestTestOutputs(t *testing.T) {
	dir := t.TempDir()
	junit := filepath.Join(dir, "report.xml")
	file := "../../examples/podinfo/failing.test.yaml"
	code, out, _ := run(t, "", "test", file, "-o", "json", "--junit", junit)
	if code != ExitCheckFail {
		t.Fatalf("exit %d, want 1", code)
	}
	var rep struct {
		Passed, Failed, Errors int
		Files                  []struct {
			File   string
			Result string
			Cases  []struct {
				Name     string
				Result   string
				Failures []struct{ Line int }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("JSON output: %v\n%s", err, out)
	}
	if rep.Passed != 1 || rep.Failed != 1 || rep.Errors != 0 || len(rep.Files) != 1 || rep.Files[0].Result != "fail" ||
		len(rep.Files[0].Cases) != 2 || rep.Files[0].Cases[1].Result != "fail" || len(rep.Files[0].Cases[1].Failures) != 3 {
		t.Errorf("JSON report: %+v", rep)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatalf("JUnit report: %v\n%s", err, b)
	}
	if suites.Tests != 2 || suites.Failures != 1 || len(suites.Suites) != 1 || suites.Suites[0].Name != file ||
		suites.Suites[0].Cases[0].Failure != nil || suites.Suites[0].Cases[1].Failure == nil {
		t.Errorf("JUnit report:\n%s", b)
	}

	code, out, _ = run(t, "", "test", file, "--run", "under the 5%")
	if code != ExitOK || !strings.Contains(out, "--- PASS: 2% of 404s stays under the 5% limit") || strings.Contains(out, "climb") {
		t.Errorf("--run: exit %d\n%s", code, out)
	}
}

func TestTestBadInput(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{name: "no files", args: []string{"test"}, wantErr: "requires at least 1 arg"},
		{name: "missing file", args: []string{"test", "nope.test.yaml"}, wantOut: "nope.test.yaml: open nope.test.yaml: no such file or directory"},
		{name: "bad regexp", args: []string{"test", "../../examples/podinfo/podinfo.test.yaml", "--run", "("}, wantErr: "--run \"(\""},
		{name: "bad output", args: []string{"test", "../../examples/podinfo/podinfo.test.yaml", "-o", "xml"}, wantErr: "want text, json or yaml"},
		{name: "empty directory", args: []string{"test", "testdata"}, wantErr: "holds no *.test.yaml"},
		{name: "malformed file", args: []string{"test", "../testfile/testdata/parse/unknown-field.bad.test.yaml"},
			wantOut: "unknown-field.bad.test.yaml:11:9: case \"typos\": tests[0].metric_tests[0].eval_tme: unknown field \"eval_tme\" (did you mean \"eval_time\"?)"},
		{name: "case that cannot run", args: []string{"test", "../testfile/testdata/run/errors.test.yaml"},
			wantOut: "--- ERROR: missing variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != ExitBadInput {
				t.Errorf("exit %d, want 2\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stdout %q\nstderr %q\nwant %q and %q", out, errOut, tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestTestFlagsFillOptions(t *testing.T) {
	ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	var got *TestOptions
	cmd := NewCmdTest(ios, func(_ *cobra.Command, o *TestOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a.test.yaml", "dir/", "--run", "x|y", "--junit", "r.xml", "-o", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := &TestOptions{IO: ios, Files: []string{"a.test.yaml", "dir/"}, Run: "x|y", JUnit: "r.xml", Output: "json"}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b *IOStreams) bool { return a == b })); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
}
