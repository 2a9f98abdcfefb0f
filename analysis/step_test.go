package analysis

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const ltt = "2026-03-01T12:00:00Z"

var (
	needPre      = Need{Hooks: HookPreRollout}
	needRollout  = Need{Hooks: HookRollout}
	needMetrics  = Need{Metrics: true}
	needConfirm  = Need{Hooks: HookConfirmRollout}
	needRollback = Need{Hooks: HookRollback}
	needTraffic  = Need{Hooks: HookConfirmTrafficIncrease}
	needPromote  = Need{Hooks: HookConfirmPromotion}
)

func nev(msg string) Event { return normal(msg) }
func wev(msg string) Event { return warning(msg) }

func w(primary, canary int) Weights { return Weights{Primary: primary, Canary: canary} }

// outcome is what a step case pins down.
type outcome struct {
	Action      Action
	Status      CanaryStatus
	Weights     Weights
	Events      []Event
	Alerts      []AlertMessage
	PostRollout Phase
	Needs       []Need
}

func withHook(name string, ht HookType, mute bool) func(*Canary) {
	return func(c *Canary) {
		c.Spec.Analysis.Webhooks = append(c.Spec.Analysis.Webhooks, Webhook{Name: name, Type: ht, URL: "http://gate/", MuteAlert: mute})
	}
}

func notFoundMetric(c *Canary) {
	c.Spec.Analysis.Metrics = append(c.Spec.Analysis.Metrics, Metric{
		Name: "not-found-percentage", Interval: "1m", ThresholdRange: &ThresholdRange{Max: fp(5)},
		TemplateRef: &CrossNamespaceObjectReference{Name: "not-found-percentage", Namespace: "istio-system"},
	})
}

func chain(fs ...func(*Canary)) func(*Canary) {
	return func(c *Canary) {
		for _, f := range fs {
			f(c)
		}
	}
}

func TestStep(t *testing.T) {
	deadlinePrimary := `podinfo-primary.test not ready: deployment "podinfo-primary" exceeded its progress deadline`
	deadlineCanary := `canary deployment podinfo.test not ready: deployment "podinfo" exceeded its progress deadline`
	blueGreen := func(c *Canary) {
		c.Spec.Analysis.StepWeight, c.Spec.Analysis.MaxWeight, c.Spec.Analysis.Iterations = 0, 0, 2
	}
	abTesting := func(c *Canary) {
		c.Spec.Analysis.StepWeight, c.Spec.Analysis.MaxWeight, c.Spec.Analysis.Iterations = 0, 0, 3
		c.Spec.Analysis.Match = []json.RawMessage{json.RawMessage(`{"headers":{"x-canary":{"exact":"insider"}}}`)}
	}
	mirror := func(c *Canary) { c.Spec.Analysis.Mirror = true }
	k8s := func(c *Canary) { c.Spec.Provider = "kubernetes" }
	promotionStep := func(n int) func(*Canary) { return func(c *Canary) { c.Spec.Analysis.StepWeightPromotion = n } }

	tests := []struct {
		name   string
		canary func(*Canary)
		in     func(*Input)
		world  func(*world)
		want   outcome
	}{
		// Suspend, initialization, nothing to do.
		{
			name:   "suspended canary does nothing",
			canary: func(c *Canary) { c.Spec.Suspend = true },
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 1} },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 1},
				Weights: w(80, 20), Events: []Event{nev("skipping canary run as object is suspended")}},
		},
		{
			name: "empty phase initializes",
			in:   func(in *Input) { in.Status = CanaryStatus{} },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseInitialized, LastTransitionTime: ltt},
				Weights: w(100, 0), Events: []Event{nev("all the metrics providers are available!"), nev("Initialization done! podinfo.test")},
				Alerts: []AlertMessage{{SeverityInfo, "New Deployment detected, initialization completed."}}, Needs: []Need{{Providers: true}}},
		},
		{
			name: "an offline metrics provider is a warning event, the canary still initializes",
			in: func(in *Input) {
				in.Status = CanaryStatus{}
				in.Providers = &ProvidersCheck{Err: "prometheus not avaiable: running query failed: boom"}
			},
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseInitialized, LastTransitionTime: ltt},
				Weights: w(100, 0), Events: []Event{wev("Error checking metric providers: prometheus not avaiable: running query failed: boom"), nev("Initialization done! podinfo.test")},
				Alerts: []AlertMessage{{SeverityInfo, "New Deployment detected, initialization completed."}}},
		},
		{
			name: "initializing with a new revision only initializes",
			in:   func(in *Input) { in.Status = CanaryStatus{Phase: PhaseInitializing}; in.NewRevision = true },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseInitialized, LastTransitionTime: ltt},
				Weights: w(100, 0), Events: []Event{nev("all the metrics providers are available!"), nev("Initialization done! podinfo.test")},
				Alerts: []AlertMessage{{SeverityInfo, "New Deployment detected, initialization completed."}}, Needs: []Need{{Providers: true}}},
		},
		{
			name: "succeeded without a new revision has nothing to do",
			in:   func(in *Input) { in.Status = CanaryStatus{Phase: PhaseSucceeded, FailedChecks: 2} },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseSucceeded, FailedChecks: 2}, Weights: w(100, 0)},
		},
		{
			name: "failed without a new revision has nothing to do",
			in:   func(in *Input) { in.Status = CanaryStatus{Phase: PhaseFailed} },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseFailed}, Weights: w(100, 0)},
		},
		// New revision and confirm-rollout.
		{
			name: "new revision scales up and starts progressing next tick",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseSucceeded, FailedChecks: 2}
				in.NewRevision = true
			},
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, LastTransitionTime: ltt},
				Weights: w(100, 0), Events: []Event{nev("New revision detected! Scaling up podinfo.test")},
				Alerts: []AlertMessage{{SeverityInfo, "New revision detected, progressing canary analysis."}}},
		},
		{
			name: "new revision after a failure starts over",
			in:   func(in *Input) { in.Status = CanaryStatus{Phase: PhaseFailed}; in.NewRevision = true },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, LastTransitionTime: ltt},
				Weights: w(100, 0), Events: []Event{nev("New revision detected! Scaling up podinfo.test")},
				Alerts: []AlertMessage{{SeverityInfo, "New revision detected, progressing canary analysis."}}},
		},
		{
			name:   "closed confirm-rollout gate parks the revision in Waiting",
			canary: withHook("gate", HookConfirmRollout, false),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseSucceeded}; in.NewRevision = true },
			world:  func(w *world) { w.fail["gate"] = "Forbidden" },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseWaiting, LastTransitionTime: ltt},
				Weights: w(100, 0), Events: []Event{wev("Halt podinfo.test advancement waiting for approval gate")},
				Alerts: []AlertMessage{{SeverityWarn, "Canary is waiting for approval."}}, Needs: []Need{needConfirm}},
		},
		{
			name:   "muted confirm-rollout gate sends no alert",
			canary: withHook("gate", HookConfirmRollout, true),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseSucceeded}; in.NewRevision = true },
			world:  func(w *world) { w.fail["gate"] = "Forbidden" },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseWaiting, LastTransitionTime: ltt},
				Weights: w(100, 0), Events: []Event{wev("Halt podinfo.test advancement waiting for approval gate")},
				Needs: []Need{needConfirm}},
		},
		{
			name:   "still waiting records nothing and skips rollback hooks",
			canary: chain(withHook("gate", HookConfirmRollout, false), withHook("rb", HookRollback, false)),
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseWaiting, LastTransitionTime: "2026-01-01T00:00:00Z"}
			},
			world: func(w *world) { w.fail["gate"] = "Forbidden"; w.signal["rb"] = true },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseWaiting, LastTransitionTime: "2026-01-01T00:00:00Z"},
				Weights: w(100, 0), Needs: []Need{needConfirm}},
		},
		{
			name:   "opened confirm-rollout gate starts the analysis",
			canary: withHook("gate", HookConfirmRollout, false),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseWaiting} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, LastTransitionTime: ltt},
				Weights: w(100, 0), Events: []Event{nev("Confirm-rollout check gate passed"), nev("New revision detected! Scaling up podinfo.test")},
				Alerts: []AlertMessage{{SeverityInfo, "New revision detected, progressing canary analysis."}}, Needs: []Need{needConfirm}},
		},
		// Restart.
		{
			name: "new revision during the analysis restarts it",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 30, FailedChecks: 2, LastTransitionTime: "2026-01-01T00:00:00Z"}
				in.NewRevision = true
			},
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, LastTransitionTime: "2026-01-01T00:00:00Z"},
				Weights: w(100, 0), Events: []Event{nev("New revision detected! Restarting analysis for podinfo.test")}},
		},
		{
			name: "new revision while waiting for promotion restarts the analysis",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseWaitingPromotion, Iterations: -1, RouterWeight: ip(50)}
				in.NewRevision = true
			},
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, LastTransitionTime: ltt},
				Weights: w(100, 0), Events: []Event{nev("New revision detected! Restarting analysis for podinfo.test")}},
		},
		// Readiness.
		{
			name: "primary not ready holds without a failed check",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20}
				in.Readiness = Readiness{PrimaryNotReady: true}
			},
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20}, Weights: w(80, 20),
				Events: []Event{wev("podinfo-primary.test not ready: waiting for rollout to finish")}},
		},
		{
			name: "primary not ready shows the caller's message",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhasePromoting, RouterWeight: ip(50)}
				in.Readiness = Readiness{PrimaryNotReady: true, Message: "podinfo-primary.test not ready: waiting for rollout to finish: 1 of 2 (readyThreshold 100%) updated replicas are available"}
			},
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhasePromoting, RouterWeight: ip(50)}, Weights: w(50, 50),
				Events: []Event{wev("podinfo-primary.test not ready: waiting for rollout to finish: 1 of 2 (readyThreshold 100%) updated replicas are available")}},
		},
		{
			name: "primary past its deadline rolls back regardless of failed checks",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 1}
				in.Readiness = Readiness{PrimaryNotReady: true, DeadlineExceeded: true}
			},
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{wev(deadlinePrimary), wev("Canary failed! Scaling down podinfo.test")},
				PostRollout: PhaseFailed},
		},
		{
			name: "deadline while promoting fails the promotion and keeps the canary",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhasePromoting, RouterWeight: ip(50)}
				in.Readiness = Readiness{DeadlineExceeded: true}
			},
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, CanaryWeight: 100, LastTransitionTime: ltt},
				Weights:     w(0, 100),
				Events:      []Event{wev(deadlinePrimary), wev("Promotion of podinfo.test failed, primary not ready: " + deadlinePrimary)},
				Alerts:      []AlertMessage{{SeverityError, "Promotion failed, primary not ready: " + deadlinePrimary}},
				PostRollout: PhaseFailed},
		},
		{
			name: "canary not ready holds without a failed check",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 1}
				in.Readiness = Readiness{CanaryNotReady: true}
			},
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 1}, Weights: w(80, 20),
				Events: []Event{wev("canary deployment podinfo.test not ready: waiting for rollout to finish")}},
		},
		{
			name: "canary past its deadline rolls back",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20}
				in.Readiness = Readiness{CanaryNotReady: true, DeadlineExceeded: true}
			},
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{wev(deadlineCanary), wev("Canary failed! Scaling down podinfo.test")},
				PostRollout: PhaseFailed},
		},
		{
			name: "deadline with no workload named applies to the canary while progressing",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseWaitingPromotion, RouterWeight: ip(50), Iterations: -1}
				in.Readiness = Readiness{DeadlineExceeded: true, Message: "boom"}
			},
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{wev("boom"), wev("Canary failed! Scaling down podinfo.test")},
				PostRollout: PhaseFailed},
		},
		{
			// Flagger's IsCanaryReady comes before the promotion's traffic
			// shift (compat sched progress-deadline).
			name: "canary past its deadline while promoting rolls back",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhasePromoting, RouterWeight: ip(50)}
				in.Readiness = Readiness{CanaryNotReady: true, DeadlineExceeded: true}
			},
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{wev(deadlineCanary), wev("Canary failed! Scaling down podinfo.test")},
				PostRollout: PhaseFailed},
		},
		// Skip analysis.
		{
			name:   "skipAnalysis promotes at once",
			canary: func(c *Canary) { c.Spec.SkipAnalysis = true },
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, FailedChecks: 1} },
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhaseSucceeded, FailedChecks: 1, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{nev("Copying podinfo.test template spec to podinfo-primary.test"), nev("Promotion completed! Canary analysis was skipped for podinfo.test")},
				Alerts:      []AlertMessage{{SeverityInfo, "Canary analysis was skipped, promotion finished."}},
				PostRollout: PhaseSucceeded},
		},
		{
			name:   "skipAnalysis ignores an unready primary",
			canary: func(c *Canary) { c.Spec.SkipAnalysis = true },
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing}
				in.Readiness = Readiness{PrimaryNotReady: true}
			},
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhaseSucceeded, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{nev("Copying podinfo.test template spec to podinfo-primary.test"), nev("Promotion completed! Canary analysis was skipped for podinfo.test")},
				Alerts:      []AlertMessage{{SeverityInfo, "Canary analysis was skipped, promotion finished."}},
				PostRollout: PhaseSucceeded},
		},
		{
			// Flagger does not check the primary when the analysis is
			// skipped (compat sched, found by TestSchedulerGenerated).
			name:   "skipAnalysis ignores a primary past its deadline",
			canary: func(c *Canary) { c.Spec.SkipAnalysis = true },
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing}
				in.Readiness = Readiness{PrimaryNotReady: true, DeadlineExceeded: true}
			},
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhaseSucceeded, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{nev("Copying podinfo.test template spec to podinfo-primary.test"), nev("Promotion completed! Canary analysis was skipped for podinfo.test")},
				Alerts:      []AlertMessage{{SeverityInfo, "Canary analysis was skipped, promotion finished."}},
				PostRollout: PhaseSucceeded},
		},
		{
			name:   "skipAnalysis still rolls back a canary past its deadline",
			canary: func(c *Canary) { c.Spec.SkipAnalysis = true },
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing}
				in.Readiness = Readiness{CanaryNotReady: true, DeadlineExceeded: true}
			},
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{wev(deadlineCanary), wev("Canary failed! Scaling down podinfo.test")},
				PostRollout: PhaseFailed},
		},
		{
			name:   "no analysis block means skipAnalysis",
			canary: func(c *Canary) { c.Spec.Analysis = nil },
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing} },
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhaseSucceeded, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{nev("Copying podinfo.test template spec to podinfo-primary.test"), nev("Promotion completed! Canary analysis was skipped for podinfo.test")},
				Alerts:      []AlertMessage{{SeverityInfo, "Canary analysis was skipped, promotion finished."}},
				PostRollout: PhaseSucceeded},
		},
		// Rollback hooks.
		{
			name:   "a rollback hook that answers 2xx rolls back",
			canary: withHook("rb", HookRollback, false),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 1} },
			world:  func(w *world) { w.signal["rb"] = true },
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events: []Event{wev("Rollback check rb passed"), wev("Rolling back podinfo.test manual webhook invoked"),
					wev("Canary failed! Scaling down podinfo.test")},
				Alerts:      []AlertMessage{{SeverityWarn, "Rolling back manual webhook invoked"}},
				PostRollout: PhaseFailed, Needs: []Need{needRollback}},
		},
		{
			name:   "manual rollback past the threshold also reports the threshold",
			canary: withHook("rb", HookRollback, false),
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseWaitingPromotion, RouterWeight: ip(50), FailedChecks: 5}
			},
			world: func(w *world) { w.signal["rb"] = true },
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events: []Event{wev("Rollback check rb passed"), wev("Rolling back podinfo.test manual webhook invoked"),
					wev("Rolling back podinfo.test failed checks threshold reached 5"), wev("Canary failed! Scaling down podinfo.test")},
				Alerts:      []AlertMessage{{SeverityWarn, "Rolling back manual webhook invoked"}, {SeverityError, "Failed checks threshold reached 5"}},
				PostRollout: PhaseFailed, Needs: []Need{needRollback}},
		},
		{
			name:   "rollback hooks that do not signal let the analysis go on",
			canary: chain(withHook("rb1", HookRollback, false), withHook("rb2", HookRollback, false)),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 30}, Weights: w(70, 30),
				Events: []Event{nev("Rollback hook rb1 not signaling a rollback"), nev("Rollback hook rb2 not signaling a rollback"),
					nev("Advance podinfo.test canary weight 30")},
				Needs: []Need{needRollback, needRollout, needMetrics}},
		},
		// Failed checks threshold.
		{
			name: "threshold reached on an earlier tick rolls back before any check",
			in:   func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 30, FailedChecks: 5} },
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{wev("Rolling back podinfo.test failed checks threshold reached 5"), wev("Canary failed! Scaling down podinfo.test")},
				Alerts:      []AlertMessage{{SeverityError, "Failed checks threshold reached 5"}},
				PostRollout: PhaseFailed},
		},
		{
			name:  "the check that reaches the threshold only holds",
			in:    func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 30, FailedChecks: 4} },
			world: func(w *world) { w.values[MetricRequestSuccessRate] = 98.2 },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 30, FailedChecks: 5}, Weights: w(70, 30),
				Events: []Event{wev("Halt podinfo.test advancement success rate 98.20% < 99%")}, Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "default threshold is 1",
			canary: func(c *Canary) { c.Spec.Analysis.Threshold = 0 },
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10, FailedChecks: 1} },
			want: outcome{Action: ActionRollback, Status: CanaryStatus{Phase: PhaseFailed, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{wev("Rolling back podinfo.test failed checks threshold reached 1"), wev("Canary failed! Scaling down podinfo.test")},
				Alerts:      []AlertMessage{{SeverityError, "Failed checks threshold reached 1"}},
				PostRollout: PhaseFailed},
		},
		// First analysis tick and checks.
		{
			name: "first analysis tick runs pre-rollout hooks, no metrics, and advances",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing, LastTransitionTime: "2026-01-01T00:00:00Z"}
			},
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10, LastTransitionTime: "2026-01-01T00:00:00Z"},
				Weights: w(90, 10),
				Events: []Event{nev("Starting canary analysis for podinfo.test"), nev("Pre-rollout check acceptance-test passed"),
					nev("Advance podinfo.test canary weight 10")},
				Needs: []Need{needPre}},
		},
		{
			name:  "failed pre-rollout hook counts a failed check",
			in:    func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, FailedChecks: 1} },
			world: func(w *world) { w.fail["acceptance-test"] = "exit status 1" },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, FailedChecks: 2}, Weights: w(100, 0),
				Events: []Event{nev("Starting canary analysis for podinfo.test"),
					wev("Halt podinfo.test advancement pre-rollout check acceptance-test failed exit status 1")},
				Needs: []Need{needPre}},
		},
		{
			name: "failed rollout hook counts a failed check and skips the metrics",
			in:   func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10} },
			world: func(w *world) {
				w.fail["load-test"] = "POST http://flagger-loadtester.test/ giving up after 1 attempt(s)"
			},
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10, FailedChecks: 1}, Weights: w(90, 10),
				Events: []Event{wev("Halt podinfo.test advancement external check load-test failed POST http://flagger-loadtester.test/ giving up after 1 attempt(s)")},
				Needs:  []Need{needRollout}},
		},
		{
			name:  "request duration above its maximum",
			in:    func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10} },
			world: func(w *world) { w.values[MetricRequestDuration] = 612.4 },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10, FailedChecks: 1}, Weights: w(90, 10),
				Events: []Event{wev("Halt podinfo.test advancement request duration 612ms > 500ms")}, Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "template metric above its maximum",
			canary: notFoundMetric,
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10} },
			world:  func(w *world) { w.values["not-found-percentage"] = 7.5 },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10, FailedChecks: 1}, Weights: w(90, 10),
				Events: []Event{wev("Halt podinfo.test advancement not-found-percentage 7.50 > 5")}, Needs: []Need{needRollout, needMetrics}},
		},
		{
			name: "builtin metrics are checked before templates whatever the spec order",
			canary: func(c *Canary) {
				c.Spec.Analysis.Metrics = c.Spec.Analysis.Metrics[:0:0]
				notFoundMetric(c)
				c.Spec.Analysis.Metrics = append(c.Spec.Analysis.Metrics, Metric{Name: MetricRequestSuccessRate, ThresholdRange: &ThresholdRange{Min: fp(99)}})
			},
			in:    func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10} },
			world: func(w *world) { w.values["not-found-percentage"] = 7.5; w.values[MetricRequestSuccessRate] = 50 },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10, FailedChecks: 1}, Weights: w(90, 10),
				Events: []Event{wev("Halt podinfo.test advancement success rate 50.00% < 99%")}, Needs: []Need{needRollout, needMetrics}},
		},
		// Kubernetes provider quirks.
		{
			name:   "kubernetes provider turns a canary into blue/green with 10 iterations",
			canary: k8s,
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Iterations: 1}, Weights: w(100, 0),
				Events: []Event{nev("Starting canary analysis for podinfo.test"), nev("Pre-rollout check acceptance-test passed"),
					wev("Progressive traffic is not supported when using the kubernetes provider"), wev("Setting canaryAnalysis.iterations: 10"),
					nev("Advance podinfo.test canary iteration 1/10")},
				Needs: []Need{needPre}},
		},
		{
			name: "global kubernetes mesh provider applies when spec.provider is empty",
			in: func(in *Input) {
				in.MeshProvider = "kubernetes"
				in.Status = CanaryStatus{Phase: PhaseProgressing, Iterations: 4}
			},
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Iterations: 5}, Weights: w(100, 0),
				Events: []Event{wev("Progressive traffic is not supported when using the kubernetes provider"), wev("Setting canaryAnalysis.iterations: 10"),
					nev("Advance podinfo.test canary iteration 5/10")},
				Needs: []Need{needRollout, needMetrics}},
		},
		{
			name: "spec.provider wins over the global kubernetes provider",
			canary: func(c *Canary) {
				c.Spec.Provider = "istio"
			},
			in: func(in *Input) {
				in.MeshProvider = "kubernetes"
				in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10}
			},
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20}, Weights: w(80, 20),
				Events: []Event{nev("Advance podinfo.test canary weight 20")}, Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "kubernetes provider drops A/B matching",
			canary: chain(abTesting, k8s),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, Iterations: 1} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Iterations: 2}, Weights: w(100, 0),
				Events: []Event{wev("A/B testing is not supported when using the kubernetes provider"),
					nev("Advance podinfo.test canary iteration 2/3")},
				Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "kubernetes blue/green switches without routing",
			canary: chain(blueGreen, k8s),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, Iterations: 2} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Iterations: 3}, Weights: w(100, 0),
				Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "kubernetes promotion goes straight to Finalising",
			canary: k8s,
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhasePromoting} },
			want:   outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhaseFinalising, LastTransitionTime: ltt}, Weights: w(100, 0)},
		},
		// Canary strategy and gates.
		{
			name: "canary at max weight is promoted after one more passing tick",
			in:   func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 50, FailedChecks: 1} },
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhasePromoting, FailedChecks: 1, CanaryWeight: 50, LastTransitionTime: ltt},
				Weights: w(50, 50), Events: []Event{nev("Copying podinfo.test template spec to podinfo-primary.test")},
				Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "closed confirm-traffic-increase gate holds without a failed check",
			canary: withHook("cti", HookConfirmTrafficIncrease, false),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20} },
			world:  func(w *world) { w.fail["cti"] = "Forbidden" },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20}, Weights: w(80, 20),
				Events: []Event{wev("Halt podinfo.test advancement waiting for traffic increase approval cti")},
				Alerts: []AlertMessage{{SeverityWarn, "Canary traffic increase is waiting for approval."}},
				Needs:  []Need{needRollout, needMetrics, needTraffic}},
		},
		{
			name:   "open confirm-traffic-increase gate advances",
			canary: withHook("cti", HookConfirmTrafficIncrease, true),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 30}, Weights: w(70, 30),
				Events: []Event{nev("Confirm-traffic-increase check cti passed"), nev("Advance podinfo.test canary weight 30")},
				Needs:  []Need{needRollout, needMetrics, needTraffic}},
		},
		{
			name:   "confirm-traffic-increase also gates the promotion step",
			canary: chain(withHook("cti", HookConfirmTrafficIncrease, false), withHook("cp", HookConfirmPromotion, false)),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 50} },
			world:  func(w *world) { w.fail["cti"] = "Forbidden" },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 50}, Weights: w(50, 50),
				Events: []Event{wev("Halt podinfo.test advancement waiting for traffic increase approval cti")},
				Alerts: []AlertMessage{{SeverityWarn, "Canary traffic increase is waiting for approval."}},
				Needs:  []Need{needRollout, needMetrics, needTraffic}},
		},
		{
			name:   "closed confirm-promotion gate parks the canary in WaitingPromotion",
			canary: withHook("cp", HookConfirmPromotion, false),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 50, FailedChecks: 1} },
			world:  func(w *world) { w.fail["cp"] = "Forbidden" },
			want: outcome{Action: ActionHold,
				Status:  CanaryStatus{Phase: PhaseWaitingPromotion, FailedChecks: 1, Iterations: -1, RouterWeight: ip(50), LastTransitionTime: ltt},
				Weights: w(50, 50), Events: []Event{wev("Halt podinfo.test advancement waiting for promotion approval cp")},
				Alerts: []AlertMessage{{SeverityWarn, "Canary promotion is waiting for approval."}},
				Needs:  []Need{needRollout, needMetrics, needPromote}},
		},
		{
			name:   "still waiting for promotion keeps running checks and skips the traffic gate",
			canary: chain(withHook("cti", HookConfirmTrafficIncrease, false), withHook("cp", HookConfirmPromotion, false)),
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseWaitingPromotion, Iterations: -1, RouterWeight: ip(50)}
			},
			world: func(w *world) { w.fail["cp"] = "Forbidden"; w.fail["cti"] = "Forbidden" },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseWaitingPromotion, Iterations: -1, RouterWeight: ip(50)},
				Weights: w(50, 50), Needs: []Need{needRollout, needMetrics, needPromote}},
		},
		{
			name:   "waiting for promotion keeps counting failed checks",
			canary: withHook("cp", HookConfirmPromotion, false),
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseWaitingPromotion, Iterations: -1, RouterWeight: ip(50), FailedChecks: 2}
			},
			world: func(w *world) {
				w.errs[MetricRequestSuccessRate] = &ObservationError{Kind: ErrKindNoValues, Message: "running query failed: no values found"}
			},
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseWaitingPromotion, Iterations: -1, RouterWeight: ip(50), FailedChecks: 3},
				Weights: w(50, 50),
				Events:  []Event{wev("Halt advancement no values found for istio metric request-success-rate probably podinfo.test is not receiving traffic: running query failed: no values found")},
				Needs:   []Need{needRollout, needMetrics}},
		},
		{
			name:   "opened confirm-promotion gate promotes",
			canary: withHook("cp", HookConfirmPromotion, false),
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseWaitingPromotion, Iterations: -1, RouterWeight: ip(50)}
			},
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhasePromoting, Iterations: -1, RouterWeight: ip(50), LastTransitionTime: ltt},
				Weights: w(50, 50), Events: []Event{nev("Confirm-promotion check cp passed"), nev("Copying podinfo.test template spec to podinfo-primary.test")},
				Needs: []Need{needRollout, needMetrics, needPromote}},
		},
		{
			name:   "no step weight stalls the canary",
			canary: func(c *Canary) { c.Spec.Analysis.StepWeight = 0 },
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10} },
			want: outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10}, Weights: w(90, 10),
				Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "stepWeights ladder",
			canary: func(c *Canary) { c.Spec.Analysis.StepWeight, c.Spec.Analysis.StepWeights = 0, []int{5, 10, 25, 60} },
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 25}, Weights: w(75, 25),
				Events: []Event{nev("Advance podinfo.test canary weight 25")}, Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "weight never passes 100",
			canary: func(c *Canary) { c.Spec.Analysis.StepWeight, c.Spec.Analysis.MaxWeight = 30, 100 },
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 90} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 100}, Weights: w(0, 100),
				Events: []Event{nev("Advance podinfo.test canary weight 100")}, Needs: []Need{needRollout, needMetrics}},
		},
		// Mirroring.
		{
			name:   "mirroring: the first step mirrors at weight 0",
			canary: chain(mirror, withHook("cti", HookConfirmTrafficIncrease, false)),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Mirrored: true}, Weights: Weights{Primary: 100, Mirrored: true},
				Events: []Event{nev("Starting canary analysis for podinfo.test"), nev("Pre-rollout check acceptance-test passed"),
					nev("Confirm-traffic-increase check cti passed"), nev("Advance podinfo.test canary weight 0")},
				Needs: []Need{needPre, needTraffic}},
		},
		{
			name:   "mirroring: the next step shifts traffic without the traffic gate",
			canary: chain(mirror, withHook("cti", HookConfirmTrafficIncrease, false)),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, Mirrored: true} },
			world:  func(w *world) { w.fail["cti"] = "Forbidden" },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10}, Weights: w(90, 10),
				Events: []Event{nev("Advance podinfo.test canary weight 10")}, Needs: []Need{needRollout, needMetrics}},
		},
		// Promotion.
		{
			name: "promotion routes all traffic to the primary in one step",
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhasePromoting, RouterWeight: ip(50), FailedChecks: 1}
			},
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhaseFinalising, FailedChecks: 1, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events: []Event{nev("Routing all traffic to primary")}},
		},
		{
			name:   "stepWeightPromotion shifts traffic back step by step",
			canary: promotionStep(20),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhasePromoting, RouterWeight: ip(50)} },
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhasePromoting, CanaryWeight: 30}, Weights: w(70, 30),
				Events: []Event{nev("Advance podinfo.test primary weight 70")}},
		},
		{
			name:   "stepWeightPromotion finalises when the primary reaches 100",
			canary: promotionStep(20),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhasePromoting, CanaryWeight: 10} },
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhaseFinalising, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events: []Event{nev("Advance podinfo.test primary weight 100")}},
		},
		{
			name:   "stepWeightPromotion with no canary traffic does nothing",
			canary: promotionStep(20),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhasePromoting} },
			want:   outcome{Action: ActionHold, Status: CanaryStatus{Phase: PhasePromoting}, Weights: w(100, 0)},
		},
		{
			name: "finalising succeeds and runs post-rollout hooks",
			in:   func(in *Input) { in.Status = CanaryStatus{Phase: PhaseFinalising, FailedChecks: 1} },
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhaseSucceeded, FailedChecks: 1, LastTransitionTime: ltt}, Weights: w(100, 0),
				Events:      []Event{nev("Promotion completed! Scaling down podinfo.test")},
				Alerts:      []AlertMessage{{SeverityInfo, "Canary analysis completed successfully, promotion finished."}},
				PostRollout: PhaseSucceeded},
		},
		// A/B testing.
		{
			name:   "A/B testing routes matching traffic to the canary each iteration",
			canary: abTesting,
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing, Iterations: 1, RouterWeight: ip(100)}
			},
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Iterations: 2, RouterWeight: ip(100)}, Weights: w(0, 100),
				Events: []Event{nev("Advance podinfo.test canary iteration 2/3")}, Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "A/B testing promotes after its iterations",
			canary: chain(abTesting, withHook("cp", HookConfirmPromotion, false)),
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing, Iterations: 3, RouterWeight: ip(100)}
			},
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhasePromoting, Iterations: 3, RouterWeight: ip(100), LastTransitionTime: ltt}, Weights: w(0, 100),
				Events: []Event{nev("Confirm-promotion check cp passed"), nev("Copying podinfo.test template spec to podinfo-primary.test")},
				Needs:  []Need{needRollout, needMetrics, needPromote}},
		},
		// Blue/green.
		{
			name:   "blue/green keeps traffic on the primary while iterating",
			canary: blueGreen,
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, Iterations: 1} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Iterations: 2}, Weights: w(100, 0),
				Events: []Event{nev("Advance podinfo.test canary iteration 2/2")}, Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "blue/green routes all traffic to the canary after its iterations",
			canary: blueGreen,
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, Iterations: 2} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Iterations: 3, RouterWeight: ip(100)}, Weights: w(0, 100),
				Events: []Event{nev("Routing all traffic to canary")}, Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "blue/green promotes after the tick with all traffic",
			canary: blueGreen,
			in: func(in *Input) {
				in.Status = CanaryStatus{Phase: PhaseProgressing, Iterations: 3, RouterWeight: ip(100)}
			},
			want: outcome{Action: ActionPromote, Status: CanaryStatus{Phase: PhasePromoting, Iterations: 3, RouterWeight: ip(100), LastTransitionTime: ltt}, Weights: w(0, 100),
				Events: []Event{nev("Copying podinfo.test template spec to podinfo-primary.test")}, Needs: []Need{needRollout, needMetrics}},
		},
		{
			name:   "blue/green with mirroring mirrors from the first iteration",
			canary: chain(blueGreen, mirror),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Iterations: 1, Mirrored: true},
				Weights: Weights{Primary: 100, Mirrored: true},
				Events: []Event{nev("Starting canary analysis for podinfo.test"), nev("Pre-rollout check acceptance-test passed"),
					nev("Advance podinfo.test canary iteration 1/2")},
				Needs: []Need{needPre}},
		},
		{
			name:   "blue/green with mirroring stops mirroring for the last tick",
			canary: chain(blueGreen, mirror),
			in:     func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, Iterations: 2, Mirrored: true} },
			want: outcome{Action: ActionAdvance, Status: CanaryStatus{Phase: PhaseProgressing, Iterations: 3, RouterWeight: ip(100)}, Weights: w(0, 100),
				Events: []Event{nev("Stop traffic mirroring and route all traffic to canary")}, Needs: []Need{needRollout, needMetrics}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := podinfo()
			if tt.canary != nil {
				tt.canary(&c)
			}
			in := Input{Canary: c, Now: tick0}
			tt.in(&in)
			wd := newWorld(&in.Canary)
			if tt.world != nil {
				tt.world(wd)
			}
			before := in.Status
			d, needs := drive(t, in, wd.answer)
			got := outcome{Action: d.Action, Status: d.Status, Weights: d.Weights, Events: withoutPhases(d.Events), Alerts: d.Alerts,
				PostRollout: d.PostRollout, Needs: needs}
			// AnalysisStart has its own table (TestAnalysisStart).
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(CanaryStatus{}, "AnalysisStart")); diff != "" {
				t.Errorf("outcome mismatch (-want +got):\n%s", diff)
			}
			if len(d.Reasons) == 0 {
				t.Errorf("decision has no reasons")
			}
			for _, r := range d.Reasons {
				if r == "" || strings.HasSuffix(r, " ") {
					t.Errorf("bad reason %q", r)
				}
			}
			if diff := cmp.Diff(before, in.Status); diff != "" {
				t.Errorf("Step modified its input status (-before +after):\n%s", diff)
			}
		})
	}
}

// withoutPhases drops Event.Phase (pinned by TestEventPhases) so that tables
// compare texts and types.
func withoutPhases(evs []Event) []Event {
	if evs == nil {
		return nil
	}
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = Event{Type: e.Type, Message: e.Message}
	}
	return out
}
