package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/tools/txtar"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/service"
)

// Version is the scenario format version this runner reads.
const Version = 1

// HookHost is the host scenario Canaries use in webhook URLs
// (http://hooks.scenario/<name>); the runner points them at its own server.
const HookHost = "hooks.scenario"

// Scenario is one parsed scenario file.
type Scenario struct {
	// Name is the file name without .txtar.
	Name string
	// Path is the scenario file.
	Path string
	// Description is the txtar comment.
	Description string
	Spec        Spec
	Canary      analysis.Canary
	Templates   []analysis.MetricTemplate
	// CanaryYAML and TemplatesYAML are the raw files (for the CLI transport).
	CanaryYAML, TemplatesYAML []byte
	// Want is want.yaml: the expected decision.
	Want    Want
	archive *txtar.Archive
}

// Spec is scenario.yaml.
type Spec struct {
	Version      int                              `yaml:"version"`
	MeshProvider string                           `yaml:"meshProvider"`
	Status       JSONField[analysis.CanaryStatus] `yaml:"status"`
	NewRevision  bool                             `yaml:"newRevision"`
	Readiness    JSONField[analysis.Readiness]    `yaml:"readiness"`
	// At is the evaluation time (RFC 3339), needed with Data.
	At string `yaml:"at"`
	// Data is recorded data relative to the repository's testdata/ directory.
	Data string `yaml:"data"`
	// TemplatesInCluster: the transport resolves templateRefs in a cluster
	// as well (service.Options.TemplatesInCluster), so a missing
	// MetricTemplate is Flagger's failed check rather than bad input.
	// Transports without a cluster in the test skip the scenario.
	TemplatesInCluster bool `yaml:"templatesInCluster"`
	// Metrics are canned values by metric name: a number, or {error: kind}.
	Metrics map[string]MetricValue `yaml:"metrics"`
	// Webhooks are answers by hook name: a status code, or {status, body}. Default 200.
	Webhooks map[string]HookAnswer `yaml:"webhooks"`
}

// JSONField decodes a YAML value into a type with JSON tags (the analysis
// types), strictly.
type JSONField[T any] struct{ V T }

// UnmarshalYAML converts the node to JSON and decodes it with unknown fields refused.
func (f *JSONField[T]) UnmarshalYAML(n *yaml.Node) error {
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f.V); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MetricValue is a canned metric value or error.
type MetricValue struct {
	Value *float64
	Error string
}

// UnmarshalYAML accepts a number or {error: kind}.
func (m *MetricValue) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var f float64
		if err := n.Decode(&f); err != nil {
			return fmt.Errorf("line %d: metric value: %w", n.Line, err)
		}
		m.Value = &f
		return nil
	}
	var v struct {
		Error string `yaml:"error"`
	}
	if err := n.Decode(&v); err != nil {
		return err
	}
	if v.Error == "" {
		return fmt.Errorf("line %d: metric value: want a number or {error: kind}", n.Line)
	}
	m.Error = v.Error
	return nil
}

// HookAnswer is how the scenario's webhook server answers one hook.
type HookAnswer struct {
	Status int
	Body   string
}

// UnmarshalYAML accepts a status code or {status, body}.
func (h *HookAnswer) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&h.Status)
	}
	var v struct {
		Status int    `yaml:"status"`
		Body   string `yaml:"body"`
	}
	if err := n.Decode(&v); err != nil {
		return err
	}
	h.Status, h.Body = v.Status, v.Body
	return nil
}

// Want is the expected decision (want.yaml). Every field is checked.
type Want struct {
	// Error, when set, is what every transport must refuse the request
	// with, as bad input (a part of the message; the other fields are then
	// left out): a mistake is never a decision.
	Error  string          `yaml:"error,omitempty"`
	Action analysis.Action `yaml:"action"`
	Status WantStatus      `yaml:"status"`
	// Weights is the traffic split after the tick.
	Weights WantWeights `yaml:"weights"`
	// Events are the expected event messages, exactly and in order.
	Events []string `yaml:"events"`
	// Hooks are the webhooks called, as "type/name: passed|failed", in order.
	Hooks []string `yaml:"hooks"`
	// Checks are the verdicts, as "metric: pass|fail|inconclusive" (judged
	// metrics: "metric: pass|fail|inconclusive (<judge> <classification>)"),
	// in evaluation order.
	Checks []string `yaml:"checks"`
}

// WantStatus is the expected next status.
type WantStatus struct {
	Phase        analysis.Phase `yaml:"phase"`
	CanaryWeight int            `yaml:"canaryWeight"`
	FailedChecks int            `yaml:"failedChecks"`
	Iterations   int            `yaml:"iterations"`
	Mirrored     bool           `yaml:"mirrored,omitempty"`
	RouterWeight *int           `yaml:"routerWeight,omitempty"`
}

// WantWeights is the expected traffic split.
type WantWeights struct {
	Primary  int  `yaml:"primary"`
	Canary   int  `yaml:"canary"`
	Mirrored bool `yaml:"mirrored,omitempty"`
}

// Summarize turns a decision into the Want form, for comparison and -update.
func Summarize(d analysis.Decision) Want {
	w := Want{
		Action: d.Action,
		Status: WantStatus{Phase: d.Status.Phase, CanaryWeight: d.Status.CanaryWeight,
			FailedChecks: d.Status.FailedChecks, Iterations: d.Status.Iterations, Mirrored: d.Status.Mirrored,
			RouterWeight: d.Status.RouterWeight},
		Weights: WantWeights{Primary: d.Weights.Primary, Canary: d.Weights.Canary, Mirrored: d.Weights.Mirrored},
		Events:  []string{}, Hooks: []string{}, Checks: []string{},
	}
	for _, e := range d.Events {
		w.Events = append(w.Events, string(e.Type)+": "+e.Message)
	}
	for _, h := range d.Hooks {
		res := "passed"
		if !h.Passed() {
			res = "failed"
		}
		w.Hooks = append(w.Hooks, string(h.Type)+"/"+h.Name+": "+res)
	}
	for _, c := range d.Checks {
		res := "pass"
		switch {
		case c.Inconclusive:
			res = "inconclusive"
		case !c.Passed:
			res = "fail"
		}
		if j := c.Judgement; j != nil {
			res += " (" + string(j.Judge) + " " + string(j.Classification) + ")"
		}
		w.Checks = append(w.Checks, c.Metric+": "+res)
	}
	return w
}

// Load reads every *.txtar scenario in dir, sorted by name.
func Load(dir string) ([]*Scenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no scenarios in %s", dir)
	}
	var out []*Scenario
	var errs []error
	for _, f := range files {
		s, err := LoadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// LoadFile reads one scenario.
func LoadFile(path string) (*Scenario, error) {
	ar, err := txtar.ParseFile(path)
	if err != nil {
		return nil, err
	}
	s := &Scenario{Name: strings.TrimSuffix(filepath.Base(path), ".txtar"), Path: path,
		Description: strings.TrimSpace(string(ar.Comment))}
	var spec, want []byte
	s.archive = ar
	for _, f := range ar.Files {
		switch f.Name {
		case "scenario.yaml":
			spec = f.Data
		case "canary.yaml":
			s.CanaryYAML = f.Data
		case "metrictemplates.yaml":
			s.TemplatesYAML = f.Data
		case "want.yaml":
			want = f.Data
		default:
			return nil, fmt.Errorf("%s: unknown section %q (want scenario.yaml, canary.yaml, metrictemplates.yaml, want.yaml)", path, f.Name)
		}
	}
	if spec == nil || s.CanaryYAML == nil {
		return nil, fmt.Errorf("%s: scenario.yaml and canary.yaml are required", path)
	}
	dec := yaml.NewDecoder(bytes.NewReader(spec))
	dec.KnownFields(true)
	if err := dec.Decode(&s.Spec); err != nil {
		return nil, fmt.Errorf("%s: scenario.yaml: %w", path, err)
	}
	if s.Spec.Version != Version {
		return nil, fmt.Errorf("%s: scenario.yaml: version %d, this runner reads version %d", path, s.Spec.Version, Version)
	}
	if want != nil {
		wd := yaml.NewDecoder(bytes.NewReader(want))
		wd.KnownFields(true)
		if err := wd.Decode(&s.Want); err != nil {
			return nil, fmt.Errorf("%s: want.yaml: %w", path, err)
		}
	}
	set, err := manifest.DecodeBytes(append(append([]byte{}, s.CanaryYAML...), append([]byte("\n---\n"), s.TemplatesYAML...)...), path)
	if err != nil {
		return nil, err
	}
	if err := manifest.Validate(set); err != nil {
		return nil, err
	}
	if len(set.Canaries) != 1 {
		return nil, fmt.Errorf("%s: want exactly one Canary, got %d", path, len(set.Canaries))
	}
	s.Canary = set.Canaries[0]
	s.Templates = set.Templates
	return s, nil
}

// At returns the scenario's evaluation time (zero when unset).
func (s *Scenario) At() (time.Time, error) {
	if s.Spec.At == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.Spec.At)
	if err != nil {
		return t, fmt.Errorf("%s: at: %w", s.Path, err)
	}
	return t, nil
}

// Values are the canned metric values in the engine's form.
func (s *Scenario) Values() map[string]engine.Value {
	if len(s.Spec.Metrics) == 0 {
		return nil
	}
	out := make(map[string]engine.Value, len(s.Spec.Metrics))
	for k, v := range s.Spec.Metrics {
		out[k] = engine.Value{Value: v.Value, Error: v.Error}
	}
	return out
}

// Request builds the decide request, with webhook URLs pointing at hookURL.
func (s *Scenario) Request(hookURL string) (service.DecideRequest, error) {
	c, err := s.CanaryWithHooks(hookURL)
	if err != nil {
		return service.DecideRequest{}, err
	}
	req := service.DecideRequest{
		Canary: c, MetricTemplates: s.Templates, Status: s.Spec.Status.V, NewRevision: s.Spec.NewRevision,
		Readiness: s.Spec.Readiness.V, Checksum: "scenario", Values: s.Values(),
	}
	at, err := s.At()
	if err != nil {
		return req, err
	}
	if !at.IsZero() {
		req.At = &at
	}
	return req, nil
}

// CanaryWithHooks returns the Canary with every hooks.scenario URL rewritten to hookURL.
func (s *Scenario) CanaryWithHooks(hookURL string) (analysis.Canary, error) {
	b, err := json.Marshal(s.Canary)
	if err != nil {
		return analysis.Canary{}, err
	}
	var c analysis.Canary
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	base, err := url.Parse(hookURL)
	if err != nil {
		return c, err
	}
	if a := c.GetAnalysis(); a != nil {
		for i := range a.Webhooks {
			u, err := url.Parse(a.Webhooks[i].URL)
			if err != nil || u.Host != HookHost {
				continue
			}
			u.Scheme, u.Host = base.Scheme, base.Host
			a.Webhooks[i].URL = u.String()
		}
	}
	return c, nil
}

// HookServer is the scenario's webhook server on loopback: it answers each
// hook by the name in its URL path and records the calls.
type HookServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls []Call
}

// Call is one recorded webhook call.
type Call struct {
	Path    string
	Payload map[string]any
}

// StartHooks starts the webhook server for s.
func (s *Scenario) StartHooks() *HookServer {
	h := &HookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		name := strings.TrimPrefix(r.URL.Path, "/")
		h.mu.Lock()
		h.calls = append(h.calls, Call{Path: name, Payload: p})
		h.mu.Unlock()
		a, ok := s.Spec.Webhooks[name]
		if !ok || a.Status == 0 {
			a.Status = http.StatusOK
		}
		w.WriteHeader(a.Status)
		_, _ = w.Write([]byte(a.Body))
	}))
	return h
}

// Calls returns the recorded calls.
func (h *HookServer) Calls() []Call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Call(nil), h.calls...)
}

// DataPath resolves the scenario's recorded data against the testdata dir.
func (s *Scenario) DataPath(testdata string) string {
	if s.Spec.Data == "" {
		return ""
	}
	return filepath.Join(testdata, filepath.FromSlash(s.Spec.Data))
}

// Diff compares a decision with want.yaml and returns the differences
// (empty when it matches). A scenario without want.yaml always differs.
func (s *Scenario) Diff(d analysis.Decision) string {
	got, err := yaml.Marshal(Summarize(d))
	if err != nil {
		return err.Error()
	}
	want, err := yaml.Marshal(s.Want)
	if err != nil {
		return err.Error()
	}
	if bytes.Equal(got, want) {
		return ""
	}
	return fmt.Sprintf("--- want\n%s--- got\n%s", want, got)
}

// Update rewrites the scenario file's want.yaml from d.
func (s *Scenario) Update(d analysis.Decision) error {
	b, err := yaml.Marshal(Summarize(d))
	if err != nil {
		return err
	}
	found := false
	for i := range s.archive.Files {
		if s.archive.Files[i].Name == "want.yaml" {
			s.archive.Files[i].Data = b
			found = true
		}
	}
	if !found {
		s.archive.Files = append(s.archive.Files, txtar.File{Name: "want.yaml", Data: b})
	}
	s.Want = Summarize(d)
	return os.WriteFile(s.Path, txtar.Format(s.archive), 0o644)
}

// TestdataDir finds the repository's testdata directory from the working
// directory of a test (any package below the module root).
func TestdataDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
