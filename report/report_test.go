package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
)

func f(v float64) *float64 { return &v }

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func TestOffset(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "+0s"}, {5 * time.Minute, "+5m"}, {90 * time.Second, "+1m30s"}, {time.Hour, "+1h"},
		{time.Hour + 2*time.Minute, "+1h2m"}, {-time.Minute, "−1m"}, {1500 * time.Millisecond, "+1.5s"},
	}
	for _, tt := range tests {
		if got := offset(t0, t0.Add(tt.d)); got != tt.want {
			t.Errorf("offset(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	got := redact("Prometheus at https://admin:s3cret@prom.example:9090/api and http://tok@h")
	if strings.Contains(got, "s3cret") || strings.Contains(got, "admin") || strings.Contains(got, "tok@") ||
		!strings.Contains(got, "https://[redacted]@prom.example:9090/api") {
		t.Errorf("redact = %q", got)
	}
}

func TestNiceStep(t *testing.T) {
	tests := []struct{ raw, want float64 }{{0.3, 0.5}, {1, 1}, {1.1, 2}, {3, 5}, {7, 10}, {120, 200}, {0, 1}, {-1, 1}}
	for _, tt := range tests {
		if got := niceStep(tt.raw); got != tt.want {
			t.Errorf("niceStep(%g) = %g, want %g", tt.raw, got, tt.want)
		}
	}
}

func check(metric string, kind analysis.MetricKind, v, lo, hi *float64) analysis.Check {
	c := analysis.Check{Metric: metric, Kind: kind, Value: v, Min: lo, Max: hi, Passed: true}
	if v != nil && (lo != nil && *v < *lo || hi != nil && *v > *hi) {
		c.Passed = false
	}
	return c
}

func render(t *testing.T, r *Replay) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestWhy: the header names the metric that failed, when and by how much.
func TestWhy(t *testing.T) {
	tick := func(i int, rate float64, phase analysis.Phase, action analysis.Action, failed int) Tick {
		return Tick{Time: t0.Add(time.Duration(i) * time.Minute), Phase: phase, Action: action, FailedChecks: failed,
			Checks: []analysis.Check{check("request-success-rate", analysis.KindSuccessRate, f(rate), f(99), nil)}}
	}
	tests := []struct {
		name  string
		r     Replay
		wants []string
	}{
		{"rolled back", Replay{Kind: KindReplay, Result: analysis.PhaseFailed, Ticks: []Tick{
			tick(0, 99.5, analysis.PhaseProgressing, analysis.ActionAdvance, 0),
			tick(1, 97, analysis.PhaseProgressing, analysis.ActionHold, 1),
			tick(2, 92.25, analysis.PhaseProgressing, analysis.ActionHold, 2),
			{Time: t0.Add(3 * time.Minute), Phase: analysis.PhaseFailed, Action: analysis.ActionRollback, FailedChecks: 2},
		}}, []string{"Rolled back at 10:03:00 after 2 failed checks", "request-success-rate was 92.25%, 6.75 points below the minimum 99.00% at 10:02:00",
			"first failed check: request-success-rate at 10:01:00"}},
		{"promoted clean", Replay{Kind: KindReplay, Result: analysis.PhaseSucceeded, Ticks: []Tick{
			tick(0, 99.5, analysis.PhaseSucceeded, analysis.ActionPromote, 0)}}, []string{"Promoted after 1 ticks: every metric check passed."}},
		{"analyze hold", Replay{Kind: KindAnalyze, Result: analysis.PhaseProgressing, Ticks: []Tick{
			tick(0, 90, analysis.PhaseProgressing, analysis.ActionHold, 1)}}, []string{"This tick failed: request-success-rate was 90.00%, 9.00 points below"}},
		{"no value", Replay{Kind: KindAnalyze, Result: analysis.PhaseProgressing, Ticks: []Tick{{Time: t0, Action: analysis.ActionHold,
			Checks: []analysis.Check{{Metric: "rps", Kind: analysis.KindTemplate, Error: "no values found", Min: f(1)}}}}},
			[]string{"rps had no value (no values found)"}},
		{"no ticks", Replay{Kind: KindReplay}, []string{"No tick ran."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := why(&tt.r)
			for _, w := range tt.wants {
				if !strings.Contains(got, w) {
					t.Errorf("why = %q, want it to contain %q", got, w)
				}
			}
			render(t, &tt.r) // renders without error
		})
	}
}

// TestEscaping: names and texts from the request (metric names, queries,
// event messages, webhook errors) cannot inject markup, in HTML or SVG.
func TestEscaping(t *testing.T) {
	evil := `<script>alert(1)</script>"'&`
	r := &Replay{Kind: KindDecide, Namespace: evil, Name: evil, Source: evil, Result: analysis.PhaseProgressing, Ticks: []Tick{{
		Time: t0, Action: analysis.ActionHold, Events: []analysis.Event{{Type: analysis.EventWarning, Message: evil}},
		Hooks:  []analysis.HookResult{{Name: evil, Type: "rollout", Err: evil}},
		Checks: []analysis.Check{check(evil, analysis.KindTemplate, f(3), nil, f(1))}, Reasons: []string{evil},
	}}}
	r.Ticks[0].Checks[0].Query = evil
	page := render(t, r)
	if strings.Contains(page, "<script") {
		t.Errorf("the page contains an unescaped <script>")
	}
	if !strings.Contains(page, "&lt;script&gt;") {
		t.Errorf("the metric name is not shown escaped")
	}
}

// TestJudgedEvidenceDegrades: judged checks render whatever fields their
// explanation has — all of them, none, or only some.
func TestJudgedEvidenceDegrades(t *testing.T) {
	full := &analysis.Judgement{Result: judges.Result{Judge: judges.KindErrorRate, Verdict: judges.Fail, Classification: judges.ClassHigh,
		Explanation: judges.Explanation{Data: "counts", Method: "two-proportion z-test",
			Canary:    judges.Side{Count: 1000, Requests: f(1000), Errors: f(30), Rate: f(0.03)},
			Baseline:  judges.Side{Count: 9000, Requests: f(9000), Errors: f(90), Rate: f(0.01)},
			Statistic: &judges.Statistic{Name: "z", Value: 5.1}, PValue: f(1e-7), Alpha: 0.05,
			Shift: &judges.Shift{Kind: "rate difference", Estimate: f(0.02), Lower: f(0.01), Upper: f(0.03), Confidence: 0.95},
			Rule:  "High: the canary's error rate is higher."}}}
	empty := &analysis.Judgement{Result: judges.Result{Judge: "future-judge", Verdict: "inconclusive"}}
	seq := &analysis.Judgement{Result: judges.Result{Judge: judges.KindSequential, Verdict: judges.Pass, Classification: judges.ClassPass,
		Explanation: judges.Explanation{Canary: judges.Side{Mean: f(10)}, Baseline: judges.Side{Mean: f(9)},
			Shift:      &judges.Shift{Kind: "mean difference", Estimate: f(1)},
			Sequential: &judges.SequentialDetail{RegressionEValue: f(3), FailThreshold: 20, PassThreshold: 20}}}}
	var ticks []Tick
	for i, j := range []*analysis.Judgement{full, empty, seq, nil} {
		c := analysis.Check{Metric: "errors", Kind: analysis.KindTemplate, Value: f(3), Judgement: j, Passed: j == nil || j.Verdict == judges.Pass,
			Inconclusive: j != nil && j.Verdict == "inconclusive"}
		ticks = append(ticks, Tick{Time: t0.Add(time.Duration(i) * time.Minute), Action: analysis.ActionHold, Checks: []analysis.Check{c},
			Score: &judges.Summary{Verdict: judges.Fail, Pass: 95, Marginal: 75}})
	}
	page := render(t, &Replay{Kind: KindReplay, Result: analysis.PhaseProgressing, Ticks: ticks})
	for _, want := range []string{`id="chart-errors-judged"`, `id="chart-errors-evidence"`, "error rate 3%", "rate difference: 0.02 [0.01, 0.03] at 95% confidence",
		"p = 1e-07 (α = 0.05)", `id="chart-score"`, `id="chart-errors-shift"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, ">-0<") {
		t.Error("an axis is labelled -0")
	}
}

// TestNoValue: a check without a value is marked (▲, "no value") on its
// chart, never drawn as a number.
func TestNoValue(t *testing.T) {
	r := &Replay{Kind: KindReplay, Result: analysis.PhaseProgressing, Ticks: []Tick{
		{Time: t0, Checks: []analysis.Check{check("rps", analysis.KindQuery, f(5), f(1), nil)}},
		{Time: t0.Add(time.Minute), Checks: []analysis.Check{{Metric: "rps", Kind: analysis.KindQuery, Min: f(1), Error: "no values found"}}},
	}}
	page := render(t, r)
	if !strings.Contains(page, `<g class="mark error">`) || !strings.Contains(page, `data-value="null"`) {
		t.Errorf("the missing value is not marked")
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		var ticks []Tick
		for i := range n {
			var cs []analysis.Check
			for m := range 3 {
				cs = append(cs, check(fmt.Sprintf("metric-%d", m), analysis.KindSuccessRate, f(99+float64(i%7)/10-float64(m)), f(99), nil))
			}
			ticks = append(ticks, Tick{Time: t0.Add(time.Duration(i) * time.Minute), Phase: analysis.PhaseProgressing, CanaryWeight: 10 * (i % 6),
				Action: analysis.ActionAdvance, Checks: cs, Events: []analysis.Event{{Type: analysis.EventNormal, Message: "Advance podinfo.test canary weight 10"}}})
		}
		r := &Replay{Kind: KindReplay, Result: analysis.PhaseProgressing, Ticks: ticks}
		b.Run(fmt.Sprintf("ticks=%d", n), func(b *testing.B) {
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := Write(&buf, r); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}
