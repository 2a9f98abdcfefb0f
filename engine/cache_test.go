package engine

import (
	"fmt"
	"testing"

	"github.com/augurproj/augur/metrics"
)

// TestProviderCacheBounded: unique headers (each a new cache key holding
// header and credential values) do not grow the cache without bound.
func TestProviderCacheBounded(t *testing.T) {
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return nil, nil })
	e, err := New(Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 * maxCachedProviders {
		if _, err := e.provider(metrics.Config{Type: "prometheus", Headers: map[string][]string{"X-Id": {fmt.Sprint(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.providers); n > maxCachedProviders {
		t.Errorf("%d cached providers", n)
	}
}
