package webhookstest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/webhooks"
	"github.com/augurproj/augur/webhooks/webhookstest"
)

func start(t *testing.T, opts webhookstest.Options) (*webhookstest.Server, *webhooks.Client) {
	t.Helper()
	s := webhookstest.NewServer(opts)
	t.Cleanup(s.Close)
	return s, webhooks.New(webhooks.Options{Backoff: func(int) time.Duration { return 0 }})
}

func canary(md map[string]string) webhooks.Payload {
	return webhooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Progressing", Checksum: "abc", Metadata: md}
}

// call posts p to path and returns the error text ("" on success).
func call(t *testing.T, c *webhooks.Client, s *webhookstest.Server, path string, retries int, p webhooks.Payload) string {
	t.Helper()
	err := c.Call(t.Context(), webhooks.Hook{Name: path, URL: s.URL + path, Retries: retries}, p)
	if err == nil {
		return ""
	}
	return err.Error()
}

// step is one call in a loadtester flow and what Flagger would see.
type step struct {
	path       string
	payload    webhooks.Payload
	retries    int
	wantErr    string // "" is success
	wantStatus int    // the status of the last answer
}

func run(t *testing.T, s *webhookstest.Server, c *webhooks.Client, steps []step) {
	t.Helper()
	for i, st := range steps {
		got := call(t, c, s, st.path, st.retries, st.payload)
		got = strings.ReplaceAll(got, s.URL, "URL")
		if got != st.wantErr {
			t.Errorf("step %d %s: error %q, want %q", i, st.path, got, st.wantErr)
		}
		reqs := s.Requests()
		if last := reqs[len(reqs)-1]; last.Status != st.wantStatus {
			t.Errorf("step %d %s: status %d, want %d", i, st.path, last.Status, st.wantStatus)
		}
	}
}

func TestGateFlow(t *testing.T) {
	s, c := start(t, webhookstest.Options{})
	p := canary(nil)
	other := webhooks.Payload{Name: "other", Namespace: "test"}
	run(t, s, c, []step{
		{path: "/gate/check", payload: p, wantErr: "Forbidden", wantStatus: 403},
		{path: "/gate/open", payload: p, wantStatus: 202},
		{path: "/gate/check", payload: p, wantStatus: 200},
		{path: "/gate/check", payload: other, wantErr: "Forbidden", wantStatus: 403},
		{path: "/gate/close", payload: p, wantStatus: 202},
		{path: "/gate/check", payload: p, wantErr: "Forbidden", wantStatus: 403},
		{path: "/gate/approve", payload: p, wantStatus: 200},
		{path: "/gate/halt", payload: p, wantErr: "Forbidden", wantStatus: 403},
	})
	if s.GateOpen("podinfo", "test") {
		t.Error("gate podinfo.test is open after /gate/close")
	}
	if got := s.Requests()[2].Response; got != "Approved" {
		t.Errorf("open gate answered %q, want Approved", got)
	}
}

func TestRollbackFlow(t *testing.T) {
	s, c := start(t, webhookstest.Options{})
	p := canary(nil)
	run(t, s, c, []step{
		{path: "/rollback/check", payload: p, wantErr: "Forbidden", wantStatus: 403},
		{path: "/rollback/open", payload: p, wantStatus: 202},
		{path: "/rollback/check", payload: p, wantStatus: 200},
		// The rollback gate and the promotion gate are separate keys.
		{path: "/gate/check", payload: p, wantErr: "Forbidden", wantStatus: 403},
	})
	if !s.RollbackOpen("podinfo", "test") || s.GateOpen("podinfo", "test") {
		t.Errorf("RollbackOpen = %v, GateOpen = %v; want true, false", s.RollbackOpen("podinfo", "test"), s.GateOpen("podinfo", "test"))
	}
	run(t, s, c, []step{
		{path: "/rollback/close", payload: p, wantStatus: 202},
		{path: "/rollback/check", payload: p, wantErr: "Forbidden", wantStatus: 403},
	})
}

func TestTaskEndpoint(t *testing.T) {
	s, c := start(t, webhookstest.Options{Commands: map[string][]webhookstest.Outcome{
		"curl -s http://podinfo-canary.test/ok":  {{Output: "ok\n"}},
		"curl -s http://podinfo-canary.test/bad": {{Output: "curl: (22) 500\n", ExitCode: 22}},
		"helm test podinfo":                      {{Output: "PASSED"}},
	}})
	run(t, s, c, []step{
		{path: "/", payload: canary(nil), wantErr: "metadata not found in payload", wantStatus: 400},
		{path: "/", payload: canary(map[string]string{}), wantErr: "metadata not found in payload", wantStatus: 400},
		{path: "/", payload: canary(map[string]string{"cmd": "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/"}), wantStatus: 202},
		{path: "/", payload: canary(map[string]string{"type": "cmd", "cmd": "hey -z 1m http://podinfo-canary.test:9898/", "logCmdOutput": "true"}), wantStatus: 202},
		{path: "/", payload: canary(map[string]string{"type": "cmd"}), wantErr: "cmd not found in metadata", wantStatus: 400},
		{path: "/", payload: canary(map[string]string{"type": "bash", "cmd": "curl -s http://podinfo-canary.test/ok"}), wantStatus: 200},
		{path: "/", payload: canary(map[string]string{"type": "bash", "cmd": "curl -s http://podinfo-canary.test/bad"}),
			wantErr: "POST URL/ giving up after 1 attempt(s): command curl -s http://podinfo-canary.test/bad failed: curl: (22) 500\n: exit status 22", wantStatus: 500},
		{path: "/", payload: canary(map[string]string{"type": "bash", "cmd": "not-configured"}),
			wantErr: `POST URL/ giving up after 1 attempt(s): command not-configured failed: webhookstest: no outcome configured for command "not-configured": exit status 127`, wantStatus: 500},
		{path: "/", payload: canary(map[string]string{"type": "helmv3", "cmd": "helm test podinfo"}), wantStatus: 200},
		{path: "/", payload: canary(map[string]string{"type": "concord", "server": "https://concord"}), wantErr: "webhookstest: task type concord is not simulated", wantStatus: 501},
		// Any path but the gates and /healthz is the task endpoint, as with
		// the loadtester's "/" pattern.
		{path: "/anything", payload: canary(map[string]string{"cmd": "true"}), wantStatus: 202},
	})
	want := []webhookstest.Task{
		{Canary: "podinfo.test", Type: "cmd", Command: "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/"},
		{Canary: "podinfo.test", Type: "cmd", Command: "hey -z 1m http://podinfo-canary.test:9898/"},
		{Canary: "podinfo.test", Type: "bash", Command: "curl -s http://podinfo-canary.test/ok"},
		{Canary: "podinfo.test", Type: "bash", Command: "curl -s http://podinfo-canary.test/bad"},
		{Canary: "podinfo.test", Type: "bash", Command: "not-configured"},
		{Canary: "podinfo.test", Type: "helmv3", Command: "helm test podinfo"},
		{Canary: "podinfo.test", Type: "cmd", Command: "true"},
	}
	if diff := cmp.Diff(want, s.Tasks()); diff != "" {
		t.Errorf("Tasks (-want +got):\n%s", diff)
	}
}

func TestBashReturnCmdOutput(t *testing.T) {
	s, c := start(t, webhookstest.Options{Commands: map[string][]webhookstest.Outcome{
		"ghz --insecure podinfo-canary:9999": {{Output: "Summary: ok\n"}},
	}})
	tests := []struct {
		flag string
		want string
	}{
		{"true", "Summary: ok\n"},
		{"1", "Summary: ok\n"},
		{"false", ""},
		{"yes", ""}, // not a strconv.ParseBool value
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			md := map[string]string{"type": "bash", "cmd": "ghz --insecure podinfo-canary:9999"}
			if tt.flag != "" {
				md["returnCmdOutput"] = tt.flag
			}
			if got := call(t, c, s, "/", 0, canary(md)); got != "" {
				t.Fatalf("Call: %s", got)
			}
			reqs := s.Requests()
			if got := reqs[len(reqs)-1].Response; got != tt.want {
				t.Errorf("body = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBashRetriesReexecute: a failing blocking task answers 500, which the
// client retries, so the loadtester runs the command again each time.
func TestBashRetriesReexecute(t *testing.T) {
	fail := webhookstest.Outcome{Output: "FAIL", ExitCode: 1}
	pass := webhookstest.Outcome{Output: "PASS"}
	tests := []struct {
		name     string
		outcomes []webhookstest.Outcome
		retries  int
		wantErr  string
		wantRuns int
	}{
		{name: "fail then pass with 1 retry", outcomes: []webhookstest.Outcome{fail, pass}, retries: 1, wantRuns: 2},
		{name: "fail twice then pass with 2 retries", outcomes: []webhookstest.Outcome{fail, fail, pass}, retries: 2, wantRuns: 3},
		{name: "fail then pass without retries", outcomes: []webhookstest.Outcome{fail, pass}, retries: 0, wantRuns: 1,
			wantErr: "POST URL/ giving up after 1 attempt(s): command bats /tests failed: FAIL: exit status 1"},
		{name: "always failing with 2 retries", outcomes: []webhookstest.Outcome{fail}, retries: 2, wantRuns: 3,
			wantErr: "POST URL/ giving up after 3 attempt(s): command bats /tests failed: FAIL: exit status 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := start(t, webhookstest.Options{Commands: map[string][]webhookstest.Outcome{"bats /tests": tt.outcomes}})
			got := call(t, c, s, "/", tt.retries, canary(map[string]string{"type": "bash", "cmd": "bats /tests"}))
			if got = strings.ReplaceAll(got, s.URL, "URL"); got != tt.wantErr {
				t.Errorf("error %q, want %q", got, tt.wantErr)
			}
			if runs := len(s.Tasks()); runs != tt.wantRuns {
				t.Errorf("command ran %d times, want %d", runs, tt.wantRuns)
			}
		})
	}
}

func TestNamespaceAuthorizer(t *testing.T) {
	s, c := start(t, webhookstest.Options{NamespaceRegexp: regexp.MustCompile("^prod-")})
	in := webhooks.Payload{Name: "app", Namespace: "prod-eu", Metadata: map[string]string{"cmd": "hey"}}
	out := webhooks.Payload{Name: "app", Namespace: "dev", Metadata: map[string]string{"cmd": "hey"}}
	run(t, s, c, []step{
		{path: "/", payload: in, wantStatus: 202},
		{path: "/", payload: out, wantErr: "Forbidden", wantStatus: 403},
		{path: "/gate/open", payload: out, wantErr: "Forbidden", wantStatus: 403},
		{path: "/gate/approve", payload: out, wantErr: "Forbidden", wantStatus: 403},
		{path: "/gate/open", payload: in, wantStatus: 202},
	})
	if s.GateOpen("app", "dev") || !s.GateOpen("app", "prod-eu") {
		t.Error("an unauthorized namespace changed a gate, or an authorized one did not")
	}
	if got := len(s.Tasks()); got != 1 {
		t.Errorf("%d tasks accepted, want 1", got)
	}
}

// TestUnknownTaskTypeDropsConnection: the loadtester's handler panics on an
// unknown type, so Flagger sees a transport error, which it retries.
func TestUnknownTaskTypeDropsConnection(t *testing.T) {
	s, c := start(t, webhookstest.Options{})
	err := c.Call(t.Context(), webhooks.Hook{Name: "grpc", URL: s.URL + "/", Retries: 1},
		canary(map[string]string{"type": "grpc", "cmd": "grpc_health_probe"}))
	var gu *webhooks.GiveUpError
	if !errors.As(err, &gu) || gu.Attempts != 2 {
		t.Fatalf("Call error = %v, want GiveUpError after 2 attempts", err)
	}
	var se *webhooks.StatusError
	if errors.As(err, &se) {
		t.Errorf("Call error = %v carries a status; the connection was dropped", err)
	}
	for _, r := range s.Requests() {
		if r.Status != 0 {
			t.Errorf("recorded status %d for a dropped connection", r.Status)
		}
	}
}

func TestHealthzAndMalformedBodies(t *testing.T) {
	s, _ := start(t, webhookstest.Options{NamespaceRegexp: regexp.MustCompile("^prod$")})
	tests := []struct {
		method, path, body string
		wantStatus         int
		wantBody           string
	}{
		{http.MethodGet, "/healthz", "", 200, "OK"},
		{http.MethodPost, "/healthz", "not json", 200, "OK"},
		{http.MethodPost, "/gate/check", "not json", 400, ""},
		{http.MethodPost, "/", `{"name":"a","namespace":"prod","metadata":{"cmd":1}}`, 400, ""},
		{http.MethodPost, "/", `{"name":"a","namespace":"prod"} trailing`, 400, ""},
		{http.MethodPost, "/", `{"name":"a","namespace":"prod"}`, 400, "metadata not found in payload"},
		{http.MethodPost, "/", `{"name":"a","namespace":"production","metadata":{"cmd":"x"}}`, 403, "Forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path+tt.body, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, s.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || string(b) != tt.wantBody {
				t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, b, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestScript(t *testing.T) {
	s, c := start(t, webhookstest.Options{})
	s.Script("/gate/check",
		webhookstest.Response{Status: 500, Body: "one"},
		webhookstest.Response{Status: 201, Body: "two", Header: http.Header{"X-Step": {"2"}}})
	p := canary(nil)
	if got := call(t, c, s, "/gate/check", 0, p); !strings.HasSuffix(got, ": one") {
		t.Errorf("first call error %q, want the scripted 500", got)
	}
	for range 2 { // The last response repeats.
		if got := call(t, c, s, "/gate/check", 0, p); got != "" {
			t.Errorf("scripted 201 failed: %s", got)
		}
	}
	s.Script("/gate/check") // Back to the loadtester's gate: closed.
	if got := call(t, c, s, "/gate/check", 0, p); got != "Forbidden" {
		t.Errorf("after removing the script: error %q, want Forbidden", got)
	}
	var got []int
	for _, r := range s.Requests() {
		got = append(got, r.Status)
	}
	if diff := cmp.Diff([]int{500, 201, 201, 403}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if n := s.Count("/gate/check"); n != 4 {
		t.Errorf("Count = %d, want 4", n)
	}
}

func TestRequestsRecorded(t *testing.T) {
	s, c := start(t, webhookstest.Options{})
	p := canary(map[string]string{"cmd": "hey", "token": "t"})
	if got := call(t, c, s, "/", 0, p); got != "" {
		t.Fatalf("Call: %s", got)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	want := &webhookstest.Payload{Name: p.Name, Namespace: p.Namespace, Phase: p.Phase, Checksum: p.Checksum, Metadata: p.Metadata}
	if diff := cmp.Diff(want, r.Payload); diff != "" {
		t.Errorf("Payload (-want +got):\n%s", diff)
	}
	if r.Method != http.MethodPost || r.Path != "/" || r.Status != 202 || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s → %d (Content-Type %q)", r.Method, r.Path, r.Status, r.Header.Get("Content-Type"))
	}
	// Requests returns a copy.
	reqs[0].Path = "/changed"
	if s.Requests()[0].Path != "/" {
		t.Error("Requests exposes the server's own slice")
	}
}

// TestSlowTask: a blocking task slower than the hook timeout is a timeout.
func TestSlowTask(t *testing.T) {
	s, c := start(t, webhookstest.Options{Commands: map[string][]webhookstest.Outcome{
		"sleep 60": {{Output: "done", Delay: time.Minute}},
	}})
	err := c.Call(t.Context(), webhooks.Hook{Name: "slow", URL: s.URL + "/", Timeout: 50 * time.Millisecond},
		canary(map[string]string{"type": "bash", "cmd": "sleep 60"}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call error = %v, want a deadline", err)
	}
	if got := len(s.Tasks()); got != 1 {
		t.Errorf("%d task runs, want 1", got)
	}
}

// TestCloseDropsPendingDelay: Close does not wait out a delay, and the
// waiting client sees a dropped connection, not a success.
func TestCloseDropsPendingDelay(t *testing.T) {
	s, c := start(t, webhookstest.Options{})
	s.Script("/slow", webhookstest.Response{Status: 200, Delay: time.Minute})
	errc := make(chan error, 1)
	go func() {
		errc <- c.Call(t.Context(), webhooks.Hook{Name: "slow", URL: s.URL + "/slow", Timeout: 2 * time.Minute}, canary(nil))
	}()
	for s.Count("/slow") == 0 {
		select {
		case <-t.Context().Done():
			t.Fatal("the request never arrived")
		case <-time.After(5 * time.Millisecond):
		}
	}
	s.Close()
	err := <-errc
	var gu *webhooks.GiveUpError
	if !errors.As(err, &gu) || gu.Attempts != 1 {
		t.Fatalf("Call error = %v, want a transport error after 1 attempt", err)
	}
	if r := s.Requests()[0]; r.Status != 0 {
		t.Errorf("recorded status %d for a dropped request", r.Status)
	}
}

func TestTLSServer(t *testing.T) {
	s, c := start(t, webhookstest.Options{TLS: true})
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") || s.Certificate() == nil {
		t.Fatalf("URL %q, certificate %v; want https on 127.0.0.1 with a certificate", s.URL, s.Certificate())
	}
	err := webhooks.New(webhooks.Options{HTTP: s.Client()}).Call(t.Context(), webhooks.Hook{Name: "g", URL: s.URL + "/gate/approve"}, canary(nil))
	if err != nil {
		t.Fatalf("Call with the server's client: %v", err)
	}
	if got := call(t, c, s, "/gate/approve", 0, canary(nil)); !strings.Contains(got, "certificate") {
		t.Errorf("Call without trusting the certificate: %q, want a certificate error", got)
	}
}
