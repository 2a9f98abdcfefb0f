package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
)

type constant float64

func (c constant) Query(context.Context, string, time.Time) (float64, error) { return float64(c), nil }

func TestRegistry(t *testing.T) {
	var r metrics.Registry
	if _, err := r.New(metrics.Config{Type: "prometheus"}); !errors.Is(err, metrics.ErrUnknownProvider) {
		t.Fatalf("empty registry: got %v, want ErrUnknownProvider", err)
	}
	r.Register("prometheus", func(c metrics.Config) (metrics.Provider, error) {
		if c.Address == "" {
			return nil, errors.New("address required")
		}
		return constant(1), nil
	})
	p, err := r.New(metrics.Config{Type: "prometheus", Address: "http://127.0.0.1:9090"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := p.Query(context.Background(), "up", time.Time{}); v != 1 {
		t.Errorf("value %v", v)
	}
	_, err = r.New(metrics.Config{Type: "prometheus"})
	if err == nil || !strings.Contains(err.Error(), "prometheus provider: address required") {
		t.Errorf("constructor error not wrapped with the type: %v", err)
	}
	_, err = r.New(metrics.Config{Type: "datadog"})
	if !errors.Is(err, metrics.ErrUnknownProvider) || !strings.Contains(err.Error(), `"datadog"`) {
		t.Errorf("unknown type: %v (want the type named)", err)
	}
	if got := strings.Join(r.Types(), ","); got != "prometheus" {
		t.Errorf("types %s", got)
	}
}
