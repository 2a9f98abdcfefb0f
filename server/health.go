package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/augurproj/augur/metrics"
)

// ProbeQuery is the query /readyz runs against each provider, as Flagger's
// IsOnline does; it must return 1.
const ProbeQuery = "vector(1)"

// Probe is one metrics provider /readyz checks.
type Probe struct {
	// Name describes the provider in answers ("prometheus http://prometheus:9090").
	Name string
	// Provider runs the probe query.
	Provider metrics.Provider
	// At is the probe's evaluation time; zero means now (recorded data:
	// give a time inside the data).
	At time.Time
}

// probeJSON is one probe's result in /readyz's answer.
type probeJSON struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// readyJSON is /readyz's answer.
type readyJSON struct {
	Ready  bool        `json:"ready"`
	Error  string      `json:"error,omitempty"`
	Probes []probeJSON `json:"probes"`
	// Gates says where /flagger/v1/gate's approvals live: in this process
	// (lost on restart, not shared by replicas) or in the cluster.
	Gates GateStoreInfo `json:"gates"`
}

// runProbe runs the probe query once.
func runProbe(ctx context.Context, p Probe, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if oc, ok := p.Provider.(metrics.OnlineChecker); ok {
		// The provider's own check, as Flagger defines it for its type.
		return oc.IsOnline(ctx)
	}
	v, err := p.Provider.Query(ctx, ProbeQuery, p.At)
	if err != nil {
		return fmt.Errorf("running query failed: %w", err)
	}
	if v != 1 {
		return fmt.Errorf("value is not 1 for query: %s", ProbeQuery)
	}
	return nil
}

// handleHealthz is GET /healthz: the process is up.
func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz is GET /readyz: every configured metrics provider answers
// the probe query. Probes run concurrently; one /readyz runs at a time.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	select {
	case s.probeMu <- struct{}{}:
		defer func() { <-s.probeMu }()
	case <-r.Context().Done():
		return
	}
	out := readyJSON{Ready: true, Probes: make([]probeJSON, len(s.opts.Probes)), Gates: s.gates.kv.Describe()}
	var wg sync.WaitGroup
	errs := make([]error, len(s.opts.Probes))
	for i, p := range s.opts.Probes {
		wg.Go(func() { errs[i] = runProbe(r.Context(), p, s.opts.ProbeTimeout) })
	}
	wg.Wait()
	var failed []error
	for i, p := range s.opts.Probes {
		out.Probes[i] = probeJSON{Name: p.Name, OK: errs[i] == nil}
		if errs[i] != nil {
			out.Probes[i].Error = errs[i].Error()
			failed = append(failed, fmt.Errorf("metrics provider %s unreachable: %w", p.Name, errs[i]))
		}
	}
	if len(failed) > 0 {
		out.Ready = false
		out.Error = errors.Join(failed...).Error()
		writeJSON(w, http.StatusServiceUnavailable, out)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
