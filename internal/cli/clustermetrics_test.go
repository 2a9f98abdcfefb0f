package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
