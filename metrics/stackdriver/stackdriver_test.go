package stackdriver_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/stackdriver"
)

const accessToken = "ya29.augur-test-access-token"

type seen struct {
	mu      sync.Mutex
	path    string
	body    string
	auth    string
	grant   url.Values
	queries int
}

// server answers the REST method with the fixture and status (-1: hang),
// and /token with an access token for the JWT bearer grant.
func server(t *testing.T, fixture string, status int, s *seen) string {
	t.Helper()
	var answer []byte
	if fixture != "" {
		var err error
		if answer, err = os.ReadFile(filepath.Join("testdata", fixture)); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		if r.URL.Path == "/token" {
			s.grant, _ = url.ParseQuery(string(b))
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"` + accessToken + `","token_type":"Bearer","expires_in":3600}`))
			return
		}
		s.path, s.body, s.auth = r.URL.Path, string(b), r.Header.Get("Authorization")
		s.queries++
		s.mu.Unlock()
		if status == -1 {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(answer)
		if status >= 400 { // an echoing proxy
			_, _ = w.Write([]byte(r.Header.Get("Authorization")))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func key(t *testing.T, tokenURI string) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "podinfo-prod",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "flagger@podinfo-prod.iam.gserviceaccount.com", "token_uri": tokenURI})
	return string(b)
}

const query = "fetch k8s_container | metric 'istio.io/service/server/request_count' | align rate(1m) | every 1m | within 5m"

func TestQueryWireAndAnswers(t *testing.T) {
	cases := []struct {
		fixture string
		status  int
		value   float64
		err     error
	}{
		{"value.json", 200, 0.9925, nil},
		{"int64.json", 200, 17, nil},
		{"empty.json", 200, 0, metrics.ErrNoValues},
		{"nan.json", 200, 0, metrics.ErrNoValues},
		{"two.json", 200, 0, metrics.ErrMultipleValues},
		{"invalid.json", 400, 0, errAny},
		{"denied.json", 403, 0, errAny},
		{"", 503, 0, errAny},
		{"", -1, 0, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.fixture+"/"+http.StatusText(tc.status), func(t *testing.T) {
			var s seen
			addr := server(t, tc.fixture, tc.status, &s)
			sa := key(t, addr+"/token")
			p, err := stackdriver.New(metrics.Config{Type: "stackdriver", Address: addr, HasSecret: true, Timeout: time.Second,
				Credentials: map[string]string{"project": "podinfo-prod", "serviceAccountKey": sa}})
			if err != nil {
				t.Fatal(err)
			}
			v, err := p.Query(context.Background(), query, time.Time{})
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.path != "/v3/projects/podinfo-prod/timeSeries:query" || s.body != `{"query":"`+query+`"}` {
				t.Errorf("request %s %s", s.path, s.body)
			}
			if s.auth != "Bearer "+accessToken || s.grant.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || s.grant.Get("assertion") == "" {
				t.Errorf("auth %q after grant %v", s.auth, s.grant)
			}
			switch {
			case tc.err == errAny:
				if err == nil || errors.Is(err, metrics.ErrNoValues) || errors.Is(err, metrics.ErrMultipleValues) {
					t.Errorf("got %v, %v; want an error", v, err)
				}
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Errorf("error %v, want %v", err, tc.err)
				}
			case err != nil || v != tc.value:
				t.Errorf("got %v, %v; want %v", v, err, tc.value)
			}
			if err != nil && (strings.Contains(err.Error(), accessToken) || strings.Contains(err.Error(), "PRIVATE KEY")) {
				t.Errorf("error leaks a credential: %v", err)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		cfg  metrics.Config
		want string
	}{
		{metrics.Config{Type: "stackdriver"}, "needs a secretRef with a project id"},
		{metrics.Config{Type: "stackdriver", HasSecret: true, Credentials: map[string]string{"serviceAccountKey": "{}"}}, "does not contain a project id"},
		{metrics.Config{Type: "stackdriver", HasSecret: true, Credentials: map[string]string{"project": "p", "serviceAccountKey": "not json secret-ish"}}, "serviceAccountKey is not JSON"},
	} {
		_, err := stackdriver.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-ish") {
			t.Errorf("error quotes the key: %v", err)
		}
	}
}

func TestIsOnline(t *testing.T) {
	for status, online := range map[int]bool{400: true, 200: true, 403: false, 500: false} {
		var s seen
		addr := server(t, "invalid.json", status, &s)
		p, err := stackdriver.New(metrics.Config{Type: "stackdriver", Address: addr, HasSecret: true,
			Credentials: map[string]string{"project": "p", "serviceAccountKey": key(t, addr+"/token")}})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.IsOnline(context.Background()); (err == nil) != online {
			t.Errorf("status %d: %v", status, err)
		}
		if s.body != `{"query":""}` {
			t.Errorf("IsOnline body %s", s.body)
		}
	}
}

func TestDescribe(t *testing.T) {
	var s seen
	addr := server(t, "value.json", 200, &s)
	p, err := stackdriver.New(metrics.Config{Type: "stackdriver", Address: addr, HasSecret: true,
		Credentials: map[string]string{"project": "podinfo-prod", "serviceAccountKey": key(t, addr+"/token")}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Describe(query)
	if err != nil {
		t.Fatal(err)
	}
	if d.Method != http.MethodPost || d.URL != addr+"/v3/projects/podinfo-prod/timeSeries:query" || d.Body != `{"query":"`+query+`"}` || d.Window == "" {
		t.Errorf("described %+v", d)
	}
	if s.queries != 0 {
		t.Errorf("Describe sent a request")
	}
}

// Without serviceAccountKey the token comes from Application Default
// Credentials, looked up at the first query (New stays offline).
func TestApplicationDefaultCredentials(t *testing.T) {
	var s seen
	addr := server(t, "value.json", 200, &s)
	file := filepath.Join(t.TempDir(), "adc.json")
	if err := os.WriteFile(file, []byte(key(t, addr+"/token")), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", file)
	p, err := stackdriver.New(metrics.Config{Type: "stackdriver", Address: addr, HasSecret: true,
		Credentials: map[string]string{"project": "podinfo-prod"}})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	grant := s.grant
	s.mu.Unlock()
	if grant != nil {
		t.Fatal("New fetched a token")
	}
	if v, err := p.Query(context.Background(), query, time.Time{}); err != nil || v != 0.9925 {
		t.Fatalf("got %v, %v", v, err)
	}
	if s.auth != "Bearer "+accessToken {
		t.Errorf("Authorization %q", s.auth)
	}

	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	p, err = stackdriver.New(metrics.Config{Type: "stackdriver", Address: addr, HasSecret: true,
		Credentials: map[string]string{"project": "podinfo-prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Query(context.Background(), query, time.Time{}); err == nil || !strings.Contains(err.Error(), "Application Default Credentials") {
		t.Errorf("error %v, want one naming Application Default Credentials", err)
	}
}
