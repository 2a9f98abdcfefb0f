package scenario

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/metrics/vendors"
	"github.com/augurproj/augur/service"
)

// Decider reaches a decision for a scenario's request through one transport.
// hooks is the scenario's webhook server; the request's webhook URLs point at it.
type Decider func(ctx context.Context, s *Scenario, req service.DecideRequest) (analysis.Decision, error)

// RunOptions configure Run.
type RunOptions struct {
	// Update rewrites want.yaml instead of comparing.
	Update bool
	// Skip, when set, skips scenarios it returns a reason for.
	Skip func(*Scenario) string
}

// Run runs the whole corpus (testdata/scenarios) through decide, one subtest per scenario.
func Run(t *testing.T, decide Decider, opts RunOptions) {
	t.Helper()
	td, err := TestdataDir()
	if err != nil {
		t.Fatal(err)
	}
	all, err := Load(filepath.Join(td, "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		t.Run(s.Name, func(t *testing.T) {
			if opts.Skip != nil {
				if why := opts.Skip(s); why != "" {
					t.Skip(why)
				}
			}
			hooks := s.StartHooks()
			defer hooks.Close()
			req, err := s.Request(hooks.URL)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			d, err := decide(ctx, s, req)
			if s.Want.Error != "" {
				switch {
				case err == nil:
					t.Errorf("%s: got a decision (%s), want the error %q", s.Path, d.Action, s.Want.Error)
				case !strings.Contains(err.Error(), s.Want.Error):
					t.Errorf("%s: got the error %q, want one containing %q", s.Path, err, s.Want.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("decide: %v", err)
			}
			d = Normalize(d, hooks.URL)
			if opts.Update {
				if err := s.Update(d); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := s.Diff(d); diff != "" {
				t.Errorf("%s: decision differs from want.yaml (run with -update to rewrite after checking):\n%s\nreasons: %q", s.Path, diff, d.Reasons)
			}
		})
	}
}

// errNoData is what a metric without a canned value gets in a scenario without recorded data.
var errNoData = errors.New("scenario gives no value for this metric and no recorded data")

type noData struct{}

func (noData) Query(context.Context, string, time.Time) (float64, error) { return 0, errNoData }

// Registry returns the metrics registry for s: its recorded data for every
// prometheus provider, or a provider that fails every query; and the vendor
// providers, as the CLI and the plugins register them (a scenario's vendor
// template must fail before any request, e.g. for a missing region).
func (s *Scenario) Registry(testdata string) (*metrics.Registry, error) {
	reg, _, err := s.registry(testdata)
	return reg, err
}

// registry is Registry and the bounds of the scenario's recorded data (nil
// without data).
func (s *Scenario) registry(testdata string) (*metrics.Registry, *service.DataBounds, error) {
	reg := &metrics.Registry{}
	vendors.Register(reg)
	var p metrics.Provider = noData{}
	var bounds *service.DataBounds
	if path := s.DataPath(testdata); path != "" {
		store, err := recorded.LoadOpenMetricsFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: data: %w", s.Path, err)
		}
		rp := recorded.New(store, recorded.Options{})
		first, last := rp.DataBounds()
		bounds = &service.DataBounds{Name: s.Spec.Data, First: first, Last: last, Interval: rp.SampleInterval()}
		p = rp
	}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return p, nil })
	return reg, bounds, nil
}

// EngineDecider decides in-process through service.Service and a fresh engine
// per scenario (the reference every transport is compared with).
func EngineDecider(hooks engine.HookCaller) Decider {
	return func(ctx context.Context, s *Scenario, req service.DecideRequest) (analysis.Decision, error) {
		svc, err := s.Service(hooks)
		if err != nil {
			return analysis.Decision{}, err
		}
		return svc.Decide(ctx, req)
	}
}

// Service builds the in-process service a transport under test should wrap
// for s: an engine over s's registry and mesh provider, calling real webhooks,
// bounded by s's recorded data as `augur serve --data` is.
func (s *Scenario) Service(hooks engine.HookCaller) (*service.Service, error) {
	td, err := TestdataDir()
	if err != nil {
		return nil, err
	}
	reg, bounds, err := s.registry(td)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(engine.Options{Registry: reg, Hooks: hooks, MeshProvider: s.Spec.MeshProvider})
	if err != nil {
		return nil, err
	}
	return service.New(service.Options{Engine: eng, Hooks: hooks, Data: bounds, TemplatesInCluster: s.Spec.TemplatesInCluster})
}

// Normalize replaces the webhook server's address (random per run) with
// http://hooks.scenario in the decision's texts, so decisions compare across
// runs and transports.
func Normalize(d analysis.Decision, hookURL string) analysis.Decision {
	r := strings.NewReplacer(hookURL, "http://"+HookHost)
	evs := make([]analysis.Event, len(d.Events))
	for i, e := range d.Events {
		e.Message = r.Replace(e.Message)
		evs[i] = e
	}
	d.Events = evs
	hooks := make([]analysis.HookResult, len(d.Hooks))
	for i, h := range d.Hooks {
		h.Err = r.Replace(h.Err)
		hooks[i] = h
	}
	d.Hooks = hooks
	reasons := make([]string, len(d.Reasons))
	for i, s := range d.Reasons {
		reasons[i] = r.Replace(s)
	}
	d.Reasons = reasons
	return d
}
