package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ProxyOptions configure an AuthProxy.
type ProxyOptions struct {
	// Target is the upstream server's base URL.
	Target string
	// Prefix is the path prefix the proxy serves, starting and ending with
	// "/" (for example "/prom/"); it is removed before forwarding.
	Prefix string
	// BearerToken, when set, is the token a request must carry as
	// "Authorization: Bearer <token>".
	BearerToken string
	// Username and Password, when Username is set, are the basic-auth
	// credentials a request must carry.
	Username, Password string
}

// ProxiedRequest is what the proxy saw of one request.
type ProxiedRequest struct {
	// Method is the HTTP method.
	Method string
	// Path is the path as received, prefix included.
	Path string
	// Query is the parsed URL query.
	Query url.Values
	// Authorization holds every Authorization header value received.
	Authorization []string
	// Header is a copy of the request's headers.
	Header http.Header
	// Status is the status code the proxy answered with.
	Status int
}

// AuthProxy is a reverse proxy on 127.0.0.1 in front of a Prometheus server.
// It serves only under its prefix, requires exactly one Authorization header
// carrying the configured credential, strips the prefix and the
// Authorization header before forwarding, and records every request.
type AuthProxy struct {
	opts   ProxyOptions
	target *url.URL
	srv    *http.Server
	url    string
	done   chan error

	mu   sync.Mutex
	reqs []ProxiedRequest
}

// StartAuthProxy listens on a free 127.0.0.1 port and serves until Close.
// Exactly one of BearerToken and Username must be set.
func StartAuthProxy(ctx context.Context, opts ProxyOptions) (*AuthProxy, error) {
	target, err := url.Parse(opts.Target)
	if err != nil {
		return nil, fmt.Errorf("auth proxy target: %w", err)
	}
	if target.Scheme != "http" || target.Host == "" {
		return nil, fmt.Errorf("auth proxy target %q: want http://HOST:PORT", opts.Target)
	}
	if len(opts.Prefix) < 2 || !strings.HasPrefix(opts.Prefix, "/") || !strings.HasSuffix(opts.Prefix, "/") {
		return nil, fmt.Errorf("auth proxy prefix %q: want /NAME/", opts.Prefix)
	}
	if (opts.BearerToken == "") == (opts.Username == "") {
		return nil, errors.New("auth proxy: set exactly one of BearerToken and Username")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("auth proxy listen: %w", err)
	}
	p := &AuthProxy{opts: opts, target: target, done: make(chan error, 1)}
	p.url = "http://" + ln.Addr().String() + strings.TrimSuffix(opts.Prefix, "/")
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Del("Authorization")
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "auth proxy: upstream: "+err.Error(), http.StatusBadGateway)
		},
	}
	p.srv = &http.Server{
		Handler:           p.handler(rp),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	go func() { p.done <- p.srv.Serve(ln) }()
	return p, nil
}

// URL returns the proxy's base URL with the prefix and no trailing slash,
// for example http://127.0.0.1:PORT/prom.
func (p *AuthProxy) URL() string { return p.url }

// Requests returns a copy of every request seen so far, in arrival order.
func (p *AuthProxy) Requests() []ProxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxiedRequest(nil), p.reqs...)
}

// Reset forgets the recorded requests.
func (p *AuthProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = nil
}

// Close shuts the proxy down, waiting for open requests until ctx is done.
func (p *AuthProxy) Close(ctx context.Context) error {
	err := p.srv.Shutdown(ctx)
	if serveErr := <-p.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("auth proxy close: %w", err)
	}
	return nil
}

func (p *AuthProxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := ProxiedRequest{
			Method:        r.Method,
			Path:          r.URL.Path,
			Query:         r.URL.Query(),
			Authorization: append([]string(nil), r.Header.Values("Authorization")...),
			Header:        r.Header.Clone(),
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			rec.Status = sw.status
			p.mu.Lock()
			p.reqs = append(p.reqs, rec)
			p.mu.Unlock()
		}()
		if !strings.HasPrefix(r.URL.Path, p.opts.Prefix) {
			http.Error(sw, "auth proxy: not under "+p.opts.Prefix, http.StatusNotFound)
			return
		}
		if msg := p.authorize(rec.Authorization); msg != "" {
			sw.Header().Set("WWW-Authenticate", p.challenge())
			http.Error(sw, "auth proxy: "+msg, http.StatusUnauthorized)
			return
		}
		out := r.Clone(r.Context())
		out.URL.Path = "/" + strings.TrimPrefix(r.URL.Path, p.opts.Prefix)
		out.URL.RawPath = ""
		next.ServeHTTP(sw, out)
	})
}

// authorize returns why the Authorization values are refused, or "".
func (p *AuthProxy) authorize(values []string) string {
	switch len(values) {
	case 0:
		return "missing Authorization header"
	case 1:
	default:
		return fmt.Sprintf("%d Authorization headers, want exactly one", len(values))
	}
	if p.opts.BearerToken != "" {
		if values[0] != "Bearer "+p.opts.BearerToken {
			return "wrong bearer token"
		}
		return ""
	}
	r := http.Request{Header: http.Header{"Authorization": values}}
	user, pass, ok := r.BasicAuth()
	if !ok || user != p.opts.Username || pass != p.opts.Password {
		return "wrong basic-auth credentials"
	}
	return ""
}

func (p *AuthProxy) challenge() string {
	if p.opts.BearerToken != "" {
		return `Bearer realm="augur-integration"`
	}
	return `Basic realm="augur-integration"`
}

// statusWriter records the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush passes flushes through (the reverse proxy flushes streamed bodies).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
