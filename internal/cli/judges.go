package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/engine"
)

// judgeFlags configure the statistical judges from the command line.
type judgeFlags struct {
	Judges []string
	Off    bool
	Score  string
}

func (j *judgeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&j.Judges, "judge", nil,
		"judge METRIC against the primary: METRIC:KEY=VALUE[,KEY=VALUE...] with the keys of docs/judges.md "+
			"(judge=mann-whitney|error-rate|histogram|sequential|threshold, window, step, alpha, …); "+
			"merged over the Canary's judge.augur.dev annotations; repeatable")
	cmd.Flags().BoolVar(&j.Off, "no-judges", false, "ignore every judge configuration: Flagger's threshold checks only")
	cmd.Flags().StringVar(&j.Score, "score", "", "score thresholds of the judged metrics: pass=N,marginal=N (default 95 and 75)")
}

// overrides parses the flags for canary c and checks them together with the
// canary's judge annotations.
func (j *judgeFlags) overrides(c *analysis.Canary) (map[string]map[string]string, map[string]string, error) {
	if j.Off && len(j.Judges) > 0 {
		return nil, nil, fmt.Errorf("--no-judges and --judge are exclusive")
	}
	out := map[string]map[string]string{}
	if j.Off {
		if a := c.GetAnalysis(); a != nil {
			for _, m := range a.Metrics {
				out[m.Name] = map[string]string{judges.KeyJudge: engine.JudgeThreshold}
			}
		}
	}
	for _, f := range j.Judges {
		metric, list, ok := strings.Cut(f, ":")
		if !ok || metric == "" {
			return nil, nil, fmt.Errorf("--judge %q: want METRIC:KEY=VALUE[,KEY=VALUE...]", f)
		}
		kv, err := engine.ParseJudgeList(list, engine.JudgeKeys())
		if err != nil {
			return nil, nil, fmt.Errorf("--judge %q: %w", f, err)
		}
		if out[metric] == nil {
			out[metric] = map[string]string{}
		}
		for k, v := range kv {
			if _, dup := out[metric][k]; dup {
				return nil, nil, fmt.Errorf("--judge %q: metric %s key %s given twice", f, metric, k)
			}
			out[metric][k] = v
		}
	}
	var score map[string]string
	if j.Score != "" {
		var err error
		if score, err = engine.ParseJudgeList(j.Score, []string{judges.KeyPass, judges.KeyMarginal}); err != nil {
			return nil, nil, fmt.Errorf("--score %q: %w", j.Score, err)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	if err := engine.ValidateJudges(c, out); err != nil {
		return nil, nil, err
	}
	if _, err := engine.ScoreConfig(c, score); err != nil {
		return nil, nil, err
	}
	return out, score, nil
}

// num4 prints a number with four significant digits.
func num4(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func optNum(v *float64) string {
	if v == nil {
		return "-"
	}
	return num4(*v)
}

// describeSide is one side's numbers: counts and rates, or n, mean and median.
func describeSide(s judges.Side) string {
	var b strings.Builder
	if s.Requests != nil {
		fmt.Fprintf(&b, "errors %s/%s", optNum(s.Errors), optNum(s.Requests))
		if s.Rate != nil {
			fmt.Fprintf(&b, " (%s%%)", num4(100**s.Rate))
		}
	} else {
		fmt.Fprintf(&b, "n=%s mean %s median %s", num4(s.Count), optNum(s.Mean), optNum(s.Median))
	}
	if s.NaNs > 0 {
		fmt.Fprintf(&b, " nans %d", s.NaNs)
	}
	if s.Outliers > 0 {
		fmt.Fprintf(&b, " outliers %d", s.Outliers)
	}
	return b.String()
}

// judgeLines are the compact lines of a judged check: what was compared,
// each side's numbers, the statistics, and the rule that decided.
func judgeLines(j *analysis.Judgement) []string {
	e := j.Explanation
	window := "since the analysis start"
	if !j.Window.Cumulative {
		window = "over " + shortDuration(j.Window.Duration())
	}
	if !j.Window.End.IsZero() {
		window += " to " + j.Window.End.UTC().Format(time.TimeOnly)
	}
	head := fmt.Sprintf("judge %s on %s %s, step %s: %s (%s)", j.Judge, orDash(string(e.Data)), window, orDash(j.Window.Step),
		j.Verdict, j.Classification)
	if j.Veto {
		head += ", veto"
	}
	parts := []string{head}
	if e.Data != "" && j.Error == "" {
		parts = append(parts, "canary "+describeSide(e.Canary), "baseline "+describeSide(e.Baseline))
	}
	if e.PValue != nil {
		parts = append(parts, fmt.Sprintf("p=%s (α %s)", num4(*e.PValue), num4(e.Alpha)))
	}
	if sq := e.Sequential; sq != nil {
		parts = append(parts, fmt.Sprintf("e-values regression %s (fail ≥ %s), non-inferiority %s (pass ≥ %s)",
			optNum(sq.RegressionEValue), num4(sq.FailThreshold), optNum(sq.NonInferiorityEValue), num4(sq.PassThreshold)))
	}
	if sh := e.Shift; sh != nil {
		s := fmt.Sprintf("shift %s %s", sh.Kind, optNum(sh.Estimate))
		if sh.Lower != nil || sh.Upper != nil {
			s += fmt.Sprintf(" [%s, %s]", optNum(sh.Lower), optNum(sh.Upper))
		}
		if sh.Confidence > 0 {
			s += " " + num4(100*sh.Confidence) + "%"
		}
		parts = append(parts, s)
	}
	if ef := e.Effect; ef != nil {
		parts = append(parts, fmt.Sprintf("effect %s %s", ef.Kind, optNum(ef.Value)))
	}
	return []string{strings.Join(parts, "; "), "rule: " + e.Rule}
}

// writeScore prints the judged metrics' score.
func writeScore(w io.Writer, indent string, s *judges.Summary) {
	if s == nil {
		return
	}
	score := "-"
	if s.Score != nil {
		score = num4(*s.Score)
	}
	fmt.Fprintf(w, "%sscore %s: %s (reported, not decisive) — %s\n", indent, score, s.Classification, s.Rule)
}

// shortDuration writes 1m rather than 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// plan plans c's metrics with the judge flags applied; a bad judge flag is bad input.
func (j *judgeFlags) plan(ctx context.Context, eng *engine.Engine, c *analysis.Canary) ([]engine.MetricPlan, error) {
	ov, _, err := j.overrides(c)
	if err != nil {
		return nil, badInput(err)
	}
	return eng.PlanFor(ctx, c, engine.PlanOptions{Judges: ov})
}
