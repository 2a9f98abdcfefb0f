package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReplayStopsAtTheLastSample: data whose last sample belongs to another
// target, scraped 10s after the Canary's series were last scraped (two
// targets on different scrape phases, cut at one moment). A tick 20s after
// the Canary's last scrape — within one scrape interval of the data's last
// sample — reads the 30s latency window without the scrape that live would
// have had there: under the old allowance (last sample + one interval) it
// counted a failed check for "no values". The replay must instead end with
// the data-end result at the first tick after the data's last sample, with
// no failed check (exit 1).
func TestReplayStopsAtTheLastSample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(podinfo, "healthy.om"))
	if err != nil {
		t.Fatal(err)
	}
	var last float64
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	lines = lines[:len(lines)-1] // # EOF
	for _, l := range lines {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		ts, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		last = max(last, ts)
	}
	canaryLast := time.UnixMilli(int64(last * 1000)).UTC()
	dataLast := canaryLast.Add(10 * time.Second)
	lines = append(lines, "# TYPE up gauge", fmt.Sprintf(`up{job="other"} 1 %.3f`, float64(dataLast.UnixMilli())/1000), "# EOF")
	data := filepath.Join(t.TempDir(), "two-phases.om")
	if err := os.WriteFile(data, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	after := canaryLast.Add(20 * time.Second) // a tick here is 10s after the data's last sample
	start := after.Add(-2 * time.Minute)
	code, out, stderr := run(t, "", "replay", "-f", podinfo, "--data", data, "--start", formatTime(start), "-o", "json")
	var res struct {
		Result    string `json:"result"`
		Finished  bool   `json:"finished"`
		DataEnded string `json:"dataEnded"`
		Ticks     []struct {
			Time         time.Time `json:"time"`
			FailedChecks int       `json:"failedChecks"`
		} `json:"ticks"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d: %v: %s %s", code, err, out, stderr)
	}
	for _, tk := range res.Ticks {
		if tk.FailedChecks > 0 {
			t.Errorf("tick at %s counts %d failed checks on healthy data: a verdict drawn from the data ending", formatTime(tk.Time), tk.FailedChecks)
		}
		if tk.Time.After(dataLast) {
			t.Errorf("tick at %s is after the data's last sample %s", formatTime(tk.Time), formatTime(dataLast))
		}
	}
	if code != ExitCheckFail || res.Finished || res.DataEnded != formatTime(dataLast) || len(res.Ticks) != 2 {
		t.Errorf("exit %d, finished %v, dataEnded %q after %d ticks; want exit %d, the data ending at %s after 2 ticks (stderr %s)",
			code, res.Finished, res.DataEnded, len(res.Ticks), ExitCheckFail, formatTime(dataLast), stderr)
	}
}
