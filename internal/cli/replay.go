package cli

import (
	"bytes"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/report"
)

// ReplayOptions are `augur replay`'s inputs.
type ReplayOptions struct {
	IO       *IOStreams
	Files    fileFlags
	Engine   engineFlags
	Source   sourceFlags
	Status   statusFlags
	Hooks    hookFlags
	Judge    judgeFlags
	Start    string
	Interval time.Duration
	MaxTicks int
	Output   string
	Report   string
	// InstantQueries turns off the range-query prefetch of live replays.
	InstantQueries bool
}

// NewCmdReplay builds `augur replay`.
// recordedRangeChunk is how many ticks one range query covers in a replay
// over --data (4 hours of one-minute ticks).
const recordedRangeChunk = 240

func NewCmdReplay(ios *IOStreams, runF func(*cobra.Command, *ReplayOptions) error) *cobra.Command {
	opts := &ReplayOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "replay -f FILE... (--data FILE | --prometheus URL) [--start TIME]",
		Short: "Replay a whole rollout on a simulated clock and say how it would end",
		Long: `Replay a Canary's analysis over recorded data (or a live Prometheus's history): one tick
every analysis.interval from --start, each tick's status feeding the next, until the canary
is Succeeded or Failed or --max-ticks is reached. Prints Flagger's events per tick with the
metric values behind each decision.

The replay starts from the status given by --status (default: Progressing, weight 0, no
failed checks — right after a new revision was detected), so its first tick is the
pre-rollout tick. Webhooks default to pass.

Exit codes: 0 promoted, 3 rolled back, 1 neither (stopped at --max-ticks), 2 bad input.`,
		Example: `  augur replay -f testdata/podinfo/ --data testdata/podinfo/healthy.om
  augur replay -f canary.yaml --prometheus http://127.0.0.1:9090 --start 2026-11-01T10:02:00Z -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return replayRun(cmd, opts)
		},
	}
	opts.Files.register(cmd)
	opts.Engine.registerMesh(cmd)
	opts.Source.register(cmd)
	opts.Status.register(cmd, string(analysis.PhaseProgressing))
	opts.Hooks.register(cmd, "pass")
	opts.Judge.register(cmd)
	cmd.Flags().StringVar(&opts.Start, "start", "", "first tick: RFC 3339, Unix seconds or +DUR after the data's start (default: the first whole minute after a full metric window and judge window of the data)")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 0, "time between ticks (default: the Canary's analysis.interval)")
	cmd.Flags().IntVar(&opts.MaxTicks, "max-ticks", engine.DefaultMaxTicks, "stop after this many ticks")
	cmd.Flags().BoolVar(&opts.InstantQueries, "instant-queries", false, "evaluate one instant query per metric per tick instead of fetching each metric's values with range queries (from a live server with query_range, or from --data in the embedded engine; docs/range-replay.md)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text, json or yaml")
	registerReport(cmd, &opts.Report)
	return cmd
}

type replayTickJSON struct {
	Time         time.Time        `json:"time"`
	Phase        analysis.Phase   `json:"phase"`
	CanaryWeight int              `json:"canaryWeight"`
	FailedChecks int              `json:"failedChecks"`
	Iterations   int              `json:"iterations"`
	Action       analysis.Action  `json:"action"`
	Events       []analysis.Event `json:"events"`
	Checks       []analysis.Check `json:"checks"`
	Score        *judges.Summary  `json:"score,omitempty"`
	Reasons      []string         `json:"reasons,omitempty"`
}

// firstWindow is the default start of a replay over recorded data: the data's
// start plus the longest metric or judge window (so every rate() and every
// judge has a full window),
// rounded up to a whole minute. Scrapes rarely fall on whole minutes, so the
// ticks stay off the sample grid, where Prometheus 2.x (closed range windows)
// and 3.x (left-open) agree.
func firstWindow(start time.Time, plans []engine.MetricPlan) time.Time {
	return ceilMinute(start.Add(longestWindow(plans)))
}

// longestWindow is the longest metric interval or fixed judge window of
// plans (at least a minute).
func longestWindow(plans []engine.MetricPlan) time.Duration {
	longest := time.Minute
	for _, p := range plans {
		if d, err := time.ParseDuration(p.Interval); err == nil && d > longest {
			longest = d
		}
		// A judge's first window lies inside the data too.
		longest = max(longest, fixedJudgeWindow(p))
	}
	return longest
}

func ceilMinute(t time.Time) time.Time {
	if f := t.Truncate(time.Minute); !f.Equal(t) {
		return f.Add(time.Minute)
	}
	return t
}

// defaultAt is the evaluation time of query/analyze over recorded data when
// --at is not given: the newest sample's time truncated to a whole minute
// (off the sample grid, like firstWindow).
func defaultAt(end time.Time) time.Time { return recorded.EvalTime(end) }

// evalTime reads --at against the source: the flag's time, else the default
// for recorded data (defaultAt), else zero (the live server's now).
func (s *dataSource) evalTime(flag string) (time.Time, error) {
	at, err := parseTime("at", flag, s.start, s.end)
	if err != nil {
		return at, err
	}
	if !at.IsZero() || s.end.IsZero() {
		return at, s.inData("at", at)
	}
	return defaultAt(s.end), nil
}

func replayRun(cmd *cobra.Command, opts *ReplayOptions) error {
	if err := checkOutput(opts.Output); err != nil {
		return badInput(err)
	}
	set, err := opts.Files.load(opts.IO)
	if err != nil {
		return badInput(err)
	}
	c, err := opts.Files.one(set)
	if err != nil {
		return badInput(err)
	}
	st, err := opts.Status.status(cmd, opts.IO)
	if err != nil {
		return badInput(err)
	}
	hooks, err := opts.Hooks.caller()
	if err != nil {
		return badInput(err)
	}
	judgeOv, score, err := opts.Judge.overrides(&c)
	if err != nil {
		return badInput(err)
	}
	src, err := opts.Source.open(true)
	if err != nil {
		return badInput(err)
	}
	start, err := parseTime("start", opts.Start, src.start, src.end)
	if err != nil {
		return badInput(err)
	}
	eng, err := opts.Engine.newEngine(src.registry, set, hooks, opts.Source.apply, fileSecrets(set))
	if err != nil {
		return badInput(err)
	}
	if start.IsZero() && src.start.IsZero() {
		return badInput(fmt.Errorf("--start is required with --prometheus"))
	}
	plans, err := eng.PlanFor(cmd.Context(), &c, engine.PlanOptions{Judges: judgeOv})
	if err != nil {
		return err
	}
	if err := missingTemplates(&c, plans); err != nil {
		return badInput(err)
	}
	if err := checkPlans(plans, src.queryTypes()); err != nil {
		return badInput(err)
	}
	if start.IsZero() {
		start = firstWindow(src.start, plans)
		if cu := src.coveredUntil(); !cu.IsZero() && start.After(cu) {
			// Without --start, a first tick after the data is the
			// windows' doing, not a time the user chose.
			return badInput(fmt.Errorf("no tick fits in the recorded data %s (%s to %s): a full metric and judge window (the longest is %s) would end at %s, after the data; use shorter windows or longer data",
				src.file, formatTime(src.start), formatTime(src.end), shortDuration(longestWindow(plans)), formatTime(start)))
		}
	}
	if err := src.inData("start", start); err != nil {
		return badInput(err)
	}
	if err := src.judgeWindowsInData(plans, "start", start); err != nil {
		return badInput(err)
	}
	interval := opts.Interval
	if interval <= 0 {
		interval = c.GetAnalysis().IntervalDuration()
	}
	req := engine.ReplayRequest{Canary: c, Status: st, Start: start, Interval: interval, MaxTicks: opts.MaxTicks,
		Judges: judgeOv, Score: score, DataEnd: src.coveredUntil(),
		RangeQueries: !opts.InstantQueries}
	if opts.Source.Data != "" {
		// In process, a chunk of points costs CPU, not a request: keep the
		// points computed in vain small when the canary stops early.
		req.RangeChunk = recordedRangeChunk
	}
	text := opts.Output == "text"
	if text {
		fmt.Fprintf(opts.IO.Out, "Replaying canary %s/%s from %s, one tick every %s\nSource: %s\n",
			c.Metadata.Namespace, c.Metadata.Name, formatTime(start), interval, src.desc)
		req.Progress = func(n int, t engine.ReplayTick) {
			writeReplayTick(opts, n, t)
		}
	} else if opts.IO.IsTerminal {
		req.Progress = func(n int, t engine.ReplayTick) {
			fmt.Fprintf(opts.IO.ErrOut, "\rtick %d  %s  weight %d  failed checks %d   ", n,
				t.Decision.Status.Phase, t.Decision.Status.CanaryWeight, t.Decision.Status.FailedChecks)
		}
	}
	res, err := eng.Replay(cmd.Context(), req)
	if opts.IO.IsTerminal && !text {
		fmt.Fprintln(opts.IO.ErrOut)
	}
	if err != nil {
		return err
	}
	if text {
		fmt.Fprintln(opts.IO.Out)
		fmt.Fprintln(opts.IO.Out, replaySummary(res, src.end))
	} else {
		ticks := make([]replayTickJSON, 0, len(res.Ticks))
		for _, t := range res.Ticks {
			d := t.Decision
			ticks = append(ticks, replayTickJSON{
				Time: t.Time.UTC(), Phase: d.Status.Phase, CanaryWeight: d.Status.CanaryWeight,
				FailedChecks: d.Status.FailedChecks, Iterations: d.Status.Iterations, Action: d.Action,
				Events: nonNil(d.Events), Checks: nonNil(d.Checks), Score: d.Score, Reasons: d.Reasons,
			})
		}
		out := map[string]any{"result": res.Result, "finished": res.Finished, "ticks": ticks}
		if res.DataEnded {
			out["dataEnded"] = formatTime(src.end)
		}
		if err := writeStructured(opts.IO.Out, opts.Output, out); err != nil {
			return err
		}
	}
	if opts.Report != "" {
		if err := writeReportFile(opts.Report, func(b *bytes.Buffer) error { return report.Write(b, replayReport(c, src, st, res)) }); err != nil {
			return badInput(err)
		}
	}
	switch {
	case res.Result == analysis.PhaseSucceeded:
		return nil
	case res.Result == analysis.PhaseFailed:
		return &ExitError{Code: ExitRolledBack}
	default:
		return &ExitError{Code: ExitCheckFail}
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func replaySummary(res engine.ReplayResult, dataEnd time.Time) string {
	n := len(res.Ticks)
	if res.DataEnded {
		return fmt.Sprintf("Result: the data ends at %s before the analysis finished (still %s after %d ticks).",
			formatTime(dataEnd), res.Result, n)
	}
	switch res.Result {
	case analysis.PhaseSucceeded:
		return fmt.Sprintf("Result: Succeeded after %d ticks — the canary would be promoted.", n)
	case analysis.PhaseFailed:
		return fmt.Sprintf("Result: Failed after %d ticks — the canary would be rolled back.", n)
	}
	return fmt.Sprintf("Result: still %s after %d ticks (stopped at --max-ticks).", res.Result, n)
}

func writeReplayTick(opts *ReplayOptions, n int, t engine.ReplayTick) {
	w := opts.IO.Out
	d := t.Decision
	transition := describeTransition(t.Before, d.Status)
	if d.Weights.Canary != d.Status.CanaryWeight {
		// WaitingPromotion and Promoting store weight 0 while the
		// router still sends traffic to the canary: show both.
		transition += fmt.Sprintf(" (routed: canary %d%%, primary %d%%)", d.Weights.Canary, d.Weights.Primary)
	}
	fmt.Fprintf(w, "\n#%-3d %s  %-8s %s\n", n, t.Time.UTC().Format("15:04:05.999"), d.Action, transition)
	writeEvents(w, "     ", d.Events)
	if len(d.Checks) > 0 {
		writeChecks(w, "       ", d.Checks)
		writeScore(w, "       ", d.Score)
	}
}
