package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/augurproj/augur/webhooks"
)

// sharedKV is a GateKV two servers share (like two replicas sharing a
// ConfigMap); it counts writes and can fail on demand.
type sharedKV struct {
	MemoryGates
	mu     sync.Mutex
	writes int
	fail   error
}

func (s *sharedKV) Update(ctx context.Context, key string, f func(string, bool) (string, bool, error)) error {
	s.mu.Lock()
	err := s.fail
	s.writes++
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.MemoryGates.Update(ctx, key, f)
}

func (s *sharedKV) Get(ctx context.Context, key string) (string, bool, error) {
	s.mu.Lock()
	err := s.fail
	s.mu.Unlock()
	if err != nil {
		return "", false, err
	}
	return s.MemoryGates.Get(ctx, key)
}

func (s *sharedKV) Describe() GateStoreInfo {
	return GateStoreInfo{Kind: "cluster", Location: "test", Shared: true, Durable: true}
}

func TestGatesSharedBetweenServers(t *testing.T) {
	kv := &sharedKV{MemoryGates: *NewMemoryGates(0)}
	a := podinfoHarness(t, "healthy.om", func(o *Options) { o.Gates = kv })
	b := podinfoHarness(t, "healthy.om", func(o *Options) { o.Gates = kv })
	steps := []struct {
		h        *harness
		path     string
		name     string
		checksum string
		code     int
		want     string
	}{
		{a, "/flagger/v1/gate", "podinfo", "rev1", 403, "is closed"},
		{b, "/flagger/v1/gate/open", "podinfo", "", 202, "gate test/podinfo open"},
		{a, "/flagger/v1/gate", "podinfo", "rev1", 200, "approved"},      // binds rev1 through a
		{b, "/flagger/v1/gate", "podinfo", "rev2", 403, "revision rev1"}, // b sees a's binding
		{a, "/flagger/v1/gate", "podinfo", "rev1", 403, "is closed"},     // and b's close
		{a, "/flagger/v1/gate/open", "podinfo", "rev3", 202, "for revision rev3"},
		{b, "/flagger/v1/gate", "podinfo", "rev3", 200, "approved"},
		{b, "/flagger/v1/gate/close", "podinfo", "", 202, "closed"},
		{a, "/flagger/v1/gate", "podinfo", "rev3", 403, "is closed"},
		{a, "/flagger/v1/gate/open", "Bad_Name", "", 400, "is not a Kubernetes object name"},
		{b, "/flagger/v1/gate", "podinfo..x", "rev1", 400, "is not a Kubernetes object name"},
	}
	for i, st := range steps {
		ans := do(t, http.MethodPost, st.h.url+st.path, gateBody(t, st.name, st.checksum), nil)
		if ans.code != st.code || !strings.Contains(ans.body, st.want) {
			t.Fatalf("step %d %s %s: %d %q, want %d %q", i, st.path, st.checksum, ans.code, ans.body, st.code, st.want)
		}
	}
	r := do(t, http.MethodGet, a.url+"/readyz", "", nil)
	if !strings.Contains(r.body, `"gates":{"kind":"cluster","location":"test","shared":true,"durable":true}`) {
		t.Errorf("/readyz does not describe the gate store: %s", r.body)
	}
}

func TestGateStoreFailureHolds(t *testing.T) {
	kv := &sharedKV{MemoryGates: *NewMemoryGates(0)}
	h := podinfoHarness(t, "healthy.om", func(o *Options) { o.Gates = kv })
	if ans := do(t, http.MethodPost, h.url+"/flagger/v1/gate/open", gateBody(t, "podinfo", ""), nil); ans.code != 202 {
		t.Fatalf("open: %d %s", ans.code, ans.body)
	}
	kv.mu.Lock()
	kv.fail = errors.New("apiserver unreachable")
	kv.mu.Unlock()
	tests := []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"POST", "/flagger/v1/gate", gateBody(t, "podinfo", "rev1"), 403, "gate closed: the gate store (cluster) failed: gate test/podinfo: apiserver unreachable"},
		{"POST", "/flagger/v1/gate/open", gateBody(t, "podinfo", ""), 503, "apiserver unreachable"},
		{"POST", "/flagger/v1/gate/close", gateBody(t, "podinfo", ""), 503, "apiserver unreachable"},
		{"GET", "/flagger/v1/gate/test/podinfo", "", 500, "reading the gate store (cluster): apiserver unreachable"},
	}
	for _, tc := range tests {
		ans := do(t, tc.method, h.url+tc.path, tc.body, nil)
		if ans.code != tc.code || !strings.Contains(ans.body, tc.want) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, ans.code, ans.body, tc.code, tc.want)
		}
	}
}

func TestMemoryGatesDescribeInReadyz(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	r := do(t, http.MethodGet, h.url+"/readyz", "", nil)
	want := memoryGatesJSON
	if !strings.Contains(r.body, want) {
		t.Errorf("/readyz: %s, want %s", r.body, want)
	}
}

func TestGatesConcurrentBindingIsAtomic(t *testing.T) {
	// Many checks of two revisions race on a freshly opened gate: exactly
	// one revision binds; every answer for the other is a refusal that
	// closes the gate (never two revisions approved).
	for range 20 {
		g := &gates{kv: NewMemoryGates(0), now: time.Now}
		ctx := context.Background()
		if err := g.open(ctx, "test", "podinfo", ""); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		approved := map[string]bool{}
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				rev := fmt.Sprintf("rev%d", i%2)
				ok, _, err := g.check(ctx, "test", "podinfo", rev)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					approved[rev] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(approved) != 1 {
			t.Fatalf("approved revisions %v, want exactly one", approved)
		}
	}
}

func gateBody(t *testing.T, name, checksum string) string {
	t.Helper()
	return mustJSON(t, webhooks.Payload{Name: name, Namespace: "test", Phase: "Progressing", Checksum: checksum})
}

// memoryGatesJSON is how /readyz describes the in-memory gate store.
const memoryGatesJSON = `,"gates":{"kind":"memory","location":"this process","shared":false,"durable":false}`
