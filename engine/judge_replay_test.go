package engine_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/internal/scenario"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
)

// judgedSetup loads testdata/judged (the podinfo canary judged against its
// primary) and an engine over one recorded podinfo dataset.
func judgedSetup(t testing.TB, dataset string) (*engine.Engine, analysis.Canary, *recorded.Store) {
	t.Helper()
	td, err := scenario.TestdataDir()
	if err != nil {
		t.Fatal(err)
	}
	set, err := manifest.DecodePaths([]string{filepath.Join(td, "judged")})
	if err != nil {
		t.Fatal(err)
	}
	store, err := recorded.LoadOpenMetricsFile(filepath.Join(td, "podinfo", dataset))
	if err != nil {
		t.Fatal(err)
	}
	p := recorded.New(store, recorded.Options{})
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return p, nil })
	eng, err := engine.New(engine.Options{Registry: reg, Templates: engine.StaticTemplates(set.Templates),
		Hooks: engine.StaticHooks{Pass: true}})
	if err != nil {
		t.Fatal(err)
	}
	return eng, set.Canaries[0], store
}

// TestReplayJudgedDatasets replays the judged podinfo canary over the
// recorded datasets with each judge on its own: the 10% latency regression
// hides inside the 500 ms threshold (Flagger's checks promote it), the
// histogram, mann-whitney and sequential judges catch it, and none of them
// fails the identical or the noisy-but-equal pair.
func TestReplayJudgedDatasets(t *testing.T) {
	off := map[string]string{"judge": engine.JudgeThreshold}
	only := func(metric string, cfg map[string]string) map[string]map[string]string {
		out := map[string]map[string]string{"request-success-rate": off, "request-duration": off, "latency-mean": off}
		out[metric] = cfg
		return out
	}
	const (
		succeeded = "Succeeded"
		failed    = "Failed"
		notFailed = "not Failed"
	)
	// An override that sets the judge replaces the template's annotations
	// (whose window does not apply to the sequential judge).
	sequentialMean := map[string]string{"judge": "sequential", "margin": "2", "tau": "1", "direction": "increase", "minPoints": "10"}
	tests := []struct {
		name   string
		judges map[string]map[string]string
		want   map[string]string // dataset → result
	}{
		{"thresholds only", only("latency-mean", off), map[string]string{
			"latency-regression.om": succeeded, "identical.om": succeeded, "noisy-equal.om": succeeded}},
		{"all judges of the annotations", nil, map[string]string{
			"latency-regression.om": failed, "identical.om": succeeded, "noisy-equal.om": succeeded, "healthy.om": succeeded}},
		{"histogram", only("request-duration", map[string]string{"judge": "histogram"}), map[string]string{
			"latency-regression.om": failed, "identical.om": succeeded, "noisy-equal.om": succeeded}},
		{"mann-whitney", only("latency-mean", map[string]string{}), map[string]string{
			"latency-regression.om": failed, "identical.om": succeeded, "noisy-equal.om": succeeded}},
		{"sequential on means", only("latency-mean", sequentialMean), map[string]string{
			"latency-regression.om": failed, "identical.om": succeeded, "noisy-equal.om": notFailed}},
		{"error-rate (no error regression)", only("request-success-rate", map[string]string{"judge": "error-rate"}), map[string]string{
			"latency-regression.om": succeeded, "identical.om": succeeded, "noisy-equal.om": succeeded}},
		{"sequential on counts", only("request-success-rate", map[string]string{"judge": "sequential", "margin": "0.01"}), map[string]string{
			"latency-regression.om": succeeded, "identical.om": succeeded, "noisy-equal.om": succeeded}},
	}
	for _, tt := range tests {
		for _, ds := range sortedNames(tt.want) {
			t.Run(tt.name+"/"+ds, func(t *testing.T) {
				eng, c, store := judgedSetup(t, ds)
				res, err := eng.Replay(context.Background(), engine.ReplayRequest{
					Canary: c, Start: replayStart(store), Judges: tt.judges, MaxTicks: 30,
				})
				if err != nil {
					t.Fatal(err)
				}
				want := tt.want[ds]
				got := string(res.Result)
				if want == notFailed {
					if res.Result == analysis.PhaseFailed {
						t.Errorf("result Failed after %d ticks, want anything else", len(res.Ticks))
					}
				} else if got != want {
					t.Errorf("result %s after %d ticks, want %s", got, len(res.Ticks), want)
				}
				checkJudgedTicks(t, res, tt.judges == nil)
			})
		}
	}
}

// checkJudgedTicks checks what every judged tick of a replay reports: a
// judgement per judged check with its window, a score, and the sequential
// judge's window starting at the analysis start (the first tick).
func checkJudgedTicks(t *testing.T, res engine.ReplayResult, annotations bool) {
	t.Helper()
	judged := 0
	for i, tk := range res.Ticks {
		d := tk.Decision
		n := 0
		for _, c := range d.Checks {
			j := c.Judgement
			if j == nil {
				continue
			}
			n++
			if j.Metric != c.Metric || j.Window.End != tk.Time || j.Explanation.Rule == "" || !strings.Contains(c.Reason, j.Explanation.Rule) {
				t.Errorf("tick %d: judgement of %s: metric %q, window end %s (tick %s), rule %q, reason %q", i+1, c.Metric,
					j.Metric, j.Window.End, tk.Time, j.Explanation.Rule, c.Reason)
			}
			if j.Window.Cumulative && !j.Window.Start.Equal(res.Ticks[0].Time) {
				t.Errorf("tick %d: the sequential judge reads from %s, want the analysis start %s", i+1, j.Window.Start, res.Ticks[0].Time)
			}
			switch {
			case c.Passed && j.Verdict != judges.Pass,
				c.Inconclusive && (j.Verdict != judges.Inconclusive || j.Veto),
				j.Verdict == judges.Fail && (c.Passed || c.Inconclusive):
				t.Errorf("tick %d: check %s passed=%v inconclusive=%v for verdict %s", i+1, c.Metric, c.Passed, c.Inconclusive, j.Verdict)
			}
		}
		if n > 0 {
			judged++
			if d.Score == nil {
				t.Errorf("tick %d: %d judged checks but no score", i+1, n)
			}
		}
		if annotations && n > 0 && n != 3 {
			t.Errorf("tick %d: %d judged checks, want 3", i+1, n)
		}
	}
	if judged == 0 && annotations {
		t.Error("no tick judged a metric")
	}
}

func sortedNames(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestTickJudgedRegression is one tick of the latency regression: the
// histogram judge fails the check (a failed check with augur's event) while
// every value is inside its threshold.
func TestTickJudgedRegression(t *testing.T) {
	eng, c, store := judgedSetup(t, "latency-regression.om")
	at := replayStart(store).Add(5 * time.Minute) // 10:05:00: the default window holds 10 steps of 30s
	d, err := eng.Tick(context.Background(), engine.TickRequest{
		Canary: c, Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 20, FailedChecks: 1,
			AnalysisStart: replayStart(store).Format(time.RFC3339Nano)},
		At: at, Now: at,
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != analysis.ActionHold || d.Status.FailedChecks != 2 || d.Status.CanaryWeight != 20 {
		t.Fatalf("action %s, status %+v; want a hold with failed checks 2", d.Action, d.Status)
	}
	if len(d.Events) != 1 || !strings.HasPrefix(d.Events[0].Message, "Halt podinfo.test advancement request-duration judged against podinfo-primary.test by histogram: High: ") {
		t.Errorf("events %q", d.Events)
	}
	for _, ch := range d.Checks {
		if ch.Value == nil || ch.Judgement == nil {
			t.Fatalf("check %+v: want a value and a judgement", ch)
		}
		if ch.Metric == "request-duration" {
			if ch.Passed || *ch.Value > 500 || ch.Judgement.Classification != judges.ClassHigh || ch.Judgement.Explanation.Data != judges.DataHistogram {
				t.Errorf("request-duration: passed %v value %v classification %s data %s", ch.Passed, *ch.Value,
					ch.Judgement.Classification, ch.Judgement.Explanation.Data)
			}
		}
		if ch.Metric == "request-success-rate" && ch.Judgement.Explanation.Data != judges.DataCounts {
			t.Errorf("request-success-rate judged on %s, want counts", ch.Judgement.Explanation.Data)
		}
	}
	if d.Status.AnalysisStart != replayStart(store).Format(time.RFC3339Nano) {
		t.Errorf("analysisStart %q changed", d.Status.AnalysisStart)
	}
}

// replayStart is where `augur replay` starts by default: the data's start
// plus the longest metric interval, rounded up to a whole minute.
func replayStart(store *recorded.Store) time.Time {
	return store.Start().Add(time.Minute).Truncate(time.Minute).Add(time.Minute)
}
