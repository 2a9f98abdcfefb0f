package cli

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mistake is an ordinary user mistake and what augur must answer: an exit
// code and a message, never a verdict drawn from the mistake. The table is
// docs/mistakes.md's, which TestMistakesDocumented keeps in step.
type mistake struct {
	name   string
	args   []string
	code   int
	stream string // "stderr", "stdout", or "body" (an HTTP answer)
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
	{"query with a judge window longer than the data",
		[]string{"query", "-f", judged, "--data", podinfo + "/latency-regression.om", "--judge", "request-duration:window=1h"}, ExitBadInput, "stderr",
		"metric request-duration: its judge reads the 1h window from 2026-11-01T09:29:00Z to 2026-11-01T10:29:00Z (--at), which starts before the recorded data ../../testdata/podinfo/latency-regression.om, whose first sample is at 2026-11-01T09:58:07.5Z (use a judge window of 30m52s or shorter)"},
	{"analyze with a judge window starting before the data",
		[]string{"analyze", "-f", judged, "--data", podinfo + "/latency-regression.om", "--at", "+4m", "--weight", "20"}, ExitBadInput, "stderr",
		"metric request-success-rate: its judge reads the 10m window from 2026-11-01T09:52:07.5Z to 2026-11-01T10:02:07.5Z (--at), which starts before the recorded data"},
	{"replay with a judge window longer than the data",
		[]string{"replay", "-f", judged, "--data", podinfo + "/latency-regression.om", "--judge", "latency-mean:window=1h"}, ExitBadInput, "stderr",
		"no tick fits in the recorded data ../../testdata/podinfo/latency-regression.om (2026-11-01T09:58:07.5Z to 2026-11-01T10:29:52.5Z): a full metric and judge window (the longest is 1h) would end at 2026-11-01T10:59:00Z, after the data; use shorter windows or longer data"},
	{"replay with a judge window starting before the data",
		[]string{"replay", "-f", judged, "--data", podinfo + "/latency-regression.om", "--start", "2026-11-01T10:00:00Z"}, ExitBadInput, "stderr",
		"metric request-success-rate: its judge reads the 10m window from 2026-11-01T09:50:00Z to 2026-11-01T10:00:00Z (--start), which starts before the recorded data"},
	{"replay without the MetricTemplate a templateRef names",
		[]string{"replay", "-f", podinfo + "/canary.yaml", "--data", podinfo + "/healthy.om"}, ExitBadInput, "stderr",
		"canary test/podinfo: metric not-found-percentage: MetricTemplate istio-system/not-found-percentage not found (give the file that defines it with -f)"},
	{"query without the MetricTemplate a templateRef names",
		[]string{"query", "-f", podinfo + "/canary.yaml", "--data", podinfo + "/healthy.om"}, ExitBadInput, "stderr",
		"canary test/podinfo: metric not-found-percentage: MetricTemplate istio-system/not-found-percentage not found (give the file that defines it with -f)"},
	// Without a cluster, analyze's templates come from the files alone: a
	// missing one is a file not given. From a cluster it is Flagger's
	// failed check (TestAnalyzeFromCluster).
	{"analyze without the MetricTemplate a templateRef names",
		[]string{"analyze", "-f", podinfo + "/canary.yaml", "--data", podinfo + "/healthy.om", "--webhooks", "pass", "--weight", "10"}, ExitBadInput, "stderr",
		"canary test/podinfo: metric not-found-percentage: MetricTemplate istio-system/not-found-percentage not found (give the file that defines it with -f)"},
	{"record without the MetricTemplate a templateRef names",
		[]string{"record", "-f", podinfo + "/canary.yaml", "--data", podinfo + "/healthy.om", "--start", "2026-11-01T10:05:00Z", "--end", "2026-11-01T10:10:00Z", "--out", "/dev/null"}, ExitBadInput, "stderr",
		"canary test/podinfo: metric not-found-percentage: MetricTemplate istio-system/not-found-percentage not found (give the file that defines it with -f)"},
	{"analyze without the MetricTemplate, live",
		[]string{"analyze", "-f", podinfo + "/canary.yaml", "--prometheus", "http://127.0.0.1:9", "--webhooks", "pass", "--weight", "10"}, ExitBadInput, "stderr",
		"canary test/podinfo: metric not-found-percentage: MetricTemplate istio-system/not-found-percentage not found (give the file that defines it with -f)"},
	{"decide on augur serve (or a plugin) without the MetricTemplate, no cluster",
		[]string{"serve-decide"}, 400, "body",
		"canary test/podinfo: metric not-found-percentage: MetricTemplate istio-system/not-found-percentage not found (give it in the request's metricTemplates, or to augur serve with -f)"},
	{"render of a provider type Flagger does not have",
		[]string{"render", "-f", podinfo + "/canary.yaml", "-f", "testdata/mistakes/unknown-provider-template.yaml"}, ExitBadInput, "stderr",
		`MetricTemplate istio-system/not-found-percentage: spec.provider.type: "opentsdb" is not one of prometheus, influxdb, datadog, externalmetrics, stackdriver, cloudwatch, newrelic, graphite, dynatrace, keptn, splunk`},
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
	{"test of an AnalysisTemplate at an eval_time outside the data",
		[]string{"test", "testdata/argo/errors.test-file.yaml", "--run", "^eval_time outside the data$"}, ExitBadInput, "stdout",
		`case "eval_time outside the data": tests[4].analysis_tests[0].eval_time: eval_time 2026-11-01T12:58:07.5Z is outside the recorded data ../../testdata/podinfo/healthy.om, whose first sample is at 2026-11-01T09:58:07.5Z and last at 2026-11-01T10:29:52.5Z (scraped every 15s)`},
	{"test of a metric at an eval_time after its recorded data",
		[]string{"test", "testdata/mistakes/eval-outside.test-file.yaml", "--run", "^after the data$"}, ExitBadInput, "stdout",
		`eval-outside.test-file.yaml:11: case "after the data": tests[0].metric_tests[0].eval_time: eval_time 2026-11-01T12:58:07.5Z is outside the recorded data ../../testdata/podinfo/healthy.om, whose first sample is at 2026-11-01T09:58:07.5Z and last at 2026-11-01T10:29:52.5Z (scraped every 15s)`},
	{"test of a replay starting after its recorded data",
		[]string{"test", "testdata/mistakes/eval-outside.test-file.yaml", "--run", "^replay after the data$"}, ExitBadInput, "stdout",
		`case "replay after the data": tests[3].replay_tests[0].start: start 2026-11-01T11:58:07.5Z is outside the recorded data ../../testdata/podinfo/healthy.om, whose first sample is at 2026-11-01T09:58:07.5Z`},
	{"test of a replay running into the data's end",
		[]string{"test", "testdata/mistakes/eval-outside.test-file.yaml", "--run", "^replay into the data's end$"}, ExitCheckFail, "stdout",
		`the data ends at 2026-11-01T10:29:52.5Z before the analysis finished (still Progressing after 4 ticks)`},
	{"mistyped flag",
		[]string{"replay", "-f", podinfo, "--data", podinfo + "/healthy.om", "--max-tick", "3"}, ExitBadInput, "stderr",
		"unknown flag: --max-tick (did you mean --max-ticks?)"},
	{"mistyped --mesh-provider",
		[]string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--mesh-provider", "istoi"}, ExitBadInput, "stderr",
		`--mesh-provider "istoi" is no mesh Flagger knows (did you mean istio?): want one of istio, linkerd, appmesh,`},
	{"mistyped --status field",
		[]string{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--status", "testdata/mistakes/status-typo.yaml"}, ExitBadInput, "stderr",
		`--status testdata/mistakes/status-typo.yaml:2:1: unknown field "canaryWieght" (did you mean "canaryWeight"?)`},
}

func TestMistakes(t *testing.T) {
	for _, tt := range mistakes {
		t.Run(tt.name, func(t *testing.T) {
			var code int
			var out, errOut string
			if tt.args[0] == "serve-decide" {
				// POST /v1/decide to `augur serve` without -f: the
				// request's Canary file is args[1].
				url, _, stop := startServe(t)
				defer stop()
				code, out = post(t, &http.Client{Timeout: 30 * time.Second}, url+"/v1/decide", podinfoDecide(t, "", "pass", 10), nil)
			} else {
				code, out, errOut = run(t, "", tt.args...)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", code, tt.code, out, errOut)
			}
			got := errOut
			if tt.stream == "stdout" || tt.stream == "body" {
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

// TestDataFormatHintRuns: the command the wrong-format message tells a
// person to run to record data parses as written (its flags exist).
func TestDataFormatHintRuns(t *testing.T) {
	_, _, errOut := run(t, "", "replay", "-f", podinfo, "--data", podinfo+"/canary.yaml")
	_, rest, ok := strings.Cut(errOut, "`augur record ")
	hint, _, ok2 := strings.Cut(rest, "`")
	if !ok || !ok2 {
		t.Fatalf("no augur record command in %q", errOut)
	}
	r := strings.NewReplacer("CANARY", podinfo, "URL", "http://127.0.0.1:9", "FILE", t.TempDir()+"/out.om")
	args := append([]string{"record"}, strings.Fields(r.Replace(hint))...)
	_, _, errOut = run(t, "", args...)
	if strings.Contains(errOut, "flag") {
		t.Errorf("augur %s: %s", strings.Join(args, " "), errOut)
	}
}
