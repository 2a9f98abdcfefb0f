package metrics

import (
	"fmt"
	"sort"
	"sync"

	"github.com/augurproj/augur/redact"
)

// Constructor builds a Provider from its configuration.
type Constructor func(Config) (Provider, error)

// Registry maps a provider type to its constructor. The zero value is ready to use.
type Registry struct {
	mu    sync.RWMutex
	ctors map[string]Constructor
}

// Register adds (or replaces) the constructor for typ.
func (r *Registry) Register(typ string, c Constructor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctors == nil {
		r.ctors = map[string]Constructor{}
	}
	r.ctors[typ] = c
}

// New builds a provider of cfg.Type. An unknown type is an error wrapping
// ErrUnknownProvider, never a silent fallback to Prometheus.
func (r *Registry) New(cfg Config) (Provider, error) {
	r.mu.RLock()
	c, ok := r.ctors[cfg.Type]
	r.mu.RUnlock()
	if !ok {
		// The supported list is in the docs, not here: it differs between
		// an offline and a live run and would make their answers differ.
		return nil, fmt.Errorf("%w %q (augur does not speak this provider type)", ErrUnknownProvider, cfg.Type)
	}
	p, err := c(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s provider: %w", cfg.Type, err)
	}
	return p, nil
}

// Types lists the registered types, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.ctors))
	for t := range r.ctors {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Redact records every credential of c in s: secretRef values (and the
// basic-auth header they make), header values and the address's password.
func (c Config) Redact(s *redact.Set) {
	for _, v := range c.Credentials {
		s.Add(v)
	}
	if u, ok := c.Credentials["username"]; ok {
		s.AddBasic(u, c.Credentials["password"])
	}
	for _, vs := range c.Headers {
		s.Add(vs...)
	}
	s.AddURL(c.Address)
}
