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
