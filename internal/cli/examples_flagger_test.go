package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
)

// TestFlaggerExample runs examples/flagger/ as written against `augur serve`
// on recorded healthy traffic: each webhook of the Canary is called with the
// payload Flagger sends (its metadata as written, token included) at the
// path of its URL.
func TestFlaggerExample(t *testing.T) {
	const dir = "../../examples/flagger"
	set, err := manifest.DecodePaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Canaries) != 1 {
		t.Fatalf("%d Canaries in %s, want 1", len(set.Canaries), dir)
	}
	c := set.Canaries[0]
	base, _, _ := startServe(t, "--data", podinfo+"/healthy.om", "-f", dir, "--token", "change-me")
	client := &http.Client{}
	call := func(path string, md map[string]string) (int, string) {
		b, err := json.Marshal(map[string]any{"name": c.Metadata.Name, "namespace": c.Metadata.Namespace,
			"phase": "Progressing", "checksum": "rev1", "metadata": md})
		if err != nil {
			t.Fatal(err)
		}
		return post(t, client, base+path, string(b), nil)
	}
	hooks := c.GetAnalysis().Webhooks
	if len(hooks) < 5 {
		t.Fatalf("%d webhooks, want the example's 5", len(hooks))
	}
	for _, h := range hooks {
		u, err := url.Parse(h.URL)
		if err != nil {
			t.Fatal(err)
		}
		var md map[string]string
		if h.Metadata != nil {
			md = *h.Metadata
		}
		if md["token"] != "change-me" {
			t.Errorf("hook %s carries no token", h.Name)
		}
		switch h.Type {
		case analysis.HookRollout:
			if code, body := call(u.Path, md); code != http.StatusOK {
				t.Errorf("hook %s on healthy traffic: %d %s, want 200", h.Name, code, body)
			}
		case analysis.HookConfirmPromotion:
			if code, body := call(u.Path, md); code != http.StatusForbidden || !strings.Contains(body, "waiting for approval") {
				t.Errorf("gate %s before approval: %d %s, want 403 waiting", h.Name, code, body)
			}
			if code, body := call("/flagger/v1/gate/open", map[string]string{"token": "change-me"}); code != http.StatusAccepted {
				t.Fatalf("gate open: %d %s", code, body)
			}
			if code, body := call(u.Path, md); code != http.StatusOK {
				t.Errorf("gate %s after approval: %d %s, want 200 (the success rate has values and passes)", h.Name, code, body)
			}
		case analysis.HookRollback:
			if code, body := call(u.Path, md); code != http.StatusForbidden {
				t.Errorf("rollback %s before a request: %d %s, want 403", h.Name, code, body)
			}
			if code, body := call("/flagger/v1/rollback/open", map[string]string{"token": "change-me"}); code != http.StatusAccepted {
				t.Fatalf("rollback open: %d %s", code, body)
			}
			if code, body := call(u.Path, md); code != http.StatusOK {
				t.Errorf("rollback %s after a request: %d %s, want 200", h.Name, code, body)
			}
		default:
			t.Errorf("hook %s of type %s is not exercised", h.Name, h.Type)
		}
	}
	// Without the token, every hook is refused.
	if code, _ := call("/flagger/v1/check", map[string]string{"query": "vector(1)", "min": "0"}); code != http.StatusUnauthorized {
		t.Errorf("a hook without the token: %d, want 401", code)
	}
}
