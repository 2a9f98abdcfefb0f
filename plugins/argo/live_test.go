package argo

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
)

const vectorJSON = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1772366400,%q]}]}}`

// fakePrometheus answers /api/v1/query on 127.0.0.1 with value when check
// passes, and otherwise with 401 and a body that echoes every header it got
// (as a careless proxy might).
func fakePrometheus(t *testing.T, value string, check func(*http.Request) bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		if check != nil && !check(r) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "denied %s: headers %v", r.URL, r.Header)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, vectorJSON, value)
	}))
	t.Cleanup(srv.Close)
	return srv
}

const (
	token    = "tok-8f3a2c91e7"
	username = "argo-reader"
	password = "pw-51bd07aa"
	tenant   = "tenant-secret-42"
)

// secretForms are every way the test's secrets could leak.
var secretForms = []string{
	token, "Bearer " + token, username, password, tenant,
	base64.StdEncoding.EncodeToString([]byte(username + ":" + password)),
}

func assertNoSecrets(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range secretForms {
			if strings.Contains(text, s) {
				t.Errorf("%s leaks %q: %q", what, s, text)
			}
		}
	}
}

func measurementTexts(m v1alpha1.Measurement, meta map[string]string) []string {
	out := []string{m.Value, m.Message}
	for k, v := range m.Metadata {
		out = append(out, k, v)
	}
	for k, v := range meta {
		out = append(out, k, v)
	}
	return out
}

func TestLiveAuthentication(t *testing.T) {
	bearer := func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+token }
	basic := func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == username && p == password }
	tenantHeader := func(r *http.Request) bool { return r.Header.Get("X-Scope-OrgID") == tenant }
	tests := []struct {
		name  string
		check func(*http.Request) bool
		cfg   obj
		want  v1alpha1.AnalysisPhase
	}{
		{"bearer token", bearer, obj{"credentials": obj{"token": token}}, successful},
		{"wrong token", bearer, obj{"credentials": obj{"token": token + "x"}}, errored},
		{"basic auth", basic, obj{"credentials": obj{"username": username, "password": password}}, successful},
		{"wrong password", basic, obj{"credentials": obj{"username": username, "password": password + "x"}}, errored},
		{"no credentials", bearer, obj{}, errored},
		{"header", tenantHeader, obj{"headers": obj{"X-Scope-OrgID": []string{tenant}}}, successful},
		{"header in template", tenantHeader, obj{"template": obj{"provider": obj{"headers": obj{"X-Scope-OrgID": []string{tenant}}}, "query": "ratio"}}, successful},
		{"token in address userinfo", basic, obj{"address-userinfo": true}, successful},
	}
	p := newProvider(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakePrometheus(t, "0.995", tt.check)
			cfg := obj{"address": srv.URL, "thresholdRange": obj{"min": 0.99}}
			if _, ok := tt.cfg["template"]; !ok {
				cfg["query"] = "ratio"
			}
			for k, v := range tt.cfg {
				cfg[k] = v
			}
			if _, ok := cfg["address-userinfo"]; ok {
				delete(cfg, "address-userinfo")
				cfg["address"] = strings.Replace(srv.URL, "http://", "http://"+username+":"+password+"@", 1)
			}
			m := metric(t, "auth", cfg, "result[0] > 0.5", "")
			got := p.Run(analysisRun("test"), m)
			if got.Phase != tt.want {
				t.Errorf("phase %s (%s), want %s", got.Phase, got.Message, tt.want)
			}
			if tt.want == successful && got.Value != "[0.995]" {
				t.Errorf("value %q", got.Value)
			}
			assertNoSecrets(t, "measurement", measurementTexts(got, p.GetMetadata(m))...)
		})
	}
}

// TestSecretsNeverEchoed provokes every kind of output with secrets in the
// configuration — including a server that echoes the request's headers into
// its error — and searches the value, message and metadata for them.
func TestSecretsNeverEchoed(t *testing.T) {
	srv := fakePrometheus(t, "NaN", func(*http.Request) bool { return false })
	ok := fakePrometheus(t, "0.5", nil)
	creds := obj{"token": token}
	hdrs := obj{"X-Scope-OrgID": []string{tenant}}
	tests := []struct {
		name    string
		cfg     any
		success string
		want    string // a word the message must contain, to show the path ran
	}{
		{"echoing server", obj{"address": srv.URL, "query": "x", "credentials": creds, "headers": hdrs}, "", "[redacted]"},
		{"basic auth echoed", obj{"address": srv.URL, "query": "x", "credentials": obj{"username": username, "password": password}}, "", "[redacted]"},
		{"userinfo echoed", obj{"address": strings.Replace(srv.URL, "http://", "http://"+username+":"+password+"@", 1), "query": "x"}, "", "[redacted]"},
		{"secret rendered into the query", obj{"address": ok.URL, "query": `x{k="{{ variables.k }}"}`, "variables": obj{"k": token}, "credentials": creds}, "", "Successful"},
		{"condition error", obj{"address": ok.URL, "query": "x", "credentials": creds}, "result[0] > 'x'", "could not evaluate"},
		{"numeric token fails to decode", obj{"address": ok.URL, "query": "x", "credentials": obj{"token": 98765432}}, "", "cannot unmarshal"},
		{"config error", obj{"address": ok.URL, "query": "x", "builtin": "request-duration", "credentials": creds, "headers": hdrs}, "", "exactly one"},
		{"bad header type", obj{"address": ok.URL, "query": "x", "headers": obj{"X-Scope-OrgID": tenant}}, "", "cannot unmarshal"},
	}
	secretForms := append(secretForms, "98765432")
	p := newProvider(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metric(t, "leak", tt.cfg, tt.success, "")
			got := p.Run(analysisRun("test"), m)
			if !strings.Contains(got.Message, tt.want) {
				t.Errorf("message %q does not contain %q", got.Message, tt.want)
			}
			for _, text := range measurementTexts(got, p.GetMetadata(m)) {
				for _, s := range secretForms {
					if strings.Contains(text, s) {
						t.Errorf("output leaks %q: %q", s, text)
					}
				}
			}
		})
	}
}

func TestLiveNaN(t *testing.T) {
	srv := fakePrometheus(t, "NaN", nil)
	p := newProvider(t)
	tests := []struct {
		success string
		want    v1alpha1.AnalysisPhase
	}{
		{"result[0] >= 8", failed},
		{"isNaN(result[0])", successful},
		{"len(result) == 1", successful},
	}
	for _, tt := range tests {
		got := p.Run(nil, metric(t, "nan", obj{"address": srv.URL, "query": "x"}, tt.success, ""))
		if got.Phase != tt.want || got.Value != "[NaN]" {
			t.Errorf("%s: got %s %q (%s), want %s [NaN]", tt.success, got.Phase, got.Value, got.Message, tt.want)
		}
	}
}

// TestTimeout checks that the configured timeout ends the query (the server
// sees the request cancelled) and says so.
func TestTimeout(t *testing.T) {
	cancelled := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			cancelled <- struct{}{}
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	p := newProvider(t)
	got := p.Run(nil, metric(t, "slow", obj{"address": srv.URL, "query": "x", "timeout": "300ms"}, "", ""))
	if got.Phase != errored || !strings.Contains(got.Message, "timed out after 300ms") {
		t.Errorf("got %s %q, want Error: timed out after 300ms", got.Phase, got.Message)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Error("the server never saw the request cancelled")
	}
}
