package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/plugins/argo"
)

// argoTemplateFiles reads the -f files when they hold Argo AnalysisTemplates:
// it returns their contents by path, nil when none does, and an error when
// Argo templates and Flagger objects are mixed.
func argoTemplateFiles(paths []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	other := ""
	for _, p := range paths {
		st, err := os.Stat(p)
		if p == "-" || err != nil || st.IsDir() {
			other = p
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if argo.IsTemplateFile(b) {
			out[p] = b
		} else {
			other = p
		}
	}
	switch {
	case len(out) == 0:
		return nil, nil
	case other != "":
		return nil, fmt.Errorf("-f %s: give Argo AnalysisTemplates and Flagger objects to separate runs", other)
	}
	return out, nil
}

// argoQueryRun measures every augur metric of the Argo AnalysisTemplates once,
// as the augur plugin measures them for Argo Rollouts (thresholdRange,
// successCondition, failureCondition), over --data (at its end, or at --at
// inside it, as augur test's eval_time) or --prometheus (now, or at --at). Exit 1 when a measurement is not Successful.
func argoQueryRun(cmd *cobra.Command, opts *QueryOptions, files map[string][]byte) error {
	args := map[string]string{}
	for _, a := range opts.Args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return badInput(fmt.Errorf("--arg %q: want NAME=VALUE", a))
		}
		if _, dup := args[k]; dup {
			return badInput(fmt.Errorf("--arg %s given twice", k))
		}
		args[k] = v
	}
	p, err := argoProvider(&ArgoPluginOptions{Prometheus: opts.Source.Prometheus, Data: opts.Source.Data,
		MeshProvider: opts.Engine.MeshProvider, Timeout: argo.DefaultTimeout, evalAt: opts.At}, nil)
	if err != nil {
		return badInput(err)
	}
	var tfs []argo.TemplateFile
	for _, path := range opts.Files.Files {
		tfs = append(tfs, argo.TemplateFile{Source: path, Data: files[path]})
	}
	all, err := p.MeasureTemplateFiles(cmd.Context(), tfs, args, argo.ArgsFlag)
	if err != nil {
		return badInput(err)
	}
	failed := false
	for _, m := range all {
		failed = failed || (m.Phase != "" && m.Phase != "Successful")
	}
	if opts.Output != "text" {
		if err := writeStructured(opts.IO.Out, opts.Output, map[string]any{"measurements": all}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(opts.IO.Out, 0, 0, 2, ' ', 0)
		for _, m := range all {
			phase := orDash(m.Phase)
			fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\n", m.Template, m.Metric, phase, orDash(m.Value), m.Message)
		}
		tw.Flush()
	}
	if failed {
		return &ExitError{Code: ExitCheckFail}
	}
	return nil
}
