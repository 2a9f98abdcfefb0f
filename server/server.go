package server

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/augurproj/augur/redact"
	"github.com/augurproj/augur/service"
)

// Defaults of Options.
const (
	// DefaultMaxBody is the request body limit (1 MiB).
	DefaultMaxBody = 1 << 20
	// DefaultRequestTimeout bounds one request's work.
	DefaultRequestTimeout = 60 * time.Second
	// DefaultShutdownGrace is how long in-flight requests may take to finish
	// after shutdown begins.
	DefaultShutdownGrace = 30 * time.Second
	// DefaultProbeTimeout bounds each readiness probe query.
	DefaultProbeTimeout = 5 * time.Second
)

// Options configures a Server.
type Options struct {
	// Service answers decide and query requests. Required.
	Service *service.Service
	// Logger receives one record per request and the server's events
	// (default: discard).
	Logger *slog.Logger
	// Metrics are the /metrics series (default: NewMetrics(0, Logger)).
	// Build them before the engine to count query errors (InstrumentRegistry).
	Metrics *Metrics
	// Token, when set, is the bearer token /v1 and /flagger require
	// (Authorization: Bearer <token>, or, for /flagger, the metadata key
	// token). /healthz, /readyz and /metrics stay open.
	Token string
	// MaxBody bounds request bodies in bytes (default DefaultMaxBody).
	MaxBody int64
	// RequestTimeout bounds one request's work (default DefaultRequestTimeout).
	RequestTimeout time.Duration
	// ShutdownGrace is how long Serve lets in-flight requests finish once
	// its context is done (default DefaultShutdownGrace).
	ShutdownGrace time.Duration
	// Canaries are searched in order for the Canary a Flagger webhook call
	// names (loaded files, then the cluster).
	Canaries []CanarySource
	// Probes are the metrics providers /readyz checks.
	Probes []Probe
	// ProbeTimeout bounds each probe (default DefaultProbeTimeout).
	ProbeTimeout time.Duration
	// TLSCertFile and TLSKeyFile, when both set, make Serve speak HTTPS. The
	// files are re-read when they change (certificate rotation).
	TLSCertFile, TLSKeyFile string
	// Preflight lints a Canary's rollout from the cluster for
	// /flagger/v1/preflight; nil without cluster access.
	Preflight PreflightFunc
	// MaxGates bounds the manual gates held in memory (default DefaultMaxGates).
	MaxGates int
	// Gates is where the manual gates live (default: NewMemoryGates(MaxGates),
	// lost on restart and not shared between replicas).
	Gates GateKV
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Secrets are credentials of the process besides Token (a kube token,
	// say) scrubbed from every answer and log record.
	Secrets *redact.Set
}

// Server is augur's HTTP transport: the JSON API (/v1), Flagger's webhook
// endpoints (/flagger/v1), health, readiness and metrics.
type Server struct {
	opts    Options
	svc     *service.Service
	mux     *http.ServeMux
	metrics *Metrics
	gates   *gates
	// rollbacks are the requested rollbacks (rollback.go).
	rollbacks *gates
	token     [sha256.Size]byte
	tls       *certReloader
	probeMu   chan struct{}
	// secrets are the credentials the server itself holds (its token);
	// each request scrubs its answer and log records with them and with
	// the credentials its own work touched (redact.FromContext).
	secrets *redact.Set
}

// New returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Service == nil {
		return nil, errors.New("server: Options.Service is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	opts.RequestTimeout = cmp.Or(max(opts.RequestTimeout, 0), DefaultRequestTimeout)
	opts.ShutdownGrace = cmp.Or(max(opts.ShutdownGrace, 0), DefaultShutdownGrace)
	opts.ProbeTimeout = cmp.Or(max(opts.ProbeTimeout, 0), DefaultProbeTimeout)
	if opts.MaxGates <= 0 {
		opts.MaxGates = DefaultMaxGates
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Gates == nil {
		opts.Gates = NewMemoryGates(opts.MaxGates)
	}
	secrets := redact.New(opts.Secrets)
	secrets.Add(opts.Token)
	opts.Logger = slog.New(redact.Handler(opts.Logger.Handler(), secrets))
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(0, opts.Logger)
	}
	s := &Server{
		opts: opts, svc: opts.Service, metrics: opts.Metrics,
		gates:   &gates{kv: opts.Gates, now: opts.Now},
		token:   sha256.Sum256([]byte(opts.Token)),
		probeMu: make(chan struct{}, 1),
		secrets: secrets,
	}
	if (opts.TLSCertFile == "") != (opts.TLSKeyFile == "") {
		return nil, errors.New("server: TLS needs both a certificate and a key file")
	}
	if opts.TLSCertFile != "" {
		var err error
		if s.tls, err = newCertReloader(opts.TLSCertFile, opts.TLSKeyFile, opts.Logger); err != nil {
			return nil, err
		}
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/decide", s.handleDecide)
	s.mux.HandleFunc("POST /v1/query", s.handleQuery)
	s.mux.HandleFunc("POST /v1/report", s.handleReport)
	s.mux.HandleFunc("POST /flagger/v1/check", s.handleCheck)
	s.mux.HandleFunc("POST /flagger/v1/gate", s.handleGate)
	s.mux.HandleFunc("POST /flagger/v1/gate/open", func(w http.ResponseWriter, r *http.Request) { s.gateChange(w, r, true) })
	s.mux.HandleFunc("POST /flagger/v1/gate/close", func(w http.ResponseWriter, r *http.Request) { s.gateChange(w, r, false) })
	s.mux.HandleFunc("GET /flagger/v1/gate/{namespace}/{name}", s.handleGateGet)
	s.mux.HandleFunc("POST /flagger/v1/preflight", s.handlePreflight)
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.HandleFunc("GET /version", s.handleVersion)
	s.mux.Handle("GET /metrics", s.metrics.Handler())
	s.rollbackRoutes()
}

// Handler returns the server's http.Handler (routes, limits, auth, logs
// and metrics), for tests and for embedding.
func (s *Server) Handler() http.Handler { return s }

// statusWriter records what a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code    int
	bytes   int64
	secrets *redact.Set
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	// The one output boundary of every answer: nothing the server holds,
	// nor anything this request's work touched, leaves unscrubbed.
	clean := w.secrets.Bytes(b)
	n, err := w.ResponseWriter.Write(clean)
	w.bytes += int64(n)
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// unmatchedRoute labels requests no route matched.
const unmatchedRoute = "unmatched"

// ServeHTTP routes a request and records its log line and metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqSecrets := redact.New(s.secrets)
	r = r.WithContext(redact.NewContext(r.Context(), reqSecrets))
	sw := &statusWriter{ResponseWriter: w, secrets: reqSecrets}
	h, route := s.mux.Handler(r)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.opts.Logger.ErrorContext(r.Context(), "handler panicked", "route", route, "panic", fmt.Sprint(v))
			if sw.code == 0 {
				writeError(sw, http.StatusInternalServerError, errors.New("internal error"))
			}
		}
		took := time.Since(start)
		label := cmp.Or(route, unmatchedRoute)
		code := cmp.Or(sw.code, http.StatusOK)
		s.metrics.observeRequest(label, r.Method, code, took)
		s.opts.Logger.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "route", label,
			"status", code, "bytes", sw.bytes, "duration_seconds", took.Seconds(), "remote", r.RemoteAddr)
	}()
	if route == "" {
		s.unmatched(sw, r, h)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// captureWriter runs the mux's own not-found, method-not-allowed and
// redirect handlers without writing, so that errors can be answered as JSON.
type captureWriter struct {
	header http.Header
	code   int
}

func (c *captureWriter) Header() http.Header         { return c.header }
func (c *captureWriter) Write(b []byte) (int, error) { return len(b), nil }
func (c *captureWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

func (s *Server) unmatched(w http.ResponseWriter, r *http.Request, h http.Handler) {
	c := &captureWriter{header: http.Header{}}
	h.ServeHTTP(c, r)
	switch c.code {
	case http.StatusNotFound:
		writeError(w, c.code, fmt.Errorf("no route for %s %s", r.Method, r.URL.Path))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", c.header.Get("Allow"))
		writeError(w, c.code, fmt.Errorf("method %s not allowed for %s (allowed: %s)", r.Method, r.URL.Path, c.header.Get("Allow")))
	default:
		maps.Copy(w.Header(), c.header)
		w.WriteHeader(cmp.Or(c.code, http.StatusOK))
	}
}

// errorJSON is the body of every error answer of the JSON API.
type errorJSON struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(errorJSON{Error: "encoding the answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, errorJSON{Error: err.Error()})
}

// statusOf maps an error to its HTTP status code.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, service.ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// authorized reports whether the request carries the token: the bearer
// header, or (Flagger webhooks, which cannot send headers) the metadata token.
func (s *Server) authorized(r *http.Request, metadataToken string) bool {
	if s.opts.Token == "" {
		return true
	}
	given := metadataToken
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		given = strings.TrimSpace(tok)
	}
	if given == "" {
		return false
	}
	sum := sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(sum[:], s.token[:]) == 1
}

func (s *Server) unauthorized(w http.ResponseWriter, jsonAnswer bool) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="augur"`)
	const msg = "missing or wrong bearer token (Authorization: Bearer <token>; Flagger webhooks: metadata key token)"
	if jsonAnswer {
		writeError(w, http.StatusUnauthorized, errors.New(msg))
		return
	}
	answerText(w, http.StatusUnauthorized, "augur: "+msg)
}

// apiError answers a failed JSON API request.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		err = fmt.Errorf("request timed out after %s: %w", s.opts.RequestTimeout, err)
		s.opts.Logger.WarnContext(r.Context(), "request timed out", "path", r.URL.Path, "error", err.Error())
	case errors.Is(err, context.Canceled):
		// The client went away, or the shutdown grace period is over.
		err = fmt.Errorf("request cancelled: %w", err)
		s.opts.Logger.InfoContext(r.Context(), "request cancelled", "path", r.URL.Path)
	case code >= 500:
		s.opts.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "status", code, "error", err.Error())
	}
	writeError(w, code, err)
}

// apiBody authorizes a JSON API request and reads its body.
func (s *Server) apiBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if !s.authorized(r, "") {
		s.unauthorized(w, true)
		return nil, false
	}
	b, err := readBody(w, r, s.opts.MaxBody)
	if err != nil {
		s.apiError(w, r, err)
		return nil, false
	}
	return b, true
}

// handleDecide is POST /v1/decide: one tick's decision.
func (s *Server) handleDecide(w http.ResponseWriter, r *http.Request) {
	b, ok := s.apiBody(w, r)
	if !ok {
		return
	}
	req, err := decodeDecide(b)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	start := time.Now()
	d, err := s.svc.Decide(ctx, req)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.metrics.observeDecision(&req.Canary, d, time.Since(start))
	writeJSON(w, http.StatusOK, d)
}

// handleQuery is POST /v1/query: render and run metrics, check each value.
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	b, ok := s.apiBody(w, r)
	if !ok {
		return
	}
	req, err := decodeQuery(b)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.RequestTimeout)
	defer cancel()
	resp, err := s.svc.Query(ctx, req)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if ctx.Err() != nil {
		// Queries that ran out of time became failed checks; say so
		// instead of answering them as the metrics' verdict.
		s.apiError(w, r, ctx.Err())
		return
	}
	s.metrics.observeChecks(req.Canary.Spec.TargetRef.Name, req.Canary.Metadata.Namespace, resp.Checks)
	writeJSON(w, http.StatusOK, resp)
}

// Serve answers requests on ln until ctx is done, then shuts down
// gracefully: it stops accepting connections and lets in-flight requests
// finish for up to Options.ShutdownGrace before cancelling them; each
// cancelled request is answered 503. It returns nil after a shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Requests must outlive ctx (that is the point of a graceful
	// shutdown); they are cancelled only when the grace period is over.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.opts.RequestTimeout + 10*time.Second,
		WriteTimeout:      s.opts.RequestTimeout + 15*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	if s.tls != nil {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.tls.get}
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.opts.Logger.Info("shutting down: no new connections, waiting for in-flight requests", "grace", s.opts.ShutdownGrace)
	sctx, cancel := context.WithTimeout(base, s.opts.ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		// The grace period is over: cancel what is still running, and let
		// each cancelled request answer (503, "request cancelled") before
		// the connections close. A shutdown is not an error of the input.
		s.opts.Logger.Warn("shutdown grace period over: cancelling in-flight requests", "grace", s.opts.ShutdownGrace)
		cancelBase()
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelledAnswerTime)
		defer cancel()
		if err := srv.Shutdown(actx); err != nil {
			s.opts.Logger.Warn("closing connections of requests that did not answer", "error", err.Error())
			_ = srv.Close()
		}
	}
	s.opts.Logger.Info("shut down")
	return nil
}

// cancelledAnswerTime is how long requests cancelled at the end of the
// shutdown grace period get to send their 503.
const cancelledAnswerTime = 5 * time.Second

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
