package engine_test

import (
	"flag"
	"testing"
	"time"

	"github.com/augurproj/augur/internal/scenario"
	"github.com/augurproj/augur/webhooks"
)

var update = flag.Bool("update", false, "rewrite golden files (want.yaml of testdata/scenarios)")

// TestScenarios runs the shared corpus in-process: the reference answers
// every transport must reproduce.
func TestScenarios(t *testing.T) {
	hooks := webhooks.New(webhooks.Options{Backoff: func(int) time.Duration { return time.Millisecond }})
	scenario.Run(t, scenario.EngineDecider(hooks), scenario.RunOptions{Update: *update})
}
