package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/webhooks"
)

func TestRollbackGate(t *testing.T) {
	p := &metricstest.Provider{}
	p.SetDefault(metricstest.Result{Value: 1})
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	h := fakeHarness(t, p, func(o *Options) { o.Now = func() time.Time { return now } })
	call := func(path, checksum string) answer {
		b := mustJSON(t, webhooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Progressing", Checksum: checksum})
		return do(t, http.MethodPost, h.url+path, b, nil)
	}
	steps := []struct {
		path, checksum string
		code           int
		substring      string
	}{
		{"/flagger/v1/rollback/check", "rev1", 403, "no rollback requested for test/podinfo"},
		{"/flagger/v1/rollback/open", "", 202, "rollback of test/podinfo requested"},
		{"/flagger/v1/rollback/check", "rev1", 200, "rollback requested for test/podinfo"},
		{"/flagger/v1/rollback/check", "rev2", 403, "no rollback requested"}, // a new revision is not rolled back
		{"/flagger/v1/rollback/open", "rev3", 202, "requested for revision rev3"},
		{"/flagger/v1/rollback/close", "", 202, "rollback of test/podinfo withdrawn"},
		{"/flagger/v1/rollback/check", "rev3", 403, "no rollback requested"},
	}
	for i, s := range steps {
		if a := call(s.path, s.checksum); a.code != s.code || !strings.Contains(a.body, s.substring) {
			t.Fatalf("step %d %s (%s): %d %q; want %d containing %q", i, s.path, s.checksum, a.code, a.body, s.code, s.substring)
		}
	}
	call("/flagger/v1/rollback/open", "")
	a := do(t, http.MethodGet, h.url+"/flagger/v1/rollback/test/podinfo", "", nil)
	if want := `{"namespace":"test","name":"podinfo","requested":true,"requestedAt":"2026-11-01T10:00:00Z"}` + "\n"; a.code != 200 || a.body != want {
		t.Errorf("GET: %d %s, want %s", a.code, a.body, want)
	}

	// A tick whose rollback webhook is this endpoint rolls the canary back,
	// as Flagger does when a rollback hook succeeds.
	canary := podinfoFiles(t).Canaries[0]
	canary.Spec.Analysis.Metrics = nil
	canary.Spec.Analysis.Webhooks = []analysis.Webhook{{Name: "abort", Type: analysis.HookRollback, URL: h.url + "/flagger/v1/rollback/check", Timeout: "5s"}}
	eng, err := engine.New(engine.Options{Registry: fakeRegistry(p), Hooks: webhooks.New(webhooks.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	tick := func() analysis.Decision {
		d, err := eng.Tick(context.Background(), engine.TickRequest{Canary: canary,
			Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 20}, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := tick(); d.Action != analysis.ActionRollback {
		t.Errorf("tick with a requested rollback: action %s, want rollback; events %+v", d.Action, d.Events)
	}
	call("/flagger/v1/rollback/close", "")
	if d := tick(); d.Action == analysis.ActionRollback {
		t.Errorf("tick without a requested rollback: action %s; events %+v", d.Action, d.Events)
	}
}
