package analysis

import "testing"

func TestNextStepWeight(t *testing.T) {
	ladder := []int{1, 2, 10, 80}
	tests := []struct {
		name   string
		a      *Analysis
		weight int
		want   int
	}{
		{"nil analysis", nil, 0, 0},
		{"stepWeight from zero", &Analysis{StepWeight: 10}, 0, 10},
		{"stepWeight mid-way", &Analysis{StepWeight: 10}, 40, 10},
		{"stepWeight is returned even past 100", &Analysis{StepWeight: 30}, 90, 30},
		{"stepWeight wins over stepWeights", &Analysis{StepWeight: 5, StepWeights: ladder}, 0, 5},
		{"no step configured stalls", &Analysis{}, 0, 0},
		{"negative stepWeight stalls", &Analysis{StepWeight: -5}, 0, -5},
		{"ladder first rung", &Analysis{StepWeights: ladder}, 0, 1},
		{"ladder second rung", &Analysis{StepWeights: ladder}, 1, 1},
		{"ladder third rung", &Analysis{StepWeights: ladder}, 2, 8},
		{"ladder last rung", &Analysis{StepWeights: ladder}, 10, 70},
		{"ladder at the last rung goes the rest of the way", &Analysis{StepWeights: ladder}, 80, 20},
		{"ladder off any rung goes the rest of the way", &Analysis{StepWeights: ladder}, 50, 50},
		{"ladder at 100 returns 1 so promotion can happen", &Analysis{StepWeights: ladder}, 100, 1},
		{"ladder first rung capped at 100", &Analysis{StepWeights: []int{150}}, 0, 100},
		{"ladder step capped at the room left", &Analysis{StepWeights: []int{90, 200}}, 90, 10},
		{"ladder with a zero first rung stalls", &Analysis{StepWeights: []int{0, 50}}, 0, 0},
		{"ladder going down gives a negative step", &Analysis{StepWeights: []int{50, 20}}, 50, -30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NextStepWeight(tt.a, tt.weight); got != tt.want {
				t.Errorf("NextStepWeight(%+v, %d) = %d, want %d", tt.a, tt.weight, got, tt.want)
			}
		})
	}
}

// TestKubernetesProviderReadsTheNopRouter: Flagger's kubernetes provider has
// no router, and its NopRouter reports the canary at 0 until an iteration
// has run, whatever the status says was routed. After a failed promotion
// (canary routed at 100) and a new revision, the next tick is the first
// analysis tick (compat sched kubernetes-failed-promotion-restart, found by
// TestSchedulerGenerated).
func TestKubernetesProviderReadsTheNopRouter(t *testing.T) {
	c := podinfo()
	c.Spec.Provider = "kubernetes"
	c.Spec.Analysis.Iterations = 2
	c.Spec.Analysis.Metrics = nil
	c.Spec.Analysis.Webhooks = nil
	in := Input{Canary: c, Status: CanaryStatus{Phase: PhaseProgressing, RouterWeight: ip(100)}}
	d := Run(in, func(Need) Answer { return Answer{} })
	if len(d.Events) == 0 || d.Events[0].Message != "Starting canary analysis for podinfo.test" {
		t.Fatalf("events %+v: want the first analysis tick", d.Events)
	}
	if d.Status.Iterations != 1 {
		t.Errorf("iterations %d, want 1", d.Status.Iterations)
	}
}
