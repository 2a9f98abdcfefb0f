package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneEvaluationTimeRule runs the same query over the same recorded data,
// whose newest sample is off the minute, through `augur query --data` and
// through `augur serve --data` (POST /v1/query), and requires the same value:
// every command and transport evaluates at recorded.EvalTime (the newest
// sample's whole minute), here 60s where the gauge is 1 (it is 0 at 75s).
func TestOneEvaluationTimeRule(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.om")
	if err := os.WriteFile(data, []byte("# TYPE up gauge\nup 1 60\nup 0 75\n# EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	canary := `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  analysis:
    interval: 1m
    threshold: 1
    stepWeight: 10
    metrics:
      - name: up
        query: up
        thresholdRange: {min: 1}
`
	cf := filepath.Join(dir, "canary.yaml")
	if err := os.WriteFile(cf, []byte(canary), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "query", "-f", cf, "--data", data, "-o", "json")
	if code != ExitOK || !strings.Contains(out, `"value": 1`) {
		t.Fatalf("augur query: exit %d\n%s\n%s", code, out, errOut)
	}

	url, _, stop := startServe(t, "--data", data)
	defer stop()
	body := `{"canary":{"metadata":{"name":"podinfo","namespace":"test"},"spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
		"analysis":{"interval":"1m","threshold":1,"stepWeight":10,"metrics":[{"name":"up","query":"up","thresholdRange":{"min":1}}]}}}}`
	code, resp := post(t, http.DefaultClient, url+"/v1/query", body, nil)
	var got struct {
		Checks []struct {
			Value *float64 `json:"value"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(resp), &got); err != nil || code != 200 || len(got.Checks) != 1 || got.Checks[0].Value == nil || *got.Checks[0].Value != 1 {
		t.Fatalf("serve /v1/query: %d %s (want value 1, as augur query)", code, resp)
	}
}
