package plugins

import (
	"context"
	"testing"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/internal/scenario"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/webhooks"
)

// TestScenariosThroughPlugin runs the shared scenario corpus through the
// plugin protocol in this process: the scenario's service served by
// plugin.Serve, called through a Client.
func TestScenariosThroughPlugin(t *testing.T) {
	scenario.Run(t, func(ctx context.Context, s *scenario.Scenario, req service.DecideRequest) (analysis.Decision, error) {
		svc, err := s.Service(webhooks.New(webhooks.Options{}))
		if err != nil {
			return analysis.Decision{}, err
		}
		return reattached(t, svc).Decide(ctx, req)
	}, scenario.RunOptions{})
}

// TestScenariosThroughPluginProcess runs the corpus through a real `augur
// plugin` process per scenario, started by Start with the scenario's
// recorded data and mesh provider as flags.
func TestScenariosThroughPluginProcess(t *testing.T) {
	bin := augurBinary(t)
	td, err := scenario.TestdataDir()
	if err != nil {
		t.Fatal(err)
	}
	scenario.Run(t, func(ctx context.Context, s *scenario.Scenario, req service.DecideRequest) (analysis.Decision, error) {
		var args []string
		if p := s.DataPath(td); p != "" {
			args = append(args, "--data", p)
		}
		if s.Spec.MeshProvider != "" {
			args = append(args, "--mesh-provider", s.Spec.MeshProvider)
		}
		c, err := Start(ctx, ClientOptions{Path: bin, Args: args})
		if err != nil {
			return analysis.Decision{}, err
		}
		defer c.Close()
		return c.Decide(ctx, req)
	}, scenario.RunOptions{Skip: func(s *scenario.Scenario) string {
		if s.Spec.TemplatesInCluster {
			return "the scenario resolves templates in a cluster; the plugin process has no cluster here"
		}
		return ""
	}})
}
