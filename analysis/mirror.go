package analysis

import (
	"errors"
	"fmt"
	"strings"
)

// ErrMirrorUnsupported marks a canary that asks for traffic mirroring on a
// router that cannot mirror.
var ErrMirrorUnsupported = errors.New("traffic mirroring is not supported by this provider")

// RouterProvider is the provider Flagger builds the canary's mesh router
// for: spec.provider, else the global mesh provider, else istio.
func RouterProvider(c *Canary, meshProvider string) string {
	switch {
	case c.Spec.Provider != "":
		return c.Spec.Provider
	case meshProvider != "":
		return meshProvider
	default:
		return DefaultMeshProvider
	}
}

// CanMirror reports whether Flagger v1.44.0's router for provider can
// report the canary as mirrored: only the Istio and Gateway API routers
// (and unknown providers, which get Istio's router) ever do.
func CanMirror(provider string) bool {
	switch {
	case provider == "istio", strings.HasPrefix(provider, "gatewayapi:v1"):
		return true
	case provider == kubernetesProvider:
		// Flagger ignores mirroring with the kubernetes provider.
		return true
	}
	for _, p := range []string{"appmesh", "linkerd", "smi", "contour", "knative", "gloo", "nginx", "skipper", "traefik", "apisix", "osm", "kuma"} {
		if provider == p || strings.HasPrefix(provider, p+":") {
			return false
		}
	}
	return true // any other provider gets Istio's router
}

// CheckMirror refuses analysis.mirror on a router that cannot mirror, for
// the canary and blue/green strategies that use it (A/B testing ignores
// it). Flagger never sees such a canary mirrored and repeats the
// pre-rollout step and "Advance … canary weight 0" on every tick, forever;
// augur treats the combination as invalid input (a deliberate change,
// docs/compatibility.md) and names the provider and the field.
func CheckMirror(c *Canary, meshProvider string) error {
	a := c.GetAnalysis()
	if a == nil || !a.Mirror || a.Strategy() == StrategyABTesting {
		return nil
	}
	p := RouterProvider(c, meshProvider)
	if CanMirror(p) {
		return nil
	}
	return fmt.Errorf("canary %s.%s: analysis.mirror is true but provider %q cannot mirror traffic (only istio and gatewayapi can; Flagger would repeat the first step forever): %w",
		c.Metadata.Name, c.Metadata.Namespace, p, ErrMirrorUnsupported)
}

// ErrPromotionStepsUnsupported marks an A/B canary that asks for a
// stepwise promotion on a router that cannot shift an A/B canary's traffic.
var ErrPromotionStepsUnsupported = errors.New("stepwise promotion of an A/B canary is not supported by this provider")

// CheckPromotionSteps refuses analysis.stepWeightPromotion below 100 with
// A/B testing on the nginx router. Flagger v1.44.0's ingress router reports
// an A/B canary (routed by header or cookie) as primary 0 / canary 100
// whatever weights were set, so every Promoting tick starts the traffic
// shift again from the canary's full share and Flagger repeats "Advance …
// primary weight <step>" forever (found by compat TestSchedulerGenerated,
// shown by the sched scenario ab-step-weight-promotion-nginx). As with
// mirroring, augur treats the combination as invalid input (a deliberate
// change, docs/compatibility.md) and names the provider and the fields.
func CheckPromotionSteps(c *Canary, meshProvider string) error {
	a := c.GetAnalysis()
	if a == nil || a.StepWeightPromotion <= 0 || a.StepWeightPromotion >= 100 || a.Strategy() != StrategyABTesting {
		return nil
	}
	p := RouterProvider(c, meshProvider)
	if p != "nginx" && !strings.HasPrefix(p, "nginx:") {
		return nil
	}
	return fmt.Errorf("canary %s.%s: analysis.stepWeightPromotion %d with A/B testing (analysis.match) on provider %q: its router cannot shift an A/B canary's traffic by steps (Flagger would repeat the first promotion step forever; drop stepWeightPromotion to promote at once): %w",
		c.Metadata.Name, c.Metadata.Namespace, a.StepWeightPromotion, p, ErrPromotionStepsUnsupported)
}
