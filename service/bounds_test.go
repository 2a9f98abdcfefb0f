package service

import (
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/engine"
)

// TestDataBounds: an evaluation time is inside recorded data from its first
// sample to its last (CoveredUntil); a fixed judge window must
// start inside it too (the sequential judge is not checked), and the advice
// names a time that works, or a window that fits when none does.
func TestDataBounds(t *testing.T) {
	first := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	b := &DataBounds{Name: "d.om", First: first, Last: first.Add(30 * time.Minute), Interval: 15 * time.Second}
	for _, tt := range []struct {
		at   time.Time
		want string
	}{
		{first, ""},
		{first.Add(30 * time.Minute), ""},
		// After the last sample a series on another scrape phase may miss
		// a scrape live would have had: refused, even within one interval.
		{first.Add(30*time.Minute + time.Millisecond), "--at 2026-11-01T10:30:00.001Z is outside the recorded data d.om, whose first sample is at 2026-11-01T10:00:00Z and last at 2026-11-01T10:30:00Z (scraped every 15s)"},
		{first.Add(-time.Millisecond), "--at 2026-11-01T09:59:59.999Z is outside"},
	} {
		err := b.CheckAt("--at", tt.at)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckAt(%s) = %v, want %q", tt.at, err, tt.want)
		}
	}
	var nilBounds *DataBounds
	if err := nilBounds.CheckAt("--at", first.Add(-time.Hour)); err != nil {
		t.Errorf("a live source (nil bounds) refused a time: %v", err)
	}
	judged := func(window string, cumulative bool) []engine.MetricPlan {
		return []engine.MetricPlan{{Name: "m", Judge: &engine.JudgePlan{Window: window, Cumulative: cumulative}}, {Name: "plain"}}
	}
	for _, tt := range []struct {
		plans []engine.MetricPlan
		at    time.Time
		want  string
	}{
		{judged("10m", false), first.Add(10 * time.Minute), ""},
		{judged("10m", false), first.Add(9 * time.Minute), "metric m: its judge reads the 10m window from 2026-11-01T09:59:00Z to 2026-11-01T10:09:00Z (--at), which starts before the recorded data d.om, whose first sample is at 2026-11-01T10:00:00Z (use --at 2026-11-01T10:10:00Z or later, or a shorter judge window)"},
		{judged("1h", false), first.Add(30 * time.Minute), "(use a judge window of 30m or shorter)"},
		{judged("", true), first.Add(time.Minute), ""},
	} {
		err := b.CheckJudgeWindows(tt.plans, "--at", tt.at)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckJudgeWindows(%s) = %v, want %q", tt.at, err, tt.want)
		}
	}
}
