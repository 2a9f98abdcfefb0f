package prometheus_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
)

// TestUnparsableAddressHidesPassword: url.Parse's error repeats the whole
// address; the provider's error must not.
func TestUnparsableAddressHidesPassword(t *testing.T) {
	for _, addr := range []string{
		"http://user:PASSWORD-x1@host:badport",
		"http://user:PASSWORD-x1@host:badport/prefix?q=1",
		"http://user:PASSWORD-x1@[::1",
		"ftp://user:PASSWORD-x1@host",
	} {
		_, err := prometheus.New(metrics.Config{Address: addr})
		if err == nil {
			t.Fatalf("%s: no error", addr)
		}
		if strings.Contains(err.Error(), "PASSWORD-x1") {
			t.Errorf("%s: error leaks the password: %v", addr, err)
		}
		if !errors.Is(err, prometheus.ErrInvalidAddress) {
			t.Errorf("%s: %v is not ErrInvalidAddress", addr, err)
		}
	}
}

// TestRedirectToAnotherHostDropsCredentials: custom headers and the
// Authorization header are not sent to a host the configuration did not
// name, even when a server redirects there.
func TestRedirectToAnotherHostDropsCredentials(t *testing.T) {
	target := newServer(t, 200, readTestdata(t, "vector-1.json"))
	// 127.0.0.1 and localhost are different hosts to net/http.
	other := strings.Replace(target.URL, "127.0.0.1", "localhost", 1)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(redirector.Close)
	p, err := prometheus.New(metrics.Config{Address: redirector.URL, HasSecret: true,
		Credentials: map[string]string{"token": "tok-REDIRECT"},
		Headers:     map[string][]string{"X-Api-Key": {"key-REDIRECT"}, "X-Scope-OrgID": {"tenant-REDIRECT"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Query(t.Context(), "up", time.Time{}); err != nil {
		t.Fatal(err)
	}
	reqs := target.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests reached the other host", len(reqs))
	}
	for k, vs := range reqs[0].Header {
		for _, v := range vs {
			if strings.Contains(v, "REDIRECT") {
				t.Errorf("header %s: %s followed the redirect to another host", k, v)
			}
		}
	}
}

// TestSameHostRedirectKeepsHeaders: a redirect within the host (a path
// prefix added by a proxy) keeps working with the credentials.
func TestSameHostRedirectKeepsHeaders(t *testing.T) {
	var got http.Header
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/moved") {
			http.Redirect(w, r, "/moved"+r.URL.RequestURI(), http.StatusFound)
			return
		}
		got = r.Header.Clone()
		_, _ = w.Write(readTestdata(t, "vector-1.json"))
	}))
	t.Cleanup(ts.Close)
	p, err := prometheus.New(metrics.Config{Address: ts.URL, Headers: map[string][]string{"X-Scope-OrgID": {"tenant-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Query(t.Context(), "up", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got.Get("X-Scope-OrgID") != "tenant-1" {
		t.Errorf("same-host redirect lost the header: %v", got)
	}
}

// TestHugeAnswersAreBounded: a body past MaxResponseBody and a huge error
// message fail the query without reading or keeping them whole.
func TestHugeAnswersAreBounded(t *testing.T) {
	chunk := strings.Repeat("x", 1<<20)
	tests := []struct {
		name   string
		status int
		prefix string
		suffix string
		want   func(error) bool
	}{
		{"huge-success-body", 200, `{"status":"success","data":{"resultType":"vector","result":[]},"x":"`, `"}`,
			func(err error) bool { return errors.Is(err, prometheus.ErrResponseTooLarge) }},
		{"huge-error-body", 500, ``, ``,
			func(err error) bool { return errors.Is(err, prometheus.ErrResponseTooLarge) }},
		{"big-error-message", 422, `{"status":"error","errorType":"execution","error":"`, `"}`,
			func(err error) bool { return len(err.Error()) < 4096 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mb := 100
			if tc.name == "big-error-message" {
				mb = 8 // under the body cap: the message itself must be cut
			}
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.prefix)
				for range mb {
					if _, err := fmt.Fprint(w, chunk); err != nil {
						return
					}
				}
				fmt.Fprint(w, tc.suffix)
			}))
			t.Cleanup(ts.Close)
			p, err := prometheus.New(metrics.Config{Address: ts.URL, Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err = p.Query(context.Background(), "up", time.Time{})
			runtime.ReadMemStats(&after)
			if err == nil || !tc.want(err) {
				t.Fatalf("error %.300v", err)
			}
			// Generous: the point is "bounded", not "small".
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 512<<20 {
				t.Errorf("allocated %d MiB for one answer", grew>>20)
			}
		})
	}
}
