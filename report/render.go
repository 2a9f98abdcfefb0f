package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"
)

//go:embed style.css
var styleCSS string

//go:embed report.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"css": func() template.CSS { return template.CSS(styleCSS) }, //nolint:gosec // our own embedded stylesheet
}).Parse(pageTemplate))

// Write renders a replay or decision report.
func Write(w io.Writer, r *Replay) error {
	p := newPage(r)
	p.CheckText = checkText
	return execute(w, "replay", p)
}

// WriteTest renders an `augur test` run's report.
func WriteTest(w io.Writer, run *TestRun) error {
	return execute(w, "test", newTestPage(run))
}

func execute(w io.Writer, name string, p *page) error {
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		return fmt.Errorf("rendering the %s report: %w", name, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing the %s report: %w", name, err)
	}
	return nil
}

type testView struct {
	Files []testFileView
}

type testFileView struct {
	ID, Path, Result, Badge string
	Errors                  []string
	Cases                   []testCaseView
}

type testCaseView struct {
	Name, Result, Badge string
	Line, Assertions    int
	Errors              []string
	Failures            []TestFailure
}

var testBadge = map[string]string{"pass": "✓ pass", "fail": "✗ fail", "error": "✗ error"}

func errTexts(es []TestError) []string {
	var out []string
	for _, e := range es {
		s := e.Message
		if e.File != "" {
			loc := e.File
			if e.Line > 0 {
				loc += ":" + strconv.Itoa(e.Line)
			}
			s = loc + ": " + s
		}
		out = append(out, s)
	}
	return out
}

func newTestPage(run *TestRun) *page {
	p := &page{Kind: "test", Test: &testView{}}
	if !run.Generated.IsZero() {
		p.Generated = run.Generated.UTC().Format(time.RFC3339)
	}
	passed, failed, errored := 0, 0, 0
	for i, f := range run.Files {
		fv := testFileView{ID: "file-" + strconv.Itoa(i+1), Path: f.Path, Result: f.Result, Badge: testBadge[f.Result], Errors: errTexts(f.Errors)}
		if len(f.Errors) > 0 {
			errored++
		}
		for _, c := range f.Cases {
			switch c.Result {
			case "pass":
				passed++
			case "fail":
				failed++
			default:
				errored++
			}
			fv.Cases = append(fv.Cases, testCaseView{Name: c.Name, Result: c.Result, Badge: testBadge[c.Result], Line: c.Line,
				Assertions: c.Assertions, Errors: errTexts(c.Errors), Failures: c.Failures})
		}
		p.Test.Files = append(p.Test.Files, fv)
	}
	switch {
	case errored > 0:
		p.Verdict, p.VerdictID, p.Result, p.Exit, p.ExitText = "errors", outFail, "error", 2, "a file or case could not run"
	case failed > 0:
		p.Verdict, p.VerdictID, p.Result, p.Exit, p.ExitText = "failed", outFail, "fail", 1, "a case failed"
	default:
		p.Verdict, p.VerdictID, p.Result, p.Exit, p.ExitText = "passed", outPass, "pass", 0, "all passed"
	}
	p.Why = fmt.Sprintf("%d passed, %d failed, %d could not run, in %d %s.", passed, failed, errored, len(run.Files), plural(len(run.Files), "file", "files"))
	p.Title = "augur test: " + p.Why
	return p
}
