package testfile

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteText writes the report the way `go test` does: one line per case
// (--- PASS, --- FAIL or --- ERROR) with each failed expectation below it
// (the test-file line, the rendered query, want and got), one line per file
// (ok or FAIL), and a summary line "N passed, N failed".
func WriteText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	for _, f := range r.Files {
		writeTextFile(bw, &f)
	}
	fmt.Fprintln(bw, summary(r))
	return bw.Flush()
}

func writeTextFile(w io.Writer, f *FileReport) {
	if f.Err != nil {
		for _, line := range errorLines(f.Err) {
			fmt.Fprintf(w, "    %s\n", line)
		}
		fmt.Fprintf(w, "FAIL  %s  [bad input]\n", f.Path)
		return
	}
	failed, errored := 0, 0
	for _, c := range f.Cases {
		switch c.Result {
		case ResultPass:
			fmt.Fprintf(w, "--- PASS: %s\n", c.Name)
		case ResultFail:
			failed++
			fmt.Fprintf(w, "--- FAIL: %s\n", c.Name)
			for _, fl := range c.Failures {
				for _, line := range failureLines(f.Path, fl) {
					fmt.Fprintf(w, "    %s\n", line)
				}
			}
		default:
			errored++
			fmt.Fprintf(w, "--- ERROR: %s\n", c.Name)
			for _, line := range errorLines(c.Err) {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	switch {
	case len(f.Cases) == 0:
		fmt.Fprintf(w, "ok    %s  [no cases to run]\n", f.Path)
	case failed+errored == 0:
		fmt.Fprintf(w, "ok    %s  %s\n", f.Path, plural(len(f.Cases), "case"))
	default:
		detail := plural(len(f.Cases), "case")
		if failed > 0 {
			detail += fmt.Sprintf(", %d failed", failed)
		}
		if errored > 0 {
			detail += fmt.Sprintf(", %d could not run", errored)
		}
		fmt.Fprintf(w, "FAIL  %s  %s\n", f.Path, detail)
	}
}

// summary is the last line: "N passed, N failed" and, when there are any,
// the cases and files that could not run.
func summary(r *Report) string {
	passed, failed, errored := r.Counts()
	s := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if errored > 0 {
		s += ", " + plural(errored, "error")
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// errorLines renders every problem of err on its own line.
func errorLines(err error) []string {
	if es := Errors(err); len(es) > 0 {
		out := make([]string, len(es))
		for i, e := range es {
			out[i] = e.Error()
		}
		return out
	}
	return strings.Split(err.Error(), "\n")
}

// failureLines renders one failed expectation:
//
//	file:line: metric: what
//	    query: …
//	    - want: …
//	    + got:  …
//	    details…
func failureLines(file string, fl Failure) []string {
	head := fmt.Sprintf("%s:%d: ", file, fl.Line)
	if fl.Metric != "" {
		head += fl.Metric + ": "
	}
	out := []string{head + fl.What}
	if fl.Query != "" {
		out = append(out, "    query: "+strings.TrimSpace(fl.Query))
	}
	for i := range max(len(fl.Want), len(fl.Got)) {
		if i < len(fl.Want) {
			out = append(out, "    - want: "+fl.Want[i])
		}
		if i < len(fl.Got) {
			out = append(out, "    + got:  "+fl.Got[i])
		}
	}
	if fl.DiffAt >= 0 {
		out = append(out, "            "+strings.Repeat(" ", fl.DiffAt)+"^ first difference")
	}
	for _, d := range fl.Details {
		out = append(out, "    "+d)
	}
	return out
}

type jsonReport struct {
	Passed int        `json:"passed"`
	Failed int        `json:"failed"`
	Errors int        `json:"errors"`
	Files  []jsonFile `json:"files"`
}

type jsonFile struct {
	File   string      `json:"file"`
	Result Result      `json:"result"`
	Errors []jsonError `json:"errors,omitempty"`
	Cases  []jsonCase  `json:"cases"`
}

type jsonCase struct {
	Name       string        `json:"name"`
	Line       int           `json:"line"`
	Result     Result        `json:"result"`
	Assertions int           `json:"assertions"`
	Failures   []jsonFailure `json:"failures,omitempty"`
	Errors     []jsonError   `json:"errors,omitempty"`
}

type jsonFailure struct {
	Line    int      `json:"line"`
	Metric  string   `json:"metric,omitempty"`
	What    string   `json:"what"`
	Query   string   `json:"query,omitempty"`
	Want    []string `json:"want"`
	Got     []string `json:"got"`
	Details []string `json:"details,omitempty"`
}

type jsonError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Case    string `json:"case,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func jsonErrors(err error) []jsonError {
	es := Errors(err)
	if len(es) == 0 {
		return []jsonError{{Message: err.Error()}}
	}
	out := make([]jsonError, len(es))
	for i, e := range es {
		out[i] = jsonError{File: e.File, Line: e.Line, Column: e.Column, Case: e.Case, Path: e.Path, Message: e.Msg}
	}
	return out
}

// WriteJSON writes the report as one indented JSON object: the counts, and
// per file its cases with their failures and errors. Timings are left out so
// that the output of a run is reproducible.
func WriteJSON(w io.Writer, r *Report) error {
	out := jsonReport{Files: []jsonFile{}}
	out.Passed, out.Failed, out.Errors = r.Counts()
	for _, f := range r.Files {
		jf := jsonFile{File: f.Path, Result: ResultPass, Cases: []jsonCase{}}
		if f.Err != nil {
			jf.Result, jf.Errors = ResultError, jsonErrors(f.Err)
		}
		for _, c := range f.Cases {
			jc := jsonCase{Name: c.Name, Line: c.Line, Result: c.Result, Assertions: c.Assertions}
			for _, fl := range c.Failures {
				jc.Failures = append(jc.Failures, jsonFailure{Line: fl.Line, Metric: fl.Metric, What: fl.What,
					Query: strings.TrimSpace(fl.Query), Want: fl.Want, Got: fl.Got, Details: fl.Details})
			}
			if c.Err != nil {
				jc.Errors = jsonErrors(c.Err)
			}
			if c.Result != ResultPass && jf.Result == ResultPass {
				jf.Result = ResultFail
			}
			jf.Cases = append(jf.Cases, jc)
		}
		out.Files = append(out.Files, jf)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing the JSON report: %w", err)
	}
	return nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	Time      string    `xml:"time,attr"`
	Failure   *junitMsg `xml:"failure,omitempty"`
	Error     *junitMsg `xml:"error,omitempty"`
}

type junitMsg struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// WriteJUnit writes the report as JUnit XML, the format CI systems read:
// one testsuite per test file, one testcase per case, a failure element
// with the same text as WriteText for failed cases and an error element for
// cases (and files) that could not run.
func WriteJUnit(w io.Writer, r *Report) error {
	out := junitSuites{Name: "augur test"}
	var total time.Duration
	for _, f := range r.Files {
		s := junitSuite{Name: f.Path}
		var elapsed time.Duration
		if f.Err != nil {
			s.Tests, s.Errors = 1, 1
			s.Cases = append(s.Cases, junitCase{Name: f.Path, Classname: f.Path, Time: seconds(0),
				Error: &junitMsg{Message: "the test file could not be loaded", Type: "bad input", Text: strings.Join(errorLines(f.Err), "\n")}})
		}
		for _, c := range f.Cases {
			s.Tests++
			elapsed += c.Elapsed
			jc := junitCase{Name: c.Name, Classname: f.Path, Time: seconds(c.Elapsed)}
			switch c.Result {
			case ResultFail:
				s.Failures++
				var lines []string
				failed := 0
				for _, fl := range c.Failures {
					lines = append(lines, failureLines(f.Path, fl)...)
					failed += max(len(fl.Want), 1)
				}
				jc.Failure = &junitMsg{Message: fmt.Sprintf("%d of %s failed", failed, plural(c.Assertions, "assertion")),
					Type: "assertion", Text: strings.Join(lines, "\n")}
			case ResultError:
				s.Errors++
				jc.Error = &junitMsg{Message: "the case could not run as written", Type: "error", Text: strings.Join(errorLines(c.Err), "\n")}
			}
			s.Cases = append(s.Cases, jc)
		}
		s.Time = seconds(elapsed)
		total += elapsed
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Suites = append(out.Suites, s)
	}
	out.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	return nil
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
