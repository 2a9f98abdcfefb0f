package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRecordingReplaysLikeTheOriginal: for every shipped dataset and both the
// podinfo and the judged Canary, a replay over `augur record`'s recording of
// the replay's window gives the same ticks as a replay over the original.
func TestRecordingReplaysLikeTheOriginal(t *testing.T) {
	datasets, err := filepath.Glob(filepath.Join(podinfo, "*.om"))
	if err != nil || len(datasets) == 0 {
		t.Fatalf("no datasets: %v", err)
	}
	for _, canary := range []string{podinfo, judged} {
		for _, data := range datasets {
			t.Run(filepath.Base(canary)+"/"+filepath.Base(data), func(t *testing.T) {
				code, orig, stderr := run(t, "", "replay", "-f", canary, "--data", data, "-o", "json")
				if code == ExitBadInput {
					t.Fatalf("replay over the original: %s", stderr)
				}
				var res struct {
					Ticks []struct {
						Time string `json:"time"`
					} `json:"ticks"`
				}
				if err := json.Unmarshal([]byte(orig), &res); err != nil || len(res.Ticks) == 0 {
					t.Fatalf("replay output: %v %s", err, orig)
				}
				start, end := res.Ticks[0].Time, res.Ticks[len(res.Ticks)-1].Time
				out := filepath.Join(t.TempDir(), "window.om")
				rc, _, stderr := run(t, "", "record", "-f", canary, "--data", data, "--start", start, "--end", end, "--out", out)
				if rc != ExitOK && canary == podinfo && filepath.Base(data) == "no-traffic.om" {
					// The canary never served: none of its metrics' series
					// exist, and recording nothing is an error, not a file.
					if rc != ExitBadInput || !strings.Contains(stderr, "no samples between") {
						t.Errorf("record of no traffic: exit %d, stderr %s; want exit 2 saying there are no samples", rc, stderr)
					}
					return
				}
				if rc != ExitOK {
					t.Fatalf("record: exit %d: %s", rc, stderr)
				}
				gotCode, got, stderr := run(t, "", "replay", "-f", canary, "--data", out, "--start", start, "-o", "json")
				if gotCode != code || got != orig {
					t.Errorf("replay over the recording (exit %d) differs from the original's (exit %d): %s\n(-original +recording):\n%s",
						gotCode, code, stderr, clip(cmp.Diff(orig, got)))
				}
			})
		}
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return strings.TrimSpace(s)
}
