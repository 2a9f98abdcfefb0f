package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/kube/clustermetrics"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/answers"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/metrics/vendors"
	"github.com/augurproj/augur/webhooks"
)

// sourceFlags select where metrics come from.
type sourceFlags struct {
	Prometheus   string
	Data         string
	QueryTimeout time.Duration
	Concurrency  int
	// Answers is a recording of provider answers (augur record --answers-out).
	Answers string

	cmd *cobra.Command // for the progress of large --data files on a terminal
}

func (s *sourceFlags) register(cmd *cobra.Command) {
	s.cmd = cmd
	cmd.Flags().StringVar(&s.Prometheus, "prometheus", "",
		"live Prometheus URL; overrides the address of every prometheus provider (builtin, inline and templates)")
	cmd.Flags().StringVar(&s.Data, "data", "",
		"recorded data (OpenMetrics text with timestamps ending in # EOF, as augur record writes, or a Prometheus query_range JSON answer) evaluated by the embedded PromQL engine; every prometheus provider reads it")
	cmd.Flags().DurationVar(&s.QueryTimeout, "query-timeout", engine.DefaultQueryTimeout, "timeout of each metric query")
	cmd.Flags().IntVar(&s.Concurrency, "concurrency", engine.DefaultConcurrency, "metric queries run at once")
	cmd.Flags().StringVar(&s.Answers, "answers", "",
		"recorded provider answers (augur record --answers-out): the providers of the types it holds (datadog, newrelic, keptn, …) answer from it, offline")
}

// dataSource is what a command knows about its metrics source.
type dataSource struct {
	registry *metrics.Registry
	// start and end bound recorded data (zero for a live server).
	start, end time.Time
	// file is the recorded data's path (empty for a live server).
	file string
	// grace is the data's scrape interval, named in messages (evaluations
	// after the last sample are refused: service.DataBounds.CoveredUntil).
	grace time.Duration
	desc  string
	// answers is the --answers recording, if any.
	answers *answers.Set
}

func (s *sourceFlags) open(requireOne bool) (*dataSource, error) {
	ds, err := s.openSource(requireOne)
	if err != nil || s.Answers == "" {
		return ds, err
	}
	set, err := answers.LoadFile(s.Answers)
	if err != nil {
		return nil, fmt.Errorf("--answers: %w", err)
	}
	set.Register(ds.registry)
	ds.answers = set
	ds.desc += fmt.Sprintf("; recorded answers %s (%s)", s.Answers, strings.Join(set.Types(), ", "))
	return ds, nil
}

func (s *sourceFlags) openSource(requireOne bool) (*dataSource, error) {
	if s.Prometheus != "" && s.Data != "" {
		return nil, errors.New("--prometheus and --data are exclusive")
	}
	reg := &metrics.Registry{}
	switch {
	case s.Data != "":
		store, err := recorded.LoadFileWith(s.Data, recorded.LoadOptions{Progress: s.progress()})
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		if store.SampleCount() == 0 {
			return nil, fmt.Errorf("--data %s: no samples", s.Data)
		}
		p := recorded.New(store, recorded.Options{})
		reg.Register(prometheus.Type, func(metrics.Config) (metrics.Provider, error) { return p, nil })
		vendors.RegisterOffline(reg, "recorded data (--data) holds Prometheus series only: this provider needs its live API (run without --data)")
		clustermetrics.RegisterOffline(reg, "recorded data (--data) holds Prometheus series only (run without --data, with a cluster)")
		first, last := p.DataBounds()
		return &dataSource{registry: reg, start: first, end: last, file: s.Data, grace: p.SampleInterval(),
			desc: fmt.Sprintf("recorded data %s (%d series, %s to %s)", s.Data, store.SeriesCount(),
				formatTime(first), formatTime(last))}, nil
	case s.Prometheus != "":
		addr := s.Prometheus
		reg.Register(prometheus.Type, func(c metrics.Config) (metrics.Provider, error) {
			c.Address = addr
			return prometheus.New(c)
		})
		vendors.Register(reg)
		clustermetrics.RegisterOffline(reg, noCluster)
		return &dataSource{registry: reg, desc: "Prometheus at " + addr}, nil
	case requireOne && s.Answers != "":
		// Recorded answers alone: nothing is live, Prometheus included.
		reg.Register(prometheus.Type, func(metrics.Config) (metrics.Provider, error) {
			return nil, errors.New("no Prometheus source: the run has recorded answers (--answers) only; give --data FILE or --prometheus URL for the prometheus metrics")
		})
		vendors.RegisterOffline(reg, "this provider type has no answers in the --answers recording")
		clustermetrics.RegisterOffline(reg, "this run has recorded answers (--answers) only")
		return &dataSource{registry: reg, desc: "no live provider"}, nil
	default:
		if requireOne {
			return nil, errors.New("no metrics source: give --data FILE (recorded data), --prometheus URL or --answers FILE (recorded provider answers)")
		}
		prometheus.Register(reg)
		vendors.Register(reg)
		clustermetrics.RegisterOffline(reg, noCluster)
		return &dataSource{registry: reg, desc: "the providers' own addresses"}, nil
	}
}

// meshProviders are the values of Flagger's -mesh-provider (a family
// prefix for those with versions or variants: appmesh:v1beta2, smi:v1alpha3,
// gatewayapi:v1, gloo, crossover, …).
var meshProviders = []string{"istio", "linkerd", "appmesh", "contour", "gloo", "nginx", "kubernetes", "gatewayapi",
	"skipper", "traefik", "osm", "kuma", "apisix", "knative", "smi", "crossover"}

// checkMesh refuses a --mesh-provider no Flagger mesh starts with: Flagger
// would run the istio queries for it, and a typo (istoi) would silently
// give them.
func checkMesh(p string) error {
	for _, m := range meshProviders {
		if strings.HasPrefix(p, m) || strings.Contains(p, "linkerd") {
			return nil
		}
	}
	hint := ""
	if c := closest(p, meshProviders); c != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", c)
	}
	return fmt.Errorf("--mesh-provider %q is no mesh Flagger knows%s: want one of %s", p, hint, strings.Join(meshProviders, ", "))
}

// noCluster is why keptn and externalmetrics refuse in a run without a
// cluster; the commands that connect to one replace the refusals.
const noCluster = "this run has no cluster connection (analyze --canary or --kubeconfig, query --kubeconfig, serve --cluster, plugin with a cluster)"

// newEngine builds an engine over the registry and the decoded files.
func (e *engineFlags) newEngine(reg *metrics.Registry, set *manifest.Set, hooks engine.HookCaller, opts ...func(*engine.Options)) (*engine.Engine, error) {
	if e.MeshProvider != "" {
		if err := checkMesh(e.MeshProvider); err != nil {
			return nil, err
		}
	}
	o := engine.Options{
		Registry:      reg,
		Hooks:         hooks,
		MeshProvider:  e.MeshProvider,
		MetricsServer: e.MetricsServer,
		Logger:        slog.New(slog.DiscardHandler),
	}
	if set != nil {
		o.Templates = engine.StaticTemplates(set.Templates)
	}
	for _, f := range opts {
		f(&o)
	}
	return engine.New(o)
}

// fileSecrets makes the core v1 Secrets given with -f the engine's Secret
// source (a cluster source, applied later, replaces it). Only commands
// whose every input is a local file use it: a transport that accepts
// MetricTemplates in requests must not pair a file's Secret with an address
// a caller chose.
func fileSecrets(set *manifest.Set) func(*engine.Options) {
	return func(o *engine.Options) {
		if set != nil && len(set.Secrets) > 0 {
			o.Secrets = setSecrets{set}
		}
	}
}

// setSecrets is the engine's Secret source over the files' Secrets.
type setSecrets struct{ set *manifest.Set }

func (s setSecrets) Secret(_ context.Context, namespace, name string) (map[string]string, error) {
	return s.set.LookupSecret(namespace, name)
}

// hookFlags select how webhooks are answered.
type hookFlags struct {
	Mode string
}

func (h *hookFlags) register(cmd *cobra.Command, def string) {
	cmd.Flags().StringVar(&h.Mode, "webhooks", def,
		"call: POST each webhook as Flagger does; pass: every gate open and check passing, no rollback signalled; fail: every webhook fails")
}

func (h *hookFlags) caller() (engine.HookCaller, error) {
	switch h.Mode {
	case "call":
		return webhooks.New(webhooks.Options{}), nil
	case "pass":
		return engine.StaticHooks{Pass: true}, nil
	case "fail":
		return engine.StaticHooks{Pass: false}, nil
	}
	return nil, fmt.Errorf("--webhooks %q: want call, pass or fail", h.Mode)
}

// apply copies the source's engine settings into the engine options.
func (s *sourceFlags) apply(o *engine.Options) {
	o.QueryTimeout = s.QueryTimeout
	o.Concurrency = s.Concurrency
}

// progressMin is the size from which loading --data shows its progress.
const progressMin = 64 << 20

// progress returns a progress reporter for loading --data when standard
// error is a terminal and the file is large, else nil.
func (s *sourceFlags) progress() func(read, size int64) {
	if s.cmd == nil {
		return nil
	}
	f, ok := s.cmd.ErrOrStderr().(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	if fi, err := os.Stat(s.Data); err != nil || fi.Size() < progressMin {
		return nil
	}
	return progressPrinter(f, s.Data)
}

// progressPrinter rewrites one terminal line with the share of path read.
func progressPrinter(w io.Writer, path string) func(read, size int64) {
	return func(read, size int64) {
		pct := 100.0
		if size > 0 {
			pct = 100 * float64(read) / float64(size)
		}
		fmt.Fprintf(w, "\rloading %s: %d of %d MiB (%.0f%%)", path, read>>20, size>>20, pct)
		if read >= size {
			fmt.Fprintln(w)
		}
	}
}
