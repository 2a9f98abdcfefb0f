package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/kube/kubetest"
)

const keptnCanary = `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
    - name: availability
      interval: 1m
      templateRef: {name: keptn-availability}
      thresholdRange: {min: 0.99}
status:
  phase: Progressing
  canaryWeight: 20
  failedChecks: 0
  iterations: 0
`

const keptnTemplate = `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: keptn-availability, namespace: test}
spec:
  provider: {type: keptn}
  query: keptnmetric/{{ namespace }}/{{ target }}-availability
`

func keptnMetricObject(value string) string {
	return `apiVersion: metrics.keptn.sh/v1beta1
kind: KeptnMetric
metadata: {name: podinfo-availability, namespace: test}
spec: {provider: {name: prom}, query: up, fetchIntervalSeconds: 10}
status: {value: "` + value + `"}
`
}

// TestAnalyzeKeptnFromCluster runs a keptn MetricTemplate through analyze
// with a (fake) cluster: the KeptnMetric's value decides the check. Without
// a cluster the same template is a failed check naming the provider.
func TestAnalyzeKeptnFromCluster(t *testing.T) {
	for _, tt := range []struct {
		value, action, check string
	}{{"0.995", `"action": "advance"`, `"value": 0.995`}, {"0.5", `"action": "hold"`, `"value": 0.5`}} {
		cl, err := kubetest.New(keptnCanary, keptnTemplate, keptnMetricObject(tt.value))
		if err != nil {
			t.Fatal(err)
		}
		code, out, errOut, _ := runAnalyze(t, cl, "--canary", "test/podinfo", "-o", "json")
		if !strings.Contains(out, tt.action) || !strings.Contains(out, tt.check) {
			t.Errorf("value %s: exit %d\n%s\n%s", tt.value, code, out, errOut)
		}
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"canary.yaml": keptnCanary, "template.yaml": keptnTemplate} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut, _ := runAnalyze(t, nil, "-f", dir, "-o", "json")
	if !strings.Contains(out, "keptn reads the Kubernetes API: this run has no cluster connection") || !strings.Contains(out, `"action": "hold"`) {
		t.Errorf("no cluster: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestAnalyzeAnswersOutReplaysKeptn captures a keptn metric's answers
// tick by tick with analyze --answers-out (Keptn holds current values
// only, so augur record cannot ask for the past) and replays them offline:
// the replay's checks see the values the live ticks saw, in order.
func TestAnalyzeAnswersOutReplaysKeptn(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "answers.json")
	t0 := time.Now().Add(-3 * time.Minute).Truncate(time.Minute)
	values := []string{"0.995", "0.5", "0.97"}
	// Live ticks a few seconds late, as a driver's calls are.
	lag := []time.Duration{0, 3 * time.Second, 2 * time.Second}
	for i, v := range values {
		// The cluster as Keptn left it at this tick.
		cl, err := kubetest.New(keptnCanary, keptnTemplate, keptnMetricObject(v))
		if err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Duration(i)*time.Minute + lag[i]).Format(time.RFC3339)
		code, out, errOut, _ := runAnalyze(t, cl, "--canary", "test/podinfo", "-o", "json", "--at", at, "--answers-out", rec)
		if !strings.Contains(out, `"value": `+v) {
			t.Fatalf("tick %d at %s: exit %d\n%s\n%s", i, at, code, out, errOut)
		}
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"canary.yaml": keptnCanary, "template.yaml": keptnTemplate} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The replay's first tick checks nothing; its metric ticks fall 5 s
	// after each capture's minute, past the captures' lag.
	start := t0.Add(-time.Minute + 5*time.Second).Format(time.RFC3339)
	code, out, errOut := run(t, "", "replay", "-f", dir, "--answers", rec, "--start", start, "--max-ticks", "4", "-o", "json")
	var doc struct {
		Ticks []struct {
			Checks []struct {
				Value *float64 `json:"value"`
			} `json:"checks"`
		} `json:"ticks"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("replay: exit %d: %v\n%s\n%s", code, err, out, errOut)
	}
	var got []string
	for _, tk := range doc.Ticks {
		for _, c := range tk.Checks {
			if c.Value != nil {
				got = append(got, strconv.FormatFloat(*c.Value, 'g', -1, 64))
			}
		}
	}
	if strings.Join(got, " ") != strings.Join(values, " ") {
		t.Errorf("replayed values %v, want %v (the live ticks')\n%s", got, values, out)
	}
}

// runQuery runs `augur query` with cl as the cluster --kubeconfig or
// --kube-context opens (nil: no cluster configuration).
func runQuery(t *testing.T, cl *kubetest.Cluster, args ...string) (int, string, string, []kube.Options) {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	var opened []kube.Options
	cmd := NewCmdQuery(ios, func(cmd *cobra.Command, o *QueryOptions) error {
		o.Kube.open = func(_ context.Context, opts kube.Options) (*kube.Source, error) {
			opened = append(opened, opts)
			if cl == nil {
				return nil, kube.ErrNoConfig
			}
			return cl.Source("test"), nil
		}
		return queryRun(cmd, o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(t.Context())
	code := ExitOK
	var ee *ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err != nil {
			fmt.Fprintln(&errOut, ee.Err)
		}
	case err != nil:
		code = ExitBadInput
		fmt.Fprintln(&errOut, err)
	}
	return code, out.String(), errOut.String(), opened
}

// TestQueryKeptnFromCluster: `augur query --kubeconfig` (or --kube-context)
// reads keptn metrics, and MetricTemplates the files lack, from the
// cluster, as analyze does; without the flags the check fails and says
// which command reaches a cluster.
func TestQueryKeptnFromCluster(t *testing.T) {
	dir := t.TempDir()
	canary := filepath.Join(dir, "canary.yaml")
	tmpl := filepath.Join(dir, "template.yaml")
	for path, body := range map[string]string{canary: keptnCanary, tmpl: keptnTemplate} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name    string
		objects []string
		args    []string
		code    int
		want    string
		opened  kube.Options
	}{
		{"passing value, template from the files", []string{keptnMetricObject("0.995")},
			[]string{"-f", canary, "-f", tmpl, "--kubeconfig", "/k/config"}, ExitOK, `"value": 0.995`, kube.Options{Kubeconfig: "/k/config"}},
		{"failing value", []string{keptnMetricObject("0.5")},
			[]string{"-f", canary, "-f", tmpl, "--kube-context", "staging"}, ExitCheckFail, `"value": 0.5`, kube.Options{Context: "staging"}},
		{"template from the cluster", []string{keptnTemplate, keptnMetricObject("0.997")},
			[]string{"-f", canary, "--kubeconfig", "/k/config"}, ExitOK, `"value": 0.997`, kube.Options{Kubeconfig: "/k/config"}},
		{"KeptnMetric missing", nil,
			[]string{"-f", canary, "-f", tmpl, "--kubeconfig", "/k/config"}, ExitCheckFail, "could not retrieve KeptnMetric test/podinfo-availability", kube.Options{Kubeconfig: "/k/config"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := kubetest.New(tt.objects...)
			if err != nil {
				t.Fatal(err)
			}
			code, out, errOut, opened := runQuery(t, cl, append(tt.args, "-o", "json")...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d (want %d), want %q in:\n%s\n%s", code, tt.code, tt.want, out, errOut)
			}
			if len(opened) != 1 || opened[0] != tt.opened {
				t.Errorf("cluster opened with %+v, want once with %+v", opened, tt.opened)
			}
		})
	}

	// No cluster flags: no connection attempt, a failed check that names
	// the command to use.
	code, out, errOut, opened := runQuery(t, nil, "-f", canary, "-f", tmpl, "-o", "json")
	if code != ExitCheckFail || len(opened) != 0 || !strings.Contains(out, "keptn reads the Kubernetes API: this run has no cluster connection") ||
		!strings.Contains(out, "query --kubeconfig") {
		t.Errorf("no cluster: exit %d, opened %v\n%s\n%s", code, opened, out, errOut)
	}
	// A cluster asked for and not reachable is bad input, not a check.
	code, _, errOut, _ = runQuery(t, nil, "-f", canary, "-f", tmpl, "--kubeconfig", "/nowhere")
	if code != ExitBadInput || !strings.Contains(errOut, "cluster:") {
		t.Errorf("unreachable cluster: exit %d\n%s", code, errOut)
	}
}
