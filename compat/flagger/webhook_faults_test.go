package flagger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/fluxcd/flagger/pkg/controller"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/webhooks"
)

// hookFault is how a loopback hook misbehaves.
type hookFault struct {
	name    string
	timeout string // the hook's timeout field
	retries int
	// serve answers one request; nil means the address refuses connections.
	serve func(w http.ResponseWriter, r *http.Request)
	// tls, when set, is a metricstest TLS fault mode: serve is behind a
	// certificate that fails verification. disableTLS is the hook's field
	// (then the hook passes in both).
	tls        string
	disableTLS bool
	// flaggerText is the start of Flagger's error text (after the URL is
	// substituted for %s); augur's FlaggerText must start the same way.
	flaggerText string
	// flaggerOnly and augurOnly, when set, name the deliberate difference
	// after that common start: a text only Flagger's error holds and one
	// only augur's holds. When both are empty the texts must be equal.
	flaggerOnly, augurOnly string
}

// faultServer is a loopback hook that records every request (method and
// decoded body) and answers with the fault.
type faultServer struct {
	url   string
	mu    sync.Mutex
	calls []hookCall
}

func (f *faultServer) took() []hookCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func newFaultServer(t *testing.T, fault hookFault) *faultServer {
	t.Helper()
	f := &faultServer{}
	if fault.serve == nil {
		// Take a free port and close it: connecting is refused.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f.url = "http://" + l.Addr().String() + "/hook"
		_ = l.Close()
		return f
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		f.mu.Lock()
		f.calls = append(f.calls, hookCall{Method: r.Method, ContentType: r.Header.Get("Content-Type"), Body: body})
		f.mu.Unlock()
		fault.serve(w, r)
	})
	if fault.tls != "" {
		srv, _ := metricstest.TLSFaultServer(t, fault.tls, h)
		f.url = srv.URL + "/hook"
		return f
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f.url = srv.URL + "/hook"
	return f
}

// truncated answers 200 announcing 100 bytes, sends 5 and closes the
// connection.
func truncated(status int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nshort", status, http.StatusText(status))
		_ = buf.Flush()
		_ = conn.Close()
	}
}

// trickle answers 200 at once and sends its body one byte every 100 ms for
// 3 s: the body is still arriving when a 1 s timeout fires.
func trickle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "30")
	w.WriteHeader(http.StatusOK)
	for range 30 {
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
}

// slow answers 200 "ok" after 2 s.
func slow(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
		return
	case <-time.After(2 * time.Second):
	}
	_, _ = w.Write([]byte("ok"))
}

// ok answers 200 "ok".
func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

// redirectLoop redirects every request to itself with the given status.
func redirectLoop(status int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/hook", status)
	}
}

// hookType is one Flagger hook type with the payload phase Flagger sends it
// (compat/flagger.md §5.2): pre-rollout, rollout, confirm-traffic-increase
// and confirm-promotion always send Progressing; confirm-rollout, rollback
// and event hooks send the canary's current phase; post-rollout sends
// Succeeded or Failed.
type hookType struct {
	typ   flaggerv1.HookType
	phase flaggerv1.CanaryPhase
}

var hookTypes = []hookType{
	{flaggerv1.ConfirmRolloutHook, flaggerv1.CanaryPhaseWaiting},
	{flaggerv1.PreRolloutHook, flaggerv1.CanaryPhaseProgressing},
	{flaggerv1.RolloutHook, flaggerv1.CanaryPhaseProgressing},
	{flaggerv1.ConfirmTrafficIncreaseHook, flaggerv1.CanaryPhaseProgressing},
	{flaggerv1.ConfirmPromotionHook, flaggerv1.CanaryPhaseProgressing},
	{flaggerv1.PostRolloutHook, flaggerv1.CanaryPhaseSucceeded},
	{flaggerv1.PostRolloutHook, flaggerv1.CanaryPhaseFailed},
	{flaggerv1.RollbackHook, flaggerv1.CanaryPhaseWaitingPromotion},
	{flaggerv1.EventHook, flaggerv1.CanaryPhaseProgressing},
}

// TestWebhookFaultVerdicts runs every webhook fault against every hook type
// through Flagger v1.44.0's CallWebhook (CallEventWebhook for event hooks)
// and augur's client, on the same loopback server, and requires the same
// verdict (every fault fails the hook: none may pass where Flagger fails),
// the same number of requests, the same payloads, and an error text that
// starts as Flagger's does.
//
// Deliberate difference (docs/compatibility.md, row "Transport-failure
// texts"): after that common start Flagger quotes net/http's wording for a
// timeout ("(Client.Timeout exceeded while awaiting headers)", "(Client.Timeout
// or context cancellation while reading body)") where augur says "attempt
// timed out after 1s" or nothing more. Every other fault reads the same.
func TestWebhookFaultVerdicts(t *testing.T) {
	faults := []hookFault{
		{name: "timeout before headers", timeout: "1s", serve: slow,
			flaggerText: "POST %s giving up after 1 attempt(s): ",
			flaggerOnly: "(Client.Timeout exceeded while awaiting headers)", augurOnly: "attempt timed out after 1s: Post"},
		{name: "timeout before headers, retried once", timeout: "1s", retries: 1, serve: slow,
			flaggerText: "POST %s giving up after 2 attempt(s): ",
			flaggerOnly: "(Client.Timeout exceeded while awaiting headers)", augurOnly: "attempt timed out after 1s: Post"},
		{name: "200 with a truncated body", timeout: "5s", serve: truncated(200),
			flaggerText: "error reading body: unexpected EOF"},
		{name: "202 with a truncated body", timeout: "5s", serve: truncated(202),
			flaggerText: "error reading body: unexpected EOF"},
		{name: "403 with a truncated body", timeout: "5s", serve: truncated(403),
			flaggerText: "error reading body: unexpected EOF"},
		{name: "200 with a truncated body, retries set", timeout: "5s", retries: 2, serve: truncated(200),
			flaggerText: "error reading body: unexpected EOF"},
		{name: "200 body still arriving at the timeout", timeout: "1s", serve: trickle,
			flaggerText: "error reading body: context deadline exceeded",
			flaggerOnly: "(Client.Timeout or context cancellation while reading body)"},
		{name: "connection refused", timeout: "1s", serve: nil,
			flaggerText: "POST %s giving up after 1 attempt(s): Post \"%[1]s\": dial tcp"},
		{name: "self-signed certificate, retries set", timeout: "5s", retries: 2, tls: metricstest.TLSSelfSigned, serve: ok,
			flaggerText: "POST %s giving up after 1 attempt(s): Post \"%[1]s\": tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{name: "expired certificate, retries set", timeout: "5s", retries: 2, tls: metricstest.TLSExpired, serve: ok,
			flaggerText: "POST %s giving up after 1 attempt(s): Post \"%[1]s\": tls: failed to verify certificate: x509: certificate has expired"},
		{name: "expired certificate, disableTLS (control: passes)", timeout: "5s", tls: metricstest.TLSExpired, serve: ok, disableTLS: true},
		{name: "302 loop", timeout: "5s", serve: redirectLoop(http.StatusFound),
			flaggerText: "POST %s giving up after 1 attempt(s): Post \"/hook\": stopped after 10 redirects"},
		{name: "307 loop", timeout: "5s", serve: redirectLoop(http.StatusTemporaryRedirect),
			flaggerText: "POST %s giving up after 1 attempt(s): Post \"/hook\": stopped after 10 redirects"},
	}
	// Zero backoff for augur; Flagger waits its own 1 s before a retry.
	client := webhooks.New(webhooks.Options{Backoff: func(int) time.Duration { return 0 }})
	for _, fault := range faults {
		for _, ht := range hookTypes {
			t.Run(fmt.Sprintf("%s/%s/%s", fault.name, ht.typ, ht.phase), func(t *testing.T) {
				t.Parallel()
				f := newFaultServer(t, fault)
				md := map[string]string{"cmd": "hey", "token": "s3cr3t-hook-token"}
				w := flaggerv1.CanaryWebhook{Name: "hook", Type: ht.typ, URL: f.url, Timeout: fault.timeout,
					Retries: fault.retries, DisableTLS: fault.disableTLS, Metadata: &md}
				canary := flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
					Status: flaggerv1.CanaryStatus{Phase: ht.phase}}
				const msg = "Advance podinfo.test canary weight 10"

				var ferr error
				if ht.typ == flaggerv1.EventHook {
					ferr = controller.CallEventWebhook(&canary, w, msg, "Normal")
				} else {
					ferr = controller.CallWebhook(canary, ht.phase, w)
				}
				fcalls := f.took()

				timeout, err := webhooks.ParseTimeout(fault.timeout)
				if err != nil {
					t.Fatal(err)
				}
				hook := webhooks.Hook{Name: "hook", Type: string(ht.typ), URL: f.url, Timeout: timeout,
					Retries: fault.retries, DisableTLS: fault.disableTLS, Metadata: md}
				p := webhooks.Payload{Name: "podinfo", Namespace: "test", Phase: string(ht.phase), Metadata: md}
				if ht.typ == flaggerv1.EventHook {
					p = webhooks.EventPayload(hook, webhooks.Event{Name: "podinfo", Namespace: "test",
						Phase: string(ht.phase), Message: msg, Type: webhooks.EventNormal, Time: time.Now()})
				}
				aerr := client.Call(context.Background(), hook, p)
				acalls := f.took()

				if fault.disableTLS {
					if ferr != nil || aerr != nil {
						t.Fatalf("control: Flagger %v, augur %v; both must pass", ferr, aerr)
					}
				} else {
					if ferr == nil {
						t.Fatalf("Flagger passed the hook: the fault is not one")
					}
					if aerr == nil {
						t.Fatalf("augur passed a hook Flagger fails (%v)", ferr)
					}
				}
				if !fault.disableTLS {
					compareTexts(t, fault, f.url, ferr, aerr)
				}
				if len(fcalls) != len(acalls) {
					t.Fatalf("requests: Flagger %d, augur %d", len(fcalls), len(acalls))
				}
				for i := range fcalls {
					fc, ac := fcalls[i], acalls[i]
					for _, c := range []hookCall{fc, ac} {
						delete(c.Body, "checksum")
						if m, ok := c.Body["metadata"].(map[string]any); ok {
							delete(m, "timestamp")
						}
					}
					if fmt.Sprint(fc) != fmt.Sprint(ac) {
						t.Errorf("request %d:\nFlagger %v\naugur   %v", i, fc, ac)
					}
				}
				if len(fcalls) > 0 && fcalls[0].Body["phase"] != string(ht.phase) {
					t.Errorf("phase sent: %v, want %s", fcalls[0].Body["phase"], ht.phase)
				}
			})
		}
	}
}

// compareTexts requires Flagger's error text to start with the fault's
// flaggerText and augur's event text (FlaggerText) to equal it, or to differ
// only as the fault's flaggerOnly/augurOnly say; and no hook metadata in
// augur's texts.
var certClock = regexp.MustCompile(`current time \S+ is (after|before)`)

func clockless(s string) string { return certClock.ReplaceAllString(s, "current time T is $1") }

func compareTexts(t *testing.T, fault hookFault, url string, ferr, aerr error) {
	t.Helper()
	want := fault.flaggerText
	if strings.Contains(want, "%") {
		want = fmt.Sprintf(want, url)
	}
	if !strings.HasPrefix(ferr.Error(), want) {
		t.Fatalf("Flagger's text %q does not start with %q", ferr.Error(), want)
	}
	// Go's certificate errors quote the clock ("current time … is after"),
	// which may tick between the two calls: compare without it.
	ftext, atext := clockless(ferr.Error()), clockless(webhooks.FlaggerText(aerr))
	switch {
	case !strings.HasPrefix(atext, want):
		t.Errorf("event text:\nFlagger %q\naugur   %q", ftext, atext)
	case fault.flaggerOnly == "" && fault.augurOnly == "":
		if atext != ftext {
			t.Errorf("event text:\nFlagger %q\naugur   %q", ftext, atext)
		}
	default:
		// The deliberate difference, docs/compatibility.md row
		// "Transport-failure texts".
		if !strings.Contains(ftext, fault.flaggerOnly) || strings.Contains(atext, fault.flaggerOnly) ||
			!strings.Contains(atext, fault.augurOnly) || (fault.augurOnly != "" && strings.Contains(ftext, fault.augurOnly)) {
			t.Errorf("the documented difference (Flagger-only %q, augur-only %q) does not hold:\nFlagger %q\naugur   %q",
				fault.flaggerOnly, fault.augurOnly, ftext, atext)
		}
	}
	for _, s := range []string{webhooks.FlaggerText(aerr), aerr.Error()} {
		if strings.Contains(s, "s3cr3t-hook-token") {
			t.Errorf("hook metadata in the error: %q", s)
		}
	}
}
