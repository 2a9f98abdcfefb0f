package flagger

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/analysis"
)

// schedHookTypes are the webhook types a generated canary may use.
var schedHookTypes = []string{"confirm-rollout", "pre-rollout", "rollout", "confirm-traffic-increase",
	"confirm-promotion", "post-rollout", "rollback", "event",
	// second hooks of some types: order within a type, the first failure
	// stopping a gating type, a rollback signalled by either, two event hooks
	"rollout", "post-rollout", "rollback", "event", "confirm-promotion"}

// genProviders are the routers a generated canary uses ("" is the global
// istio; apisix needs an ApisixRoute and is left out).
var genProviders = []string{"", "", "", "istio", "kubernetes", "kubernetes", "linkerd", "smi", "contour", "gloo",
	"traefik", "kuma", "gatewayapi", "osm", "nginx", "skipper", "appmesh"}

// genMeshes are global mesh providers set beside a spec.provider (Flagger's
// provider-string rule: a global linkerd decides the observer, crossover's
// own metrics).
var genMeshes = []string{"istio", "linkerd", "smi:crossover", "kubernetes", "contour", "osm"}

// genScheduler builds a random scenario: a strategy (canary with stepWeight
// or stepWeights, A/B, blue/green, with or without mirroring and
// stepWeightPromotion) on one of genProviders, some of the four
// metric paths, some webhooks, and 4–16 ticks of random metric answers
// (passing, failing, at the bounds, no values, HTTP errors, NaN), hook
// answers, progress deadlines, suspended ticks, skipAnalysis (never an empty failure body: that difference is deliberate and
// shown by webhook-empty-body.yaml) and new revisions.
func genScheduler(r *rand.Rand) *schedScenario {
	s := &schedScenario{Doc: "generated", Metrics: map[string]string{}}
	spec := map[string]any{
		"targetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
		"service":   map[string]any{"port": 9898},
	}
	// Routers that can mirror (or, kubernetes, that ignore it) may get
	// analysis.mirror; the others refuse it by design (mirror-linkerd-refused).
	// The router is spec.provider, else the global mesh provider (which
	// also decides the builtin metrics' observer in some combinations).
	router := genProviders[r.IntN(len(genProviders))]
	if router != "" && r.IntN(3) == 0 {
		s.Mesh = router
	} else if router != "" {
		spec["provider"] = router
		if r.IntN(3) == 0 {
			s.Mesh = genMeshes[r.IntN(len(genMeshes))]
		}
	}
	if router == "" {
		router = "istio"
	}
	canMirror := router == "istio" || router == "gatewayapi" || router == "kubernetes"
	switch router {
	case "nginx", "skipper":
		spec["ingressRef"] = map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "podinfo"}
	case "appmesh":
		spec["service"].(map[string]any)["meshName"] = "global"
	}
	// A Service target (Flagger's ServiceController: always ready, so no
	// progress deadlines).
	serviceTarget := r.IntN(8) == 0 && router != "nginx" && router != "skipper" && router != "appmesh"
	if serviceTarget {
		spec["targetRef"] = map[string]any{"apiVersion": "v1", "kind": "Service", "name": "podinfo"}
	}
	an := map[string]any{"interval": "1m", "threshold": 1 + r.IntN(3)}
	switch r.IntN(5) {
	case 0: // A/B
		an["iterations"] = 1 + r.IntN(3)
		an["match"] = []any{map[string]any{"headers": map[string]any{"x-canary": map[string]any{"exact": "insider"}}}}
	case 1: // blue/green
		an["iterations"] = 1 + r.IntN(3)
		if r.IntN(2) == 0 && canMirror {
			an["mirror"] = true
		}
	case 2: // stepWeights
		w := []int{}
		for v := 0; len(w) < 1+r.IntN(3); {
			v += 5 + 5*r.IntN(8)
			if v > 100 {
				break
			}
			w = append(w, v)
		}
		if len(w) == 0 {
			w = []int{50}
		}
		an["stepWeights"] = w
	default: // stepWeight
		an["stepWeight"] = 10 * (1 + r.IntN(3))
		an["maxWeight"] = 10 * (1 + r.IntN(6))
		if r.IntN(4) == 0 && canMirror {
			an["mirror"] = true
		}
	}
	if r.IntN(4) == 0 {
		an["stepWeightPromotion"] = 10 * (1 + r.IntN(5))
	}
	if r.IntN(15) == 0 {
		spec["skipAnalysis"] = true
	}
	var ms []any
	type metric struct {
		name      string
		def       map[string]any
		pass      []string
		fail      []string
		isTmpl    bool
		tmplQuery string
	}
	all := []metric{
		{name: "request-success-rate", def: map[string]any{"thresholdRange": map[string]any{"min": 99}, "interval": "1m"},
			pass: []string{"99", "99.5", "100"}, fail: []string{"98.99", "50", "-1"}},
		{name: "request-duration", def: map[string]any{"thresholdRange": map[string]any{"max": 500}, "interval": "30s"},
			pass: []string{"0.5", "0.2", "0", "0.5009"}, fail: []string{"0.501", "2"}},
		{name: "inline", def: map[string]any{"query": `sum(rate(x{ns="{{ namespace }}",t="{{ target }}"}[{{ interval }}]))`, "thresholdRange": map[string]any{"min": 1, "max": 5}},
			pass: []string{"1", "5", "3.3"}, fail: []string{"0.999", "5.001", "+Inf", "-Inf"}},
		{name: "custom", def: map[string]any{"templateRef": map[string]any{"name": "errors", "namespace": "test"}, "threshold": 2, "interval": "2m"},
			pass: []string{"2", "0", "-3"}, fail: []string{"2.01", "100"}, isTmpl: true},
	}
	var used []metric
	for _, m := range all {
		if r.IntN(2) == 0 {
			continue
		}
		d := map[string]any{"name": m.name}
		for k, v := range m.def {
			d[k] = v
		}
		ms = append(ms, d)
		used = append(used, m)
		s.Metrics[m.name] = m.pass[0]
		if m.isTmpl {
			tmpl := map[string]any{"apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate",
				"metadata": map[string]any{"name": "errors", "namespace": "test"},
				"spec": map[string]any{"provider": map[string]any{"type": "prometheus", "address": "http://placeholder"},
					"query": `sum(rate(errors_total{workload="{{ target }}"}[{{ interval }}]))`}}
			b, _ := json.Marshal(tmpl)
			s.Templates = append(s.Templates, b)
		}
	}
	if len(ms) > 0 {
		an["metrics"] = ms
	}
	if _, ab := an["match"]; ab && router == "nginx" {
		// Refused by design (ab-step-weight-promotion-nginx.yaml).
		delete(an, "stepWeightPromotion")
	}
	var hooks []string
	var hs []any
	for i, ht := range schedHookTypes {
		if r.IntN(3) != 0 {
			continue
		}
		name := fmt.Sprintf("h%d-%s", i, ht)
		hooks = append(hooks, name)
		hs = append(hs, map[string]any{"name": name, "type": ht, "url": "http://placeholder"})
	}
	if len(hs) > 0 {
		an["webhooks"] = hs
	}
	canary := map[string]any{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
		"metadata": map[string]any{"name": "podinfo", "namespace": "test"},
		"spec":     spec}
	spec["analysis"] = an
	s.Canary, _ = json.Marshal(canary)
	n := 4 + r.IntN(13)
	for i := range n {
		tk := schedTick{NewRevision: i == 0 || r.IntN(20) == 0}
		if i > 0 && r.IntN(25) == 0 {
			tk.Suspend = true
		}
		if i > 0 && !serviceTarget && r.IntN(30) == 0 {
			tk.CanaryDeadline = true
		} else if i > 0 && !serviceTarget && r.IntN(30) == 0 {
			tk.PrimaryDeadline = true
		}
		for _, m := range used {
			if r.IntN(4) != 0 {
				continue
			}
			if tk.Metrics == nil {
				tk.Metrics = map[string]string{}
			}
			switch k := r.IntN(10); {
			case k < 3:
				tk.Metrics[m.name] = m.pass[r.IntN(len(m.pass))]
			case k < 6:
				tk.Metrics[m.name] = m.fail[r.IntN(len(m.fail))]
			case k < 7:
				tk.Metrics[m.name] = "novalues"
			case k < 8:
				tk.Metrics[m.name] = "error"
			default:
				tk.Metrics[m.name] = "NaN"
			}
		}
		for _, h := range hooks {
			if r.IntN(4) != 0 {
				continue
			}
			if tk.Hooks == nil {
				tk.Hooks = map[string]int{}
			}
			tk.Hooks[h] = []int{200, 201, 202, 403, 404, 500, 503}[r.IntN(7)]
		}
		s.Ticks = append(s.Ticks, tk)
	}
	return s
}

// diverges runs s and reports whether it shows a divergence or a harness
// problem.
func diverges(t *testing.T, s *schedScenario) (bool, *schedRun) {
	var run *schedRun
	ok := t.Run("try", func(t *testing.T) { run = runScheduler(t, s) })
	if !ok || run == nil {
		return true, run
	}
	return len(run.Problems) > 0 || run.firstDivergence() >= 0, run
}

// shrink reduces a diverging scenario: it drops the ticks after the first
// divergence, then ticks, per-tick answers, webhooks and metrics one at a
// time, keeping each reduction that still diverges.
func shrink(t *testing.T, s *schedScenario) *schedScenario {
	clone := func(x *schedScenario) *schedScenario {
		b, _ := json.Marshal(x)
		var y schedScenario
		_ = json.Unmarshal(b, &y)
		y.mutateAugur = x.mutateAugur
		return &y
	}
	try := func(c *schedScenario) bool {
		d, _ := diverges(t, c)
		return d
	}
	if _, run := diverges(t, s); run != nil {
		if i := run.firstDivergence(); i > 0 && i < len(s.Ticks)+1 {
			c := clone(s)
			c.Ticks = c.Ticks[:i] // tick i of the run is Ticks[i-1]
			if try(c) {
				s = c
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for i := len(s.Ticks) - 1; i >= 1; i-- {
			c := clone(s)
			c.Ticks = slices.Delete(c.Ticks, i, i+1)
			if try(c) {
				s, changed = c, true
			}
		}
		for i := range s.Ticks {
			if s.Ticks[i].Metrics == nil && s.Ticks[i].Hooks == nil {
				continue
			}
			c := clone(s)
			c.Ticks[i].Metrics, c.Ticks[i].Hooks = nil, nil
			if try(c) {
				s, changed = c, true
			}
		}
		for _, field := range []string{"webhooks", "metrics"} {
			var obj map[string]any
			_ = json.Unmarshal(s.Canary, &obj)
			an := obj["spec"].(map[string]any)["analysis"].(map[string]any)
			list, _ := an[field].([]any)
			for i := len(list) - 1; i >= 0; i-- {
				c := clone(s)
				var o map[string]any
				_ = json.Unmarshal(c.Canary, &o)
				a := o["spec"].(map[string]any)["analysis"].(map[string]any)
				l := slices.Delete(slices.Clone(list), i, i+1)
				if len(l) == 0 {
					delete(a, field)
				} else {
					a[field] = l
				}
				c.Canary, _ = json.Marshal(o)
				if try(c) {
					s, changed = c, true
					break
				}
			}
		}
	}
	return s
}

// TestSchedulerGenerated runs generated scenarios (AUGUR_COMPAT_N, default
// 300; seed printed, AUGUR_COMPAT_SEED replays) through Flagger's
// controller and augur. A divergence is shrunk to a minimal scenario,
// written to testdata/sched/found-<seed>-<case>.yaml (which
// TestSchedulerScenarios then runs on every run) and printed.
func TestSchedulerGenerated(t *testing.T) {
	sd := seed(t)
	r := rand.New(rand.NewPCG(sd, 2))
	n := count(t, 300)
	failures := 0
	for i := range n {
		s := genScheduler(r)
		bad, run := diverges(t, s)
		if !bad {
			continue
		}
		failures++
		small := shrink(t, s)
		small.Doc = fmt.Sprintf("found by TestSchedulerGenerated, seed %d, case %d (shrunk)", sd, i)
		b, err := yaml.Marshal(small)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "sched", "found-"+strconv.FormatUint(sd, 10)+"-"+strconv.Itoa(i)+".yaml")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Logf("cannot save %s: %v", path, err)
		}
		detail := ""
		if run != nil {
			detail = "as generated:\n" + run.report(max(run.firstDivergence(), 0))
			for _, p := range run.Problems {
				detail += "\n" + p
			}
		}
		if sbad, srun := diverges(t, small); !sbad {
			detail += "\nthe shrunk scenario did not diverge when run again"
		} else if srun != nil {
			detail += "\nshrunk:\n" + srun.report(max(srun.firstDivergence(), 0))
			for _, p := range srun.Problems {
				detail += "\n" + p
			}
		}
		t.Errorf("case %d diverges from Flagger; shrunk scenario saved to %s:\n%s\n%s", i, path, b, detail)
		if failures >= 3 {
			t.Fatalf("stopping after %d diverging cases", failures)
		}
	}
	t.Logf("%d generated scenarios identical to Flagger tick by tick", n-failures)
}

// TestSchedulerShrink is the shrinker's own test: a generated scenario with a
// planted difference (augur is told maxWeight 90 where Flagger has 50, so
// they part when Flagger promotes at 50) shrinks to a scenario that still
// diverges, with no webhooks, no metrics and no per-tick answers left.
func TestSchedulerShrink(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var s *schedScenario
	for tries := 0; s == nil; tries++ {
		if tries == 500 {
			t.Fatal("no generated scenario reached maxWeight with the planted difference in 500 tries")
		}
		g := genScheduler(r)
		var obj map[string]any
		_ = json.Unmarshal(g.Canary, &obj)
		spec := obj["spec"].(map[string]any)
		an := spec["analysis"].(map[string]any)
		if _, ok := an["stepWeight"]; !ok || spec["provider"] != nil || g.Mesh != "" || spec["skipAnalysis"] != nil || len(g.Ticks) < 10 {
			continue
		}
		an["stepWeight"], an["maxWeight"] = 10, 50
		delete(an, "mirror")
		g.Canary, _ = json.Marshal(obj)
		g.Ticks = append(g.Ticks, make([]schedTick, 10)...) // room to reach maxWeight
		g.mutateAugur = func(c *analysis.Canary) { c.Spec.Analysis.MaxWeight = 90 }
		// Failing answers may keep this one from ever reaching maxWeight:
		// the planted difference must show before shrinking.
		if bad, _ := diverges(t, g); bad {
			s = g
		}
	}
	small := shrink(t, s)
	if bad, _ := diverges(t, small); !bad {
		t.Fatal("the shrunk scenario no longer diverges")
	}
	var obj map[string]any
	_ = json.Unmarshal(small.Canary, &obj)
	an := obj["spec"].(map[string]any)["analysis"].(map[string]any)
	if an["webhooks"] != nil || an["metrics"] != nil {
		t.Errorf("shrunk scenario keeps webhooks or metrics: %s", small.Canary)
	}
	for i, tk := range small.Ticks {
		if tk.Metrics != nil || tk.Hooks != nil {
			t.Errorf("shrunk tick %d keeps answers: %+v", i, tk)
		}
	}
	if n := len(small.Ticks); n >= len(s.Ticks) {
		t.Errorf("shrunk to %d ticks from %d", n, len(s.Ticks))
	}
	t.Logf("shrunk from %d ticks to %d", len(s.Ticks), len(small.Ticks))
}
