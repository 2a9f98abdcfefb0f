package webhooks_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/augurproj/augur/webhooks"
)

// TestSuccessNeedsTheWholeBody: a 200/202 whose body breaks off, or is still
// arriving at the timeout, fails the hook (Flagger v1.44.0 reads the whole
// body: "error reading body"), and is not retried.
func TestSuccessNeedsTheWholeBody(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"truncated-200", func(w http.ResponseWriter, r *http.Request) {
			hijackWrite(t, w, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
		}},
		{"truncated-202", func(w http.ResponseWriter, r *http.Request) {
			hijackWrite(t, w, "HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\nonly ten b")
		}},
		{"truncated-chunked", func(w http.ResponseWriter, r *http.Request) {
			hijackWrite(t, w, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
		}},
		{"slow-200", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			for range 50 {
				if _, err := w.Write([]byte("x")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}},
		{"truncated-500", func(w http.ResponseWriter, r *http.Request) {
			hijackWrite(t, w, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\nonly ten b")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				tc.handler(w, r)
			}))
			t.Cleanup(ts.Close)
			c := webhooks.New(webhooks.Options{Backoff: func(int) time.Duration { return time.Millisecond }})
			err := c.Call(t.Context(), webhooks.Hook{Name: "h", URL: ts.URL, Timeout: 500 * time.Millisecond, Retries: 2}, webhooks.Payload{Name: "podinfo"})
			if err == nil {
				t.Fatal("the hook passed on an answer that did not arrive whole")
			}
			if !strings.Contains(err.Error(), "error reading body") {
				t.Errorf("error %q does not say the body could not be read", err)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d attempts; Flagger gives up at once", n)
			}
		})
	}
}

// hijackWrite writes a raw (broken) answer and closes the connection.
func hijackWrite(t *testing.T, w http.ResponseWriter, raw string) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	defer func(c net.Conn) { _ = c.Close() }(conn)
	_, _ = buf.WriteString(raw)
	_ = buf.Flush()
	_ = bufio.NewWriter(conn).Flush()
}
