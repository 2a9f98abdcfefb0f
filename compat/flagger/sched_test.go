package flagger

import (
	"os"
	"path/filepath"
	"testing"
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
			if testing.Verbose() {
				t.Logf("%s", run.report(len(run.Flagger)-1))
			}
		})
	}
}
