package analysis

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis/judges"
)

// bytesrc turns fuzz bytes into choices; past the end it yields zeros.
type bytesrc struct {
	b []byte
	i int
}

func (s *bytesrc) byte() byte {
	if s.i >= len(s.b) {
		return 0
	}
	v := s.b[s.i]
	s.i++
	return v
}

func (s *bytesrc) intn(n int) int { return int(s.byte()) % n }
func (s *bytesrc) bool() bool     { return s.byte()&1 == 1 }
func pick[T any](s *bytesrc, xs ...T) T {
	return xs[s.intn(len(xs))]
}

var allPhases = []Phase{"", PhaseInitializing, PhaseInitialized, PhaseWaiting, PhaseProgressing, PhaseWaitingPromotion,
	PhasePromoting, PhaseFinalising, PhaseSucceeded, PhaseFailed, PhaseTerminating, PhaseTerminated, "Bogus"}

var allHookTypes = []HookType{"", HookRollout, HookConfirmRollout, HookPreRollout, HookConfirmTrafficIncrease,
	HookConfirmPromotion, HookPostRollout, HookRollback, HookEvent}

// fuzzInput builds a random canary, status and readiness, and the answers
// the shell gives to each need (fixed up front, so that answering is a pure
// function of the need).
func fuzzInput(s *bytesrc) (Input, func(Need) Answer) {
	c := podinfo()
	a := c.Spec.Analysis
	a.Threshold = pick(s, 0, 2, 3, 5)
	a.StepWeight = pick(s, 0, 10, 33, 60, -5)
	if s.bool() {
		a.StepWeights = pick(s, []int{}, []int{5, 10, 50}, []int{50, 20}, []int{0, 40}, []int{30, 200})
	}
	a.MaxWeight = pick(s, 0, 50, 100, 120)
	a.Iterations = pick(s, 0, 0, 0, 1, 2, 3)
	if s.bool() {
		a.Match = []json.RawMessage{json.RawMessage(`{}`)}
	}
	a.Mirror = s.bool()
	a.StepWeightPromotion = pick(s, 0, 0, 20, 150)
	a.Webhooks = nil
	for i := range s.intn(7) {
		a.Webhooks = append(a.Webhooks, Webhook{Name: "h" + string(rune('0'+i)), Type: pick(s, allHookTypes...), MuteAlert: s.bool()})
	}
	a.Metrics = nil
	for i := range s.intn(5) {
		m := Metric{Name: pick(s, MetricRequestSuccessRate, MetricRequestDuration, "q", "tmpl", "none") + string(rune('a'+i))}
		switch m.Name[:len(m.Name)-1] {
		case MetricRequestSuccessRate, MetricRequestDuration:
			m.Name = m.Name[:len(m.Name)-1]
		case "q":
			m.Query = "sum(x)"
		case "tmpl":
			m.TemplateRef = &CrossNamespaceObjectReference{Name: "t"}
		}
		if s.bool() {
			m.ThresholdRange = &ThresholdRange{Min: pick(s, nil, fp(0), fp(99)), Max: pick(s, nil, fp(5), fp(500))}
		} else {
			m.Threshold = pick(s, 0.0, 1.0, 99.0)
		}
		a.Metrics = append(a.Metrics, m)
	}
	c.Spec.Provider = pick(s, "", "istio", "kubernetes", "linkerd")
	c.Spec.SkipAnalysis = s.intn(8) == 0
	c.Spec.Suspend = s.intn(16) == 0
	if s.intn(16) == 0 {
		c.Spec.Analysis = nil
	}
	st := CanaryStatus{
		Phase:        pick(s, append([]Phase{PhaseProgressing, PhaseProgressing, PhaseProgressing, PhaseWaitingPromotion}, allPhases...)...),
		FailedChecks: pick(s, 0, 0, 1, 2, 6),
		CanaryWeight: pick(s, 0, 10, 10, 50, 100, -10, 130),
		Iterations:   s.intn(6) - 1,
		Mirrored:     s.bool(),
	}
	if s.bool() {
		st.RouterWeight = ip(pick(s, 0, 50, 100))
	}
	if s.bool() {
		st.AnalysisStart = "2026-03-01T11:00:00Z"
	}
	in := Input{
		Canary:       c,
		MeshProvider: pick(s, "", "kubernetes"),
		Status:       st,
		NewRevision:  s.intn(4) == 0,
		Readiness:    Readiness{PrimaryNotReady: s.intn(8) == 0, CanaryNotReady: s.intn(8) == 0, DeadlineExceeded: s.intn(8) == 0},
	}
	if s.bool() {
		in.Now = tick0
	}

	// Half of the inputs get healthy answers (hooks pass, metrics within
	// bounds) so that ticks reach the strategy and the gates after it.
	healthy := s.bool()
	hookAnswers := map[HookType][]HookResult{}
	for _, ht := range allHookTypes[1:] {
		var rs []HookResult
		for _, h := range configuredHooks(c.GetAnalysis(), ht) {
			r := HookResult{Name: h.Name}
			if !healthy {
				switch s.intn(16) {
				case 0:
					r.Name = "wrong"
				case 1, 2, 3, 4:
					r.Err = "403 Forbidden"
				}
			}
			rs = append(rs, r)
		}
		if !healthy && s.intn(16) == 0 && len(rs) > 0 {
			rs = rs[:len(rs)-1]
		}
		hookAnswers[ht] = rs
	}
	values := map[string]float64{}
	errs := map[string]*ObservationError{}
	if a := c.GetAnalysis(); a != nil {
		for _, m := range a.Metrics {
			values[m.Name] = pick(s, math.NaN(), math.Inf(1), math.Inf(-1), 0, 99.5, 500, 1e15, float64(s.byte()))
			if healthy {
				values[m.Name] = passingValue(m)
				continue
			}
			if s.intn(4) == 0 {
				errs[m.Name] = &ObservationError{Kind: pick(s, ErrKindNoValues, ErrKindMultipleValues, ErrKindRender,
					ErrKindTemplate, ErrKindSecret, ErrKindProvider, ErrKindQuery, ErrKindNoMetric), Message: "boom"}
			}
		}
	}
	var obs []Observation
	if c.GetAnalysis() != nil {
		obs = observe(&c, values, errs)
	}
	if !healthy {
		for i := range obs {
			if s.bool() {
				obs[i].Judged = fuzzJudged(s)
			}
		}
	}
	if !healthy && s.intn(16) == 0 && len(obs) > 0 {
		obs = obs[1:]
	}
	return in, func(n Need) Answer {
		if n.Metrics {
			return Answer{Metrics: obs}
		}
		return Answer{Hooks: hookAnswers[n.Hooks]}
	}
}

// fuzzJudged is random judged data: any judge (valid or not), any kind of
// data on either side (matching or not), or a fetch error.
func fuzzJudged(s *bytesrc) *Judged {
	j := &Judged{Config: judges.Config{
		Judge:    pick(s, judges.Kind(""), judges.KindMannWhitney, judges.KindErrorRate, judges.KindHistogram, judges.KindSequential, "bogus"),
		Critical: s.bool(),
	}}
	side := func() judges.Data {
		switch s.intn(4) {
		case 0:
			return judges.Data{Samples: pick(s, judges.Series(nil), judges.Series{1, 2, 3}, baseline, slowCanary, judges.Series{math.NaN(), 1, 1, 1, 1, 1})}
		case 1:
			return judges.Data{Counts: pick(s, &judges.Counts{}, &judges.Counts{Requests: 1000, Errors: 5}, &judges.Counts{Requests: 1000, Errors: 90},
				&judges.Counts{Requests: 1, Errors: 2})}
		case 2:
			return judges.Data{Histogram: pick(s, &judges.Histogram{}, &judges.Histogram{Buckets: []judges.Bucket{{UpperBound: 1, Count: 300}, {UpperBound: math.Inf(1), Count: 500}}},
				&judges.Histogram{Buckets: []judges.Bucket{{UpperBound: 1, Count: 100}, {UpperBound: math.Inf(1), Count: 500}}})}
		}
		return judges.Data{}
	}
	j.Data = judges.Input{Canary: side(), Baseline: side()}
	if s.intn(8) == 0 {
		j.Err = &ObservationError{Kind: ErrKindQuery, Message: "boom"}
	}
	return j
}

// passingValue is a value the metric's bounds accept.
func passingValue(m Metric) float64 {
	switch {
	case m.ThresholdRange == nil:
		return m.Threshold
	case m.ThresholdRange.Min != nil:
		return *m.ThresholdRange.Min
	case m.ThresholdRange.Max != nil:
		return *m.ThresholdRange.Max
	}
	return 0
}

// FuzzStep checks the tick's invariants on random inputs: one answer per
// call, no repeated or unanswerable need, determinism, consistent weights
// and phases, and above all that a failed or erroring check never lets the
// canary advance or be promoted.
func FuzzStep(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 10, 1, 2, 3, 4, 0, 0, 0, 3, 1, 1, 2, 3, 1, 4, 2, 5, 3})
	f.Add([]byte{3, 1, 0, 1, 1, 1, 1, 1, 6, 4, 0, 5, 1, 6, 0, 7, 1, 2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("progressing canary with failing metrics and hooks 0123456789"))
	f.Add([]byte{2, 0, 0, 0, 2, 1, 0, 0, 2, 0, 3, 0, 4, 0, 1, 0, 1, 0, 0, 0, 4, 2, 2, 3, 0, 1, 0, 1, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) { stepProperties(t, data) })
}

// TestStepProperties runs FuzzStep's invariants over a fixed pseudo-random
// sample on every test run, and checks that the sample reaches the metric
// checks often enough for the failed-check invariant to mean something.
func TestStepProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ranMetrics, failedCheck, judged, inconclusive int
	for range 5000 {
		data := make([]byte, 96)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		d := stepProperties(t, data)
		if len(d.Checks) > 0 {
			ranMetrics++
		}
		if slices.ContainsFunc(d.Checks, func(c Check) bool { return !c.Passed }) {
			failedCheck++
		}
		if slices.ContainsFunc(d.Checks, func(c Check) bool { return c.Judgement != nil }) {
			judged++
		}
		if slices.ContainsFunc(d.Checks, func(c Check) bool { return c.Inconclusive }) {
			inconclusive++
		}
	}
	if judged < 40 || inconclusive < 8 {
		t.Errorf("the sample judged metrics %d times, %d inconclusive: the generator no longer exercises the judges", judged, inconclusive)
	}
	if ranMetrics < 100 || failedCheck < 50 {
		t.Errorf("the sample ran metrics %d times with %d failed checks: the generator no longer exercises the analysis", ranMetrics, failedCheck)
	}
}

func stepProperties(t *testing.T, data []byte) Decision {
	t.Helper()
	in, answer := fuzzInput(&bytesrc{b: data})
	d, needs := drive(t, in, answer)
	again, needsAgain := drive(t, in, answer)
	if diff := cmp.Diff(d, again); diff != "" {
		t.Fatalf("Step is not deterministic (-first +second):\n%s", diff)
	}
	if !slices.Equal(needs, needsAgain) {
		t.Fatalf("needs differ between runs: %v vs %v", needs, needsAgain)
	}
	if _, err := json.Marshal(d); err != nil {
		t.Fatalf("decision cannot be encoded: %v", err)
	}
	if len(d.Reasons) == 0 {
		t.Fatalf("no reasons for %s", d.Action)
	}
	wt := d.Weights
	if wt.Canary < 0 || wt.Canary > 100 || wt.Primary+wt.Canary != 100 {
		t.Fatalf("weights %+v", wt)
	}
	if wt != d.Status.Routes() {
		t.Fatalf("weights %+v differ from the status' routes %+v", wt, d.Status.Routes())
	}
	before := in.Status
	checkFailed := slices.ContainsFunc(d.Checks, func(c Check) bool { return !c.Passed && !c.Inconclusive })
	inconclusive := slices.ContainsFunc(d.Checks, func(c Check) bool { return c.Inconclusive })
	for _, c := range d.Checks {
		if c.Passed && c.Inconclusive {
			t.Fatalf("check %s both passed and inconclusive", c.Metric)
		}
		if c.Judgement != nil && c.Passed && c.Judgement.Verdict != judges.Pass {
			t.Fatalf("check %s passed with a %s judge", c.Metric, c.Judgement.Verdict)
		}
	}
	if inconclusive && !checkFailed {
		if d.Action != ActionHold || d.Status.FailedChecks != before.FailedChecks || d.Status.Phase != before.Phase || wt != before.Routes() {
			t.Fatalf("an inconclusive check must only hold: action %s, failed %d→%d, phase %s→%s, weights %+v→%+v",
				d.Action, before.FailedChecks, d.Status.FailedChecks, before.Phase, d.Status.Phase, before.Routes(), wt)
		}
	}
	malformed := slices.ContainsFunc(d.Reasons, func(r string) bool { return strings.HasPrefix(r, "Malformed input") })
	switch {
	case malformed:
		if d.Status.AnalysisStart != before.AnalysisStart {
			t.Fatalf("malformed input changed analysisStart %q → %q", before.AnalysisStart, d.Status.AnalysisStart)
		}
	case !inPhase(d.Status.Phase, PhaseProgressing, PhaseWaitingPromotion):
		if d.Status.AnalysisStart != "" {
			t.Fatalf("phase %s keeps analysisStart %q", d.Status.Phase, d.Status.AnalysisStart)
		}
	case !in.Now.IsZero() && d.Status.AnalysisStart == "":
		t.Fatalf("phase %s without analysisStart", d.Status.Phase)
	case before.AnalysisStart != "" && inPhase(before.Phase, PhaseProgressing, PhaseWaitingPromotion) && !in.NewRevision &&
		d.Status.AnalysisStart != before.AnalysisStart:
		t.Fatalf("analysisStart %q → %q without a new revision", before.AnalysisStart, d.Status.AnalysisStart)
	}
	if checkFailed {
		if d.Action != ActionHold || d.Status.FailedChecks != before.FailedChecks+1 ||
			d.Status.Phase != before.Phase || wt != before.Routes() {
			t.Fatalf("a failed check must only hold and count: action %s, failed %d→%d, phase %s→%s, weights %+v→%+v",
				d.Action, before.FailedChecks, d.Status.FailedChecks, before.Phase, d.Status.Phase, before.Routes(), wt)
		}
	}
	for _, h := range d.Hooks {
		if (h.Type == HookPreRollout || h.Type == HookRollout) && !h.Passed() && d.Action != ActionHold {
			t.Fatalf("failed %s hook %s but action %s", h.Type, h.Name, d.Action)
		}
	}
	switch d.Action {
	case ActionPromote:
		if !inPhase(d.Status.Phase, PhasePromoting, PhaseFinalising, PhaseSucceeded) {
			t.Fatalf("promote into phase %s", d.Status.Phase)
		}
	case ActionRollback:
		if d.Status.Phase != PhaseFailed || d.PostRollout != PhaseFailed {
			t.Fatalf("rollback into phase %s, post-rollout %q", d.Status.Phase, d.PostRollout)
		}
	case ActionAdvance:
		if !inPhase(d.Status.Phase, PhaseProgressing, PhaseWaitingPromotion) {
			t.Fatalf("advance into phase %s", d.Status.Phase)
		}
	case ActionHold:
		if d.PostRollout != "" {
			t.Fatalf("hold with post-rollout %q", d.PostRollout)
		}
	default:
		t.Fatalf("unknown action %q", d.Action)
	}
	if d.PostRollout == PhaseSucceeded && d.Status.Phase != PhaseSucceeded {
		t.Fatalf("post-rollout Succeeded in phase %s", d.Status.Phase)
	}
	if fc := d.Status.FailedChecks; fc != before.FailedChecks && fc != before.FailedChecks+1 && fc != 0 {
		t.Fatalf("failed checks %d → %d", before.FailedChecks, fc)
	}
	if in.Canary.Spec.Suspend {
		if d.Action != ActionHold || len(needs) != 0 || d.Status.Phase != before.Phase || d.Status.FailedChecks != before.FailedChecks {
			t.Fatalf("suspended canary changed: %+v", d)
		}
	}
	if d.Status.Phase != before.Phase && !in.Now.IsZero() && d.Status.LastTransitionTime != in.Now.Format("2006-01-02T15:04:05Z07:00") {
		t.Fatalf("phase changed but lastTransitionTime is %q", d.Status.LastTransitionTime)
	}
	return d
}
