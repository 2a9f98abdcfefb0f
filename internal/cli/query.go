package cli

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
)

// QueryOptions are `augur query`'s inputs.
type QueryOptions struct {
	IO     *IOStreams
	Files  fileFlags
	Engine engineFlags
	Source sourceFlags
	Judge  judgeFlags
	// Kube is the cluster of keptn and externalmetrics metrics and of
	// templates and Secrets the files lack (--kubeconfig, --kube-context).
	Kube   kubeFlags
	At     string
	Output string
	// Args are the args of Argo AnalysisTemplates given with -f (NAME=VALUE).
	Args []string
}

// NewCmdQuery builds `augur query`.
func NewCmdQuery(ios *IOStreams, runF func(*cobra.Command, *QueryOptions) error) *cobra.Command {
	opts := &QueryOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "query -f FILE... (--data FILE | --prometheus URL) [--at TIME] [--kubeconfig FILE] [--kube-context NAME]",
		Short: "Run every metric of the Canary once and check each value against its range",
		Long: `Render and run every metric of each Canary once, print each value (or error) and whether
it passes its threshold range. Exit code 1 when a check fails.`,
		Example: `  augur query -f testdata/podinfo/ --data testdata/podinfo/healthy.om --at +10m
  augur query -f canary.yaml --prometheus http://127.0.0.1:9090 -o json
  augur query -f canary.yaml --kubeconfig ~/.kube/config   # keptn, externalmetrics, cluster templates and Secrets`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return queryRun(cmd, opts)
		},
	}
	opts.Files.register(cmd)
	opts.Engine.registerMesh(cmd)
	opts.Source.register(cmd)
	opts.Judge.register(cmd)
	opts.Kube.register(cmd)
	cmd.Flags().StringVar(&opts.At, "at", "", "evaluation time: RFC 3339, Unix seconds, +DUR after the data's start or -DUR before its end (default: now, or the last whole minute of recorded data)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text, json or yaml")
	cmd.Flags().StringArrayVar(&opts.Args, "arg", nil, "an arg of the Argo AnalysisTemplates given with -f, as NAME=VALUE; repeatable")
	return cmd
}

type queriedCanary struct {
	Name      string           `json:"name"`
	Namespace string           `json:"namespace"`
	At        *time.Time       `json:"at,omitempty"`
	Checks    []analysis.Check `json:"checks"`
}

func queryRun(cmd *cobra.Command, opts *QueryOptions) error {
	if err := checkOutput(opts.Output); err != nil {
		return badInput(err)
	}
	if argo, err := argoTemplateFiles(opts.Files.Files); err != nil {
		return badInput(err)
	} else if argo != nil {
		if opts.Kube.requested() {
			return badInput(errors.New("--kubeconfig and --kube-context are for Flagger Canaries: the -f files hold Argo AnalysisTemplates"))
		}
		return argoQueryRun(cmd, opts, argo)
	}
	if len(opts.Args) > 0 {
		return badInput(errors.New("--arg is for Argo AnalysisTemplates; the -f files hold none"))
	}
	set, err := opts.Files.load(opts.IO)
	if err != nil {
		return badInput(err)
	}
	canaries, err := opts.Files.pick(set)
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
	in, err := opts.Kube.attach(cmd.Context(), set)
	if err != nil {
		return badInput(err)
	}
	in.providers(src)
	eng, err := opts.Engine.newEngine(src.registry, set, nil, opts.Source.apply, fileSecrets(set), in.apply)
	if err != nil {
		return badInput(err)
	}
	var out []queriedCanary
	failed := false
	for i := range canaries {
		c := &canaries[i]
		plans, err := opts.Judge.plan(cmd.Context(), eng, c)
		if err != nil {
			return err
		}
		if err := missingTemplates(c, plans); err != nil {
			return badInput(err)
		}
		if err := checkPlans(plans, src.queryTypes()); err != nil {
			return badInput(fmt.Errorf("canary %s/%s: %w", c.Metadata.Namespace, c.Metadata.Name, err))
		}
		if err := src.judgeWindowsInData(plans, "at", at); err != nil {
			return badInput(fmt.Errorf("canary %s/%s: %w", c.Metadata.Namespace, c.Metadata.Name, err))
		}
		obs := eng.EvaluateFor(cmd.Context(), plans, engine.EvalOptions{At: at, Interval: c.GetAnalysis().IntervalDuration()})
		qc := queriedCanary{Name: c.Metadata.Name, Namespace: c.Metadata.Namespace, Checks: []analysis.Check{}}
		if !at.IsZero() {
			t := at.UTC()
			qc.At = &t
		}
		for _, o := range obs {
			ch := analysis.CheckObservation(o)
			failed = failed || !ch.Passed
			qc.Checks = append(qc.Checks, ch)
		}
		out = append(out, qc)
	}
	if opts.Output != "text" {
		if err := writeStructured(opts.IO.Out, opts.Output, map[string]any{"canaries": out}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(opts.IO.Out, "Source: %s\n", src.desc)
		for _, qc := range out {
			fmt.Fprintln(opts.IO.Out)
			when := "now"
			if qc.At != nil {
				when = formatTime(*qc.At)
			}
			fmt.Fprintf(opts.IO.Out, "Canary %s/%s at %s\n", qc.Namespace, qc.Name, when)
			writeChecks(opts.IO.Out, "  ", qc.Checks)
		}
	}
	if failed {
		return &ExitError{Code: ExitCheckFail}
	}
	return nil
}

// writeChecks prints a check table: metric, value, range, verdict.
func writeChecks(w io.Writer, indent string, checks []analysis.Check) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range checks {
		verdict := "pass"
		switch {
		case c.Inconclusive:
			verdict = "inconclusive"
		case !c.Passed:
			verdict = "FAIL"
		}
		val := "-"
		if c.Value != nil {
			val = formatValue(c.Kind, *c.Value)
		}
		detail := formatRange(analysis.ThresholdRange{Min: c.Min, Max: c.Max}, c.Kind)
		if j := c.Judgement; j != nil {
			// The threshold's outcome and the judge's verdict apart: a
			// judged metric may meet its threshold and still fail.
			switch {
			case c.Min == nil && c.Max == nil && c.Value == nil:
				detail = "judged only (no threshold)"
			case c.Value != nil && (c.Min == nil || *c.Value >= *c.Min) && (c.Max == nil || *c.Value <= *c.Max):
				detail += " met"
			default:
				detail += " NOT met"
			}
			detail += fmt.Sprintf("; judge %s: %s", j.Judge, j.Verdict)
		}
		if c.Error != "" {
			val = "error"
			detail += "  (" + c.Error + ")"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\n", indent, c.Metric, val, verdict, detail)
	}
	tw.Flush()
	for _, c := range checks {
		if c.Judgement == nil {
			continue
		}
		lines := judgeLines(c.Judgement)
		fmt.Fprintf(w, "%s%s: %s\n", indent, c.Metric, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%s  %s\n", indent, l)
		}
	}
}
