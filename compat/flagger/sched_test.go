package flagger

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/augurproj/augur/analysis"
)

// TestSchedulerScenarios runs every scenario of testdata/sched through
// Flagger v1.44.0's controller (advanceCanary, tick by tick) and augur's
// engine with the same inputs, and requires the same phase, canaryWeight,
// failedChecks, iterations, events and webhook calls on every tick, except
// where a scenario lists a deliberate difference.
func TestSchedulerScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "sched", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in testdata/sched: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := loadScenario(b)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			run := runScheduler(t, s)
			checkRun(t, s, run)
		})
	}
}

// TestSchedulerHarnessCatchesDivergence is the harness's own test: with
// augur given a different stepWeight than Flagger, the run must diverge on
// the first tick that advances, and on canaryWeight and the event.
func TestSchedulerHarnessCatchesDivergence(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "sched", "canary-promotes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := loadScenario(b)
	if err != nil {
		t.Fatal(err)
	}
	s.mutateAugur = func(c *analysis.Canary) { c.Spec.Analysis.StepWeight = 20 }
	run := runScheduler(t, s)
	i := run.firstDivergence()
	if i != 2 {
		t.Fatalf("first divergence at tick %d, want 2 (the first advance):\n%s", i, run.report(len(run.Flagger)-1))
	}
	if d := run.Flagger[i].diff(run.Augur[i]); !slices.Equal(d, []string{"canaryWeight", "events"}) {
		t.Errorf("differing fields %v, want canaryWeight and events", d)
	}
}
