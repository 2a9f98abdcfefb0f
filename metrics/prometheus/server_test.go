package prometheus_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// seen is one request as the test server received it.
type seen struct {
	Method   string
	Path     string
	RawQuery string
	Query    url.Values
	Header   http.Header
}

// fakeServer is a loopback Prometheus stand-in that answers every request
// with one canned status and body and records what it received.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

// serveOpts tweaks newServer.
type serveOpts struct {
	tls bool
	// block makes the handler wait for the client to go away (or the test
	// to end) before answering; started is signalled once per request.
	block   bool
	started chan struct{}
}

func newServer(t testing.TB, status int, body []byte) *fakeServer {
	t.Helper()
	return newServerWith(t, status, body, serveOpts{})
}

func newServerWith(t testing.TB, status int, body []byte, o serveOpts) *fakeServer {
	t.Helper()
	fs := &fakeServer{}
	release := make(chan struct{})
	fs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.reqs = append(fs.reqs, seen{
			Method:   r.Method,
			Path:     r.URL.Path,
			RawQuery: r.URL.RawQuery,
			Query:    r.URL.Query(),
			Header:   r.Header.Clone(),
		})
		fs.mu.Unlock()
		if o.started != nil {
			o.started <- struct{}{}
		}
		if o.block {
			select {
			case <-r.Context().Done():
				return
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	// TLS handshake failures are expected in the TLS tests; keep them quiet.
	fs.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	if o.tls {
		fs.StartTLS()
	} else {
		fs.Start()
	}
	t.Cleanup(fs.Close)
	t.Cleanup(func() { close(release) })
	return fs
}

func (fs *fakeServer) requests() []seen {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]seen(nil), fs.reqs...)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	return b
}
