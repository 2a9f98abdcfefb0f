package flagger

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// promRequest is one request a Prometheus client sent, as the server saw it.
type promRequest struct {
	Method string
	Path   string
	Query  map[string][]string // URL query and form parameters
	Header http.Header
}

// capture is a loopback Prometheus that records every request and answers
// each instant query with one sample of value answer.
type capture struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []promRequest
	answer string
	status int
}

func newCapture(t *testing.T) *capture {
	c := &capture{answer: "1", status: http.StatusOK}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.reqs = append(c.reqs, promRequest{Method: r.Method, Path: r.URL.Path, Query: r.Form, Header: r.Header.Clone()})
		answer, status := c.answer, c.status
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status >= 400 {
			_, _ = w.Write([]byte(`{"status":"error","errorType":"internal","error":"boom"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"` + answer + `"]}]}}`))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// take returns and forgets the recorded requests.
func (c *capture) take() []promRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reqs
	c.reqs = nil
	return r
}

// queries returns and forgets the recorded "query" parameters.
func (c *capture) queries() []string {
	var out []string
	for _, r := range c.take() {
		out = append(out, r.Query["query"]...)
	}
	return out
}
