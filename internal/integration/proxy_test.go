package integration

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// upstream is a loopback server that answers with what it received.
func upstream(t *testing.T) string {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"path": r.URL.Path, "query": r.URL.RawQuery,
			"authorization": r.Header.Values("Authorization"), "tenant": r.Header.Get("X-Scope-OrgID"),
		})
	})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

func startProxy(t *testing.T, opts ProxyOptions) *AuthProxy {
	t.Helper()
	p, err := StartAuthProxy(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 5*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return p
}

func TestAuthProxy(t *testing.T) {
	target := upstream(t)
	bearer := startProxy(t, ProxyOptions{Target: target, Prefix: "/prom/", BearerToken: "t0ken"})
	basic := startProxy(t, ProxyOptions{Target: target, Prefix: "/prom/", Username: "augur", Password: "pa:ss"})
	if !strings.HasPrefix(bearer.URL(), "http://127.0.0.1:") || !strings.HasSuffix(bearer.URL(), "/prom") {
		t.Fatalf("URL() = %s, want http://127.0.0.1:PORT/prom", bearer.URL())
	}
	basicAuth := func(r *http.Request) { r.SetBasicAuth("augur", "pa:ss") }
	tests := []struct {
		name       string
		proxy      *AuthProxy
		path       string
		auth       []string
		setup      func(*http.Request)
		wantStatus int
		wantBody   string // a substring of the answer
		wantPath   string // the path the upstream saw
	}{
		{name: "bearer", proxy: bearer, path: "/prom/api/v1/query?query=up", auth: []string{"Bearer t0ken"},
			wantStatus: 200, wantPath: "/api/v1/query", wantBody: `"query":"query=up"`},
		{name: "basic", proxy: basic, path: "/prom/api/v1/query", setup: basicAuth, wantStatus: 200, wantPath: "/api/v1/query"},
		{name: "upstream never sees the credential", proxy: bearer, path: "/prom/x", auth: []string{"Bearer t0ken"},
			wantStatus: 200, wantPath: "/x", wantBody: `"authorization":null`},
		{name: "other headers pass", proxy: bearer, path: "/prom/x", auth: []string{"Bearer t0ken"},
			setup: func(r *http.Request) { r.Header.Set("X-Scope-OrgID", "tenant-a") }, wantStatus: 200, wantPath: "/x", wantBody: `"tenant":"tenant-a"`},
		{name: "missing", proxy: bearer, path: "/prom/api/v1/query", wantStatus: 401, wantBody: "missing Authorization header"},
		{name: "wrong token", proxy: bearer, path: "/prom/api/v1/query", auth: []string{"Bearer nope"}, wantStatus: 401, wantBody: "wrong bearer token"},
		{name: "basic sent to the bearer proxy", proxy: bearer, path: "/prom/q", setup: basicAuth, wantStatus: 401, wantBody: "wrong bearer token"},
		{name: "two headers", proxy: bearer, path: "/prom/q", auth: []string{"Bearer t0ken", "Bearer t0ken"}, wantStatus: 401, wantBody: "2 Authorization headers"},
		{name: "wrong password", proxy: basic, path: "/prom/q", setup: func(r *http.Request) { r.SetBasicAuth("augur", "x") },
			wantStatus: 401, wantBody: "wrong basic-auth credentials"},
		{name: "bearer sent to the basic proxy", proxy: basic, path: "/prom/q", auth: []string{"Bearer t0ken"}, wantStatus: 401, wantBody: "wrong basic-auth"},
		{name: "outside the prefix", proxy: bearer, path: "/api/v1/query", auth: []string{"Bearer t0ken"}, wantStatus: 404, wantBody: "not under /prom/"},
		{name: "prefix without slash", proxy: bearer, path: "/prom", auth: []string{"Bearer t0ken"}, wantStatus: 404},
		{name: "longer prefix", proxy: bearer, path: "/promx/api", auth: []string{"Bearer t0ken"}, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.proxy.Reset()
			base := strings.TrimSuffix(tt.proxy.URL(), "/prom")
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tt.auth {
				req.Header.Add("Authorization", a)
			}
			if tt.setup != nil {
				tt.setup(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Fatalf("status %d body %q, want %d containing %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantPath != "" {
				var echo struct{ Path string }
				if err := json.Unmarshal(body, &echo); err != nil {
					t.Fatal(err)
				}
				if echo.Path != tt.wantPath {
					t.Errorf("upstream saw path %s, want %s", echo.Path, tt.wantPath)
				}
			}
			if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			got := tt.proxy.Requests()
			if len(got) != 1 {
				t.Fatalf("proxy recorded %d requests, want 1", len(got))
			}
			wantAuth := req.Header.Values("Authorization")
			if diff := cmp.Diff(wantAuth, got[0].Authorization); diff != "" {
				t.Errorf("recorded Authorization (-want +got):\n%s", diff)
			}
			pathOnly, _, _ := strings.Cut(tt.path, "?")
			if got[0].Method != http.MethodGet || got[0].Path != pathOnly || got[0].Status != tt.wantStatus {
				t.Errorf("recorded %s %s → %d, want GET %s → %d", got[0].Method, got[0].Path, got[0].Status, pathOnly, tt.wantStatus)
			}
		})
	}
}

func TestStartAuthProxyErrors(t *testing.T) {
	tests := []struct {
		name    string
		opts    ProxyOptions
		wantErr string
	}{
		{"no credential", ProxyOptions{Target: "http://127.0.0.1:1", Prefix: "/p/"}, "exactly one of BearerToken and Username"},
		{"two credentials", ProxyOptions{Target: "http://127.0.0.1:1", Prefix: "/p/", BearerToken: "t", Username: "u"}, "exactly one of"},
		{"bad prefix", ProxyOptions{Target: "http://127.0.0.1:1", Prefix: "p", BearerToken: "t"}, `prefix "p"`},
		{"root prefix", ProxyOptions{Target: "http://127.0.0.1:1", Prefix: "/", BearerToken: "t"}, `prefix "/"`},
		{"bad target", ProxyOptions{Target: "ftp://x", Prefix: "/p/", BearerToken: "t"}, "want http://HOST:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := StartAuthProxy(t.Context(), tt.opts)
			if err == nil {
				_ = p.Close(t.Context())
				t.Fatal("StartAuthProxy succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
