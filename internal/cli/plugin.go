package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/plugins"
	"github.com/augurproj/augur/plugins/argo"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/webhooks"
)

// pluginArgs returns the arguments augur runs with: args themselves, or —
// when there are none and a plugin host's handshake cookie is in the
// environment — the plugin command that host expects (Argo Rollouts starts
// its plugins without arguments).
func pluginArgs(args []string, getenv func(string) string) []string {
	if len(args) > 0 {
		return args
	}
	switch {
	case argo.StartedByArgo(getenv):
		return []string{"argo-plugin"}
	case getenv(plugins.MagicCookieKey) == plugins.MagicCookieValue:
		return []string{"plugin"}
	}
	return args
}

// logFlags select a plugin process's log level (logs go to standard error).
type logFlags struct {
	Level string
}

func (l *logFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.Level, "log-level", "info", "log level on standard error: debug, info, warn or error")
}

func (l *logFlags) logger(ios *IOStreams) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", l.Level)
	}
	return slog.New(plugins.NewLogHandler(ios.ErrOut, lv)), nil
}

// serveUntilTerm runs serve and returns its error, or nil when the process
// receives SIGTERM. Interrupts are left to go-plugin, which ignores them so
// that the host shuts its plugins down in order.
func serveUntilTerm(serve func() error) error {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	defer signal.Stop(term)
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-term:
		return nil
	}
}

// PluginOptions are `augur plugin`'s inputs.
type PluginOptions struct {
	IO     *IOStreams
	Files  fileFlags
	Engine engineFlags
	Source sourceFlags
	Kube   kubeFlags
	Log    logFlags
	// Serve serves the analyzer (default plugins.Serve); tests replace it.
	Serve func(plugins.ServeOptions) error
}

// NewCmdPlugin builds `augur plugin`.
func NewCmdPlugin(ios *IOStreams, runF func(*cobra.Command, *PluginOptions) error) *cobra.Command {
	opts := &PluginOptions{IO: ios, Serve: plugins.Serve}
	cmd := &cobra.Command{
		Use:   "plugin [--data FILE | --prometheus URL] [-f TEMPLATES...]",
		Short: "Serve augur's plugin protocol (go-plugin, gRPC) to a host program",
		Long: `Serve Decide and Query over augur's go-plugin protocol (gRPC, handshake cookie
AUGUR_PLUGIN, protocol version 1). A host program starts this command through the Go
package github.com/augurproj/augur/plugins (plugins.Start); it is not run by hand.
Standard output carries only go-plugin's handshake; logs go to standard error.

With the AUGUR_PLUGIN cookie in the environment and no arguments, augur runs this
command by itself.`,
		Example: `  # from Go: plugins.Start(ctx, plugins.ClientOptions{Path: "augur", Args: []string{"--data", "recorded.om"}})`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return pluginRun(cmd, opts)
		},
	}
	opts.Files.register(cmd)
	opts.Engine.registerMesh(cmd)
	opts.Source.register(cmd)
	opts.Kube.register(cmd)
	opts.Log.register(cmd)
	return cmd
}

// pluginService builds the service `augur plugin` serves.
func pluginService(ctx context.Context, opts *PluginOptions, logger *slog.Logger) (*service.Service, error) {
	in := &canaryInput{}
	if len(opts.Files.Files) > 0 {
		set, err := opts.Files.load(opts.IO)
		if err != nil {
			return nil, err
		}
		in.set = set
	}
	if opts.Kube.requested() {
		cluster, err := opts.Kube.source(ctx)
		if err != nil {
			return nil, err
		}
		in.cluster = cluster
	}
	src, err := opts.Source.open(false)
	if err != nil {
		return nil, err
	}
	in.providers(src)
	eng, err := opts.Engine.newEngine(src.registry, in.set, webhooks.New(webhooks.Options{}),
		opts.Source.apply, in.apply, func(o *engine.Options) { o.Logger = logger })
	if err != nil {
		return nil, err
	}
	so := service.Options{Engine: eng, Data: src.bounds(), TemplatesInCluster: in.cluster != nil}
	if end := src.end; !end.IsZero() {
		so.DefaultAt = func() time.Time { return recorded.EvalTime(end) }
	}
	return service.New(so)
}

func pluginRun(cmd *cobra.Command, opts *PluginOptions) error {
	logger, err := opts.Log.logger(opts.IO)
	if err != nil {
		return badInput(err)
	}
	svc, err := pluginService(cmd.Context(), opts, logger)
	if err != nil {
		return badInput(err)
	}
	err = serveUntilTerm(func() error { return opts.Serve(plugins.ServeOptions{Analyzer: svc, Logger: logger}) })
	if errors.Is(err, plugins.ErrNotPluginHost) {
		return badInput(err)
	}
	return err
}

// ArgoPluginOptions are `augur argo-plugin`'s inputs.
type ArgoPluginOptions struct {
	IO           *IOStreams
	Prometheus   string
	Data         string
	MeshProvider string
	Timeout      time.Duration
	Log          logFlags
	// Cluster enables preflight: true metrics (docs/lint.md).
	Cluster bool
	Kube    kubeFlags
	// Serve serves the provider (default argo.Serve); tests replace it.
	Serve func(argo.ServeOptions) error

	// evalAt is `augur query --at` over AnalysisTemplates: the time of
	// every measurement (inside --data).
	evalAt string
}

// NewCmdArgoPlugin builds `augur argo-plugin`.
func NewCmdArgoPlugin(ios *IOStreams, runF func(*cobra.Command, *ArgoPluginOptions) error) *cobra.Command {
	opts := &ArgoPluginOptions{IO: ios, Serve: argo.Serve}
	cmd := &cobra.Command{
		Use:   "argo-plugin [--data FILE | --prometheus URL]",
		Short: "Serve Argo Rollouts' metric provider plugin protocol (" + argo.PluginName + ")",
		Long: `Serve augur as an Argo Rollouts metric provider plugin named ` + argo.PluginName + `: each
measurement runs the query, MetricTemplate body or builtin metric configured under
metric.provider.plugin["` + argo.PluginName + `"] and judges it by thresholdRange and the metric's
successCondition / failureCondition. Argo Rollouts starts the binary itself (with its
ARGO_ROLLOUTS_RPC_PLUGIN cookie and no arguments, augur runs this command by itself);
see docs/argo.md for the argo-rollouts-config entry and an AnalysisTemplate.

--data and --prometheus override every measurement's address, as in the other commands.`,
		Example: `  # argo-rollouts-config: metricProviderPlugins: [{name: ` + argo.PluginName + `, location: file:///augur}]
  # or, with arguments: {name: ` + argo.PluginName + `, location: file:///augur, args: [argo-plugin, --log-level, debug]}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return argoPluginRun(cmd, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Prometheus, "prometheus", "", "live Prometheus URL used by every measurement, whatever its address")
	cmd.Flags().StringVar(&opts.Data, "data", "", "recorded data (OpenMetrics text) queried by every measurement, at the data's end")
	cmd.Flags().StringVar(&opts.MeshProvider, "mesh-provider", "", "default builtin query family when a configuration sets no meshProvider (default istio)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", argo.DefaultTimeout, "default measurement timeout when a configuration sets none")
	cmd.Flags().BoolVar(&opts.Cluster, "cluster", false, "read Rollouts from the cluster for preflight: true metrics (in-cluster service account, $KUBECONFIG or --kubeconfig)")
	opts.Kube.register(cmd)
	opts.Log.register(cmd)
	return cmd
}

// argoProvider builds the provider `augur argo-plugin` serves.
func argoProvider(opts *ArgoPluginOptions, logger *slog.Logger) (*argo.Provider, error) {
	po := argo.Options{MeshProvider: opts.MeshProvider, Timeout: opts.Timeout, Logger: logger}
	if opts.Prometheus != "" || opts.Data != "" {
		src, err := (&sourceFlags{Prometheus: opts.Prometheus, Data: opts.Data}).open(true)
		if err != nil {
			return nil, err
		}
		po.Registry, po.Data = src.registry, src.bounds()
		at, err := src.evalTime(opts.evalAt)
		if err != nil {
			return nil, err
		}
		if !at.IsZero() {
			// Judged metrics' range queries end there too (recorded data:
			// at its end by default).
			po.DefaultAt = func() time.Time { return at }
		}
	}
	if opts.Cluster || opts.Kube.requested() {
		src, err := opts.Kube.source(context.Background())
		if err != nil {
			return nil, err
		}
		po.Preflight = argoPreflight(src)
	}
	return argo.New(po)
}

func argoPluginRun(_ *cobra.Command, opts *ArgoPluginOptions) error {
	logger, err := opts.Log.logger(opts.IO)
	if err != nil {
		return badInput(err)
	}
	p, err := argoProvider(opts, logger)
	if err != nil {
		return badInput(err)
	}
	err = serveUntilTerm(func() error { return opts.Serve(argo.ServeOptions{Provider: p, Logger: logger}) })
	if errors.Is(err, argo.ErrNotArgo) {
		return badInput(err)
	}
	return err
}
