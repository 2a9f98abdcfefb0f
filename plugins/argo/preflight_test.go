package argo

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/augurproj/augur/lint"
)

func preflightMetric(t *testing.T, cfg string) v1alpha1.Metric {
	t.Helper()
	return v1alpha1.Metric{Name: "preflight", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{PluginName: json.RawMessage(cfg)}}}
}

func TestPreflight(t *testing.T) {
	run := &v1alpha1.AnalysisRun{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1",
		OwnerReferences: []metav1.OwnerReference{{Kind: "Rollout", Name: "web"}}}}
	finding := lint.Finding{Rule: "single-replica", Severity: lint.Error, Object: "Rollout shop/web", Path: "spec.replicas", Message: "one replica."}
	warning := lint.Finding{Rule: "rollback-too-slow", Severity: lint.Warning, Object: "Rollout shop/web", Path: "x", Message: "slow."}
	tests := []struct {
		name      string
		cfg       string
		pf        PreflightFunc
		phase     v1alpha1.AnalysisPhase
		msg       string
		wantCalls string
	}{
		{"no cluster", `{"preflight": true}`, nil, v1alpha1.AnalysisPhaseError, "needs cluster access", ""},
		{"errors fail", `{"preflight": true}`, func(_ context.Context, ns, name string) ([]lint.Finding, error) {
			return []lint.Finding{finding, warning}, nil
		}, v1alpha1.AnalysisPhaseFailed, "1 error(s): error single-replica (Rollout shop/web spec.replicas): one replica.", "shop/web"},
		{"warnings pass", `{"preflight": true, "target": "other"}`, func(context.Context, string, string) ([]lint.Finding, error) {
			return []lint.Finding{warning}, nil
		}, v1alpha1.AnalysisPhaseSuccessful, "no errors (0 errors, 1 warning, 0 info)", "shop/other"},
		{"read error", `{"preflight": true}`, func(context.Context, string, string) ([]lint.Finding, error) {
			return nil, errors.New("forbidden")
		}, v1alpha1.AnalysisPhaseError, "forbidden", "shop/web"},
		{"query with preflight", `{"preflight": true, "query": "up"}`, nil, v1alpha1.AnalysisPhaseError, "measures nothing", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			var pf PreflightFunc
			if tt.pf != nil {
				pf = func(ctx context.Context, ns, name string) ([]lint.Finding, error) {
					calls = append(calls, ns+"/"+name)
					return tt.pf(ctx, ns, name)
				}
			}
			p, err := New(Options{Preflight: pf})
			if err != nil {
				t.Fatal(err)
			}
			m := p.Run(run, preflightMetric(t, tt.cfg))
			if m.Phase != tt.phase || !strings.Contains(m.Message, tt.msg) {
				t.Errorf("phase %s message %q, want %s containing %q", m.Phase, m.Message, tt.phase, tt.msg)
			}
			if strings.Join(calls, ",") != tt.wantCalls {
				t.Errorf("calls %v, want %q", calls, tt.wantCalls)
			}
		})
	}
}
