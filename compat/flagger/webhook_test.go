package flagger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/fluxcd/flagger/pkg/controller"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/augurproj/augur/webhooks"
)

// hookServer answers each POST from a script of (status, body) and records
// the requests it got.
type hookServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	script []hookAnswer
	calls  []hookCall
}

type hookAnswer struct {
	status int
	body   string
	delay  time.Duration
}

type hookCall struct {
	Method, ContentType string
	Body                map[string]any
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		h.mu.Lock()
		n := len(h.calls)
		h.calls = append(h.calls, hookCall{Method: r.Method, ContentType: r.Header.Get("Content-Type"), Body: body})
		a := h.script[min(n, len(h.script)-1)]
		h.mu.Unlock()
		if a.delay > 0 {
			time.Sleep(a.delay)
		}
		if a.status >= 300 && a.status < 400 {
			w.Header().Set("Location", "/redirected")
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookServer) reset(script ...hookAnswer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.script, h.calls = script, nil
}

func (h *hookServer) took() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

// TestWebhookVerdicts calls Flagger's CallWebhook and augur's client on the
// same loopback server answering the same script, and requires the same
// verdict, the same error text in Flagger's event (webhooks.FlaggerText),
// the same number of attempts and the same payload.
func TestWebhookVerdicts(t *testing.T) {
	h := newHookServer(t)
	client := webhooks.New(webhooks.Options{Backoff: func(int) time.Duration { return 0 }})
	canary := flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"}}
	tests := []struct {
		name    string
		script  []hookAnswer
		retries int
		timeout string
	}{
		{"200", []hookAnswer{{200, "ok", 0}}, 0, ""},
		{"202", []hookAnswer{{202, "", 0}}, 0, ""},
		{"203 fails", []hookAnswer{{203, "non-authoritative", 0}}, 0, ""},
		{"204 fails", []hookAnswer{{204, "", 0}}, 0, ""},
		{"400 with body", []hookAnswer{{400, "bad request: no cmd", 0}}, 0, ""},
		{"403", []hookAnswer{{403, "forbidden", 0}}, 2, ""},
		{"404", []hookAnswer{{404, "404 page not found\n", 0}}, 0, ""},
		{"500 no retries", []hookAnswer{{500, "boom", 0}}, 0, ""},
		{"500 then 200", []hookAnswer{{500, "boom", 0}, {200, "ok", 0}}, 1, ""},
		{"503 twice then 200", []hookAnswer{{503, "", 0}, {503, "", 0}, {200, "", 0}}, 2, ""},
		{"502 exhausts retries", []hookAnswer{{502, "bad gateway", 0}}, 2, ""},
		{"501 is not retried", []hookAnswer{{501, "not implemented", 0}}, 2, ""},
		{"302 to a 200", []hookAnswer{{302, "", 0}, {200, "", 0}}, 0, ""},
		{"301 to a 404", []hookAnswer{{301, "", 0}, {404, "gone", 0}}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := flaggerv1.CanaryWebhook{Name: "hook", URL: h.srv.URL + "/hook", Timeout: tt.timeout, Retries: tt.retries,
				Metadata: &map[string]string{"cmd": "hey"}}
			h.reset(tt.script...)
			ferr := controller.CallWebhook(canary, flaggerv1.CanaryPhaseProgressing, w)
			fcalls := h.took()

			h.reset(tt.script...)
			aerr := client.Call(context.Background(), webhooks.Hook{Name: "hook", URL: w.URL, Retries: tt.retries, Timeout: 10 * time.Second,
				Metadata: *w.Metadata}, webhooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Progressing", Metadata: *w.Metadata})
			acalls := h.took()

			if (ferr == nil) != (aerr == nil) {
				t.Fatalf("verdict: Flagger %v, augur %v", ferr, aerr)
			}
			var se *webhooks.StatusError
			if ferr != nil && ferr.Error() == "" && errors.As(aerr, &se) && se.Body == "" {
				// Deliberate change (docs/compatibility.md): an empty failure
				// body gives the status line instead of an empty text.
				if got, want := webhooks.FlaggerText(aerr), fmt.Sprintf("%d %s", se.Code, http.StatusText(se.Code)); got != want {
					t.Errorf("empty body: augur %q, want the status line %q", got, want)
				}
			} else if ferr != nil && ferr.Error() != webhooks.FlaggerText(aerr) {
				t.Errorf("event text:\nFlagger %q\naugur   %q (full: %q)", ferr.Error(), webhooks.FlaggerText(aerr), aerr.Error())
			}
			if len(fcalls) != len(acalls) {
				t.Fatalf("attempts: Flagger %d, augur %d", len(fcalls), len(acalls))
			}
			for i := range fcalls {
				f, a := fcalls[i], acalls[i]
				delete(f.Body, "checksum") // Flagger hashes its object; augur sends the caller's
				delete(a.Body, "checksum")
				if fmt.Sprint(f) != fmt.Sprint(a) {
					t.Errorf("request %d:\nFlagger %v\naugur   %v", i, f, a)
				}
			}
		})
	}
}

// TestEventWebhookPayload compares the payload of Flagger's CallEventWebhook
// with augur's EventPayload (the timestamp aside).
func TestEventWebhookPayload(t *testing.T) {
	h := newHookServer(t)
	h.reset(hookAnswer{200, "", 0})
	canary := flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Status: flaggerv1.CanaryStatus{Phase: flaggerv1.CanaryPhaseProgressing}}
	w := flaggerv1.CanaryWebhook{Name: "events", URL: h.srv.URL, Metadata: &map[string]string{"env": "prod", "eventType": "ignored"}}
	if err := controller.CallEventWebhook(&canary, w, "Advance podinfo.test canary weight 10", "Normal"); err != nil {
		t.Fatal(err)
	}
	client := webhooks.New(webhooks.Options{})
	hook := webhooks.Hook{Name: "events", URL: h.srv.URL, Metadata: *w.Metadata}
	p := webhooks.EventPayload(hook, webhooks.Event{Name: "podinfo", Namespace: "test", Phase: "Progressing",
		Message: "Advance podinfo.test canary weight 10", Type: webhooks.EventType("Normal"), Time: time.Now()})
	if err := client.Call(context.Background(), hook, p); err != nil {
		t.Fatal(err)
	}
	calls := h.took()
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	for _, c := range calls {
		delete(c.Body, "checksum")
		delete(c.Body["metadata"].(map[string]any), "timestamp")
	}
	if fmt.Sprint(calls[0]) != fmt.Sprint(calls[1]) {
		t.Errorf("event payload:\nFlagger %v\naugur   %v", calls[0], calls[1])
	}
}
