package flagger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	augurprom "github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/webhooks"
)

// schedScenario is one scheduler scenario, as data (testdata/sched/*.yaml):
// a Canary (and MetricTemplates) and, tick by tick, what Prometheus answers
// for each metric, what each webhook answers and whether a new revision of
// the target is rolled out before the tick. Both Flagger's controller and
// augur run it; every tick's outcome must agree.
type schedScenario struct {
	// Doc says what the scenario shows.
	Doc string `json:"doc,omitempty"`
	// Mesh is the global -mesh-provider (default istio).
	Mesh string `json:"mesh,omitempty"`
	// Canary is the Canary object; its webhooks' URLs are rewritten to the
	// loopback webhook server (/hook/<name>), templates' provider addresses
	// to the loopback Prometheus.
	Canary json.RawMessage `json:"canary"`
	// Templates are MetricTemplate objects.
	Templates []json.RawMessage `json:"templates,omitempty"`
	// Metrics are every tick's default answers by metric name: a number,
	// NaN, "novalues" (an empty vector) or "error" (HTTP 500).
	Metrics map[string]string `json:"metrics,omitempty"`
	// Hooks are every tick's default answers by webhook name (HTTP status;
	// default 200, rollback hooks 404).
	Hooks map[string]int `json:"hooks,omitempty"`
	// Ticks follow the initialisation tick; the first one should bring a new
	// revision (newRevision: true) to start an analysis.
	Ticks []schedTick `json:"ticks"`
	// EmptyBodies makes failing webhooks answer without a body (otherwise
	// they say why): Flagger's event then ends in an empty error, augur's
	// names the status, a deliberate difference (docs/compatibility.md).
	EmptyBodies bool `json:"emptyBodies,omitempty"`
	// mutateAugur, when set, changes augur's copy of the Canary (the
	// harness's own test: a divergence must be caught).
	mutateAugur func(*analysis.Canary)
	// Expect lists the deliberate differences this scenario shows on purpose
	// (docs/compatibility.md): tick index → the difference's text.
	Expect map[int]string `json:"expect,omitempty"`
}

// schedTick is one analysis interval's inputs.
type schedTick struct {
	NewRevision bool `json:"newRevision,omitempty"`
	// CanaryDeadline and PrimaryDeadline make that Deployment exceed its
	// progress deadline during this tick (Flagger reads the Deployment's
	// conditions; augur gets the same as its readiness input).
	CanaryDeadline  bool `json:"canaryDeadline,omitempty"`
	PrimaryDeadline bool `json:"primaryDeadline,omitempty"`
	// Suspend sets spec.suspend for this tick (the Canary is edited before
	// the tick and the flag cleared on the next one).
	Suspend bool              `json:"suspend,omitempty"`
	Metrics map[string]string `json:"metrics,omitempty"`
	Hooks   map[string]int    `json:"hooks,omitempty"`
}

// answers are one tick's scripted answers.
type answers struct {
	metrics map[string]string
	hooks   map[string]int
}

func (s *schedScenario) answersAt(i int) answers {
	a := answers{metrics: map[string]string{}, hooks: map[string]int{}}
	for k, v := range s.Metrics {
		a.metrics[k] = v
	}
	for k, v := range s.Hooks {
		a.hooks[k] = v
	}
	if i >= 0 && i < len(s.Ticks) {
		for k, v := range s.Ticks[i].Metrics {
			a.metrics[k] = v
		}
		for k, v := range s.Ticks[i].Hooks {
			a.hooks[k] = v
		}
	}
	return a
}

// loadScenario reads a scenario file (YAML or JSON).
func loadScenario(b []byte) (*schedScenario, error) {
	var s schedScenario
	if err := yaml.UnmarshalStrict(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// promScript is the loopback Prometheus: it answers a query only when its
// text is one of the rendered queries (augur's Plan; Flagger must send the
// very same text), with the tick's scripted answer for that metric.
type promScript struct {
	srv *httptest.Server
	// url is the address both sides use: the server and a random path
	// prefix. Other processes on the machine may reach a reused loopback
	// port (a client of theirs retrying); requests without the prefix are
	// not ours and are ignored.
	url     string
	prefix  string
	mu      sync.Mutex
	byQuery map[string]string // query text → metric name
	answer  map[string]string // metric name → answer
	unknown []string
}

func newPromScript(t *testing.T) *promScript {
	p := &promScript{byQuery: map[string]string{}, prefix: randomPrefix()}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.url = p.srv.URL + p.prefix
	t.Cleanup(p.srv.Close)
	return p
}

func (p *promScript) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, p.prefix+"/") {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.Form.Get("query")
	p.mu.Lock()
	var ans string
	if q == "vector(1)" { // providers' IsOnline
		ans = "1"
	} else if m, ok := p.byQuery[q]; ok {
		ans = p.answer[m]
		if ans == "" {
			ans = "1"
		}
	} else {
		p.unknown = append(p.unknown, fmt.Sprintf("%q (%s %s, %s)", q, r.Method, r.URL.Path, r.Header.Get("Content-Type")))
		ans = "error"
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch ans {
	case "error":
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"status":"error","errorType":"internal","error":"scripted failure"}`)
	case "novalues":
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	default:
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"`+ans+`"]}]}}`)
	}
}

func (p *promScript) set(byQuery, answer map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byQuery, p.answer = byQuery, answer
}

func (p *promScript) takeUnknown() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.unknown
	p.unknown = nil
	return u
}

// schedHookCall is one webhook call as the loopback server saw it.
type schedHookCall struct {
	Name, Phase string
	// Event hooks: the message and type.
	Message, Type string
}

func (c schedHookCall) String() string {
	if c.Message != "" {
		return fmt.Sprintf("%s(%s) %s: %s", c.Name, c.Phase, c.Type, c.Message)
	}
	return fmt.Sprintf("%s(%s)", c.Name, c.Phase)
}

// hookScript is the loopback webhook server: /hook/<name> answers the
// tick's scripted status for that hook.
type hookScript struct {
	srv *httptest.Server
	// url is the server and a random path prefix (see promScript.url).
	url    string
	prefix string
	mu     sync.Mutex
	codes  map[string]int
	defs   map[string]int // defaults by hook name (from the hook's type)
	calls  []schedHookCall
	broken []string
	// empty: failures answer without a body.
	empty bool
}

func newHookScript(t *testing.T) *hookScript {
	h := &hookScript{prefix: randomPrefix()}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	h.url = h.srv.URL + h.prefix
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookScript) serve(w http.ResponseWriter, r *http.Request) {
	name, ours := strings.CutPrefix(r.URL.Path, h.prefix+"/hook/")
	if !ours {
		http.NotFound(w, r)
		return
	}
	var p struct {
		Phase    string            `json:"phase"`
		Metadata map[string]string `json:"metadata"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.broken = append(h.broken, fmt.Sprintf("%s: %v", name, err))
	}
	h.calls = append(h.calls, schedHookCall{Name: name, Phase: p.Phase, Message: p.Metadata["eventMessage"], Type: p.Metadata["eventType"]})
	code, ok := h.codes[name]
	if !ok {
		code, ok = h.defs[name]
	}
	if !ok {
		h.broken = append(h.broken, fmt.Sprintf("call to %s, which the canary does not configure", r.URL.Path))
		code = http.StatusTeapot
	}
	w.WriteHeader(code)
	if code > http.StatusAccepted && code != http.StatusNoContent && !h.empty {
		_, _ = fmt.Fprintf(w, "scripted %d from %s", code, name)
	}
}

func (h *hookScript) set(codes map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.codes = codes
}

func (h *hookScript) take() []schedHookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.calls
	h.calls = nil
	return c
}

// tickOutcome is what one side did on one tick.
type tickOutcome struct {
	Phase        string
	CanaryWeight int
	FailedChecks int
	Iterations   int
	Events       []string
	Hooks        []string
}

func (o tickOutcome) String() string {
	return fmt.Sprintf("phase=%s weight=%d failedChecks=%d iterations=%d\n      events=%q\n      hooks=%q",
		o.Phase, o.CanaryWeight, o.FailedChecks, o.Iterations, o.Events, o.Hooks)
}

// diff names the fields that differ.
func (o tickOutcome) diff(a tickOutcome) []string {
	var d []string
	if o.Phase != a.Phase {
		d = append(d, "phase")
	}
	if o.CanaryWeight != a.CanaryWeight {
		d = append(d, "canaryWeight")
	}
	if o.FailedChecks != a.FailedChecks {
		d = append(d, "failedChecks")
	}
	if o.Iterations != a.Iterations {
		d = append(d, "iterations")
	}
	if !slices.Equal(o.Events, a.Events) {
		d = append(d, "events")
	}
	if !slices.Equal(o.Hooks, a.Hooks) {
		d = append(d, "hooks")
	}
	return d
}

// schedRun is one scenario's run: both sides' outcomes per tick (index 0 is
// the initialisation tick).
type schedRun struct {
	Flagger, Augur []tickOutcome
	// Problems are harness-level failures (an unknown query, a broken
	// payload, an augur error).
	Problems []string
	// ProblemTicks are the ticks (index into Flagger/Augur) of Problems.
	ProblemTicks []int
}

func (r *schedRun) problem(tick int, msg string) {
	r.Problems = append(r.Problems, msg)
	r.ProblemTicks = append(r.ProblemTicks, tick)
}

// firstDivergence returns the first tick whose outcomes differ, or -1.
func (r *schedRun) firstDivergence() int {
	for i := range r.Flagger {
		if i >= len(r.Augur) || len(r.Flagger[i].diff(r.Augur[i])) > 0 {
			return i
		}
	}
	return -1
}

func (r *schedRun) report(i int) string {
	var b strings.Builder
	for j := 0; j <= i && j < len(r.Flagger); j++ {
		mark := "  "
		if j == i && len(r.Flagger[j].diff(r.Augur[j])) > 0 {
			mark = "≠ " + strings.Join(r.Flagger[j].diff(r.Augur[j]), ",") + " "
		}
		fmt.Fprintf(&b, "%stick %d\n    Flagger %s\n    augur   %s\n", mark, j, r.Flagger[j], r.Augur[j])
	}
	return b.String()
}

// prepared is a scenario's objects with the loopback addresses filled in.
type prepared struct {
	fCanary *flaggerv1.Canary
	fTmpls  []*flaggerv1.MetricTemplate
	aCanary analysis.Canary
	aTmpls  engine.StaticTemplates
	hookDef map[string]int
}

func prepare(s *schedScenario, promURL, hookURL string) (*prepared, error) {
	var obj map[string]any
	if err := json.Unmarshal(s.Canary, &obj); err != nil {
		return nil, fmt.Errorf("canary: %w", err)
	}
	hookDef := map[string]int{}
	if spec, ok := obj["spec"].(map[string]any); ok {
		if an, ok := spec["analysis"].(map[string]any); ok {
			if hs, ok := an["webhooks"].([]any); ok {
				for _, h := range hs {
					hm, ok := h.(map[string]any)
					if !ok {
						continue
					}
					name, _ := hm["name"].(string)
					hm["url"] = hookURL + "/hook/" + name
					hookDef[name] = http.StatusOK
					if hm["type"] == "rollback" {
						hookDef[name] = http.StatusNotFound
					}
				}
			}
		}
	}
	cb, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	p := &prepared{fCanary: &flaggerv1.Canary{}, hookDef: hookDef}
	if err := json.Unmarshal(cb, p.fCanary); err != nil {
		return nil, fmt.Errorf("canary (Flagger): %w", err)
	}
	if err := json.Unmarshal(cb, &p.aCanary); err != nil {
		return nil, fmt.Errorf("canary (augur): %w", err)
	}
	for i, raw := range s.Templates {
		var tm map[string]any
		if err := json.Unmarshal(raw, &tm); err != nil {
			return nil, fmt.Errorf("template %d: %w", i, err)
		}
		if spec, ok := tm["spec"].(map[string]any); ok {
			if pr, ok := spec["provider"].(map[string]any); ok {
				pr["address"] = promURL
			}
		}
		tb, err := json.Marshal(tm)
		if err != nil {
			return nil, err
		}
		ft := &flaggerv1.MetricTemplate{}
		if err := json.Unmarshal(tb, ft); err != nil {
			return nil, fmt.Errorf("template %d (Flagger): %w", i, err)
		}
		var at analysis.MetricTemplate
		if err := json.Unmarshal(tb, &at); err != nil {
			return nil, fmt.Errorf("template %d (augur): %w", i, err)
		}
		p.fTmpls = append(p.fTmpls, ft)
		p.aTmpls = append(p.aTmpls, at)
	}
	return p, nil
}

// fixedClock is the time every augur tick is given: the decision must not
// depend on it (the analysis start is augur-only).
var fixedClock = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// runScheduler runs a scenario through Flagger's controller and augur.
func runScheduler(t *testing.T, s *schedScenario) *schedRun {
	t.Helper()
	prom := newPromScript(t)
	hooks := newHookScript(t)
	p, err := prepare(s, prom.url, hooks.url)
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	hooks.defs = p.hookDef
	hooks.empty = s.EmptyBodies
	mesh := s.Mesh
	if mesh == "" {
		mesh = "istio"
	}
	reg := &metrics.Registry{}
	augurprom.Register(reg)
	eng, err := engine.New(engine.Options{
		Registry: reg, MeshProvider: mesh, MetricsServer: prom.url, Templates: p.aTmpls,
		Hooks: webhooks.New(webhooks.Options{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	plans, err := eng.Plan(context.Background(), &p.aCanary)
	if err != nil {
		t.Fatalf("augur plan: %v", err)
	}
	byQuery := map[string]string{}
	for _, pl := range plans {
		if pl.Query != "" {
			byQuery[pl.Query] = pl.Name
		}
	}

	if s.mutateAugur != nil {
		s.mutateAugur(&p.aCanary)
	}
	fc := newFlaggerCluster(t, p.fCanary, p.fTmpls, mesh, prom.url)
	run := &schedRun{}
	var st analysis.CanaryStatus
	applied := 0

	step := func(i int) {
		a := s.answersAt(i)
		prom.set(byQuery, a.metrics)
		hooks.set(a.hooks)
		if i >= 0 && s.Ticks[i].NewRevision {
			fc.newRevision(t)
		}
		suspend := i >= 0 && s.Ticks[i].Suspend
		fc.suspend(t, suspend)
		aCanary := p.aCanary
		aCanary.Spec.Suspend = suspend
		// Flagger.
		var fst flaggerv1.CanaryStatus
		var fev []syncEvent
		if i < 0 {
			// Initialisation: the first tick creates the primary, which
			// is ready one tick later, as in a cluster.
			fc.sync(t)
			fst, fev = fc.tick(t)
			if fst.Phase != flaggerv1.CanaryPhaseInitialized {
				// The primary Flagger created is not ready yet (with
				// skipAnalysis it is not waited for): augur's one
				// initialising tick is Flagger's tick once it is.
				hooks.take()
				fc.makeReady(t)
				fst, fev = fc.tick(t)
			}
		} else {
			fc.makeReady(t)
			if s.Ticks[i].CanaryDeadline {
				fc.exceedDeadline(t, fc.target)
			}
			if s.Ticks[i].PrimaryDeadline {
				fc.exceedDeadline(t, fc.target+"-primary")
			}
			fst, fev = fc.tick(t)
		}
		fo := tickOutcome{Phase: string(fst.Phase), CanaryWeight: fst.CanaryWeight, FailedChecks: fst.FailedChecks, Iterations: fst.Iterations}
		for _, e := range fev {
			fo.Events = append(fo.Events, e.Type+": "+e.Message)
		}
		for _, c := range hooks.take() {
			fo.Hooks = append(fo.Hooks, c.String())
		}
		for _, q := range prom.takeUnknown() {
			run.problem(i+1, fmt.Sprintf("tick %d: Flagger sent a query augur did not render: %s", i+1, q))
		}
		// augur, with the status it returned last time.
		var ready analysis.Readiness
		if i >= 0 {
			ready.CanaryNotReady = s.Ticks[i].CanaryDeadline
			ready.PrimaryNotReady = s.Ticks[i].PrimaryDeadline
			ready.DeadlineExceeded = ready.CanaryNotReady || ready.PrimaryNotReady
		}
		d, err := eng.Tick(context.Background(), engine.TickRequest{
			Canary: aCanary, Status: st, NewRevision: fc.rev != applied, Now: fixedClock, Checksum: "compat",
			Readiness: ready,
		})
		if err != nil {
			// A refusal (invalid input) is an outcome: it differs from
			// Flagger's unless the scenario expects it.
			run.Flagger = append(run.Flagger, fo)
			run.Augur = append(run.Augur, tickOutcome{Phase: "refused", Events: []string{err.Error()}, Hooks: hookStrings(hooks.take())})
			return
		}
		// Flagger's status.lastAppliedSpec moves to the current revision
		// when a status sync initialises, fails or (below) starts or
		// restarts the analysis: the driver's NewRevision follows it.
		if (d.Status.Phase != st.Phase && d.Status.Phase == analysis.PhaseInitialized) || d.Action == analysis.ActionRollback {
			applied = fc.rev
		}
		st = d.Status
		ao := tickOutcome{Phase: string(st.Phase), CanaryWeight: st.CanaryWeight, FailedChecks: st.FailedChecks, Iterations: st.Iterations}
		for _, e := range d.Events {
			ao.Events = append(ao.Events, string(e.Type)+": "+e.Message)
			if strings.HasPrefix(e.Message, "New revision detected!") {
				applied = fc.rev
			}
		}
		ao.Hooks = hookStrings(hooks.take())
		for _, q := range prom.takeUnknown() {
			run.problem(i+1, fmt.Sprintf("tick %d: augur sent a query it did not plan: %s", i+1, q))
		}
		hooks.mu.Lock()
		for _, b := range hooks.broken {
			run.problem(i+1, fmt.Sprintf("tick %d: webhook payload: %s", i+1, b))
		}
		hooks.broken = nil
		hooks.mu.Unlock()
		run.Flagger = append(run.Flagger, fo)
		run.Augur = append(run.Augur, ao)
	}
	step(-1)
	for i := range s.Ticks {
		step(i)
	}
	return run
}

// checkRun fails t on harness problems and on any divergence not listed in
// the scenario's expected differences.
func checkRun(t *testing.T, s *schedScenario, run *schedRun) {
	t.Helper()
	if os.Getenv("AUGUR_COMPAT_REPORT") != "" {
		t.Logf("both sides tick by tick:\n%s", run.report(len(run.Flagger)-1))
	}
	// From the first expected difference on, the runs differ by design;
	// harness problems there are part of the difference (an unknown query
	// is how a different rendering shows).
	from := len(run.Flagger)
	for i := range s.Expect {
		from = min(from, i)
	}
	for k, p := range run.Problems {
		if run.ProblemTicks[k] >= from {
			t.Logf("expected: %s", p)
			continue
		}
		t.Error(p)
	}
	for i := range run.Flagger {
		d := run.Flagger[i].diff(run.Augur[i])
		want, expected := s.Expect[i]
		switch {
		case len(d) > 0 && !expected:
			t.Errorf("diverges from Flagger at tick %d:\n%s", i, run.report(i))
			return
		case len(d) == 0 && expected:
			t.Errorf("tick %d: expected a deliberate difference (%s) but augur agrees with Flagger:\n%s", i, want, run.report(i))
		case len(d) > 0:
			t.Logf("tick %d: deliberate difference (%s): %s", i, want, strings.Join(d, ","))
			return // the runs differ from here on by design
		}
	}
}

func hookStrings(cs []schedHookCall) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

// randomPrefix is a path prefix no other process's client would use.
func randomPrefix() string {
	return fmt.Sprintf("/compat-%016x", rand.Uint64())
}
