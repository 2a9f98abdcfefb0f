package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/kube/clustermetrics"
	"github.com/augurproj/augur/manifest"
)

// kubeFlags select the cluster that Canary, MetricTemplate and Secret
// objects are read from (package kube).
//
// Commands other than analyze (serve) register the flags, call source when
// requested() (or their own switch) asks for a cluster, and hand the Source
// to the engine through canaryInput.apply: it is the engine's template and
// Secret source, and its Canary method reads the Canary a Flagger webhook
// payload names.
type kubeFlags struct {
	Kubeconfig string
	Context    string
	// open connects to the cluster (default kube.New); tests replace it.
	open func(ctx context.Context, opts kube.Options) (*kube.Source, error)
}

func (k *kubeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&k.Kubeconfig, "kubeconfig", "",
		"kubeconfig of the cluster to read Canary, MetricTemplate and Secret objects from (default: $KUBECONFIG, the in-cluster service account, ~/.kube/config)")
	cmd.Flags().StringVar(&k.Context, "kube-context", "", "kubeconfig context to use (default: the current context)")
}

// requested reports whether a cluster was asked for with flags.
func (k *kubeFlags) requested() bool { return k.Kubeconfig != "" || k.Context != "" }

// source connects to the cluster the flags (or, without flags, KUBECONFIG,
// the in-cluster configuration or ~/.kube/config) select.
func (k *kubeFlags) source(ctx context.Context) (*kube.Source, error) {
	open := k.open
	if open == nil {
		open = kube.New
	}
	s, err := open(ctx, kube.Options{Kubeconfig: k.Kubeconfig, Context: k.Context})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return s, nil
}

// canaryInput is what a command analyzes: one Canary, the files it came
// with (nil when it was read from the cluster) and the cluster, if any.
type canaryInput struct {
	canary      analysis.Canary
	set         *manifest.Set
	cluster     *kube.Source
	fromCluster bool
}

// input reads the Canary to analyze. Without -f, --canary names a Canary in
// the cluster (its MetricTemplates and Secrets are read from there too);
// with -f, the Canary comes from the files and the cluster, when one is
// given with --kubeconfig or --kube-context, resolves the templates the
// files lack and the Secrets.
func (k *kubeFlags) input(ctx context.Context, files *fileFlags, ios *IOStreams) (*canaryInput, error) {
	if len(files.Files) > 0 {
		set, err := files.load(ios)
		if err != nil {
			return nil, err
		}
		c, err := files.one(set)
		if err != nil {
			return nil, err
		}
		in, err := k.attach(ctx, set)
		if err != nil {
			return nil, err
		}
		in.canary = c
		return in, nil
	}
	if files.Canary == "" {
		if k.requested() {
			return nil, errors.New("no input: name the Canary to read from the cluster with --canary NAMESPACE/NAME")
		}
		return nil, errors.New("no input: give Canary and MetricTemplate files with -f, or a Canary in the cluster with --canary NAMESPACE/NAME")
	}
	src, err := k.source(ctx)
	if err != nil {
		return nil, err
	}
	ns, name, ok := strings.Cut(files.Canary, "/")
	if !ok {
		ns, name = src.Namespace(), files.Canary
	}
	if ns == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("--canary %q: want NAMESPACE/NAME or NAME", files.Canary)
	}
	c, err := src.Canary(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	if err := manifest.Validate(&manifest.Set{Canaries: []analysis.Canary{c}}); err != nil {
		return nil, err
	}
	return &canaryInput{canary: c, cluster: src, fromCluster: true}, nil
}

// attach connects to the cluster when --kubeconfig or --kube-context asks
// for one, for Canaries that come from files (analyze -f, query): the
// cluster then resolves the MetricTemplates the files lack and the Secrets
// (canaryInput.apply) and makes keptn and externalmetrics live
// (canaryInput.providers). Without the flags the input has no cluster.
func (k *kubeFlags) attach(ctx context.Context, set *manifest.Set) (*canaryInput, error) {
	in := &canaryInput{set: set}
	if k.requested() {
		var err error
		if in.cluster, err = k.source(ctx); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// statusFlagNames are the flags that give the current status.
var statusFlagNames = []string{"status", "phase", "weight", "failed-checks", "iterations", "mirrored"}

// status is the current status: the flags' when any is given, else, for
// a Canary read from the cluster, its own status.
func (in *canaryInput) status(cmd *cobra.Command, flags *statusFlags, ios *IOStreams) (analysis.CanaryStatus, error) {
	// A Canary read from the cluster, or from a file holding its status
	// (a `kubectl get canary -o yaml` dump), carries the status /v1/decide
	// would use too.
	if in.fromCluster || in.canary.Status.Phase != "" {
		given := false
		for _, f := range statusFlagNames {
			given = given || cmd.Flags().Changed(f)
		}
		if !given {
			return in.canary.Status, checkPhase(in.canary.Status.Phase)
		}
	}
	return flags.status(cmd, ios)
}

// apply makes the cluster the engine's template and Secret source; the
// files' templates, if any, are searched first.
func (in *canaryInput) apply(o *engine.Options) {
	if in.cluster == nil {
		return
	}
	o.Templates = in.cluster
	if in.set != nil && len(in.set.Templates) > 0 {
		o.Templates = templateChain{engine.StaticTemplates(in.set.Templates), in.cluster}
	}
	o.Secrets = in.cluster
}

// providers makes the cluster's metrics providers (keptn, externalmetrics)
// live in src's registry when there is a cluster and the metrics are not
// recorded data; otherwise they stay the refusals sourceFlags.open put there.
func (in *canaryInput) providers(src *dataSource) {
	if in.cluster == nil || src.file != "" {
		return
	}
	clustermetrics.Register(src.registry, in.cluster.RESTConfig(), in.cluster.Dynamic())
	if src.answers != nil {
		src.answers.Register(src.registry) // --answers wins over the live providers
	}
}

// emit records the decision's events on the Canary in the cluster; the
// caller checked that there is a cluster.
func (in *canaryInput) emit(ctx context.Context, ios *IOStreams, d analysis.Decision) error {
	n, err := in.cluster.EmitEvents(ctx, &in.canary, d)
	if err != nil {
		return err
	}
	noun := "events"
	if n == 1 {
		noun = "event"
	}
	fmt.Fprintf(ios.ErrOut, "Recorded %d Kubernetes %s on Canary %s/%s\n", n, noun, in.canary.Metadata.Namespace, in.canary.Metadata.Name)
	return nil
}

// templateChain searches its sources in order; a source that does not
// have the template (engine.ErrNotFound) passes on to the next.
type templateChain []engine.TemplateSource

// MetricTemplate implements engine.TemplateSource.
func (ch templateChain) MetricTemplate(ctx context.Context, namespace, name string) (*analysis.MetricTemplate, error) {
	var errs []error
	for _, s := range ch {
		mt, err := s.MetricTemplate(ctx, namespace, name)
		if err == nil {
			return mt, nil
		}
		if !errors.Is(err, engine.ErrNotFound) {
			return nil, err
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("metric template %s.%s: %w", name, namespace, engine.ErrNotFound)
	}
	return nil, errors.Join(errs...)
}
