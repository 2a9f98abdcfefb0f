package analysis

import (
	"strconv"
	"testing"
)

// benchInput is a Progressing tick at weight 10 with n template metrics,
// every hook and observation already gathered, so one Step call is a full
// tick: rollout hooks, n checks, the strategy and the decision.
func benchInput(n int) Input {
	c := podinfo()
	a := c.Spec.Analysis
	a.Metrics = nil
	values := map[string]float64{}
	for i := range n {
		name := "m" + strconv.Itoa(i)
		a.Metrics = append(a.Metrics, Metric{Name: name, ThresholdRange: &ThresholdRange{Min: fp(0), Max: fp(100)},
			TemplateRef: &CrossNamespaceObjectReference{Name: "t", Namespace: "test"}})
		values[name] = float64(i % 100)
	}
	a.Webhooks = append(a.Webhooks, Webhook{Name: "cti", Type: HookConfirmTrafficIncrease})
	return Input{
		Canary: c,
		Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10},
		Hooks: map[HookType][]HookResult{
			HookRollout:                {{Name: "load-test"}},
			HookConfirmTrafficIncrease: {{Name: "cti"}},
		},
		Metrics:         observe(&c, values, nil),
		MetricsGathered: true,
		Now:             tick0,
	}
}

func BenchmarkStep(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		in := benchInput(n)
		if r := Step(in); r.Decision == nil || r.Decision.Action != ActionAdvance {
			b.Fatalf("metrics=%d: benchmark input does not reach a full advancing tick: %+v", n, r)
		}
		b.Run("metrics="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Step(in)
			}
		})
	}
}
