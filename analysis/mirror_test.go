package analysis

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestCheckMirror pins the refusal of analysis.mirror on routers that
// cannot mirror (Flagger would loop on the first step forever).
func TestCheckMirror(t *testing.T) {
	tests := []struct {
		spec, mesh string
		ab, ok     bool
	}{
		{"", "", false, true},
		{"istio", "", false, true},
		{"gatewayapi:v1", "", false, true},
		{"gatewayapi:v1beta1", "", false, true},
		{"kubernetes", "", false, true},
		{"", "linkerd", false, false},
		{"linkerd", "", false, false},
		{"smi:v1alpha3", "", false, false},
		{"contour", "", false, false},
		{"gloo", "", false, false},
		{"traefik", "", false, false},
		{"kuma", "", false, false},
		{"nginx", "", false, false},
		{"appmesh:v1beta2", "", false, false},
		{"linkerd", "", true, true}, // A/B testing ignores mirror
	}
	for _, tt := range tests {
		c := podinfo()
		c.Spec.Provider = tt.spec
		c.Spec.Analysis.Mirror = true
		if tt.ab {
			c.Spec.Analysis.Iterations = 10
			c.Spec.Analysis.Match = []json.RawMessage{json.RawMessage(`{"headers":{"x":{"exact":"y"}}}`)}
		}
		err := CheckMirror(&c, tt.mesh)
		if (err == nil) != tt.ok {
			t.Errorf("provider %q mesh %q: %v", tt.spec, tt.mesh, err)
		}
		if err != nil && (!errors.Is(err, ErrMirrorUnsupported) || !strings.Contains(err.Error(), "analysis.mirror") || !strings.Contains(err.Error(), `"`+RouterProvider(&c, tt.mesh)+`"`)) {
			t.Errorf("error %q must name the field and the provider", err)
		}
	}
}

// TestCheckPromotionSteps: stepWeightPromotion below 100 with A/B testing is
// refused on the nginx router only (compat sched
// ab-step-weight-promotion-nginx shows Flagger looping in Promoting; every
// other router Flagger drives over plain objects promotes by steps,
// TestSchedulerProviders).
func TestCheckPromotionSteps(t *testing.T) {
	tests := []struct {
		spec, mesh string
		ab         bool
		step       int
		ok         bool
	}{
		{"nginx", "", true, 30, false},
		{"", "nginx", true, 30, false},
		{"nginx", "", true, 100, true}, // one step reaches 100
		{"nginx", "", true, 0, true},
		{"nginx", "", false, 30, true}, // canary strategy: weights work
		{"istio", "nginx", true, 30, true},
		{"istio", "", true, 30, true},
		{"contour", "", true, 30, true},
	}
	for _, tt := range tests {
		c := podinfo()
		c.Spec.Provider = tt.spec
		c.Spec.Analysis.StepWeightPromotion = tt.step
		if tt.ab {
			c.Spec.Analysis.Iterations = 10
			c.Spec.Analysis.Match = []json.RawMessage{json.RawMessage(`{"headers":{"x":{"exact":"y"}}}`)}
		}
		err := CheckPromotionSteps(&c, tt.mesh)
		if (err == nil) != tt.ok {
			t.Errorf("provider %q mesh %q A/B %v step %d: %v", tt.spec, tt.mesh, tt.ab, tt.step, err)
		}
		if err != nil && (!errors.Is(err, ErrPromotionStepsUnsupported) || !strings.Contains(err.Error(), "analysis.stepWeightPromotion") ||
			!strings.Contains(err.Error(), "analysis.match") || !strings.Contains(err.Error(), `"nginx"`)) {
			t.Errorf("error %q must name the fields and the provider", err)
		}
	}
}
