package cli

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// reportCase is one report the tests render: every shipped dataset with the
// podinfo canary, the judged examples, one analyze tick and a test run.
type reportCase struct {
	name string
	args []string
	code int
}

func reportCases() []reportCase {
	var cs []reportCase
	for _, ds := range []string{"healthy", "identical", "latency-regression", "no-traffic", "noisy-equal", "not-found-climb", "slow"} {
		code := ExitOK
		switch ds {
		case "no-traffic", "not-found-climb", "slow":
			code = ExitRolledBack
		}
		cs = append(cs, reportCase{"replay-" + ds, []string{"replay", "-f", podinfo, "--data", podinfo + "/" + ds + ".om"}, code})
	}
	lr := podinfo + "/latency-regression.om"
	cs = append(cs,
		reportCase{"judged-latency-regression", []string{"replay", "-f", judged, "--data", lr}, ExitRolledBack},
		reportCase{"judged-histogram", []string{"replay", "-f", judged, "--data", lr, "--judge", "latency-mean:judge=threshold"}, ExitRolledBack},
		reportCase{"judged-mann-whitney", []string{"replay", "-f", judged, "--data", lr,
			"--judge", "request-duration:judge=threshold", "--judge", "request-success-rate:judge=threshold"}, ExitRolledBack},
		reportCase{"judged-sequential", []string{"replay", "-f", judged, "--data", lr, "--judge", "request-duration:judge=threshold",
			"--judge", "latency-mean:judge=sequential,direction=increase,tau=1,margin=2,minPoints=10"}, ExitRolledBack},
		reportCase{"judged-identical", []string{"replay", "-f", judged, "--data", podinfo + "/identical.om"}, ExitOK},
		reportCase{"judged-noisy-equal", []string{"replay", "-f", judged, "--data", podinfo + "/noisy-equal.om", "--score", "pass=90,marginal=50"}, ExitOK},
		reportCase{"analyze-hold", []string{"analyze", "-f", podinfo, "--data", podinfo + "/slow.om", "--at", "+5m", "--weight", "20",
			"--failed-checks", "2", "--webhooks", "pass"}, ExitCheckFail},
		reportCase{"analyze-judged", []string{"analyze", "-f", judged, "--data", lr, "--at", "+14m", "--weight", "20", "--webhooks", "pass"}, ExitCheckFail},
		reportCase{"test-failing", []string{"test", "../../examples/podinfo/failing.test.yaml"}, ExitCheckFail},
		reportCase{"test-passing", []string{"test", "../../examples/podinfo/podinfo.test.yaml"}, ExitOK},
	)
	return cs
}

// renderReports writes every case's report into dir and returns the JSON
// output of each case (the same run with -o json).
func renderReports(t *testing.T, dir string) map[string]string {
	t.Helper()
	old := reportNow
	reportNow = func() time.Time { return time.Time{} }
	t.Cleanup(func() { reportNow = old })
	out := map[string]string{}
	for _, c := range reportCases() {
		path := filepath.Join(dir, c.name+".html")
		args := append(append([]string{}, c.args...), "-o", "json", "--report", path)
		code, stdout, stderr := run(t, "", args...)
		if code != c.code {
			t.Fatalf("%s: exit %d, want %d; stderr: %s", c.name, code, c.code, stderr)
		}
		out[c.name] = stdout
	}
	return out
}

// tagRE matches the start tags of the generated page (its own, well-formed
// output; the validator and the browser check the HTML as HTML).
var (
	tagRE  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-:]+(?:="[^"]*")?)*)\s*/?>`)
	attrRE = regexp.MustCompile(`([a-zA-Z-:]+)="([^"]*)"`)
)

type element struct {
	tag   string
	attrs map[string]string
	order []string
	text  string // the text up to the next tag
}

func elements(page string) []element {
	var out []element
	for _, ix := range tagRE.FindAllStringSubmatchIndex(page, -1) {
		e := element{tag: page[ix[2]:ix[3]], attrs: map[string]string{}}
		if end := strings.IndexByte(page[ix[1]:], '<'); end >= 0 {
			e.text = html.UnescapeString(strings.TrimSpace(page[ix[1] : ix[1]+end]))
		}
		for _, a := range attrRE.FindAllStringSubmatch(page[ix[4]:ix[5]], -1) {
			e.attrs[a[1]] = html.UnescapeString(a[2])
			e.order = append(e.order, a[1])
		}
		out = append(out, e)
	}
	return out
}

func (e element) hasClass(c string) bool {
	return strings.Contains(" "+e.attrs["class"]+" ", " "+c+" ")
}

// noise are classes of layout only, left out of the structure.
var noise = map[string]bool{"kicker": true, "mono": true, "halo": true, "offset": true, "axis-title": true, "line": true,
	"frame": true, "grid": true, "sw": true, "k": true, "num": true, "summary-line": true, "metric-head": true, "tick-head": true}

// withText are the classes and ids whose text is part of the structure: the
// words that say what failed, when and by how much.
var withText = map[string]bool{"why": true, "verdict": true, "annot": true, "ref-label": true, "exit": true}

// structure is the report's skeleton: every element with an id, a
// meaningful class or data attributes (not the SVG's coordinates), one per
// line.
func structure(page string) string {
	var b strings.Builder
	for _, e := range elements(page) {
		cls := strings.Fields(e.attrs["class"])
		meaningful := e.attrs["id"] != "" || hasData(e)
		for _, c := range cls {
			meaningful = meaningful || !noise[c]
		}
		if !meaningful {
			continue
		}
		b.WriteString(e.tag)
		if id := e.attrs["id"]; id != "" {
			b.WriteString("#" + id)
		}
		if c := e.attrs["class"]; c != "" {
			b.WriteString("." + strings.Join(strings.Fields(c), "."))
		}
		for _, k := range e.order {
			if strings.HasPrefix(k, "data-") {
				fmt.Fprintf(&b, " %s=%q", k, e.attrs[k])
			}
		}
		show := withText[e.attrs["id"]]
		for _, c := range cls {
			show = show || withText[c]
		}
		if show && e.text != "" {
			fmt.Fprintf(&b, " text=%q", e.text)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func hasData(e element) bool {
	for k := range e.attrs {
		if strings.HasPrefix(k, "data-") {
			return true
		}
	}
	return false
}

type replayJSON struct {
	Result string         `json:"result"`
	Ticks  []tickJSONView `json:"ticks"`
}

type tickJSONView struct {
	Time         time.Time `json:"time"`
	Phase        string    `json:"phase"`
	CanaryWeight int       `json:"canaryWeight"`
	FailedChecks int       `json:"failedChecks"`
	Action       string    `json:"action"`
	Checks       []struct {
		Metric       string   `json:"metric"`
		Value        *float64 `json:"value"`
		Min          *float64 `json:"min"`
		Max          *float64 `json:"max"`
		Passed       bool     `json:"passed"`
		Inconclusive bool     `json:"inconclusive"`
	} `json:"checks"`
}

func num(v *float64) string {
	if v == nil {
		return "null"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// TestReportGolden renders every report, compares its structure with a
// golden file, and checks the values in the page against the JSON output
// of the same run.
func TestReportGolden(t *testing.T) {
	dir := t.TempDir()
	outs := renderReports(t, dir)
	for _, c := range reportCases() {
		t.Run(c.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, c.name+".html"))
			if err != nil {
				t.Fatal(err)
			}
			page := string(b)
			golden(t, filepath.Join("report", c.name+".golden"), structure(page))
			switch c.args[0] {
			case "replay":
				var js replayJSON
				if err := json.Unmarshal([]byte(outs[c.name]), &js); err != nil {
					t.Fatal(err)
				}
				compareValues(t, page, js)
			case "analyze":
				var d struct {
					Action string `json:"action"`
					Status struct {
						Phase        string `json:"phase"`
						CanaryWeight int    `json:"canaryWeight"`
						FailedChecks int    `json:"failedChecks"`
					} `json:"status"`
					Checks json.RawMessage `json:"checks"`
				}
				if err := json.Unmarshal([]byte(outs[c.name]), &d); err != nil {
					t.Fatal(err)
				}
				tk := tickJSONView{Phase: d.Status.Phase, CanaryWeight: d.Status.CanaryWeight, FailedChecks: d.Status.FailedChecks, Action: d.Action}
				if err := json.Unmarshal(d.Checks, &tk.Checks); err != nil {
					t.Fatal(err)
				}
				compareValues(t, page, replayJSON{Result: d.Status.Phase, Ticks: []tickJSONView{tk}})
			case "test":
				compareTest(t, page, outs[c.name])
			}
		})
	}
}

func compareValues(t *testing.T, page string, js replayJSON) {
	t.Helper()
	var ticks, checks, charts []element
	metrics := map[string]bool{}
	for _, e := range elements(page) {
		switch {
		case e.tag == "li" && e.hasClass("tick"):
			ticks = append(ticks, e)
		case e.tag == "tr" && e.hasClass("check"):
			checks = append(checks, e)
		case e.tag == "svg" && e.hasClass("chart"):
			charts = append(charts, e)
		case e.tag == "article" && e.hasClass("metric"):
			metrics[e.attrs["data-metric"]] = true
		case e.attrs["id"] == "verdict":
			if e.attrs["data-result"] != js.Result {
				t.Errorf("verdict data-result %q, JSON result %q", e.attrs["data-result"], js.Result)
			}
		}
	}
	if len(ticks) != len(js.Ticks) {
		t.Fatalf("%d ticks in the page, %d in the JSON", len(ticks), len(js.Ticks))
	}
	i := 0
	for n, tk := range js.Ticks {
		e := ticks[n]
		want := map[string]string{"data-phase": tk.Phase, "data-weight": strconv.Itoa(tk.CanaryWeight),
			"data-failed-checks": strconv.Itoa(tk.FailedChecks), "data-action": tk.Action}
		if !tk.Time.IsZero() {
			want["data-time"] = tk.Time.UTC().Format(time.RFC3339)
		}
		for k, v := range want {
			if e.attrs[k] != v {
				t.Errorf("tick %d: %s = %q, JSON %q", n+1, k, e.attrs[k], v)
			}
		}
		for _, c := range tk.Checks {
			if i >= len(checks) {
				t.Fatalf("tick %d: check %s missing from the table", n+1, c.Metric)
			}
			row := checks[i]
			i++
			result := "fail"
			switch {
			case c.Inconclusive:
				result = "inconclusive"
			case c.Passed:
				result = "pass"
			case c.Value == nil:
				result = "error"
			}
			want := map[string]string{"data-tick": strconv.Itoa(n + 1), "data-metric": c.Metric, "data-value": num(c.Value),
				"data-min": num(c.Min), "data-max": num(c.Max), "data-result": result}
			for k, v := range want {
				if row.attrs[k] != v {
					t.Errorf("tick %d %s: %s = %q, JSON %q", n+1, c.Metric, k, row.attrs[k], v)
				}
			}
			if !metrics[c.Metric] {
				t.Errorf("metric %s has no section", c.Metric)
			}
		}
	}
	if i != len(checks) {
		t.Errorf("%d checks in the page, %d in the JSON", len(checks), i)
	}
	if len(js.Ticks) > 0 && len(charts) < 1+len(metrics) {
		t.Errorf("%d charts for %d metrics and the timeline", len(charts), len(metrics))
	}
}

func compareTest(t *testing.T, page, out string) {
	t.Helper()
	var js struct {
		Files []struct {
			Result string `json:"result"`
			Cases  []struct {
				Name   string `json:"name"`
				Result string `json:"result"`
			} `json:"cases"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatal(err)
	}
	var rows []element
	for _, e := range elements(page) {
		if e.tag == "tr" && e.hasClass("case") {
			rows = append(rows, e)
		}
	}
	i := 0
	for _, f := range js.Files {
		for _, c := range f.Cases {
			if i >= len(rows) {
				t.Fatalf("case %s missing", c.Name)
			}
			if rows[i].attrs["data-case"] != c.Name || rows[i].attrs["data-result"] != c.Result {
				t.Errorf("row %d: %v, JSON %s %s", i, rows[i].attrs, c.Name, c.Result)
			}
			i++
		}
	}
	if i != len(rows) {
		t.Errorf("%d case rows, %d cases in the JSON", len(rows), i)
	}
}

// TestReportUnwritable: a report that cannot be written is bad input (exit
// 2) naming the file, for each command, and leaves no temporary file.
func TestReportUnwritable(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "missing-dir", "r.html")
	for _, args := range [][]string{
		{"replay", "-f", podinfo, "--data", podinfo + "/healthy.om", "--max-ticks", "2"},
		{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--at", "+5m", "--weight", "20", "--webhooks", "pass"},
		{"test", "../../examples/podinfo/podinfo.test.yaml"},
	} {
		code, _, errOut := run(t, "", append(args, "--report", bad)...)
		if code != ExitBadInput || !strings.Contains(errOut, "--report "+bad) {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming --report %s", args[0], code, errOut, bad)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
