package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/lint"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/webhooks"
)

// filePreflight is a PreflightFunc over the objects of a file (what the
// CLI's cluster preflight does over the cluster's objects).
func filePreflight(t *testing.T, file string) PreflightFunc {
	t.Helper()
	path := filepath.Join("..", "testdata", "lint", "gate", file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := lint.Parse(b, file)
	if err != nil {
		t.Fatal(err)
	}
	return func(_ context.Context, ns, name string, opts lint.Options) ([]lint.Finding, error) {
		if ns != "gate" || name != "shop" {
			return nil, fmt.Errorf("Canary %s/%s: not found in the cluster", ns, name)
		}
		fs, err := lint.Run(objs, opts)
		if err != nil {
			return nil, err
		}
		return lint.Focus(fs, "Canary gate/shop", "Deployment gate/shop"), nil
	}
}

// TestPreflightGate drives /flagger/v1/preflight with augur's Flagger
// webhook client (Flagger's semantics: ≤202 passes, anything else fails the
// hook): the gate blocks the Deployment with one replica and no readiness
// probe and lets the fixed one through, and a finding is never a 5xx.
func TestPreflightGate(t *testing.T) {
	client := webhooks.New(webhooks.Options{Backoff: func(int) time.Duration { return time.Millisecond }})
	hookFor := func(url string, md map[string]string) (webhooks.Hook, webhooks.Payload) {
		return webhooks.Hook{Name: "preflight", URL: url + "/flagger/v1/preflight", Type: "pre-rollout", Timeout: 5 * time.Second, Metadata: md},
			webhooks.Payload{Name: "shop", Namespace: "gate", Phase: "Progressing", Checksum: "abc", Metadata: md}
	}
	tests := []struct {
		name    string
		pf      PreflightFunc
		md      map[string]string
		code    int
		contain []string
		absent  []string
	}{
		{name: "blocked", pf: filePreflight(t, "blocked.yaml"), code: http.StatusForbidden,
			contain: []string{"5 finding(s) at or above error", "error single-replica (Deployment gate/shop spec.replicas)",
				"error readiness-probe-missing (Deployment gate/shop spec.template.spec.containers[0].readinessProbe)"}},
		{name: "fixed", pf: filePreflight(t, "fixed.yaml"), code: http.StatusOK,
			contain: []string{"nothing at or above error (0 errors, 0 warnings, 1 info)"}},
		{name: "fixed, info blocks on request", pf: filePreflight(t, "fixed.yaml"), md: map[string]string{"severity": "info"},
			code: http.StatusForbidden, contain: []string{"info analysis-timing"}},
		{name: "blocked, lowered to warnings", pf: filePreflight(t, "blocked.yaml"), md: map[string]string{"warn": "all"}, code: http.StatusOK},
		{name: "blocked, two rules disabled", pf: filePreflight(t, "blocked.yaml"),
			md: map[string]string{"disable": "single-replica, pdb-missing,spread-missing,prestop-missing"}, code: http.StatusForbidden,
			contain: []string{"1 finding(s)", "readiness-probe-missing"}, absent: []string{"single-replica"}},
		{name: "no cluster", pf: nil, code: http.StatusForbidden, contain: []string{"no cluster access: start augur serve with --cluster"}},
		{name: "cluster error", pf: func(context.Context, string, string, lint.Options) ([]lint.Finding, error) {
			return nil, errors.New("deployments.apps is forbidden")
		}, code: http.StatusForbidden, contain: []string{"not checked: deployments.apps is forbidden"}},
		{name: "unknown rule", pf: filePreflight(t, "fixed.yaml"), md: map[string]string{"disable": "no-such-rule"}, code: http.StatusBadRequest,
			contain: []string{`unknown rule "no-such-rule"`}},
		{name: "unknown key", pf: filePreflight(t, "fixed.yaml"), md: map[string]string{"query": "up"}, code: http.StatusBadRequest,
			contain: []string{`metadata key "query"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fakeHarness(t, &metricstest.Provider{}, func(o *Options) { o.Preflight = tt.pf })
			hook, payload := hookFor(h.url, tt.md)
			err := client.Call(context.Background(), hook, payload)
			var se *webhooks.StatusError
			switch {
			case tt.code == http.StatusOK && err != nil:
				t.Fatalf("the hook failed: %v", err)
			case tt.code != http.StatusOK && (!errors.As(err, &se) || se.Code != tt.code):
				t.Fatalf("got %v, want status %d", err, tt.code)
			}
			a := do(t, http.MethodPost, h.url+"/flagger/v1/preflight", mustJSON(t, payload), nil)
			if a.code != tt.code || a.code >= 500 {
				t.Errorf("status %d, want %d", a.code, tt.code)
			}
			if strings.HasSuffix(a.body, "…\n") {
				t.Errorf("answer truncated: %q", a.body)
			}
			if strings.Count(strings.TrimSuffix(a.body, "\n"), "\n") != 0 {
				t.Errorf("answer is not one line: %q", a.body)
			}
			for _, s := range tt.contain {
				if !strings.Contains(a.body, s) {
					t.Errorf("answer %q lacks %q", a.body, s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(a.body, s) {
					t.Errorf("answer %q has %q", a.body, s)
				}
			}
		})
	}
}

func TestPreflightAuth(t *testing.T) {
	h := fakeHarness(t, &metricstest.Provider{}, func(o *Options) { o.Token, o.Preflight = "s3cret", filePreflight(t, "fixed.yaml") })
	body := `{"name":"shop","namespace":"gate","phase":"Progressing","checksum":"x"}`
	if a := do(t, http.MethodPost, h.url+"/flagger/v1/preflight", body, nil); a.code != http.StatusUnauthorized {
		t.Errorf("without token: %d %s", a.code, a.body)
	}
	body = `{"name":"shop","namespace":"gate","phase":"Progressing","checksum":"x","metadata":{"token":"s3cret"}}`
	if a := do(t, http.MethodPost, h.url+"/flagger/v1/preflight", body, nil); a.code != http.StatusOK || strings.Contains(a.body, "s3cret") {
		t.Errorf("with token: %d %s", a.code, a.body)
	}
	if a := do(t, http.MethodPost, h.url+"/flagger/v1/preflight", `{"namespace": 5}`, nil); a.code != http.StatusBadRequest {
		t.Errorf("malformed payload: %d %s", a.code, a.body)
	}
}
