package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// canaryWithHook writes the podinfo Canary with its webhooks pointed at url,
// plus extra YAML appended to the document (e.g. a status), and returns the
// directory holding it and the podinfo MetricTemplate.
func canaryWithHook(t *testing.T, url, extra string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(podinfo, "canary.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mt, err := os.ReadFile(filepath.Join(podinfo, "metrictemplate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := strings.ReplaceAll(string(b), "http://flagger-loadtester.test/", url) + extra
	if err := os.WriteFile(filepath.Join(dir, "canary.yaml"), []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metrictemplate.yaml"), mt, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOfflineAnalyzeCallsNoWebhook: analyze on recorded data reaches no
// network unless asked to, and says so.
func TestOfflineAnalyzeCallsNoWebhook(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls.Add(1) }))
	defer srv.Close()
	dir := canaryWithHook(t, srv.URL+"/", "")
	args := []string{"analyze", "-f", dir, "--data", podinfo + "/healthy.om", "--at", "+5m", "--weight", "20"}

	code, out, errOut := run(t, "", args...)
	if code != ExitOK || calls.Load() != 0 {
		t.Fatalf("exit %d after %d webhook calls, want 0 and none; stdout %s stderr %s", code, calls.Load(), out, errOut)
	}
	if !strings.Contains(out, "Webhooks: not called, every hook passes (offline run on --data; --webhooks call calls them)") {
		t.Errorf("the output does not say the webhooks were not called:\n%s", out)
	}
	if code, _, errOut = run(t, "", append(args, "-o", "json")...); code != ExitOK || !strings.Contains(errOut, "webhooks not called") {
		t.Errorf("json: exit %d stderr %q, want 0 and a note on standard error", code, errOut)
	}
	if code, out, _ = run(t, "", append(args, "--webhooks", "call")...); code != ExitOK || calls.Load() == 0 {
		t.Errorf("--webhooks call: exit %d after %d calls, want the hooks called; stdout %s", code, calls.Load(), out)
	}
	if _, out, _ = run(t, "", "analyze", "--help"); !strings.Contains(out, "with --data the default is pass") {
		t.Errorf("analyze --help does not say --data changes --webhooks' default:\n%s", out)
	}
}

// TestAnalyzeFileStatus: a Canary file holding its status (kubectl get -o
// yaml) is analyzed from that status, as /v1/decide does.
func TestAnalyzeFileStatus(t *testing.T) {
	dir := canaryWithHook(t, "http://127.0.0.1:1/", "status:\n  phase: Progressing\n  canaryWeight: 30\n  failedChecks: 1\n")
	code, out, errOut := run(t, "", "analyze", "-f", dir, "--data", podinfo+"/healthy.om", "--at", "+5m")
	if code != ExitOK {
		t.Fatalf("exit %d; stdout %s stderr %s", code, out, errOut)
	}
	if !strings.Contains(out, "weight 30 → 40, failed checks 1") {
		t.Errorf("the decision does not start from the file's status (weight 30, failed checks 1):\n%s", out)
	}
	// Flags still win over the file's status.
	if _, out, _ = run(t, "", "analyze", "-f", dir, "--data", podinfo+"/healthy.om", "--at", "+5m", "--weight", "10"); !strings.Contains(out, "weight 10 → 20") {
		t.Errorf("--weight 10 did not override the file's status:\n%s", out)
	}
}

// TestIterationsMinusOneAccepted: WaitingPromotion's stored iterations -1 is
// accepted back as input.
func TestIterationsMinusOneAccepted(t *testing.T) {
	code, out, errOut := run(t, "", "analyze", "-f", podinfo, "--data", podinfo+"/healthy.om", "--at", "+5m",
		"--phase", "WaitingPromotion", "--iterations", "-1", "--webhooks", "pass")
	if code == ExitBadInput {
		t.Fatalf("--iterations -1 refused: %s %s", out, errOut)
	}
	if code, _, _ = run(t, "", "analyze", "-f", podinfo, "--data", podinfo+"/healthy.om", "--iterations", "-2"); code != ExitBadInput {
		t.Errorf("--iterations -2: exit %d, want %d", code, ExitBadInput)
	}
}
