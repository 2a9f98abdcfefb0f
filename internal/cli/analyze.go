package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics/answers"
	"github.com/augurproj/augur/report"
)

// AnalyzeOptions are `augur analyze`'s inputs.
type AnalyzeOptions struct {
	IO          *IOStreams
	Files       fileFlags
	Engine      engineFlags
	Source      sourceFlags
	Status      statusFlags
	Hooks       hookFlags
	Kube        kubeFlags
	Judge       judgeFlags
	EmitEvents  bool
	NewRevision bool
	Values      []string
	Checksum    string
	At          string
	Output      string
	Report      string
	// AnswersOut is the answers recording this tick appends to (--answers-out).
	AnswersOut string
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// NewCmdAnalyze builds `augur analyze`.
func NewCmdAnalyze(ios *IOStreams, runF func(*cobra.Command, *AnalyzeOptions) error) *cobra.Command {
	opts := &AnalyzeOptions{IO: ios, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "analyze (-f FILE... | --canary NS/NAME) [--status FILE | --phase P --weight W ...] (--data FILE --at TIME | --prometheus URL)",
		Short: "Decide one analysis tick: advance, hold, promote or roll back",
		Long: `Run one tick of Flagger's analysis for a Canary in its current status: the webhooks the
tick needs, every metric, and the decision with the next status, Flagger's events and each
check's numbers.

Exit codes: 0 advance or promote, 1 hold, 3 roll back, 2 bad input.`,
		Example: `  augur analyze -f testdata/podinfo/ --data testdata/podinfo/healthy.om --at +12m --weight 20 --webhooks pass
  augur analyze -f canary.yaml --status status.json --prometheus http://127.0.0.1:9090 -o json
  augur analyze --canary test/podinfo --kubeconfig ~/.kube/config --prometheus http://127.0.0.1:9090 --emit-events`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return analyzeRun(cmd, opts)
		},
	}
	opts.Files.register(cmd)
	opts.Engine.registerMesh(cmd)
	opts.Source.register(cmd)
	opts.Status.register(cmd, string(analysis.PhaseProgressing))
	opts.Kube.register(cmd)
	cmd.Flags().BoolVar(&opts.EmitEvents, "emit-events", false, "record the decision's events as Kubernetes Events on the Canary in the cluster (reason Synced)")
	opts.Hooks.register(cmd, "call")
	cmd.Flags().Lookup("webhooks").Usage += " (with --data the default is pass: an offline run calls nothing unless asked)"
	opts.Judge.register(cmd)
	cmd.Flags().BoolVar(&opts.NewRevision, "new-revision", false, "the target's spec changed since the last promotion (starts or restarts an analysis)")
	cmd.Flags().StringArrayVar(&opts.Values, "value", nil, "what-if: use this value for a metric instead of querying it, as NAME=NUMBER or NAME=error:KIND (no-values, multiple-values, or a message); repeatable")
	cmd.Flags().StringVar(&opts.Checksum, "checksum", "", "checksum passed to webhooks (default: a hash of the Canary spec)")
	cmd.Flags().StringVar(&opts.At, "at", "", "tick time: RFC 3339, Unix seconds, +DUR after the data's start or -DUR before its end (default: now, or the last whole minute of recorded data)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text, json or yaml")
	registerReport(cmd, &opts.Report)
	cmd.Flags().StringVar(&opts.AnswersOut, "answers-out", "",
		"append what the providers other than prometheus answered this tick (keptn, externalmetrics, datadog, …) to this answers recording, at the tick time (for --answers)")
	return cmd
}

func analyzeRun(cmd *cobra.Command, opts *AnalyzeOptions) error {
	if err := checkOutput(opts.Output); err != nil {
		return badInput(err)
	}
	in, err := opts.Kube.input(cmd.Context(), &opts.Files, opts.IO)
	if err != nil {
		return badInput(err)
	}
	if opts.EmitEvents && in.cluster == nil {
		return badInput(errors.New("--emit-events needs a cluster: --canary NAMESPACE/NAME without -f, or --kubeconfig"))
	}
	set, c := in.set, in.canary
	st, err := in.status(cmd, &opts.Status, opts.IO)
	if err != nil {
		return badInput(err)
	}
	offline := opts.Source.Data != "" && !cmd.Flags().Changed("webhooks")
	if offline {
		opts.Hooks.Mode = "pass"
	}
	hooks, err := opts.Hooks.caller()
	if err != nil {
		return badInput(err)
	}
	src, err := opts.Source.open(false)
	if err != nil {
		return badInput(err)
	}
	at, err := src.evalTime(opts.At)
	if err != nil {
		return badInput(err)
	}
	now := at
	if now.IsZero() {
		now = opts.Now()
	}
	values, err := parseValues(opts.Values)
	if err != nil {
		return badInput(err)
	}
	judgeOv, score, err := opts.Judge.overrides(&c)
	if err != nil {
		return badInput(err)
	}
	in.providers(src)
	reg := src.registry
	var rec *answers.Recorder
	if opts.AnswersOut != "" {
		if rec, err = answers.AppendTo(opts.AnswersOut, c.GetAnalysis().IntervalDuration()); err != nil {
			return badInput(fmt.Errorf("--answers-out: %w", err))
		}
		reg = recordingRegistry(src.registry, rec, now)
	}
	eng, err := opts.Engine.newEngine(reg, set, hooks, opts.Source.apply, fileSecrets(set), in.apply)
	if err != nil {
		return badInput(err)
	}
	var plans []engine.MetricPlan
	if !src.start.IsZero() || in.cluster == nil {
		// Checked before any hook is called or metric queried.
		if plans, err = eng.PlanFor(cmd.Context(), &c, engine.PlanOptions{Judges: judgeOv}); err != nil {
			return err
		}
		// A templateRef resolved in the cluster is Flagger's failed check
		// when its MetricTemplate is missing (a hold, as Flagger does);
		// with the files alone, it is a file the command was not given.
		if in.cluster == nil {
			if err := missingTemplates(&c, plans); err != nil {
				return badInput(err)
			}
		}
		if err := src.judgeWindowsInData(plans, "at", at); err != nil {
			return badInput(err)
		}
	}
	d, err := eng.Tick(cmd.Context(), engine.TickRequest{
		Canary: c, Status: st, NewRevision: opts.NewRevision, Checksum: opts.Checksum, At: at, Now: now, Values: values,
		Judges: judgeOv, Score: score, Plans: plans,
	})
	if err != nil {
		return err
	}
	if rec != nil {
		if err := writeAnswers(opts.AnswersOut, rec); err != nil {
			return badInput(err)
		}
	}
	if offline && opts.Output != "text" {
		fmt.Fprintln(opts.IO.ErrOut, "augur: webhooks not called, every hook passes (offline run on --data; --webhooks call calls them)")
	}
	if opts.Output != "text" {
		if err := writeStructured(opts.IO.Out, opts.Output, d); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.Out, "Canary %s/%s, tick at %s (%s)\n", c.Metadata.Namespace, c.Metadata.Name,
			formatTime(now), src.desc)
		if offline {
			fmt.Fprintln(opts.IO.Out, "Webhooks: not called, every hook passes (offline run on --data; --webhooks call calls them)")
		}
		writeDecision(opts.IO.Out, st, d)
	}
	if opts.EmitEvents {
		if err := in.emit(cmd.Context(), opts.IO, d); err != nil {
			return err
		}
	}
	if opts.Report != "" {
		if err := writeReportFile(opts.Report, func(b *bytes.Buffer) error { return report.Write(b, decisionReport(c, src, st, now, d)) }); err != nil {
			return badInput(err)
		}
	}
	switch d.Action {
	case analysis.ActionHold:
		return &ExitError{Code: ExitCheckFail}
	case analysis.ActionRollback:
		return &ExitError{Code: ExitRolledBack}
	}
	return nil
}

func writeDecision(w io.Writer, before analysis.CanaryStatus, d analysis.Decision) {
	fmt.Fprintf(w, "Action:  %s\n", d.Action)
	fmt.Fprintf(w, "Status:  %s\n", describeTransition(before, d.Status))
	fmt.Fprintf(w, "Traffic: primary %d%%, canary %d%%%s\n", d.Weights.Primary, d.Weights.Canary, mirroredNote(d.Weights.Mirrored))
	if len(d.Events) > 0 {
		fmt.Fprintln(w, "Events:")
		writeEvents(w, "  ", d.Events)
	}
	if len(d.Hooks) > 0 {
		fmt.Fprintln(w, "Webhooks:")
		for _, h := range d.Hooks {
			res := "passed"
			if !h.Passed() {
				res = "failed: " + h.Err
			}
			fmt.Fprintf(w, "  %-24s %-10s %s\n", h.Type, h.Name, res)
		}
	}
	if len(d.Checks) > 0 {
		fmt.Fprintln(w, "Checks:")
		writeChecks(w, "  ", d.Checks)
		writeScore(w, "  ", d.Score)
	}
	if len(d.Reasons) > 0 {
		fmt.Fprintln(w, "Why:")
		for _, r := range d.Reasons {
			fmt.Fprintf(w, "  - %s\n", r)
		}
	}
}

func mirroredNote(m bool) string {
	if m {
		return " (mirrored)"
	}
	return ""
}

func describeTransition(a, b analysis.CanaryStatus) string {
	var parts []string
	if a.Phase != b.Phase {
		parts = append(parts, fmt.Sprintf("%s → %s", orDash(string(a.Phase)), b.Phase))
	} else {
		parts = append(parts, string(b.Phase))
	}
	if a.CanaryWeight != b.CanaryWeight {
		parts = append(parts, fmt.Sprintf("weight %d → %d", a.CanaryWeight, b.CanaryWeight))
	} else {
		parts = append(parts, fmt.Sprintf("weight %d", b.CanaryWeight))
	}
	if a.FailedChecks != b.FailedChecks {
		parts = append(parts, fmt.Sprintf("failed checks %d → %d", a.FailedChecks, b.FailedChecks))
	} else {
		parts = append(parts, fmt.Sprintf("failed checks %d", b.FailedChecks))
	}
	if a.Iterations != b.Iterations {
		parts = append(parts, fmt.Sprintf("iterations %d → %d", a.Iterations, b.Iterations))
	} else if b.Iterations != 0 {
		parts = append(parts, fmt.Sprintf("iterations %d", b.Iterations))
	}
	return strings.Join(parts, ", ")
}

func writeEvents(w io.Writer, indent string, evs []analysis.Event) {
	for _, e := range evs {
		fmt.Fprintf(w, "%s%-8s %s\n", indent, e.Type, e.Message)
	}
}

// parseValues reads --value NAME=NUMBER|error:KIND flags.
func parseValues(flags []string) (map[string]engine.Value, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := make(map[string]engine.Value, len(flags))
	for _, f := range flags {
		name, v, ok := strings.Cut(f, "=")
		if !ok || name == "" || v == "" {
			return nil, fmt.Errorf("--value %q: want NAME=NUMBER or NAME=error:KIND", f)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--value %q: metric %s given twice", f, name)
		}
		if kind, isErr := strings.CutPrefix(v, "error:"); isErr {
			if kind == "" {
				return nil, fmt.Errorf("--value %q: error: needs a kind or message", f)
			}
			out[name] = engine.Value{Error: kind}
			continue
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("--value %q: %w", f, err)
		}
		out[name] = engine.Value{Value: &n}
	}
	return out, nil
}
