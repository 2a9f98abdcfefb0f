package plugins_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/plugins"
	"github.com/augurproj/augur/service"
)

// A host program launches the augur binary once and asks it for decisions.
// (Compiled, not run: it needs the binary.)
func ExampleStart() {
	ctx := context.Background()
	c, err := plugins.Start(ctx, plugins.ClientOptions{
		Path:   "/usr/local/bin/augur",
		Args:   []string{"--prometheus", "http://prometheus.istio-system:9090"},
		Logger: slog.Default(),
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	set, err := manifest.DecodePaths([]string{"canary.yaml"})
	if err != nil {
		panic(err)
	}
	tick, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d, err := c.Decide(tick, service.DecideRequest{
		Canary: set.Canaries[0],
		Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10},
	})
	switch {
	case errors.Is(err, service.ErrBadRequest):
		fmt.Println("fix the request:", err)
	case errors.Is(err, plugins.ErrUnavailable):
		fmt.Println("the plugin process is gone; Start it again:", err)
	case err != nil:
		fmt.Println("no decision:", err) // deadline, cancellation, engine error
	default:
		fmt.Println(d.Action, d.Status.CanaryWeight, d.Reasons)
	}
}
