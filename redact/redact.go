package redact

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Placeholder replaces a credential in output.
const Placeholder = "[redacted]"

// MinLen is the shortest value scrubbed: shorter values (a one-digit tenant
// header, say) would garble every message and protect nothing.
const MinLen = 4

// MaxValues bounds the values one Set holds; past it the oldest request-scoped
// additions are kept and new ones are refused (Add reports false), so callers
// that must not leak fail instead.
const MaxValues = 4096

// Set is a set of credentials to scrub from output. The zero value is empty
// and usable; a nil *Set scrubs nothing.
type Set struct {
	parent *Set
	mu     sync.RWMutex
	values []string // longest first
}

// New returns an empty Set whose scrubbing also applies parent's values.
func New(parent *Set) *Set { return &Set{parent: parent} }

// Add records credentials (and the forms they take in output: JSON-escaped,
// percent-encoded). Values shorter than MinLen are ignored. It reports false
// when the Set is full.
func (s *Set) Add(vs ...string) bool {
	if s == nil {
		return true
	}
	var forms []string
	for _, v := range vs {
		if len(v) < MinLen {
			continue
		}
		forms = append(forms, v)
		if j, err := json.Marshal(v); err == nil {
			if e := string(j[1 : len(j)-1]); e != v {
				forms = append(forms, e)
			}
		}
		if e := url.QueryEscape(v); e != v {
			forms = append(forms, e)
		}
		if e := url.PathEscape(v); e != v {
			forms = append(forms, e)
		}
	}
	if len(forms) == 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	added := false
	for _, f := range forms {
		if slices.Contains(s.values, f) {
			continue
		}
		if len(s.values) >= MaxValues {
			return false
		}
		s.values = append(s.values, f)
		added = true
	}
	if added {
		// Longest first, so that a secret containing another is replaced whole.
		slices.SortStableFunc(s.values, func(a, b string) int { return len(b) - len(a) })
	}
	return true
}

// AddBasic records a basic-auth pair: the password, and the base64 of
// "user:password" that travels in an Authorization header.
func (s *Set) AddBasic(user, password string) {
	s.Add(password, base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
}

// AddURL records the password in a URL's userinfo (and the userinfo's
// base64 form). The address need not parse.
func (s *Set) AddURL(address string) {
	user, pass, ok := userinfo(address)
	if !ok {
		return
	}
	s.Add(user+":"+pass, pass)
	if p, err := url.PathUnescape(pass); err == nil {
		u, _ := url.PathUnescape(user)
		s.AddBasic(u, p)
	}
}

// Empty reports whether the set (with its parents) holds nothing.
func (s *Set) Empty() bool {
	for ; s != nil; s = s.parent {
		s.mu.RLock()
		n := len(s.values)
		s.mu.RUnlock()
		if n > 0 {
			return false
		}
	}
	return true
}

// String replaces every credential in text.
func (s *Set) String(text string) string {
	for ; s != nil; s = s.parent {
		s.mu.RLock()
		for _, v := range s.values {
			if strings.Contains(text, v) {
				text = strings.ReplaceAll(text, v, Placeholder)
			}
		}
		s.mu.RUnlock()
	}
	return text
}

// Bytes is String for a byte slice; b itself is returned when nothing
// matched.
func (s *Set) Bytes(b []byte) []byte {
	if s.Empty() {
		return b
	}
	out := s.String(string(b))
	if len(out) == len(b) && out == string(b) {
		return b
	}
	return []byte(out)
}

// Error returns err with a scrubbed text; errors.Is and errors.As still see
// the original chain. A nil err stays nil.
func (s *Set) Error(err error) error {
	if err == nil || s.Empty() {
		return err
	}
	msg := err.Error()
	clean := s.String(msg)
	if clean == msg {
		return err
	}
	return &scrubbed{msg: clean, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// URL returns address with any userinfo password replaced, whether or not
// the address parses ("http://user:PASS@host:badport" included).
func URL(address string) string {
	_, pass, ok := userinfo(address)
	if !ok {
		return address
	}
	return strings.Replace(address, ":"+pass+"@", ":"+Placeholder+"@", 1)
}

// userinfo finds "user:password" between "scheme://" and the first '/', '?'
// or '#' of the authority, without parsing the rest.
func userinfo(address string) (user, pass string, ok bool) {
	_, rest, found := strings.Cut(address, "://")
	if !found {
		rest = strings.TrimPrefix(address, "//")
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return "", "", false
	}
	user, pass, found = strings.Cut(rest[:at], ":")
	if !found || pass == "" {
		return "", "", false
	}
	return user, pass, true
}

type ctxKey struct{}

// NewContext returns ctx carrying s.
func NewContext(ctx context.Context, s *Set) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the Set ctx carries, or nil.
func FromContext(ctx context.Context) *Set {
	s, _ := ctx.Value(ctxKey{}).(*Set)
	return s
}

// ErrFull is returned when a credential cannot be recorded because the
// Set is full: the caller must not use the credential.
var ErrFull = errors.New("too many credentials in one request")

// Record adds credentials to the Set ctx carries (if any).
func Record(ctx context.Context, vs ...string) error {
	if !FromContext(ctx).Add(vs...) {
		return ErrFull
	}
	return nil
}

// Handler wraps h so that every record's message and string attributes are
// scrubbed with base and with the Set of the record's context.
func Handler(h slog.Handler, base *Set) slog.Handler {
	return &handler{h: h, base: base}
}

type handler struct {
	h    slog.Handler
	base *Set
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	sets := []*Set{h.base, FromContext(ctx)}
	scrub := func(s string) string {
		for _, set := range sets {
			s = set.String(s)
		}
		return s
	}
	out := slog.NewRecord(r.Time, r.Level, scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(a, scrub))
		return true
	})
	return h.h.Handle(ctx, out)
}

func scrubAttr(a slog.Attr, scrub func(string) string) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, scrub(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = scrubAttr(ga, scrub)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, scrub(err.Error()))
		}
		return slog.String(a.Key, scrub(v.String()))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	scrub := h.base.String
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = scrubAttr(a, scrub)
	}
	return &handler{h: h.h.WithAttrs(out), base: h.base}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{h: h.h.WithGroup(name), base: h.base}
}

// Writer returns a writer that scrubs each Write with s before passing it
// to w (a credential split across two writes is not caught: it is a last
// line of defence behind scrubbing at the source).
func Writer(w io.Writer, s *Set) io.Writer { return &writer{w: w, s: s} }

type writer struct {
	w io.Writer
	s *Set
}

func (w *writer) Write(b []byte) (int, error) {
	if _, err := w.w.Write(w.s.Bytes(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Values returns a copy of the values s itself holds (not its parent's).
func (s *Set) Values() []string {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.values)
}
