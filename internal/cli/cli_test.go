package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	podinfo = "../../testdata/podinfo"
	judged  = "../../testdata/judged"
)

func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, args)
	return code, out.String(), errOut.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestCommands runs each command on the shipped podinfo files and data and
// compares its output and exit code with a golden file.
func TestCommands(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		golden string
	}{
		{"render text", []string{"render", "-f", podinfo}, ExitOK, "render.txt"},
		{"render json", []string{"render", "-f", podinfo, "-o", "json"}, ExitOK, "render.json"},
		{"render linkerd", []string{"render", "-f", podinfo, "--mesh-provider", "linkerd", "-o", "json"}, ExitOK, "render-linkerd.json"},
		{"query healthy", []string{"query", "-f", podinfo, "--data", podinfo + "/healthy.om", "--at", "+10m"}, ExitOK, "query-healthy.txt"},
		{"query slow json", []string{"query", "-f", podinfo, "--data", podinfo + "/slow.om", "--at", "2026-11-01T10:05:00Z", "-o", "json"}, ExitCheckFail, "query-slow.json"},
		{"analyze", []string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--at", "+5m", "--weight", "20", "--webhooks", "pass"}, ExitOK, "analyze.txt"},
		{"analyze json hold", []string{"analyze", "-f", podinfo, "--data", podinfo + "/slow.om", "--at", "+5m", "--weight", "20", "--failed-checks", "2", "--webhooks", "pass", "-o", "json"}, ExitCheckFail, "analyze-hold.json"},
		{"analyze what-if", []string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--at", "+5m", "--weight", "20", "--webhooks", "pass", "--value", "request-success-rate=97.5"}, ExitCheckFail, "analyze-what-if.txt"},
		{"analyze rollback", []string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--weight", "20", "--failed-checks", "5", "--webhooks", "pass"}, ExitRolledBack, "analyze-rollback.txt"},
		{"replay healthy", []string{"replay", "-f", podinfo, "--data", podinfo + "/healthy.om"}, ExitOK, "replay-healthy.txt"},
		{"replay not-found-climb", []string{"replay", "-f", podinfo, "--data", podinfo + "/not-found-climb.om"}, ExitRolledBack, "replay-not-found-climb.txt"},
		{"replay slow json", []string{"replay", "-f", podinfo, "--data", podinfo + "/slow.om", "-o", "json"}, ExitRolledBack, "replay-slow.json"},
		{"replay no-traffic json", []string{"replay", "-f", podinfo, "--data", podinfo + "/no-traffic.om", "-o", "json"}, ExitRolledBack, "replay-no-traffic.json"},
		{"replay max ticks", []string{"replay", "-f", podinfo, "--data", podinfo + "/healthy.om", "--max-ticks", "3"}, ExitCheckFail, "replay-max-ticks.txt"},
		// The judged canary (testdata/judged) over the datasets with a primary.
		{"render judged", []string{"render", "-f", judged}, ExitOK, "render-judged.txt"},
		{"render judged json", []string{"render", "-f", judged, "--judge", "request-success-rate:judge=sequential,margin=0.005", "-o", "json"}, ExitOK, "render-judged.json"},
		{"query judged", []string{"query", "-f", judged, "--data", podinfo + "/latency-regression.om", "--at", "+10m"}, ExitCheckFail, "query-judged.txt"},
		{"analyze judged json", []string{"analyze", "-f", judged, "--data", podinfo + "/latency-regression.om", "--at", "+14m", "--weight", "20",
			"--webhooks", "pass", "-o", "json"}, ExitCheckFail, "analyze-judged.json"},
		{"replay latency regression, thresholds only", []string{"replay", "-f", judged, "--data", podinfo + "/latency-regression.om", "--no-judges"},
			ExitOK, "replay-judged-no-judges.txt"},
		{"replay latency regression, judged", []string{"replay", "-f", judged, "--data", podinfo + "/latency-regression.om"},
			ExitRolledBack, "replay-judged-latency-regression.txt"},
		{"replay latency regression, histogram only", []string{"replay", "-f", judged, "--data", podinfo + "/latency-regression.om",
			"--judge", "latency-mean:judge=threshold"}, ExitRolledBack, "replay-judged-histogram.txt"},
		{"replay latency regression, mann-whitney only json", []string{"replay", "-f", judged, "--data", podinfo + "/latency-regression.om",
			"--judge", "request-duration:judge=threshold", "--judge", "request-success-rate:judge=threshold", "-o", "json"}, ExitRolledBack, "replay-judged-mann-whitney.json"},
		{"replay latency regression, sequential", []string{"replay", "-f", judged, "--data", podinfo + "/latency-regression.om",
			"--judge", "request-duration:judge=threshold", "--judge", "latency-mean:judge=sequential,direction=increase,tau=1,margin=2,minPoints=10"},
			ExitRolledBack, "replay-judged-sequential.txt"},
		{"replay identical, judged", []string{"replay", "-f", judged, "--data", podinfo + "/identical.om"}, ExitOK, "replay-judged-identical.txt"},
		{"replay noisy-equal, judged", []string{"replay", "-f", judged, "--data", podinfo + "/noisy-equal.om", "--score", "pass=90,marginal=50"},
			ExitOK, "replay-judged-noisy-equal.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if strings.HasSuffix(tt.golden, ".json") && !json.Valid([]byte(out)) {
				t.Errorf("output is not JSON: %s", out)
			}
			golden(t, tt.golden, out)
		})
	}
}

func TestReplayJSONShape(t *testing.T) {
	code, out, _ := run(t, "", "replay", "-f", podinfo, "--data", podinfo+"/healthy.om", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		Result string `json:"result"`
		Ticks  []struct {
			Time         string            `json:"time"`
			Phase        string            `json:"phase"`
			CanaryWeight *int              `json:"canaryWeight"`
			FailedChecks *int              `json:"failedChecks"`
			Iterations   *int              `json:"iterations"`
			Action       string            `json:"action"`
			Events       []json.RawMessage `json:"events"`
			Checks       []map[string]any  `json:"checks"`
		} `json:"ticks"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Result != "Succeeded" || len(got.Ticks) == 0 {
		t.Fatalf("result %q with %d ticks", got.Result, len(got.Ticks))
	}
	weights := []int{}
	for _, tk := range got.Ticks {
		if tk.Time == "" || tk.Phase == "" || tk.CanaryWeight == nil || tk.FailedChecks == nil || tk.Iterations == nil || tk.Action == "" || tk.Events == nil || tk.Checks == nil {
			t.Errorf("tick missing a field: %+v", tk)
		}
		for _, c := range tk.Checks {
			for _, k := range []string{"metric", "query", "value", "min", "max", "passed"} {
				if _, ok := c[k]; !ok {
					t.Errorf("check without %q: %v", k, c)
				}
			}
		}
		weights = append(weights, *tk.CanaryWeight)
	}
	if diff := cmp.Diff([]int{10, 20, 30, 40, 50, 50, 0, 0}, weights); diff != "" {
		t.Errorf("weights per tick (-want +got):\n%s", diff)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no files", "", []string{"render"}, "no input: give Canary and MetricTemplate files with -f"},
		{"missing file", "", []string{"render", "-f", "nope.yaml"}, "nope.yaml"},
		{"unknown field from stdin", "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: x}\nspec:\n  targetRef: {name: x}\n  analysis: {interval: 1m, threshold: 1, stepWeight: 10, mxWeight: 5}\n",
			[]string{"render", "-f", "-"}, `<stdin>:6:58: document 1, Canary default/x: spec.analysis.mxWeight: unknown field "mxWeight"`},
		{"bad output", "", []string{"render", "-f", podinfo, "-o", "xml"}, `--output "xml": want text, json or yaml`},
		{"both sources", "", []string{"query", "-f", podinfo, "--data", "x.om", "--prometheus", "http://127.0.0.1:1"}, "--prometheus and --data are exclusive"},
		{"bad data file", "", []string{"query", "-f", podinfo, "--data", podinfo + "/canary.yaml"}, "--data: "},
		{"bad time", "", []string{"query", "-f", podinfo, "--data", podinfo + "/healthy.om", "--at", "yesterday"}, `--at "yesterday": want RFC 3339`},
		{"replay needs a source", "", []string{"replay", "-f", podinfo}, "no metrics source: give --data FILE (recorded data), --prometheus URL or --answers FILE (recorded provider answers)"},
		{"bad phase", "", []string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--phase", "Running"}, `unknown phase "Running"`},
		{"bad weight", "", []string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--weight", "120"}, "--weight 120: must be within 0..100"},
		{"bad webhooks mode", "", []string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--webhooks", "maybe"}, `--webhooks "maybe": want call, pass or fail`},
		{"bad value", "", []string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--value", "request-success-rate"}, `--value "request-success-rate": want NAME=NUMBER or NAME=error:KIND`},
		{"status and flags", "", []string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--status", "-", "--weight", "10"}, "--status and --weight are exclusive"},
		{"status unknown field", `{"phase":"Progressing","weigth":10}`, []string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--status", "-"}, `unknown field "weigth"`},
		{"unknown flag", "", []string{"render", "--nope"}, "unknown flag: --nope"},
		{"two canaries", "", []string{"analyze", "-f", podinfo, "-f", "testdata/second-canary.yaml", "--data", podinfo + "/healthy.om"}, "pick one with --canary"},
		{"judge without metric", "", []string{"replay", "-f", judged, "--data", podinfo + "/healthy.om", "--judge", "judge=histogram"},
			`--judge "judge=histogram": want METRIC:KEY=VALUE`},
		{"judge of no metric", "", []string{"analyze", "-f", judged, "--data", podinfo + "/healthy.om", "--judge", "latency:judge=histogram"},
			`judges: the canary has no metric "latency"`},
		{"judge key unknown", "", []string{"query", "-f", judged, "--data", podinfo + "/healthy.om", "--judge", "latency-mean:windw=5m"},
			`key "windw": unknown key`},
		{"judge value bad", "", []string{"render", "-f", judged, "--judge", "request-duration:judge=histogram,alpha=2"},
			`metric "request-duration": invalid judge configuration: key "alpha": value 2`},
		{"judge twice", "", []string{"render", "-f", judged, "--judge", "request-duration:alpha=0.1", "--judge", "request-duration:alpha=0.2"},
			"metric request-duration key alpha given twice"},
		{"no-judges and judge", "", []string{"render", "-f", judged, "--no-judges", "--judge", "request-duration:alpha=0.1"},
			"--no-judges and --judge are exclusive"},
		{"bad score", "", []string{"replay", "-f", judged, "--data", podinfo + "/healthy.om", "--score", "pass=80,marginal=90"},
			`key "marginal": value 90: above pass 80`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.stdin, tt.args...)
			if code != ExitBadInput {
				t.Errorf("exit %d, want %d (bad input); stdout %q", code, ExitBadInput, out)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.want)
			}
		})
	}
}

func TestStatusFileAndCanaryPick(t *testing.T) {
	status := `{"phase":"Progressing","canaryWeight":50,"failedChecks":0,"iterations":0}`
	code, out, errOut := run(t, status, "analyze", "-f", podinfo, "-f", "testdata/second-canary.yaml", "--canary", "test/podinfo",
		"--data", podinfo+"/healthy.om", "--at", "+5m", "--status", "-", "--webhooks", "pass", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var d struct {
		Action string `json:"action"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Action != "promote" {
		t.Errorf("action %q (%v), want promote at max weight", d.Action, err)
	}
}

// TestFlagsFillOptions checks flag parsing alone through runF.
func TestFlagsFillOptions(t *testing.T) {
	ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	var got *ReplayOptions
	cmd := NewCmdReplay(ios, func(_ *cobra.Command, o *ReplayOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-f", "a.yaml", "-f", "b.yaml", "--data", "d.om", "--start", "+2m", "--max-ticks", "7", "-o", "json", "--mesh-provider", "linkerd"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Files.Files, ",") != "a.yaml,b.yaml" || got.Source.Data != "d.om" || got.Start != "+2m" ||
		got.MaxTicks != 7 || got.Output != "json" || got.Engine.MeshProvider != "linkerd" || got.Hooks.Mode != "pass" ||
		got.InstantQueries {
		t.Errorf("options %+v", got)
	}
	cmd = NewCmdReplay(ios, func(_ *cobra.Command, o *ReplayOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-f", "a.yaml", "--prometheus", "http://127.0.0.1:9090", "--instant-queries"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !got.InstantQueries || got.Source.Prometheus != "http://127.0.0.1:9090" {
		t.Errorf("--instant-queries: options %+v", got)
	}
}
