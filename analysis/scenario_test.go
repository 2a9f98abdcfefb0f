package analysis

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newRevisionAt marks the given ticks as seeing a new revision.
func newRevisionAt(ticks ...int) func(int, *Input, *world) {
	return func(i int, in *Input, _ *world) {
		for _, t := range ticks {
			if i == t {
				in.NewRevision = true
			}
		}
	}
}

func actions(trace []traceTick) []Action {
	out := make([]Action, len(trace))
	for i, tt := range trace {
		out[i] = tt.Decision.Action
	}
	return out
}

func canaryWeights(trace []traceTick) []int {
	out := make([]int, len(trace))
	for i, tt := range trace {
		out[i] = tt.Decision.Weights.Canary
	}
	return out
}

func last(trace []traceTick) Decision { return trace[len(trace)-1].Decision }

func TestScenarios(t *testing.T) {
	const (
		adv  = ActionAdvance
		hold = ActionHold
		prom = ActionPromote
		rb   = ActionRollback
	)
	succeeded := CanaryStatus{Phase: PhaseSucceeded}
	tests := []struct {
		name   string
		canary func(*Canary)
		status CanaryStatus
		max    int
		before func(int, *Input, *world)
		check  func(t *testing.T, trace []traceTick)
	}{
		{
			// The Flagger walkthrough: podinfo, stepWeight 10 to maxWeight 50.
			name:   "walkthrough",
			canary: notFoundMetric,
			status: succeeded, max: 20, before: newRevisionAt(0),
			check: func(t *testing.T, trace []traceTick) {
				want := []string{
					"New revision detected! Scaling up podinfo.test",
					"Starting canary analysis for podinfo.test",
					"Pre-rollout check acceptance-test passed",
					"Advance podinfo.test canary weight 10",
					"Advance podinfo.test canary weight 20",
					"Advance podinfo.test canary weight 30",
					"Advance podinfo.test canary weight 40",
					"Advance podinfo.test canary weight 50",
					"Copying podinfo.test template spec to podinfo-primary.test",
					"Routing all traffic to primary",
					"Promotion completed! Scaling down podinfo.test",
				}
				if diff := cmp.Diff(want, allMessages(trace)); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]Action{adv, adv, adv, adv, adv, adv, prom, prom, prom}, actions(trace)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]int{0, 10, 20, 30, 40, 50, 50, 0, 0}, canaryWeights(trace)); diff != "" {
					t.Errorf("canary weights (-want +got):\n%s", diff)
				}
				if d := last(trace); d.Status.Phase != PhaseSucceeded || d.PostRollout != PhaseSucceeded {
					t.Errorf("final decision %s/%s", d.Status.Phase, d.PostRollout)
				}
				// Metrics run on every analysis tick after the first.
				for i, tt := range trace {
					ran := len(tt.Decision.Checks) > 0
					if want := i >= 2 && i <= 6; ran != want {
						t.Errorf("tick %d: metrics ran=%v, want %v", i, ran, want)
					}
				}
			},
		},
		{
			name:   "rollback-after-threshold",
			status: succeeded, max: 20,
			before: func(i int, in *Input, w *world) {
				in.NewRevision = i == 0
				if i >= 3 {
					w.values[MetricRequestSuccessRate] = 95
				}
			},
			check: func(t *testing.T, trace []traceTick) {
				if diff := cmp.Diff([]Action{adv, adv, adv, hold, hold, hold, hold, hold, rb}, actions(trace)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
				var failed []int
				for _, tt := range trace {
					failed = append(failed, tt.Decision.Status.FailedChecks)
				}
				if diff := cmp.Diff([]int{0, 0, 0, 1, 2, 3, 4, 5, 0}, failed); diff != "" {
					t.Errorf("failed checks (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]int{0, 10, 20, 20, 20, 20, 20, 20, 0}, canaryWeights(trace)); diff != "" {
					t.Errorf("weights hold on failures (-want +got):\n%s", diff)
				}
				d := last(trace)
				want := []string{"Rolling back podinfo.test failed checks threshold reached 5", "Canary failed! Scaling down podinfo.test"}
				if diff := cmp.Diff(want, messages(d.Events)); diff != "" || d.PostRollout != PhaseFailed || len(d.Checks) != 0 {
					t.Errorf("rollback tick: events diff %s, post %q, checks %d", diff, d.PostRollout, len(d.Checks))
				}
			},
		},
		{
			name:   "stepweights-ladder",
			canary: func(c *Canary) { c.Spec.Analysis.StepWeight, c.Spec.Analysis.StepWeights = 0, []int{5, 10, 25, 50, 80} },
			status: CanaryStatus{Phase: PhaseProgressing}, max: 20,
			check: func(t *testing.T, trace []traceTick) {
				if diff := cmp.Diff([]int{5, 10, 25, 50, 80, 80, 0, 0}, canaryWeights(trace)); diff != "" {
					t.Errorf("ladder (-want +got):\n%s", diff)
				}
				if last(trace).Status.Phase != PhaseSucceeded {
					t.Errorf("ended in %s", last(trace).Status.Phase)
				}
			},
		},
		{
			name:   "mirroring",
			canary: func(c *Canary) { c.Spec.Analysis.Mirror, c.Spec.Analysis.MaxWeight = true, 30 },
			status: CanaryStatus{Phase: PhaseProgressing}, max: 20,
			check: func(t *testing.T, trace []traceTick) {
				var got []Weights
				for _, tt := range trace {
					got = append(got, tt.Decision.Weights)
				}
				want := []Weights{{Primary: 100, Mirrored: true}, w(90, 10), w(80, 20), w(70, 30), w(70, 30), w(100, 0), w(100, 0)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("weights (-want +got):\n%s", diff)
				}
				if n := len(trace[1].Needs); n != 2 || trace[1].Needs[0] != needRollout {
					t.Errorf("the tick after mirroring must run the analysis, needs %+v", trace[1].Needs)
				}
			},
		},
		{
			name: "ab-testing",
			canary: func(c *Canary) {
				c.Spec.Analysis.StepWeight, c.Spec.Analysis.MaxWeight, c.Spec.Analysis.Iterations = 0, 0, 3
				c.Spec.Analysis.Match = []json.RawMessage{json.RawMessage(`{"headers":{"x-canary":{"exact":"insider"}}}`)}
			},
			status: CanaryStatus{Phase: PhaseProgressing}, max: 20,
			check: func(t *testing.T, trace []traceTick) {
				want := []string{
					"Starting canary analysis for podinfo.test", "Pre-rollout check acceptance-test passed",
					"Advance podinfo.test canary iteration 1/3", "Advance podinfo.test canary iteration 2/3",
					"Advance podinfo.test canary iteration 3/3",
					"Copying podinfo.test template spec to podinfo-primary.test", "Routing all traffic to primary",
					"Promotion completed! Scaling down podinfo.test",
				}
				if diff := cmp.Diff(want, allMessages(trace)); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]int{100, 100, 100, 100, 0, 0}, canaryWeights(trace)); diff != "" {
					t.Errorf("weights (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "blue-green",
			canary: func(c *Canary) {
				c.Spec.Analysis.StepWeight, c.Spec.Analysis.MaxWeight, c.Spec.Analysis.Iterations = 0, 0, 2
			},
			status: CanaryStatus{Phase: PhaseProgressing}, max: 20,
			check: func(t *testing.T, trace []traceTick) {
				want := []string{
					"Starting canary analysis for podinfo.test", "Pre-rollout check acceptance-test passed",
					"Advance podinfo.test canary iteration 1/2", "Advance podinfo.test canary iteration 2/2",
					"Routing all traffic to canary",
					"Copying podinfo.test template spec to podinfo-primary.test", "Routing all traffic to primary",
					"Promotion completed! Scaling down podinfo.test",
				}
				if diff := cmp.Diff(want, allMessages(trace)); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]int{0, 0, 100, 100, 0, 0}, canaryWeights(trace)); diff != "" {
					t.Errorf("weights (-want +got):\n%s", diff)
				}
				// iterations+2 analysed ticks: the first (pre-rollout) and three with metrics.
				analysed := 0
				for _, tt := range trace {
					if len(tt.Decision.Checks) > 0 {
						analysed++
					}
				}
				if analysed != 3 {
					t.Errorf("%d ticks ran metrics, want 3", analysed)
				}
			},
		},
		{
			name: "blue-green-mirror",
			canary: func(c *Canary) {
				c.Spec.Analysis.StepWeight, c.Spec.Analysis.MaxWeight, c.Spec.Analysis.Iterations, c.Spec.Analysis.Mirror = 0, 0, 2, true
			},
			status: CanaryStatus{Phase: PhaseProgressing}, max: 20,
			check: func(t *testing.T, trace []traceTick) {
				var got []Weights
				for _, tt := range trace {
					got = append(got, tt.Decision.Weights)
				}
				want := []Weights{{Primary: 100, Mirrored: true}, {Primary: 100, Mirrored: true}, w(0, 100), w(0, 100), w(100, 0), w(100, 0)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("weights (-want +got):\n%s", diff)
				}
				if !strings.Contains(strings.Join(allMessages(trace), "\n"), "Stop traffic mirroring and route all traffic to canary") {
					t.Errorf("no stop-mirroring event")
				}
			},
		},
		{
			name:   "step-weight-promotion",
			canary: func(c *Canary) { c.Spec.Analysis.StepWeightPromotion = 20 },
			status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 50}, max: 20,
			check: func(t *testing.T, trace []traceTick) {
				want := []string{
					"Copying podinfo.test template spec to podinfo-primary.test",
					"Advance podinfo.test primary weight 70", "Advance podinfo.test primary weight 90",
					"Advance podinfo.test primary weight 100", "Promotion completed! Scaling down podinfo.test",
				}
				if diff := cmp.Diff(want, allMessages(trace)); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				var phases []Phase
				for _, tt := range trace {
					phases = append(phases, tt.Decision.Status.Phase)
				}
				if diff := cmp.Diff([]Phase{PhasePromoting, PhasePromoting, PhasePromoting, PhaseFinalising, PhaseSucceeded}, phases); diff != "" {
					t.Errorf("phases (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:   "skip-analysis",
			canary: func(c *Canary) { c.Spec.SkipAnalysis = true },
			status: succeeded, max: 5, before: newRevisionAt(0),
			check: func(t *testing.T, trace []traceTick) {
				if diff := cmp.Diff([]Action{adv, prom}, actions(trace)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
				if last(trace).PostRollout != PhaseSucceeded {
					t.Errorf("no post-rollout")
				}
			},
		},
		{
			name: "confirm-gates",
			canary: chain(withHook("approve-rollout", HookConfirmRollout, false), withHook("approve-promotion", HookConfirmPromotion, false),
				func(c *Canary) { c.Spec.Analysis.StepWeight = 25 }),
			status: succeeded, max: 20,
			before: func(i int, in *Input, w *world) {
				in.NewRevision = i == 0
				w.fail["approve-rollout"] = map[bool]string{true: "Forbidden"}[i < 2]
				w.fail["approve-promotion"] = map[bool]string{true: "Forbidden"}[i < 7]
			},
			check: func(t *testing.T, trace []traceTick) {
				var phases []Phase
				for _, tt := range trace {
					phases = append(phases, tt.Decision.Status.Phase)
				}
				want := []Phase{
					PhaseWaiting, PhaseWaiting, PhaseProgressing, // gate closed twice, then opened
					PhaseProgressing, PhaseProgressing, // 25, 50
					PhaseWaitingPromotion, PhaseWaitingPromotion, // promotion gate closed
					PhasePromoting, PhaseFinalising, PhaseSucceeded,
				}
				if diff := cmp.Diff(want, phases); diff != "" {
					t.Errorf("phases (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]Action{hold, hold, adv, adv, adv, hold, hold, prom, prom, prom}, actions(trace)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:   "waiting-promotion-rollback",
			canary: chain(withHook("approve-promotion", HookConfirmPromotion, false), func(c *Canary) { c.Spec.Analysis.Threshold = 2 }),
			status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 50}, max: 20,
			before: func(i int, in *Input, w *world) {
				w.fail["approve-promotion"] = "Forbidden"
				if i >= 2 {
					w.errs[MetricRequestDuration] = &ObservationError{Kind: ErrKindNoValues, Message: "no values found"}
				}
			},
			check: func(t *testing.T, trace []traceTick) {
				if diff := cmp.Diff([]Action{hold, hold, hold, hold, rb}, actions(trace)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
				if got := trace[3].Decision.Status; got.Phase != PhaseWaitingPromotion || got.FailedChecks != 2 {
					t.Errorf("tick 3 status %+v", got)
				}
			},
		},
		{
			name: "kubernetes-provider",
			canary: func(c *Canary) {
				c.Spec.Provider = "kubernetes"
				c.Spec.Analysis.Webhooks = nil
			},
			status: CanaryStatus{Phase: PhaseProgressing}, max: 30,
			check: func(t *testing.T, trace []traceTick) {
				if len(trace) != 14 || last(trace).Status.Phase != PhaseSucceeded {
					t.Fatalf("%d ticks ending in %s, want 14 ending Succeeded", len(trace), last(trace).Status.Phase)
				}
				for i, tt := range trace {
					if tt.Decision.Weights != w(100, 0) {
						t.Errorf("tick %d routes %+v: the kubernetes provider never shifts traffic", i, tt.Decision.Weights)
					}
				}
			},
		},
		{
			name:   "rollback-hook",
			canary: withHook("manual-rollback", HookRollback, false),
			status: CanaryStatus{Phase: PhaseProgressing}, max: 20,
			before: func(i int, _ *Input, w *world) { w.signal["manual-rollback"] = i >= 3 },
			check: func(t *testing.T, trace []traceTick) {
				if diff := cmp.Diff([]Action{adv, adv, adv, rb}, actions(trace)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:   "restart-on-new-revision",
			status: CanaryStatus{Phase: PhaseProgressing}, max: 20,
			before: func(i int, in *Input, w *world) {
				in.NewRevision = i == 3
				if i == 2 {
					w.values[MetricRequestSuccessRate] = 10
				} else {
					w.values[MetricRequestSuccessRate] = 100
				}
			},
			check: func(t *testing.T, trace []traceTick) {
				if diff := cmp.Diff([]int{10, 20, 20, 0, 10, 20, 30, 40, 50, 50, 0, 0}, canaryWeights(trace)); diff != "" {
					t.Errorf("weights (-want +got):\n%s", diff)
				}
				if got := trace[3].Decision.Status.FailedChecks; got != 0 {
					t.Errorf("restart kept %d failed checks", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := podinfo()
			if tt.canary != nil {
				tt.canary(&c)
			}
			trace := simulate(t, c, tt.status, newWorld(&c), tt.max, tt.before)
			tt.check(t, trace)
			golden(t, "scenario-"+tt.name, trace)
		})
	}
}
