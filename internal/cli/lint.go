package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/lint"
)

// LintOptions are `augur lint`'s inputs.
type LintOptions struct {
	IO        *IOStreams
	Files     []string
	Cluster   bool
	Namespace string
	Kube      kubeFlags
	Output    string
	Disable   []string
	Warn      []string
	ListRules bool
	Lint      lint.Options
}

// NewCmdLint builds `augur lint`.
func NewCmdLint(ios *IOStreams, runF func(*cobra.Command, *LintOptions) error) *cobra.Command {
	opts := &LintOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "lint -f FILE... [--cluster [-n NAMESPACE]] [-o text|json|yaml|sarif]",
		Short: "Find what will drop traffic or break the canary analysis, before the rollout",
		Long: `Check Deployments, StatefulSets, DaemonSets, HPAs, PodDisruptionBudgets, Istio sidecar
settings, Flagger Canaries and MetricTemplates, and Argo Rollouts and AnalysisTemplates for
what makes a rollout drop requests (no readiness probe, no preStop pause, one replica, no
PDB, …) and for canary analyses that can never pass or never fail. Every finding names the
rule, the object, the field and its file:line, says what goes wrong, and shows the fix.
docs/lint.md lists the rules.

Objects come from files (-f, YAML or JSON, directories recursively) and, with --cluster,
from the cluster (the namespace of -n or the kubeconfig context). Disable a rule for one
object with the annotation augur.dev/lint-ignore: rule-id,… and for all with --disable.

Exit status: 0 no errors, 1 errors found, 2 bad input.`,
		Example: `  augur lint -f examples/podinfo/manifests -f examples/podinfo/workload
  augur lint -f k8s/ -o sarif > augur.sarif
  augur lint --cluster -n test --warn all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return lintRun(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Files, "filename", "f", nil, "file or directory of Kubernetes objects (YAML or JSON, multi-document); - reads standard input")
	f.BoolVar(&opts.Cluster, "cluster", false, "also read the objects from the cluster ($KUBECONFIG, --kubeconfig, or the in-cluster service account)")
	f.StringVarP(&opts.Namespace, "namespace", "n", "", "with --cluster: the namespace to read (default: the kubeconfig context's)")
	opts.Kube.register(cmd)
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text, json, yaml or sarif (SARIF 2.1.0, for GitHub code scanning)")
	f.StringSliceVar(&opts.Disable, "disable", nil, "rule ids to skip everywhere (comma-separated)")
	f.StringSliceVar(&opts.Warn, "warn", nil, "rule ids (or all) whose errors are reported as warnings and do not fail the run")
	f.BoolVar(&opts.ListRules, "list-rules", false, "list the rules and exit")
	f.DurationVar(&opts.Lint.Propagation, "propagation", lint.DefaultPropagation, "time endpoint removal takes to reach every load balancer: the shortest preStop pause")
	f.DurationVar(&opts.Lint.Shutdown, "shutdown", lint.DefaultShutdown, "time the application needs to finish after SIGTERM")
	f.DurationVar(&opts.Lint.ScrapeInterval, "scrape-interval", lint.DefaultScrapeInterval, "Prometheus scrape interval: a rate needs a window of two")
	f.DurationVar(&opts.Lint.MaxTimeToRollback, "max-time-to-rollback", lint.DefaultMaxTimeToRollback, "flag analyses that take longer to roll back")
	f.DurationVar(&opts.Lint.MaxTimeToPromotion, "max-time-to-promotion", lint.DefaultMaxTimeToPromotion, "flag analyses that take longer to promote")
	return cmd
}

func lintRun(cmd *cobra.Command, opts *LintOptions) error {
	ctx := cmd.Context()
	if opts.ListRules {
		return listRules(opts.IO.Out)
	}
	if opts.Output != lint.FormatText && opts.Output != lint.FormatJSON && opts.Output != lint.FormatSARIF && opts.Output != "yaml" {
		return badInput(fmt.Errorf("--output %q: want text, json, yaml or sarif", opts.Output))
	}
	if len(opts.Files) == 0 && !opts.Cluster {
		return badInput(errors.New("no input: give files with -f, or --cluster"))
	}
	if opts.Namespace != "" && !opts.Cluster {
		return badInput(errors.New("--namespace needs --cluster"))
	}
	lo := opts.Lint
	lo.Disable, lo.Lower = opts.Disable, opts.Warn
	if err := lo.Check(); err != nil {
		return badInput(err)
	}
	objs, err := readLintFiles(opts.Files, opts.IO.In)
	if err != nil {
		return badInput(err)
	}
	if opts.Cluster {
		src, err := opts.Kube.source(ctx)
		if err != nil {
			return badInput(err)
		}
		ns := opts.Namespace
		if ns == "" {
			ns = src.Namespace()
		}
		cobjs, facts, err := clusterLintObjects(ctx, src, ns)
		if err != nil {
			return badInput(err)
		}
		objs = mergeObjects(objs, cobjs)
		lo.Cluster = facts
	}
	fs, err := lint.Run(objs, lo)
	if err != nil {
		return badInput(err)
	}
	if opts.Output == "yaml" {
		// The JSON report, as YAML (as every command's -o yaml).
		var b bytes.Buffer
		if err := lint.Write(&b, lint.FormatJSON, fs, ""); err != nil {
			return err
		}
		if err := writeJSONAs(opts.IO.Out, "yaml", b.Bytes()); err != nil {
			return err
		}
	} else if err := lint.Write(opts.IO.Out, opts.Output, fs, ""); err != nil {
		return err
	}
	if lint.Errors(fs) > 0 {
		return &ExitError{Code: ExitCheckFail}
	}
	return nil
}

// readLintFiles parses the files and directories (.yaml, .yml, .json below
// a directory, recursively; dot files skipped).
func readLintFiles(paths []string, stdin io.Reader) ([]*lint.Object, error) {
	var objs []*lint.Object
	var errs []error
	stdinUsed := false
	for _, p := range paths {
		var files []string
		if p == "-" {
			if stdinUsed {
				return nil, errors.New("standard input (-) given more than once")
			}
			stdinUsed = true
			b, err := io.ReadAll(io.LimitReader(stdin, lint.MaxInput+1))
			if err != nil {
				return nil, fmt.Errorf("reading standard input: %w", err)
			}
			o, err := lint.Parse(b, "<stdin>")
			if err != nil {
				errs = append(errs, err)
			}
			objs = append(objs, o...)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", p, err))
			continue
		}
		if st.IsDir() {
			err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if path != p && strings.HasPrefix(d.Name(), ".") {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if !d.IsDir() && slices.Contains([]string{".yaml", ".yml", ".json"}, filepath.Ext(path)) {
					files = append(files, path)
				}
				return nil
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("reading %s: %w", p, err))
				continue
			}
		} else {
			files = []string{p}
		}
		for _, f := range files {
			b, err := readLimited(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			o, err := lint.Parse(b, f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			objs = append(objs, o...)
		}
	}
	return objs, errors.Join(errs...)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, lint.MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return b, nil
}

// clusterLintObjects reads the objects of one namespace for the rules.
func clusterLintObjects(ctx context.Context, src *kube.Source, namespace string) ([]*lint.Object, *lint.Facts, error) {
	snap, err := src.LintObjects(ctx, namespace)
	if err != nil {
		return nil, nil, err
	}
	objs := make([]*lint.Object, 0, len(snap.Objects))
	for _, m := range snap.Objects {
		o, err := lint.FromMap(m)
		if err != nil {
			return nil, nil, err
		}
		objs = append(objs, o)
	}
	return objs, &lint.Facts{APIGroups: snap.APIGroups}, nil
}

// mergeObjects adds the cluster's objects the files do not define.
func mergeObjects(files, cluster []*lint.Object) []*lint.Object {
	have := map[string]bool{}
	for _, o := range files {
		have[o.Key()] = true
	}
	out := files
	for _, o := range cluster {
		if !have[o.Key()] {
			out = append(out, o)
		}
	}
	return out
}

func listRules(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tCATEGORY\tSEVERITY\tTITLE")
	for _, r := range lint.Rules {
		title := r.Title
		if r.ClusterOnly {
			title += " (--cluster)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Category, r.Severity, title)
	}
	return tw.Flush()
}
