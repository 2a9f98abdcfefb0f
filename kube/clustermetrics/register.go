package clustermetrics

import (
	"errors"
	"fmt"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/augurproj/augur/metrics"
)

// Types lists the provider types this package registers.
var Types = []string{ExternalType, KeptnType}

// Register adds "keptn" (over dyn) and "externalmetrics" (over base) to r.
// A nil base (a Source over fake clients) makes externalmetrics an error.
func Register(r *metrics.Registry, base *rest.Config, dyn dynamic.Interface) {
	k := NewKeptn(dyn)
	r.Register(KeptnType, func(metrics.Config) (metrics.Provider, error) {
		if dyn == nil {
			return nil, errors.New("keptn needs a cluster connection")
		}
		return k, nil
	})
	r.Register(ExternalType, func(c metrics.Config) (metrics.Provider, error) { return NewExternal(base, c) })
}

// RegisterOffline adds, for keptn and externalmetrics, a constructor that
// fails naming the type and why (for example "no cluster: give
// --kubeconfig"), so a run without a cluster never guesses.
func RegisterOffline(r *metrics.Registry, why string) {
	for _, t := range Types {
		r.Register(t, func(metrics.Config) (metrics.Provider, error) {
			return nil, fmt.Errorf("%s reads the Kubernetes API: %s", t, why)
		})
	}
}
