package metrics

import (
	"context"
	"sync"
)

type scalarKey struct{}

// ScalarMark records whether the instant queries run under a context
// returned a scalar (rather than a vector). Argo Rollouts' own Prometheus
// provider hands a scalar to successCondition/failureCondition as a bare
// number and a vector as a list, so its plugin needs to know.
type ScalarMark struct {
	mu     sync.Mutex
	scalar bool
}

// WithScalarMark returns a context whose queries record into the mark.
func WithScalarMark(ctx context.Context) (context.Context, *ScalarMark) {
	m := &ScalarMark{}
	return context.WithValue(ctx, scalarKey{}, m), m
}

// MarkScalar is called by a provider whose instant query returned a scalar.
func MarkScalar(ctx context.Context) {
	if m, ok := ctx.Value(scalarKey{}).(*ScalarMark); ok {
		m.mu.Lock()
		m.scalar = true
		m.mu.Unlock()
	}
}

// Scalar reports whether a query returned a scalar.
func (m *ScalarMark) Scalar() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.scalar
}
