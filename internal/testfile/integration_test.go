package testfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/augurproj/augur/metrics/recorded"
)

// TestIntegrationRecordReplaysLikeTheServer starts a real Prometheus
// (scripts/prometheus-testenv.sh) holding a podinfo dataset, runs
// `augur record` against it for a window, and replays the window twice with
// the built binary: from the recorded file and from the live server. Every
// tick must decide the same, with the same values (the datasets keep their
// samples off the window edges, where Prometheus 2's closed ranges and the
// embedded engine's left-open ones agree). It runs when AUGUR_INTEGRATION=1
// (scripts/integration.sh).
func TestIntegrationRecordReplaysLikeTheServer(t *testing.T) {
	if os.Getenv("AUGUR_INTEGRATION") != "1" {
		t.Skip("set AUGUR_INTEGRATION=1 (scripts/integration.sh) to run against a real Prometheus")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := augurBinary(t, root)
	const start, end = "2026-11-01T10:01:00Z", "2026-11-01T10:12:00Z"
	manifests := filepath.Join(root, "examples/podinfo/manifests")
	for _, tc := range []struct {
		data   string
		result string
	}{
		{"healthy", "Succeeded"},
		{"not-found-climb", "Failed"},
	} {
		t.Run(tc.data, func(t *testing.T) {
			url := startPrometheus(t, root, filepath.Join(root, "testdata/podinfo", tc.data+".om"))
			window := filepath.Join(t.TempDir(), "window.om")
			augur(t, bin, 0, "record", "-f", manifests, "--prometheus", url, "--start", start, "--end", end, "--out", window)
			store, err := recorded.LoadOpenMetricsFile(window)
			if err != nil {
				t.Fatal(err)
			}
			if store.SampleCount() == 0 {
				t.Fatal("nothing recorded")
			}
			code := 0
			if tc.result == "Failed" {
				code = 3
			}
			// Weight 10: the first tick already checks the metrics, so it reads
			// the minute before --start, which record must have captured.
			args := []string{"replay", "-f", manifests, "--start", start, "--weight", "10", "--max-ticks", "12", "-o", "json"}
			fromFile := decodeReplay(t, augur(t, bin, code, append(args, "--data", window)...))
			fromServer := decodeReplay(t, augur(t, bin, code, append(args, "--prometheus", url)...))
			if fromServer.Result != tc.result || len(fromServer.Ticks) < 2 {
				t.Fatalf("server replay ended %s after %d ticks, want %s", fromServer.Result, len(fromServer.Ticks), tc.result)
			}
			if diff := cmp.Diff(fromServer, fromFile, cmpopts.EquateApprox(1e-12, 0)); diff != "" {
				t.Errorf("replay from the recording differs from the live server (-server +file):\n%s", diff)
			}
		})
	}
}

type replayJSON struct {
	Result   string
	Finished bool
	Ticks    []struct {
		Time         string
		Phase        string
		CanaryWeight int
		FailedChecks int
		Iterations   int
		Action       string
		Events       []struct{ Type, Message string }
		Checks       []struct {
			Metric string
			Query  string
			Value  *float64
			Passed bool
			Error  string
			Reason string
		}
		Reasons []string
	}
}

func decodeReplay(t *testing.T, out []byte) replayJSON {
	t.Helper()
	var r replayJSON
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("replay output: %v\n%s", err, out)
	}
	return r
}

// augurBinary returns $AUGUR_BIN or builds the binary.
func augurBinary(t *testing.T, root string) string {
	t.Helper()
	if bin := os.Getenv("AUGUR_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "augur")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/augur")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// augur runs the binary and checks its exit code.
func augur(t *testing.T, bin string, code int, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	got := 0
	if ee, ok := err.(*exec.ExitError); ok {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("augur %s: %v", strings.Join(args, " "), err)
	}
	if got != code {
		t.Fatalf("augur %s: exit %d, want %d\nstderr: %s", strings.Join(args, " "), got, code, stderr.String())
	}
	return stdout.Bytes()
}

// startPrometheus starts a real server holding data and returns its URL;
// the server is stopped when the test ends.
func startPrometheus(t *testing.T, root, data string) string {
	t.Helper()
	script := filepath.Join(root, "scripts/prometheus-testenv.sh")
	cmd := exec.CommandContext(t.Context(), script, "start", data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("prometheus-testenv.sh start: %v\n%s", err, stderr.String())
	}
	dir := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(dir, '\n'); i >= 0 {
		dir = dir[i+1:]
	}
	t.Cleanup(func() {
		// t.Context is done during cleanup; the stop must still run.
		if out, err := exec.Command(script, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("prometheus-testenv.sh stop: %v\n%s", err, out)
		}
	})
	f, err := os.Open(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if url, ok := strings.CutPrefix(sc.Text(), "PROMETHEUS_URL="); ok {
			return url
		}
	}
	t.Fatalf("no PROMETHEUS_URL in %s/env", dir)
	return ""
}
