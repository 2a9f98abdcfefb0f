package argo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	timeutil "github.com/argoproj/argo-rollouts/utils/time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/service"
)

// DefaultTimeout bounds a measurement whose configuration sets no timeout
// (Argo's Prometheus provider uses the same default).
const DefaultTimeout = 30 * time.Second

// Options configure a Provider.
type Options struct {
	// Registry builds metrics providers. Nil means augur's default: the live
	// Prometheus provider at the configured address, or recorded data for a
	// configuration with data. `augur argo-plugin --data/--prometheus`
	// passes a registry that overrides every address instead.
	Registry *metrics.Registry
	// MeshProvider is the default builtin query family (default istio).
	MeshProvider string
	// Timeout is the default measurement timeout (default DefaultTimeout).
	Timeout time.Duration
	// Logger receives one line per measurement (nil: discard).
	Logger *slog.Logger
	// Now is the clock of StartedAt/FinishedAt (default time.Now).
	Now func() time.Time
	// DefaultAt, when set, is the evaluation time of every measurement (the
	// end of the recorded data of `augur argo-plugin --data`); a
	// configuration with data is evaluated at the end of its own data.
	DefaultAt func() time.Time
	// Data bounds the recorded data of `augur argo-plugin --data`: a
	// measurement whose judge window lies outside it is an Error.
	Data *service.DataBounds
	// Preflight lints a Rollout from the cluster for preflight: true
	// configurations; nil without cluster access.
	Preflight PreflightFunc
}

// Provider is augur's Argo Rollouts metric provider. It is safe for
// concurrent use: Argo calls it from one goroutine per metric.
type Provider struct {
	reg     *metrics.Registry
	eng     *engine.Engine
	svc     *service.Service
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time

	preflight PreflightFunc

	mu     sync.Mutex
	bounds map[string]*service.DataBounds
}

var _ rpc.MetricProviderPlugin = (*Provider)(nil)

// New returns a Provider.
func New(opts Options) (*Provider, error) {
	if opts.Registry == nil {
		opts.Registry = DefaultRegistry()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	eng, err := engine.New(engine.Options{
		Registry:     probed(opts.Registry),
		Secrets:      credentialSource{},
		MeshProvider: opts.MeshProvider,
		// The measurement's own deadline bounds each query.
		QueryTimeout: MaxTimeout,
		Concurrency:  1,
		Logger:       opts.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("argo plugin: %w", err)
	}
	svc, err := service.New(service.Options{Engine: eng, Now: opts.Now, DefaultAt: opts.DefaultAt, Data: opts.Data})
	if err != nil {
		return nil, fmt.Errorf("argo plugin: %w", err)
	}
	return &Provider{reg: opts.Registry, eng: eng, svc: svc, timeout: opts.Timeout, log: opts.Logger, now: opts.Now, bounds: map[string]*service.DataBounds{},
		preflight: opts.Preflight}, nil
}

// dataBounds is the time range of a recorded data file: a judged metric of
// a configuration with data reads its window up to recorded.EvalTime of the
// newest sample, as its instant query does, and a window outside the data
// is refused (service.DataBounds). The store comes from the registry's
// recorded-data provider, which has loaded the file once already; a
// registry that serves something else for file:// addresses makes the file
// be read here (once per path).
func (p *Provider) dataBounds(path string) (*service.DataBounds, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.bounds[path]; ok {
		return b, nil
	}
	addr, err := dataAddress(path)
	if err != nil {
		return nil, err
	}
	var store *recorded.Store
	if prov, err := p.reg.New(metrics.Config{Type: prometheus.Type, Address: addr}); err == nil {
		if r, ok := prov.(interface{ Store() *recorded.Store }); ok {
			store = r.Store()
		}
	}
	if store == nil {
		if store, err = recorded.LoadFile(path); err != nil {
			return nil, fmt.Errorf("data %q: %w", path, err)
		}
	}
	rp := recorded.New(store, recorded.Options{})
	first, last := rp.DataBounds()
	b := &service.DataBounds{Name: path, First: first, Last: last, Interval: rp.SampleInterval()}
	p.bounds[path] = b
	return b, nil
}

// DefaultRegistry serves the prometheus provider type from a live Prometheus
// at the configured address, or from recorded data for a file:// address
// (how a configuration's data reaches the engine).
func DefaultRegistry() *metrics.Registry {
	reg := &metrics.Registry{}
	cache := recorded.NewCache(recorded.Options{})
	reg.Register(prometheus.Type, func(cfg metrics.Config) (metrics.Provider, error) {
		if strings.HasPrefix(cfg.Address, "file://") {
			return cache.New(cfg)
		}
		return prometheus.New(cfg)
	})
	return reg
}

// credentialSecret is the Secret name a configuration's credentials are
// resolved under.
const credentialSecret = "augur-argo-plugin-credentials"

type credentialsKey struct{}

// credentialSource hands the engine the credentials of the measurement in
// progress (carried by its context) as the MetricTemplate's Secret.
type credentialSource struct{}

func (credentialSource) Secret(ctx context.Context, namespace, name string) (map[string]string, error) {
	if c, ok := ctx.Value(credentialsKey{}).(map[string]string); ok && name == credentialSecret {
		return c, nil
	}
	return nil, fmt.Errorf("secret %s.%s: %w", name, namespace, engine.ErrNotFound)
}

// InitPlugin is called by Argo once per plugin process start.
func (p *Provider) InitPlugin() types.RpcError { return types.RpcError{} }

// Type returns the plugin's name.
func (p *Provider) Type() string { return PluginName }

// GarbageCollect has nothing to collect: measurements hold no external state.
func (p *Provider) GarbageCollect(*v1alpha1.AnalysisRun, v1alpha1.Metric, int) types.RpcError {
	return types.RpcError{}
}

// Resume returns the measurement unchanged: Run always completes it.
func (p *Provider) Resume(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) v1alpha1.Measurement {
	return m
}

// Terminate returns a completed measurement unchanged and completes an
// unfinished one as Successful (Argo then marks it "Metric Terminated").
func (p *Provider) Terminate(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) v1alpha1.Measurement {
	if m.Phase.Completed() {
		return m
	}
	m.Phase = v1alpha1.AnalysisPhaseSuccessful
	stamp(&m.FinishedAt, timeutil.MetaTime, p.now())
	return m
}

// Run measures the metric now. It is the net/rpc entry point; RunContext
// does the work.
func (p *Provider) Run(run *v1alpha1.AnalysisRun, metric v1alpha1.Metric) v1alpha1.Measurement {
	return p.RunContext(context.Background(), run, metric)
}

// RunContext measures the metric under ctx (further bounded by the
// configuration's timeout) and returns a completed measurement: Successful,
// Failed or Inconclusive with the value, or Error with the reason.
func (p *Provider) RunContext(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric) v1alpha1.Measurement {
	var m v1alpha1.Measurement
	stamp(&m.StartedAt, timeutil.MetaTime, p.now())
	v, meta, sec := p.measure(ctx, run, metric)
	m.Phase, m.Value = v.phase, v.value
	m.Message = sec.scrub(v.message)
	if len(meta) > 0 {
		m.Metadata = sec.scrubMap(meta)
	}
	stamp(&m.FinishedAt, timeutil.MetaTime, p.now())
	p.log.Info("measurement", "metric", metric.Name, "phase", m.Phase, "value", m.Value, "message", m.Message)
	return m
}

func (p *Provider) measure(ctx context.Context, run *v1alpha1.AnalysisRun, metric v1alpha1.Metric) (verdict, map[string]string, secrets) {
	cfg, err := parseConfig(metric, p.timeout)
	if err != nil {
		return verdict{phase: v1alpha1.AnalysisPhaseError, message: err.Error()}, nil, secrets{}
	}
	if cfg.mode == modePreflight {
		return p.runPreflight(ctx, run, cfg), nil, cfg.secrets
	}
	req, err := cfg.request(runNamespace(run), metric.Name)
	if err != nil {
		return verdict{phase: v1alpha1.AnalysisPhaseError, message: err.Error()}, nil, cfg.secrets
	}
	if len(cfg.Judge) > 0 {
		if cfg.ThresholdRange == nil && (metric.SuccessCondition != "" || metric.FailureCondition != "") {
			return verdict{phase: v1alpha1.AnalysisPhaseError, message: configErrorf("metric %q: successCondition and failureCondition "+
				"test the metric's value, which a judged metric without thresholdRange does not query: give thresholdRange, or drop the conditions", metric.Name).Error()}, nil, cfg.secrets
		}
		// The sequential judge reads the data since the AnalysisRun started.
		if start := runStart(run); !start.IsZero() {
			req.AnalysisStart = &start
		}
		if cfg.Data != "" {
			b, err := p.dataBounds(cfg.Data)
			if err != nil {
				return verdict{phase: v1alpha1.AnalysisPhaseError, message: err.Error()}, nil, cfg.secrets
			}
			end := recorded.EvalTime(b.Last)
			req.At, req.Data = &end, b
		}
	}
	ctx, cancel := context.WithTimeout(withCredentials(ctx, cfg), cfg.timeout)
	defer cancel()
	ctx, pr := withProbe(ctx)
	ctx, sm := metrics.WithScalarMark(ctx)
	resp, err := p.svc.Query(ctx, req)
	if err == nil && len(resp.Checks) != 1 {
		err = fmt.Errorf("got %d checks, want 1", len(resp.Checks))
	}
	if err != nil {
		return verdict{phase: v1alpha1.AnalysisPhaseError, message: err.Error()}, nil, cfg.secrets
	}
	chk := resp.Checks[0]
	meta := map[string]string{"kind": string(chk.Kind)}
	if chk.Query != "" {
		meta["query"] = chk.Query
	}
	if j := chk.Judgement; j != nil {
		addJudgement(meta, j)
	}
	out := pr.outcome()
	out.scalar = sm.Scalar()
	if out.err != nil && !out.noValues() && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		chk.Reason = fmt.Sprintf("%s has no value: the query timed out after %s (set timeout in the configuration)", chk.Metric, cfg.timeout)
	}
	return judge(chk, out, metric, cfg.ThresholdRange), meta, cfg.secrets
}

// GetMetadata returns the rendered query Argo stores with the metric's
// results, or {"error": …} when the configuration is unusable.
func (p *Provider) GetMetadata(metric v1alpha1.Metric) map[string]string {
	return p.metadataContext(context.Background(), metric)
}

func (p *Provider) metadataContext(ctx context.Context, metric v1alpha1.Metric) map[string]string {
	cfg, err := parseConfig(metric, p.timeout)
	if err != nil {
		return map[string]string{"error": err.Error()}
	}
	if cfg.mode == modePreflight {
		return map[string]string{"kind": modePreflight}
	}
	plan, err := p.plan(ctx, cfg, "", metric.Name)
	if err != nil {
		return cfg.secrets.scrubMap(map[string]string{"error": err.Error()})
	}
	if plan.Err != nil {
		return cfg.secrets.scrubMap(map[string]string{"error": string(plan.Err.Kind) + ": " + plan.Err.Message})
	}
	meta := metadata(plan)
	if cfg.Namespace == "" && meta["query"] != "" {
		// GetMetadata gets no AnalysisRun, and Run renders {{ namespace }}
		// with the run's namespace: a query that depends on it is not known
		// here, so it is left out rather than shown for a namespace that
		// never ran. Each measurement's metadata holds the query it ran.
		other, err := p.plan(ctx, cfg, metadataProbeNamespace, metric.Name)
		if err != nil || other.Err != nil || other.Query != plan.Query {
			delete(meta, "query")
			meta["queryNamespace"] = "the AnalysisRun's (see each measurement's metadata for the query it ran)"
		}
	}
	return cfg.secrets.scrubMap(meta)
}

// metadataProbeNamespace is a namespace no run has (not a DNS label), used
// to find out whether a query depends on the AnalysisRun's namespace.
const metadataProbeNamespace = "augur.metadata-probe"

func metadata(plan engine.MetricPlan) map[string]string {
	m := map[string]string{"kind": string(plan.Kind)}
	if plan.Query != "" {
		m["query"] = plan.Query
	}
	if plan.Observer != "" {
		m["observer"] = plan.Observer
	}
	if j := plan.Judge; j != nil {
		m["judge"] = string(j.Config.WithDefaults().Judge)
		m["data"] = string(j.Data)
	}
	return m
}

// runStart is when the AnalysisRun started (its status, else its creation).
func runStart(run *v1alpha1.AnalysisRun) time.Time {
	switch {
	case run == nil:
		return time.Time{}
	case run.Status.StartedAt != nil:
		return run.Status.StartedAt.Time
	}
	return run.CreationTimestamp.Time
}

// addJudgement puts a judged metric's verdict and numbers in the
// measurement's metadata (flat strings, as Argo stores them).
func addJudgement(meta map[string]string, j *analysis.Judgement) {
	e := j.Explanation
	meta["judge"] = string(j.Judge)
	meta["verdict"] = string(j.Verdict)
	meta["classification"] = string(j.Classification)
	meta["data"] = string(e.Data)
	meta["rule"] = e.Rule
	meta["window"] = j.Window.Start.UTC().Format(time.RFC3339) + "/" + j.Window.End.UTC().Format(time.RFC3339)
	side := func(s judges.Side) string {
		if s.Requests != nil && s.Errors != nil {
			return fmt.Sprintf("errors %g of %g requests", *s.Errors, *s.Requests)
		}
		out := fmt.Sprintf("n %g", s.Count)
		if s.Mean != nil {
			out += fmt.Sprintf(", mean %.4g", *s.Mean)
		}
		if s.Median != nil {
			out += fmt.Sprintf(", median %.4g", *s.Median)
		}
		return out
	}
	meta["canary"], meta["baseline"] = side(e.Canary), side(e.Baseline)
	if e.PValue != nil {
		meta["pValue"] = fmt.Sprintf("%.4g", *e.PValue)
	}
	if e.EValue != nil {
		meta["eValue"] = fmt.Sprintf("%.4g", *e.EValue)
	}
	if sh := e.Shift; sh != nil && sh.Estimate != nil {
		v := fmt.Sprintf("%s %.4g", sh.Kind, *sh.Estimate)
		if sh.Lower != nil && sh.Upper != nil {
			v += fmt.Sprintf(" [%.4g, %.4g]", *sh.Lower, *sh.Upper)
		}
		meta["shift"] = v
	}
	if ef := e.Effect; ef != nil && ef.Value != nil {
		meta["effect"] = fmt.Sprintf("%s %.4g", ef.Kind, *ef.Value)
	}
}

func runNamespace(run *v1alpha1.AnalysisRun) string {
	if run == nil {
		return ""
	}
	return run.Namespace
}

// stamp sets *dst to conv(t): a Measurement's *metav1.Time built by Argo's
// own helper (utils/time.MetaTime), so that this package need not import
// apimachinery itself.
func stamp[T any](dst **T, conv func(time.Time) T, t time.Time) {
	v := conv(t)
	*dst = &v
}

// plan renders the configuration's metric without querying it (the
// engine's plan: rendered query and provider).
func (p *Provider) plan(ctx context.Context, cfg *parsed, runNS, metricName string) (engine.MetricPlan, error) {
	req, err := cfg.request(runNS, metricName)
	if err != nil {
		return engine.MetricPlan{}, err
	}
	plans, err := p.eng.PlanFor(withCredentials(ctx, cfg), &req.Canary, engine.PlanOptions{Templates: engine.StaticTemplates(req.MetricTemplates), Judges: req.Judges})
	if err != nil {
		return engine.MetricPlan{}, fmt.Errorf("render: %w", err)
	}
	if len(plans) != 1 {
		return engine.MetricPlan{}, fmt.Errorf("render: got %d metric plans, want 1", len(plans))
	}
	return plans[0], nil
}

// withCredentials puts the configuration's credentials where
// credentialSource finds them.
func withCredentials(ctx context.Context, cfg *parsed) context.Context {
	if creds := cfg.Credentials.credentialMap(); creds != nil {
		return context.WithValue(ctx, credentialsKey{}, creds)
	}
	return ctx
}
