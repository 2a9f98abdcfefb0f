package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics/recorded"
)

const exampleManifests = "../../examples/podinfo/manifests"

// TestRecordFromData cuts a window out of recorded data: the file holds
// what the canary's queries read, and a replay of the window from it prints
// exactly what a replay from the whole recording prints.
func TestRecordFromData(t *testing.T) {
	out := filepath.Join(t.TempDir(), "window.om")
	code, stdout, stderr := run(t, "", "record", "-f", exampleManifests, "--data", podinfo+"/not-found-climb.om",
		"--start", "2026-11-01T10:01:00Z", "--end", "2026-11-01T10:12:00Z", "--out", out)
	if code != ExitOK || stdout != "" {
		t.Fatalf("record: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	summary := regexp.MustCompile(`^augur record: \d+ series, \d+ samples from 3 queries \(5 selectors\), 2026-11-01T10:00:00.001Z to 2026-11-01T10:12:00Z, written to .*window.om\n$`)
	if !summary.MatchString(stderr) {
		t.Errorf("summary %q does not match %s", stderr, summary)
	}
	store, err := recorded.LoadOpenMetricsFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Up to --end and each series' next scrape (the data is scraped every
	// 15s, 7.5s past the minute): the window covers an evaluation at --end.
	if end := time.Date(2026, 11, 1, 10, 12, 0, 0, time.UTC); store.SeriesCount() == 0 || !store.End().Equal(end.Add(7500*time.Millisecond)) {
		t.Errorf("window holds %d series up to %s, want up to %s", store.SeriesCount(), store.End(), end.Add(7500*time.Millisecond))
	}
	replay := func(data string) string {
		// Weight 10: the first tick checks the metrics over the minute before --start.
		code, stdout, stderr := run(t, "", "replay", "-f", exampleManifests, "--data", data, "--start", "2026-11-01T10:01:00Z",
			"--weight", "10", "--max-ticks", "12", "-o", "json")
		if code != ExitRolledBack {
			t.Fatalf("replay over %s: exit %d, want 3; %s", data, code, stderr)
		}
		return stdout
	}
	if want, got := replay(podinfo+"/not-found-climb.om"), replay(out); want != got {
		t.Errorf("replay over the window differs from the whole recording:\nwhole: %s\nwindow: %s", want, got)
	}
}

// TestRecordToStdout records a two-minute window to standard output and
// compares it with a golden OpenMetrics file.
func TestRecordToStdout(t *testing.T) {
	code, stdout, stderr := run(t, "", "record", "-f", exampleManifests, "--data", podinfo+"/healthy.om",
		"--start", "-1m", "--end", "2026-11-01T10:02:00Z")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "written to standard output") || !strings.HasSuffix(stdout, "# EOF\n") {
		t.Errorf("stdout ends %q, stderr %q", stdout[max(0, len(stdout)-20):], stderr)
	}
	if _, err := recorded.ParseOpenMetrics([]byte(stdout)); err != nil {
		t.Errorf("output does not read back: %v", err)
	}
	golden(t, "record-window.om", stdout)
}

func TestRecordBadInput(t *testing.T) {
	data := podinfo + "/healthy.om"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no source", args: []string{"-f", exampleManifests, "--start", "1793527200"}, want: "give exactly one source"},
		{name: "two sources", args: []string{"-f", exampleManifests, "--data", data, "--prometheus", "http://127.0.0.1:9", "--start", "1793527200"}, want: "give exactly one source"},
		{name: "no start", args: []string{"-f", exampleManifests, "--data", data}, want: "--start is required"},
		{name: "start after end", args: []string{"-f", exampleManifests, "--data", data, "--start", "2026-11-01T10:05:00Z", "--end", "2026-11-01T10:00:00Z"}, want: "is not before --end"},
		{name: "relative end", args: []string{"-f", exampleManifests, "--data", data, "--start", "-5m", "--end", "+5m"}, want: "a relative time needs recorded data"},
		{name: "bad prometheus url", args: []string{"-f", exampleManifests, "--prometheus", "ftp://x", "--start", "1793527200", "--end", "1793527800"}, want: "--prometheus"},
		{name: "missing data", args: []string{"-f", exampleManifests, "--data", "nope.om", "--start", "1793527200", "--end", "1793527800"}, want: "--data"},
		{name: "missing template", args: []string{"-f", exampleManifests + "/canary.yaml", "--data", data, "--start", "1793527200", "--end", "1793527800"}, want: "not-found-percentage: MetricTemplate istio-system/not-found-percentage not found"},
		{name: "negative step", args: []string{"-f", exampleManifests, "--data", data, "--start", "1793527200", "--end", "1793527800", "--step", "-1s"}, want: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", append([]string{"record"}, tt.args...)...)
			if code != ExitBadInput || stdout != "" {
				t.Errorf("exit %d, want 2; stdout %q", code, stdout)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q, want %q", stderr, tt.want)
			}
		})
	}
}
