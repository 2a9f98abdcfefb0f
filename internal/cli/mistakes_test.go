package cli

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// mistake is an ordinary user mistake and what augur must answer: an exit
// code and a message, never a verdict drawn from the mistake. The table is
// docs/mistakes.md's, which TestMistakesDocumented keeps in step.
type mistake struct {
	name   string
	args   []string
	code   int
	stream string // "stderr" or "stdout"
	want   string
}

var mistakes = []mistake{
	{"replay starting after the data's end",
		[]string{"replay", "-f", podinfo, "--data", podinfo + "/healthy.om", "--start", "+3h"}, ExitBadInput, "stderr",
		"--start 2026-11-01T12:58:07.5Z is outside the recorded data ../../testdata/podinfo/healthy.om, whose first sample is at 2026-11-01T09:58:07.5Z and last at 2026-11-01T10:29:52.5Z (scraped every 15s)"},
	{"replay starting before the data's start",
		[]string{"replay", "-f", podinfo, "--data", podinfo + "/healthy.om", "--start", "2026-11-01T09:00:00Z"}, ExitBadInput, "stderr",
		"--start 2026-11-01T09:00:00Z is outside the recorded data"},
	{"replay running into the data's end",
		[]string{"replay", "-f", podinfo, "--data", podinfo + "/healthy.om", "--start", "-2m"}, ExitCheckFail, "stdout",
		"Result: the data ends at 2026-11-01T10:29:52.5Z before the analysis finished (still Progressing after 3 ticks)."},
	{"query at a time after the data",
		[]string{"query", "-f", podinfo, "--data", podinfo + "/healthy.om", "--at", "+300m"}, ExitBadInput, "stderr",
		"--at 2026-11-01T14:58:07.5Z is outside the recorded data"},
	{"analyze at a time before the data",
		[]string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--at", "1700000000", "--webhooks", "pass"}, ExitBadInput, "stderr",
		"--at 2023-11-14T22:13:20Z is outside the recorded data"},
	{"query with a judge window starting before the data",
		[]string{"query", "-f", judged, "--data", podinfo + "/latency-regression.om", "--at", "+4m"}, ExitBadInput, "stderr",
		"metric request-success-rate: its judge reads the 10m window from 2026-11-01T09:52:07.5Z to 2026-11-01T10:02:07.5Z (--at), which starts before the recorded data ../../testdata/podinfo/latency-regression.om, whose first sample is at 2026-11-01T09:58:07.5Z (use --at 2026-11-01T10:08:07.5Z or later"},
	{"analyze with a judge window starting before the data",
		[]string{"analyze", "-f", judged, "--data", podinfo + "/latency-regression.om", "--at", "+4m", "--weight", "20"}, ExitBadInput, "stderr",
		"metric request-success-rate: its judge reads the 10m window from 2026-11-01T09:52:07.5Z to 2026-11-01T10:02:07.5Z (--at), which starts before the recorded data"},
	{"replay with a judge window starting before the data",
		[]string{"replay", "-f", judged, "--data", podinfo + "/latency-regression.om", "--start", "2026-11-01T10:00:00Z"}, ExitBadInput, "stderr",
		"metric request-success-rate: its judge reads the 10m window from 2026-11-01T09:50:00Z to 2026-11-01T10:00:00Z (--start), which starts before the recorded data"},
	{"replay without the MetricTemplate a templateRef names",
		[]string{"replay", "-f", podinfo + "/canary.yaml", "--data", podinfo + "/healthy.om"}, ExitBadInput, "stderr",
		"metric not-found-percentage: "},
	{"query without the MetricTemplate a templateRef names",
		[]string{"query", "-f", podinfo + "/canary.yaml", "--data", podinfo + "/healthy.om"}, ExitBadInput, "stderr",
		"metric not-found-percentage: "},
	// analyze is one Flagger tick: a missing template is Flagger's failed
	// check (hold, with Flagger's event naming it), as the scenario corpus
	// asserts through every transport.
	{"analyze without the MetricTemplate a templateRef names",
		[]string{"analyze", "-f", podinfo + "/canary.yaml", "--data", podinfo + "/healthy.om", "--webhooks", "pass", "--weight", "10"}, ExitCheckFail, "stdout",
		"Metric template not-found-percentage.istio-system error"},
	{"render of a provider augur does not query",
		[]string{"render", "-f", podinfo + "/canary.yaml", "-f", "testdata/mistakes/cloudwatch-template.yaml"}, ExitBadInput, "stdout",
		`error:    provider type "cloudwatch" is not supported (augur queries: datadog, dynatrace, externalmetrics, graphite, influxdb, keptn, newrelic, prometheus)`},
	{"replay of a provider augur does not query",
		[]string{"replay", "-f", podinfo + "/canary.yaml", "-f", "testdata/mistakes/cloudwatch-template.yaml", "--data", podinfo + "/healthy.om"}, ExitBadInput, "stderr",
		`metric not-found-percentage: provider type "cloudwatch" is not supported (augur queries: prometheus)`},
	{"replay of a vendor template over recorded data",
		[]string{"replay", "-f", podinfo + "/canary.yaml", "-f", "testdata/mistakes/datadog-template.yaml", "--data", podinfo + "/healthy.om"}, ExitBadInput, "stderr",
		`metric not-found-percentage: provider type "datadog" needs its live API: recorded data (--data) holds Prometheus series only`},
	{"recorded data in another format (a manifest)",
		[]string{"replay", "-f", podinfo, "--data", podinfo + "/canary.yaml"}, ExitBadInput, "stderr",
		"this looks like YAML (a Kubernetes manifest or a test file?), not recorded data: augur reads OpenMetrics text with a timestamp on every sample"},
	{"record --step that empties a query",
		[]string{"record", "-f", podinfo, "--data", podinfo + "/healthy.om", "--start", "2026-11-01T10:05:00Z", "--end", "2026-11-01T10:10:00Z", "--step", "30s"}, ExitBadInput, "stderr",
		"--step 30s would empty metric request-duration: its query reads a 30s window, which needs two samples (use --step 15s or less"},
	{"record of a window without samples",
		[]string{"record", "-f", podinfo, "--data", podinfo + "/healthy.om", "--start", "2026-11-02T10:00:00Z", "--end", "2026-11-02T10:30:00Z", "--out", "/dev/null"}, ExitBadInput, "stderr",
		"no samples between 2026-11-02T10:00:00Z and 2026-11-02T10:30:00Z for the 3 queries of Canary test/podinfo"},
	{"test of an AnalysisTemplate without a declared arg",
		[]string{"test", "testdata/argo/errors.test-file.yaml", "--run", "^missing arg$"}, ExitBadInput, "stdout",
		`errors.test-file.yaml:7: case "missing arg": tests[0].args: testdata/argo/analysistemplate.yaml: AnalysisTemplate augur-podinfo: arg "service-name" has no value: set it in the case's args (service-name: VALUE)`},
	{"test of an AnalysisTemplate with an arg no template declares",
		[]string{"test", "testdata/argo/errors.test-file.yaml", "--run", "^arg no template declares$"}, ExitBadInput, "stdout",
		`:15: case "arg no template declares": tests[1].args: args servce: no template declares it in spec.args`},
	{"test of an AnalysisTemplate metric that does not exist",
		[]string{"test", "testdata/argo/errors.test-file.yaml", "--run", "^unknown metric$"}, ExitBadInput, "stdout",
		`:25: case "unknown metric": tests[2].analysis_tests[0].metric: no metric "p95-latency" in the analysis templates (they have augur-podinfo/request-success-rate, augur-podinfo/p99-latency)`},
	{"mistyped flag",
		[]string{"replay", "-f", podinfo, "--data", podinfo + "/healthy.om", "--max-tick", "3"}, ExitBadInput, "stderr",
		"unknown flag: --max-tick (did you mean --max-ticks?)"},
	{"mistyped --status field",
		[]string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--status", "testdata/mistakes/status-typo.yaml"}, ExitBadInput, "stderr",
		`--status testdata/mistakes/status-typo.yaml:2:1: unknown field "canaryWieght" (did you mean "canaryWeight"?)`},
}

func TestMistakes(t *testing.T) {
	for _, tt := range mistakes {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", code, tt.code, out, errOut)
			}
			got := errOut
			if tt.stream == "stdout" {
				got = out
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("%s %q does not contain %q", tt.stream, got, tt.want)
			}
			if tt.code == ExitBadInput && strings.Contains(out, "#1 ") {
				t.Errorf("a tick ran before the mistake was reported:\n%s", out)
			}
		})
	}
}

func TestMistakesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/mistakes.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mistakes {
		if !strings.Contains(string(doc), "| "+m.name+" | "+strconv.Itoa(m.code)+" |") {
			t.Errorf("docs/mistakes.md has no row %q with exit %d", m.name, m.code)
		}
	}
}
