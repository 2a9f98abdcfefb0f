package webhookstest

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// maxRequestBody caps how much of a request body the server reads.
const maxRequestBody = 1 << 20

// Task types the loadtester knows (metadata "type").
const (
	// TypeCmd is the default: an async shell command, answered 202 at once.
	TypeCmd = "cmd"
	// TypeBash is a blocking bash command: 200, or 500 with the error.
	TypeBash = "bash"
	// TypeHelm is a blocking helm command, answered like TypeBash.
	TypeHelm = "helm"
	// TypeHelmv3 is a blocking helm v3 command, answered like TypeBash.
	TypeHelmv3 = "helmv3"
	// TypeKubectl is a blocking kubectl command, answered like TypeBash.
	TypeKubectl = "kubectl"
	// TypeConcord is a Concord job; the server answers 501 (not simulated).
	TypeConcord = "concord"
	// TypeNGrinder is an nGrinder test; the server answers 501 (not simulated).
	TypeNGrinder = "ngrinder"
)

// Payload mirrors the JSON of Flagger's CanaryWebhookPayload as the
// loadtester decodes it.
type Payload struct {
	// Name is the canary's name.
	Name string `json:"name"`
	// Namespace is the canary's namespace.
	Namespace string `json:"namespace"`
	// Phase is the canary phase.
	Phase string `json:"phase"`
	// Checksum is Flagger's canary checksum.
	Checksum string `json:"checksum"`
	// Metadata is the hook's metadata.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Outcome is the canned result of one run of a blocking task's command.
type Outcome struct {
	// Output is the command's combined output.
	Output string
	// ExitCode is the exit status; non-zero fails the task with a 500.
	ExitCode int
	// Delay is how long the command "runs" before the answer.
	Delay time.Duration
}

// Response is a scripted answer for a path.
type Response struct {
	// Status is the status code; zero means 200.
	Status int
	// Body is written as is.
	Body string
	// Header is added to the answer (Location, Retry-After, …).
	Header http.Header
	// Delay is waited before answering; a client that gives up first (or
	// Close) ends the wait.
	Delay time.Duration
	// Drop closes the connection without answering.
	Drop bool
}

// Request is one recorded request.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path.
	Path string
	// Header is the request header.
	Header http.Header
	// Body is the raw body (at most 1 MiB).
	Body []byte
	// Payload is the decoded body, nil when the body is not a payload.
	Payload *Payload
	// Status is the status answered; zero while the answer is pending, when
	// the connection was dropped or when the client left during a delay.
	Status int
	// Response is the body answered.
	Response string
}

// Task is one task the task endpoint accepted (async) or ran (blocking).
type Task struct {
	// Canary is "<name>.<namespace>".
	Canary string
	// Type is the task type (metadata "type", default "cmd").
	Type string
	// Command is metadata "cmd".
	Command string
}

// Options configures a Server.
type Options struct {
	// NamespaceRegexp is the loadtester's -namespace-regexp authorizer: the
	// payload namespace must match it (unanchored). Nil allows every
	// namespace.
	NamespaceRegexp *regexp.Regexp
	// Commands holds the outcomes of blocking tasks keyed by command. Runs of
	// a command consume its outcomes in order; the last one repeats. A
	// command without outcomes fails with exit status 127.
	Commands map[string][]Outcome
	// TLS serves HTTPS with httptest's self-signed certificate.
	TLS bool
}

// Server is a running loadtester stand-in on 127.0.0.1. It is safe for
// concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port" (https with Options.TLS).
	URL string

	srv  *httptest.Server
	auth *regexp.Regexp
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	requests []Request
	tasks    []Task
	gates    map[string]bool
	scripts  map[string][]Response
	outcomes map[string][]Outcome
}

// NewServer starts a Server; call Close when done.
func NewServer(opts Options) *Server {
	s := newState(opts)
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	// Failed TLS handshakes are expected in tests; keep them off stderr.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if opts.TLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	return s
}

// newState returns a Server's state without a listener.
func newState(opts Options) *Server {
	s := &Server{
		auth:     opts.NamespaceRegexp,
		done:     make(chan struct{}),
		gates:    make(map[string]bool),
		scripts:  make(map[string][]Response),
		outcomes: make(map[string][]Outcome, len(opts.Commands)),
	}
	for cmd, outs := range opts.Commands {
		s.outcomes[cmd] = append([]Outcome(nil), outs...)
	}
	return s
}

// Close ends pending delays, dropping their connections, and shuts the
// server down.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.srv.Close()
}

// Certificate returns the TLS certificate, nil without Options.TLS.
func (s *Server) Certificate() *x509.Certificate { return s.srv.Certificate() }

// Client returns an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Script makes the next requests to path get rs in order, before any
// loadtester behaviour; the last response then repeats. No responses removes
// the script.
func (s *Server) Script(path string, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(rs) == 0 {
		delete(s.scripts, path)
		return
	}
	s.scripts[path] = append([]Response(nil), rs...)
}

// SetOutcomes replaces the outcomes of a blocking command (see
// Options.Commands).
func (s *Server) SetOutcomes(cmd string, outs ...Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[cmd] = append([]Outcome(nil), outs...)
}

// Requests returns a copy of the recorded requests in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests arrived for path.
func (s *Server) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Path == path {
			n++
		}
	}
	return n
}

// Tasks returns a copy of the accepted and run tasks in arrival order.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Task(nil), s.tasks...)
}

// GateOpen reports whether the gate of canary name.namespace is open.
func (s *Server) GateOpen(name, namespace string) bool {
	return s.gate(name + "." + namespace)
}

// RollbackOpen reports whether the rollback gate of canary name.namespace is
// open.
func (s *Server) RollbackOpen(name, namespace string) bool {
	return s.gate("rollback." + name + "." + namespace)
}

func (s *Server) gate(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gates[key]
}

func (s *Server) setGate(key string, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gates[key] = open
}

// reply is what the server answers to one request.
type reply struct {
	status int
	body   string
	header http.Header
	delay  time.Duration
	drop   bool
}

// serve records the request, answers it and records the answer.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		http.Error(w, fmt.Sprintf("reading the request body: %v", err), http.StatusBadRequest)
		return
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	if p, err := decode(body); err == nil {
		req.Payload = &p
	}
	s.mu.Lock()
	idx := len(s.requests)
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	rep := s.handle(r.URL.Path, body)

	if rep.delay > 0 {
		t := time.NewTimer(rep.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.done:
			// Closing: drop the connection rather than let net/http answer
			// an implicit 200.
			t.Stop()
			rep = reply{drop: true}
		}
	}
	if rep.drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		// Unreachable with the HTTP/1.1 httptest server, which always hijacks.
		http.Error(w, "webhookstest: the connection cannot be dropped", http.StatusInternalServerError)
		return
	}
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)

	s.mu.Lock()
	s.requests[idx].Status = rep.status
	s.requests[idx].Response = rep.body
	s.mu.Unlock()
}

// decode parses a payload as the loadtester does (json.Unmarshal).
func decode(body []byte) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return Payload{}, err
	}
	return p, nil
}

// handle answers one request: a scripted response, else the loadtester's.
func (s *Server) handle(path string, body []byte) reply {
	if rep, ok := s.scripted(path); ok {
		return rep
	}
	if path == "/healthz" {
		return text(http.StatusOK, "OK")
	}
	p, err := decode(body)
	if err != nil {
		return text(http.StatusBadRequest, "")
	}
	if s.auth != nil && !s.auth.MatchString(p.Namespace) {
		return text(http.StatusForbidden, "Forbidden")
	}
	canary := p.Name + "." + p.Namespace
	switch path {
	case "/gate/approve":
		return text(http.StatusOK, "OK")
	case "/gate/halt":
		return text(http.StatusForbidden, "Forbidden")
	case "/gate/check":
		return check(s.gate(canary))
	case "/gate/open", "/gate/close":
		s.setGate(canary, path == "/gate/open")
		return text(http.StatusAccepted, "")
	case "/rollback/check":
		return check(s.gate("rollback." + canary))
	case "/rollback/open", "/rollback/close":
		s.setGate("rollback."+canary, path == "/rollback/open")
		return text(http.StatusAccepted, "")
	}
	return s.task(canary, p.Metadata)
}

func (s *Server) scripted(path string) (reply, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.scripts[path]
	if len(rs) == 0 {
		return reply{}, false
	}
	r := rs[0]
	if len(rs) > 1 {
		s.scripts[path] = rs[1:]
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	return reply{status: status, body: r.Body, header: r.Header, delay: r.Delay, drop: r.Drop}, true
}

func text(status int, body string) reply { return reply{status: status, body: body} }

func check(open bool) reply {
	if open {
		return text(http.StatusOK, "Approved")
	}
	return text(http.StatusForbidden, "Forbidden")
}

// task is the loadtester's "/" endpoint.
func (s *Server) task(canary string, md map[string]string) reply {
	if len(md) == 0 {
		return text(http.StatusBadRequest, "metadata not found in payload")
	}
	typ, ok := md["type"]
	if !ok {
		typ = TypeCmd
	}
	cmd, hasCmd := md["cmd"]
	switch typ {
	case TypeCmd:
		if !hasCmd {
			return text(http.StatusBadRequest, "cmd not found in metadata")
		}
		s.addTask(Task{Canary: canary, Type: typ, Command: cmd})
		return text(http.StatusAccepted, "")
	case TypeBash, TypeHelm, TypeHelmv3, TypeKubectl:
		s.addTask(Task{Canary: canary, Type: typ, Command: cmd})
		out := s.run(cmd)
		if out.ExitCode != 0 {
			rep := text(http.StatusInternalServerError,
				fmt.Sprintf("command %s failed: %s: exit status %d", cmd, out.Output, out.ExitCode))
			rep.delay = out.Delay
			return rep
		}
		rep := text(http.StatusOK, "")
		if ret, err := strconv.ParseBool(md["returnCmdOutput"]); err == nil && ret && typ == TypeBash {
			rep.body = out.Output
		}
		rep.delay = out.Delay
		return rep
	case TypeConcord, TypeNGrinder:
		return text(http.StatusNotImplemented, fmt.Sprintf("webhookstest: task type %s is not simulated", typ))
	}
	// The loadtester dereferences a nil task factory here and the handler
	// panics, so the client sees the connection drop.
	return reply{drop: true}
}

func (s *Server) addTask(t Task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks = append(s.tasks, t)
}

// run consumes the next outcome of cmd.
func (s *Server) run(cmd string) Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	outs := s.outcomes[cmd]
	if len(outs) == 0 {
		return Outcome{
			Output:   fmt.Sprintf("webhookstest: no outcome configured for command %q", cmd),
			ExitCode: 127,
		}
	}
	if len(outs) > 1 {
		s.outcomes[cmd] = outs[1:]
	}
	return outs[0]
}
