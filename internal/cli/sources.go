package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/webhooks"
)

// sourceFlags select where metrics come from.
type sourceFlags struct {
	Prometheus   string
	Data         string
	QueryTimeout time.Duration
	Concurrency  int

	cmd *cobra.Command // for the progress of large --data files on a terminal
}

func (s *sourceFlags) register(cmd *cobra.Command) {
	s.cmd = cmd
	cmd.Flags().StringVar(&s.Prometheus, "prometheus", "",
		"live Prometheus URL; overrides the address of every prometheus provider (builtin, inline and templates)")
	cmd.Flags().StringVar(&s.Data, "data", "",
		"recorded data (OpenMetrics text with timestamps, ending in # EOF) evaluated by the embedded PromQL engine; every prometheus provider reads it")
	cmd.Flags().DurationVar(&s.QueryTimeout, "query-timeout", engine.DefaultQueryTimeout, "timeout of each metric query")
	cmd.Flags().IntVar(&s.Concurrency, "concurrency", engine.DefaultConcurrency, "metric queries run at once")
}

// dataSource is what a command knows about its metrics source.
type dataSource struct {
	registry *metrics.Registry
	// start and end bound recorded data (zero for a live server).
	start, end time.Time
	desc       string
}

func (s *sourceFlags) open(requireOne bool) (*dataSource, error) {
	if s.Prometheus != "" && s.Data != "" {
		return nil, errors.New("--prometheus and --data are exclusive")
	}
	reg := &metrics.Registry{}
	switch {
	case s.Data != "":
		store, err := recorded.LoadOpenMetricsFileWith(s.Data, recorded.LoadOptions{Progress: s.progress()})
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		if store.SampleCount() == 0 {
			return nil, fmt.Errorf("--data %s: no samples", s.Data)
		}
		p := recorded.New(store, recorded.Options{})
		reg.Register(prometheus.Type, func(metrics.Config) (metrics.Provider, error) { return p, nil })
		return &dataSource{registry: reg, start: store.Start(), end: store.End(),
			desc: fmt.Sprintf("recorded data %s (%d series, %s to %s)", s.Data, store.SeriesCount(),
				store.Start().UTC().Format(time.RFC3339), store.End().UTC().Format(time.RFC3339))}, nil
	case s.Prometheus != "":
		addr := s.Prometheus
		reg.Register(prometheus.Type, func(c metrics.Config) (metrics.Provider, error) {
			c.Address = addr
			return prometheus.New(c)
		})
		return &dataSource{registry: reg, desc: "Prometheus at " + addr}, nil
	default:
		if requireOne {
			return nil, errors.New("no metrics source: give --data FILE (recorded data) or --prometheus URL")
		}
		prometheus.Register(reg)
		return &dataSource{registry: reg, desc: "the providers' own addresses"}, nil
	}
}

// newEngine builds an engine over the registry and the decoded files.
func (e *engineFlags) newEngine(reg *metrics.Registry, set *manifest.Set, hooks engine.HookCaller, opts ...func(*engine.Options)) (*engine.Engine, error) {
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
