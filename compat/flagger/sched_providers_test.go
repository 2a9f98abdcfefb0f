package flagger

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestSchedulerProviders runs three scenarios (a promotion, a rollback at the
// threshold, a confirm-promotion gate) with each mesh provider Flagger can
// route with over fake clientsets set as spec.provider (nginx and skipper
// with an ingressRef, appmesh with a meshName; apisix is left out: it needs
// an ApisixRoute). The builtin queries differ per provider: the loopback
// Prometheus answers only the text augur renders, so rendering is compared
// too.
func TestSchedulerProviders(t *testing.T) {
	for _, base := range []string{"canary-promotes.yaml", "threshold-at-max-weight.yaml", "confirm-promotion.yaml", "ab-step-weight-promotion.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "sched", base))
		if err != nil {
			t.Fatal(err)
		}
		for _, prov := range []string{"linkerd", "smi", "nginx", "contour", "gloo", "skipper", "traefik", "kuma", "gatewayapi", "osm", "appmesh"} {
			t.Run(base+"/"+prov, func(t *testing.T) {
				s, err := loadScenario(b)
				if err != nil {
					t.Fatal(err)
				}
				var obj map[string]any
				_ = json.Unmarshal(s.Canary, &obj)
				spec := obj["spec"].(map[string]any)
				spec["provider"] = prov
				switch prov {
				case "nginx", "skipper":
					spec["ingressRef"] = map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "podinfo"}
				case "appmesh":
					spec["service"].(map[string]any)["meshName"] = "global"
				}
				s.Canary, _ = json.Marshal(obj)
				if base == "ab-step-weight-promotion.yaml" && prov == "nginx" {
					// Refused by design: ab-step-weight-promotion-nginx.yaml.
					s.Expect = map[int]string{0: "augur refuses stepWeightPromotion with A/B testing on nginx"}
				}
				run := runScheduler(t, s)
				checkRun(t, s, run)
			})
		}
	}
}

// TestSchedulerMeshOverrides runs a promotion and a rollback with the global
// -mesh-provider and spec.provider combined: the router comes from
// spec.provider, else the global provider, while the builtin metrics'
// observer follows Flagger's provider-string rule (a global linkerd wins
// over spec.provider, smi:crossover queries crossover's metrics). The
// loopback Prometheus answers only the queries augur renders, so a
// different observer on either side shows as an unknown query.
func TestSchedulerMeshOverrides(t *testing.T) {
	combos := []struct{ mesh, provider string }{
		{"linkerd", ""}, {"linkerd", "istio"}, {"linkerd", "kubernetes"}, {"smi:crossover", ""},
		{"istio", "kubernetes"}, {"kubernetes", "istio"}, {"kubernetes", "linkerd"}, {"nginx", ""},
		{"contour", "gloo"}, {"osm", ""}, {"traefik", "istio"},
	}
	for _, base := range []string{"canary-promotes.yaml", "threshold-at-max-weight.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "sched", base))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range combos {
			t.Run(base+"/"+c.mesh+"+"+c.provider, func(t *testing.T) {
				s, err := loadScenario(b)
				if err != nil {
					t.Fatal(err)
				}
				s.Mesh = c.mesh
				var obj map[string]any
				_ = json.Unmarshal(s.Canary, &obj)
				spec := obj["spec"].(map[string]any)
				if c.provider != "" {
					spec["provider"] = c.provider
				}
				if c.mesh == "nginx" {
					spec["ingressRef"] = map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "podinfo"}
				}
				s.Canary, _ = json.Marshal(obj)
				run := runScheduler(t, s)
				checkRun(t, s, run)
			})
		}
	}
}

// TestSchedulerServiceTargets runs a promotion and a rollback for a
// Service target (Flagger's ServiceController): the builtin metrics' observer
// gets the ":service" suffix (falling back to Istio's queries for most).
func TestSchedulerServiceTargets(t *testing.T) {
	for _, base := range []string{"canary-promotes.yaml", "threshold-at-max-weight.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "sched", base))
		if err != nil {
			t.Fatal(err)
		}
		for _, prov := range []string{"istio", "gatewayapi", "kubernetes", "linkerd"} {
			t.Run(base+"/"+prov, func(t *testing.T) {
				s, err := loadScenario(b)
				if err != nil {
					t.Fatal(err)
				}
				var obj map[string]any
				_ = json.Unmarshal(s.Canary, &obj)
				spec := obj["spec"].(map[string]any)
				spec["provider"] = prov
				spec["targetRef"] = map[string]any{"apiVersion": "v1", "kind": "Service", "name": "podinfo"}
				s.Canary, _ = json.Marshal(obj)
				run := runScheduler(t, s)
				checkRun(t, s, run)
			})
		}
	}
}
