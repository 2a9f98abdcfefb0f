package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"time"
)

// DefaultMaxGates bounds the gates held in memory.
const DefaultMaxGates = 10000

// GateKV is where the manual gates of /flagger/v1/gate live: a small
// key-value store with an atomic read-modify-write, so that every replica
// of augur that shares it answers the same. Keys are "namespace/name" of a
// Canary (both valid Kubernetes names); values are opaque to the store.
//
// MemoryGates is the in-process implementation (lost on restart, one per
// process); package kube has one that keeps them in a ConfigMap, with the
// API server's optimistic concurrency (resourceVersion).
type GateKV interface {
	// Update reads the value of key and calls f with it (found false when
	// absent); it stores what f returns, or deletes the key when keep is
	// false. If another writer changed the store in between, the store
	// calls f again with the new value. An error from f is returned as is
	// and changes nothing.
	Update(ctx context.Context, key string, f func(old string, found bool) (value string, keep bool, err error)) error
	// Get reads the value of key.
	Get(ctx context.Context, key string) (value string, found bool, err error)
	// Describe says where the gates live and whether replicas share them
	// and restarts keep them (for /readyz and logs).
	Describe() GateStoreInfo
}

// GateStoreInfo describes a GateKV.
type GateStoreInfo struct {
	// Kind is "memory" or "cluster".
	Kind string `json:"kind"`
	// Location names the storage ("configmap augur-system/augur-gates").
	Location string `json:"location,omitempty"`
	// Shared reports whether replicas of augur see the same gates.
	Shared bool `json:"shared"`
	// Durable reports whether gates survive a restart.
	Durable bool `json:"durable"`
}

// ErrTooManyGates is returned when a store holds as many open gates as it
// may.
var ErrTooManyGates = errors.New("too many open gates")

// MemoryGates keeps gates in this process's memory: they are lost on
// restart and not shared with other replicas. Safe for concurrent use.
type MemoryGates struct {
	mu  sync.Mutex
	m   map[string]string
	max int
}

// NewMemoryGates returns an empty in-memory store of at most max gates
// (DefaultMaxGates when max <= 0).
func NewMemoryGates(max int) *MemoryGates {
	if max <= 0 {
		max = DefaultMaxGates
	}
	return &MemoryGates{m: map[string]string{}, max: max}
}

// Update implements GateKV.
func (g *MemoryGates) Update(_ context.Context, key string, f func(string, bool) (string, bool, error)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	old, found := g.m[key]
	v, keep, err := f(old, found)
	switch {
	case err != nil:
		return err
	case !keep:
		delete(g.m, key)
	case !found && len(g.m) >= g.max:
		return fmt.Errorf("%w (%d): close some first", ErrTooManyGates, g.max)
	default:
		g.m[key] = v
	}
	return nil
}

// Get implements GateKV.
func (g *MemoryGates) Get(_ context.Context, key string) (string, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.m[key]
	return v, ok, nil
}

// Describe implements GateKV.
func (g *MemoryGates) Describe() GateStoreInfo {
	return GateStoreInfo{Kind: "memory", Location: "this process", Shared: false, Durable: false}
}

// gateState is one canary's manual gate, as stored.
type gateState struct {
	// Checksum is the revision the approval applies to; empty until the
	// first gate call after opening binds it.
	Checksum string `json:"checksum,omitempty"`
	// OpenedAt is when the gate was opened.
	OpenedAt time.Time `json:"openedAt"`
}

// gates is the gate logic over a GateKV.
type gates struct {
	kv  GateKV
	now func() time.Time
}

func gateKey(namespace, name string) string { return namespace + "/" + name }

// Kubernetes object names: a namespace is a DNS-1123 label, a Canary's name
// a DNS-1123 subdomain.
var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// errBadGateName is a namespace or name that no Canary can have.
var errBadGateName = errors.New("bad gate name")

func checkGateName(namespace, name string) error {
	if !dnsLabel.MatchString(namespace) {
		return fmt.Errorf("%w: namespace %q is not a Kubernetes namespace name", errBadGateName, namespace)
	}
	if len(name) > 253 || !dnsSubdomain.MatchString(name) {
		return fmt.Errorf("%w: name %q is not a Kubernetes object name", errBadGateName, name)
	}
	return nil
}

func decodeGate(key, v string) (gateState, error) {
	var st gateState
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return gateState{}, fmt.Errorf("gate %s: stored state is not valid: %w", key, err)
	}
	return st, nil
}

func encodeGate(st gateState) string {
	b, _ := json.Marshal(st) // a struct of a string and a time: cannot fail
	return string(b)
}

// open opens the gate, for the revision checksum (empty: the next one seen).
func (g *gates) open(ctx context.Context, namespace, name, checksum string) error {
	if err := checkGateName(namespace, name); err != nil {
		return err
	}
	st := gateState{Checksum: checksum, OpenedAt: g.now().UTC()}
	return g.kv.Update(ctx, gateKey(namespace, name), func(string, bool) (string, bool, error) {
		return encodeGate(st), true, nil
	})
}

// close closes the gate.
func (g *gates) close(ctx context.Context, namespace, name string) error {
	if err := checkGateName(namespace, name); err != nil {
		return err
	}
	return g.kv.Update(ctx, gateKey(namespace, name), func(string, bool) (string, bool, error) {
		return "", false, nil
	})
}

// get returns the gate's state.
func (g *gates) get(ctx context.Context, namespace, name string) (gateState, bool, error) {
	if err := checkGateName(namespace, name); err != nil {
		return gateState{}, false, err
	}
	k := gateKey(namespace, name)
	v, ok, err := g.kv.Get(ctx, k)
	if err != nil || !ok {
		return gateState{}, false, err
	}
	st, err := decodeGate(k, v)
	return st, err == nil, err
}

// check reports whether the gate is open for revision checksum. An approval
// not yet bound to a revision binds to this one; an approval of another
// revision closes the gate. The read and the write are one atomic update.
func (g *gates) check(ctx context.Context, namespace, name, checksum string) (bool, string, error) {
	if err := checkGateName(namespace, name); err != nil {
		return false, "", err
	}
	k := gateKey(namespace, name)
	var open bool
	var why string
	err := g.kv.Update(ctx, k, func(old string, found bool) (string, bool, error) {
		if !found {
			open, why = false, fmt.Sprintf("waiting for approval: gate %s is closed (open it with POST /flagger/v1/gate/open)", k)
			return "", false, nil
		}
		st, err := decodeGate(k, old)
		if err != nil {
			return "", false, err
		}
		switch {
		case st.Checksum == "":
			st.Checksum = checksum
		case checksum != "" && st.Checksum != checksum:
			open, why = false, fmt.Sprintf("waiting for approval: gate %s was opened for revision %s, this is revision %s; open it again", k, st.Checksum, checksum)
			return "", false, nil
		}
		open, why = true, fmt.Sprintf("approved: gate %s is open", k)
		return encodeGate(st), true, nil
	})
	if err != nil {
		return false, "", fmt.Errorf("gate %s: %w", k, err)
	}
	return open, why, nil
}

// gateError answers a gate call that failed: a name no Canary can have is a
// 400; any other failure (a full store, an unreachable API server) keeps
// the gate closed. The gate webhook answers 403 with the reason, so Flagger
// halts and shows it (it drops the text of 5xx answers); open and close
// answer 503, since nothing was changed.
func (s *Server) gateError(w http.ResponseWriter, r *http.Request, endpoint string, err error) {
	code := http.StatusServiceUnavailable
	switch {
	case errors.Is(err, errBadGateName):
		code = http.StatusBadRequest
		if endpoint != "" {
			s.metrics.observeWebhook(endpoint, resultMalformed)
		}
	case endpoint != "":
		code = http.StatusForbidden
		s.metrics.observeWebhook(endpoint, resultFail)
		err = fmt.Errorf("gate closed: the gate store (%s) failed: %w", s.gates.kv.Describe().Kind, err)
	}
	if code != http.StatusBadRequest {
		s.opts.Logger.WarnContext(r.Context(), "gate store failed", "path", r.URL.Path, "error", err.Error())
	}
	answerText(w, code, "augur: "+err.Error())
}
