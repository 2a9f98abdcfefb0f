package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/webhooks"
)

// TestEventHooksGetFlaggersPhaseAndPostRolloutEvents pins what Flagger's
// event hooks receive on a rollback at the threshold: the threshold event on
// the Progressing canary, "Canary failed!" on the Failed copy, then the
// post-rollout hook (phase Failed), then its own event (recorded on the
// Progressing canary): in Flagger's call order, each event sent as it is
// recorded (compat TestSchedulerScenarios threshold-at-max-weight).
func TestEventHooksGetFlaggersPhaseAndPostRolloutEvents(t *testing.T) {
	var got []string
	hooks := hookFunc(func(_ context.Context, h webhooks.Hook, p webhooks.Payload) error {
		if h.Type == string(analysis.HookEvent) {
			got = append(got, p.Phase+" "+p.Metadata["eventMessage"])
		} else {
			got = append(got, h.Type+"@"+p.Phase)
		}
		return nil
	})
	fake := &metricstest.Provider{}
	fake.SetDefault(metricstest.Result{Value: 1})
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), Hooks: hooks})
	c := canaryWith(1)
	c.Spec.Analysis.Webhooks = []analysis.Webhook{
		{Name: "notify", Type: analysis.HookPostRollout, URL: "http://127.0.0.1:1/"},
		{Name: "events", Type: analysis.HookEvent, URL: "http://127.0.0.1:1/"},
	}
	d, err := eng.Tick(context.Background(), engine.TickRequest{
		Canary: c, Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 20, FailedChecks: 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Progressing Rolling back podinfo.test failed checks threshold reached 5",
		"Failed Canary failed! Scaling down podinfo.test",
		"post-rollout@Failed",
		"Progressing Post-rollout check notify passed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hook calls (-want +got):\n%s", diff)
	}
	if n := len(d.Events); n != 3 {
		t.Errorf("decision has %d events, want 3 (with the post-rollout one)", n)
	}
}

// TestHookFailureEventIsFlaggersText pins the split of a failed hook's text:
// the event reads as Flagger's (retries exhausted on a 5xx: no status, no
// body), the reasons and the hook result's detail keep augur's account.
func TestHookFailureEventIsFlaggersText(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("load test crashed"))
	}))
	defer srv.Close()
	fake := &metricstest.Provider{}
	fake.SetDefault(metricstest.Result{Value: 1})
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), Hooks: webhooks.New(webhooks.Options{})})
	c := canaryWith(1)
	c.Spec.Analysis.Webhooks = []analysis.Webhook{{Name: "load", URL: srv.URL + "/"}}
	d, err := eng.Tick(context.Background(), engine.TickRequest{
		Canary: c, Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "Halt podinfo.test advancement external check load failed POST " + srv.URL + "/ giving up after 1 attempt(s)"
	if len(d.Events) != 1 || d.Events[0].Message != want {
		t.Fatalf("events %+v, want %q", d.Events, want)
	}
	if len(d.Hooks) != 1 || !strings.Contains(d.Hooks[0].Detail, "load test crashed") {
		t.Errorf("hook result %+v lacks augur's detail", d.Hooks)
	}
	if !strings.Contains(strings.Join(d.Reasons, " "), "500 Internal Server Error: load test crashed") && !strings.Contains(strings.Join(d.Reasons, " "), "load test crashed") {
		t.Errorf("reasons %q lack the last status and body", d.Reasons)
	}
}

// TestTickRefusesMirrorWithoutAMirroringRouter pins the deliberate change:
// analysis.mirror with linkerd is invalid input, not an endless first step.
func TestTickRefusesMirrorWithoutAMirroringRouter(t *testing.T) {
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(&metricstest.Provider{}), MeshProvider: "linkerd"})
	c := canaryWith(0)
	c.Spec.Analysis.Mirror = true
	_, err := eng.Tick(context.Background(), engine.TickRequest{Canary: c, Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing}})
	if !errors.Is(err, analysis.ErrMirrorUnsupported) || !strings.Contains(err.Error(), `provider "linkerd"`) {
		t.Fatalf("Tick error %v, want ErrMirrorUnsupported naming linkerd", err)
	}
}

// TestTickRefusesStepwisePromotionOfAnABCanaryOnNginx: Flagger would repeat
// the first promotion step forever (compat sched ab-step-weight-promotion-nginx).
func TestTickRefusesStepwisePromotionOfAnABCanaryOnNginx(t *testing.T) {
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(&metricstest.Provider{}), MeshProvider: "nginx"})
	c := canaryWith(0)
	c.Spec.Analysis.Iterations = 3
	c.Spec.Analysis.StepWeightPromotion = 30
	c.Spec.Analysis.Match = []json.RawMessage{json.RawMessage(`{"headers":{"x":{"exact":"y"}}}`)}
	_, err := eng.Tick(context.Background(), engine.TickRequest{Canary: c, Status: analysis.CanaryStatus{Phase: analysis.PhasePromoting}})
	if !errors.Is(err, analysis.ErrPromotionStepsUnsupported) || !strings.Contains(err.Error(), `provider "nginx"`) {
		t.Fatalf("Tick error %v, want ErrPromotionStepsUnsupported naming nginx", err)
	}
}

// TestEventsGoToEventHooksBeforeTheNextHook pins Flagger's order on a first
// analysis tick: "Starting canary analysis" reaches the event hooks before
// the pre-rollout hook runs, each hook's "check passed" before the next
// hook of the type is called, and each event goes to every event hook before
// the next event (compat TestSchedulerScenarios event-hooks-promotion,
// several-hooks-of-a-type).
func TestEventsGoToEventHooksBeforeTheNextHook(t *testing.T) {
	var got []string
	hooks := hookFunc(func(_ context.Context, h webhooks.Hook, p webhooks.Payload) error {
		if h.Type == string(analysis.HookEvent) {
			got = append(got, h.Name+": "+p.Metadata["eventMessage"])
		} else {
			got = append(got, h.Type+"@"+p.Phase)
		}
		return nil
	})
	fake := &metricstest.Provider{}
	fake.SetDefault(metricstest.Result{Value: 1})
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), Hooks: hooks})
	c := canaryWith(1)
	c.Spec.Analysis.Webhooks = []analysis.Webhook{
		{Name: "pre", Type: analysis.HookPreRollout, URL: "http://127.0.0.1:1/"},
		{Name: "pre2", Type: analysis.HookPreRollout, URL: "http://127.0.0.1:1/"},
		{Name: "e1", Type: analysis.HookEvent, URL: "http://127.0.0.1:1/"},
		{Name: "e2", Type: analysis.HookEvent, URL: "http://127.0.0.1:1/"},
	}
	if _, err := eng.Tick(context.Background(), engine.TickRequest{
		Canary: c, Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing},
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"e1: Starting canary analysis for podinfo.test",
		"e2: Starting canary analysis for podinfo.test",
		"pre-rollout@Progressing",
		"e1: Pre-rollout check pre passed",
		"e2: Pre-rollout check pre passed",
		"pre-rollout@Progressing",
		"e1: Pre-rollout check pre2 passed",
		"e2: Pre-rollout check pre2 passed",
		"e1: Advance podinfo.test canary weight 10",
		"e2: Advance podinfo.test canary weight 10",
	}
	if len(got) < len(want) {
		t.Fatalf("hook calls %q, want them to start with %q", got, want)
	}
	if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
		t.Errorf("hook calls (-want +got):\n%s", diff)
	}
}
