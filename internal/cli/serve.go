package cli

import (
	"errors"
	"fmt"
	"github.com/augurproj/augur/redact"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/server"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/webhooks"
)

// DefaultListen is `augur serve`'s default address: loopback only, so that
// nothing is exposed by accident; in a pod, use --listen :8080.
const DefaultListen = "127.0.0.1:8080"

// ServeOptions are `augur serve`'s inputs.
type ServeOptions struct {
	IO     *IOStreams
	Files  fileFlags
	Engine engineFlags
	Source sourceFlags
	Kube   kubeFlags
	Gates  gateFlags
	// Cluster asks for the cluster configuration of KUBECONFIG or the
	// in-cluster service account without --kubeconfig.
	Cluster        bool
	Listen         string
	Token          string
	TokenFile      string
	TLSCert        string
	TLSKey         string
	MaxBody        string
	RequestTimeout time.Duration
	ShutdownGrace  time.Duration
	LogFormat      string
	LogLevel       string
	// Listening, when set, is called with the bound address once the
	// server accepts connections (tests).
	Listening func(net.Addr)
}

// NewCmdServe builds `augur serve`.
func NewCmdServe(ios *IOStreams, runF func(*cobra.Command, *ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] (--data FILE | --prometheus URL) [-f FILE...] [--token-file FILE] [--tls-cert FILE --tls-key FILE]",
		Short: "Serve decisions over HTTP/JSON and act as a Flagger webhook",
		Long: `Serve augur over HTTP until SIGTERM or SIGINT:

  POST /v1/decide             one tick's decision (the JSON of augur analyze -o json)
  POST /v1/query              render and run metrics, check each value
  POST /flagger/v1/check      Flagger rollout webhook: 200 when the metrics pass, 403 with the reason
  POST /flagger/v1/gate       Flagger confirm-* webhook: 200 once approved (and metrics pass)
  POST /flagger/v1/gate/open  approve a canary's gate; /flagger/v1/gate/close withdraws it
  GET  /healthz, /readyz      liveness; readiness runs vector(1) on Prometheus and each other provider's IsOnline
  GET  /metrics               Prometheus metrics

Files given with -f are loaded once: their MetricTemplates resolve templateRefs and
their Canaries are the ones Flagger webhook calls may name. With --kubeconfig,
--kube-context or --cluster, Canaries, MetricTemplates and Secrets are also read from
the cluster. --token (or --token-file) protects /v1 and /flagger; Flagger, which cannot
send headers, gives the token as the webhook metadata key "token".

On SIGTERM the server stops accepting connections and lets in-flight requests finish
for up to --shutdown-grace.`,
		Example: `  augur serve --data testdata/podinfo/healthy.om -f testdata/podinfo/
  augur serve --listen :8080 --prometheus http://prometheus.monitoring:9090 --cluster --token-file /var/run/augur/token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd, opts)
			}
			return serveRun(cmd, opts)
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Files.Files, "filename", "f", nil,
		"Canary / MetricTemplate file or directory loaded at startup (YAML or JSON, multi-document)")
	opts.Engine.registerMesh(cmd)
	opts.Source.register(cmd)
	opts.Kube.register(cmd)
	opts.Gates.register(cmd)
	cmd.Flags().BoolVar(&opts.Cluster, "cluster", false,
		"read Canaries, MetricTemplates and Secrets from the cluster of $KUBECONFIG or the in-cluster service account")
	cmd.Flags().StringVar(&opts.Listen, "listen", DefaultListen, "address to listen on (host:port; :8080 for every interface)")
	cmd.Flags().StringVar(&opts.Token, "token", "", "bearer token required on /v1 and /flagger (prefer --token-file: flags show in ps)")
	cmd.Flags().StringVar(&opts.TokenFile, "token-file", "", "file holding the bearer token (surrounding whitespace ignored)")
	cmd.Flags().StringVar(&opts.TLSCert, "tls-cert", "", "TLS certificate file (PEM); serves HTTPS with --tls-key; re-read when it changes")
	cmd.Flags().StringVar(&opts.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	cmd.Flags().StringVar(&opts.MaxBody, "max-body", "1MiB", "request body limit: bytes, or with a unit (KiB, MiB, kB, MB)")
	cmd.Flags().DurationVar(&opts.RequestTimeout, "request-timeout", server.DefaultRequestTimeout,
		"time limit of one request; for /flagger keep it below the webhook's timeout in the Canary (Flagger's default 10s)")
	cmd.Flags().DurationVar(&opts.ShutdownGrace, "shutdown-grace", server.DefaultShutdownGrace, "how long in-flight requests may finish after SIGTERM")
	cmd.Flags().StringVar(&opts.LogFormat, "log-format", "json", "log format on standard error: json or text")
	cmd.Flags().StringVar(&opts.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// newLogger builds the server's logger on w.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}

// byteUnits are the units --max-body accepts.
var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30},
	{"kB", 1000}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"k", 1000}, {"K", 1000}, {"M", 1000 * 1000}, {"G", 1000 * 1000 * 1000},
	{"B", 1},
}

// maxMaxBody caps --max-body: bodies are read into memory.
const maxMaxBody = 1 << 30

// parseByteSize reads a size like 1048576, 1MiB or 512KiB.
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: want a positive number of bytes, optionally with a unit (KiB, MiB, GiB, kB, MB, GB)", s)
	}
	if n > maxMaxBody/mult {
		return 0, fmt.Errorf("%q: at most 1GiB", s)
	}
	return n * mult, nil
}

// token reads --token or --token-file.
func (o *ServeOptions) token() (string, error) {
	switch {
	case o.Token != "" && o.TokenFile != "":
		return "", errors.New("--token and --token-file are exclusive")
	case o.TokenFile != "":
		b, err := os.ReadFile(o.TokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", fmt.Errorf("--token-file %s: empty", o.TokenFile)
		}
		if strings.ContainsAny(t, " \t\r\n") {
			return "", fmt.Errorf("--token-file %s: the token must be one word", o.TokenFile)
		}
		return t, nil
	}
	return o.Token, nil
}

// probes are the providers /readyz checks: the builtin metrics' Prometheus
// and every distinct Prometheus of the loaded MetricTemplates (those without
// secretRef; with --data or --prometheus they are all the same one).
func serveProbes(opts *ServeOptions, src *dataSource, set *manifest.Set) ([]server.Probe, error) {
	addrs := []string{opts.Engine.MetricsServer}
	if opts.Source.Data == "" && opts.Source.Prometheus == "" && set != nil {
		for _, t := range set.Templates {
			p := t.Spec.Provider
			if p.Type == prometheus.Type && p.SecretRef == nil && p.Address != "" && len(p.Headers) == 0 {
				addrs = append(addrs, p.Address)
			}
		}
	}
	var probes []server.Probe
	seen := map[string]bool{}
	for _, a := range addrs {
		name := "prometheus " + a
		switch {
		case opts.Source.Data != "":
			name = "recorded data " + opts.Source.Data
		case opts.Source.Prometheus != "":
			name = "prometheus " + opts.Source.Prometheus
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		p, err := src.registry.New(metrics.Config{Type: prometheus.Type, Address: a, Timeout: opts.Source.QueryTimeout})
		if err != nil {
			return nil, fmt.Errorf("metrics provider %s: %w", a, err)
		}
		probes = append(probes, server.Probe{Name: name, Provider: p, At: recorded.EvalTime(src.end)})
	}
	return probes, nil
}

func serveRun(cmd *cobra.Command, opts *ServeOptions) error {
	ctx := cmd.Context()
	logger, err := newLogger(opts.IO.ErrOut, opts.LogFormat, opts.LogLevel)
	if err != nil {
		return badInput(err)
	}
	token, err := opts.token()
	if err != nil {
		return badInput(err)
	}
	secrets := redact.FromContext(ctx)
	secrets.Add(token)
	logger = slog.New(redact.Handler(logger.Handler(), secrets))
	maxBody, err := parseByteSize(opts.MaxBody)
	if err != nil {
		return badInput(fmt.Errorf("--max-body %w", err))
	}
	if opts.RequestTimeout <= 0 || opts.ShutdownGrace < 0 {
		return badInput(errors.New("--request-timeout must be positive and --shutdown-grace not negative"))
	}
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return badInput(errors.New("--tls-cert and --tls-key go together"))
	}
	in := &canaryInput{}
	if len(opts.Files.Files) > 0 {
		if in.set, err = opts.Files.load(opts.IO); err != nil {
			return badInput(err)
		}
	}
	if opts.Cluster || opts.Kube.requested() {
		if in.cluster, err = opts.Kube.source(ctx); err != nil {
			return badInput(err)
		}
	}
	src, err := opts.Source.open(false)
	if err != nil {
		return badInput(err)
	}
	m := server.NewMetrics(0, logger)
	hooks := webhooks.New(webhooks.Options{Logger: logger})
	in.providers(src)
	eng, err := opts.Engine.newEngine(m.InstrumentRegistry(src.registry), in.set, hooks,
		opts.Source.apply, in.apply, func(o *engine.Options) { o.Logger = logger })
	if err != nil {
		return badInput(err)
	}
	so := service.Options{Engine: eng, Hooks: hooks, Data: src.bounds(), TemplatesInCluster: in.cluster != nil}
	if end := src.end; !end.IsZero() {
		so.DefaultAt = func() time.Time { return recorded.EvalTime(end) }
	}
	svc, err := service.New(so)
	if err != nil {
		return badInput(err)
	}
	probes, err := serveProbes(opts, src, in.set)
	if err != nil {
		return badInput(err)
	}
	probes = append(probes, vendorProbes(src.registry, in.set, in.cluster, src.file != "")...)
	gates, err := opts.Gates.store(in.cluster)
	if err != nil {
		return badInput(err)
	}
	var canaries []server.CanarySource
	if in.set != nil && len(in.set.Canaries) > 0 {
		canaries = append(canaries, server.StaticCanaries(in.set.Canaries))
	}
	if in.cluster != nil {
		canaries = append(canaries, in.cluster)
	}
	srv, err := server.New(server.Options{
		Service: svc, Logger: logger, Metrics: m, Token: token, MaxBody: maxBody,
		RequestTimeout: opts.RequestTimeout, ShutdownGrace: opts.ShutdownGrace,
		Canaries: canaries, Probes: probes, TLSCertFile: opts.TLSCert, TLSKeyFile: opts.TLSKey,
		Preflight: preflightFor(in.cluster),
		Gates:     gates,
		Secrets:   secrets,
	})
	if err != nil {
		return badInput(err)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return badInput(fmt.Errorf("--listen: %w", err))
	}
	scheme := "http"
	if opts.TLSCert != "" {
		scheme = "https"
	}
	attrs := []any{"addr", ln.Addr().String(), "url", scheme + "://" + ln.Addr().String(), "metrics", src.desc, "auth", token != ""}
	if in.set != nil {
		attrs = append(attrs, "canaries", len(in.set.Canaries), "templates", len(in.set.Templates))
	}
	if in.cluster != nil {
		attrs = append(attrs, "cluster", in.cluster.String())
	}
	if gates != nil {
		attrs = append(attrs, "gates", gates.Describe().Location)
	} else {
		attrs = append(attrs, "gates", "memory (lost on restart, not shared by replicas)")
	}
	logger.Info("listening", attrs...)
	if token == "" {
		if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil {
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				logger.Warn("no --token: anyone who can reach this address can ask for decisions and open gates")
			}
		}
	}
	if opts.Listening != nil {
		opts.Listening(ln.Addr())
	}
	return srv.Serve(ctx, ln)
}
