package redact_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/augurproj/augur/redact"
)

func TestSet(t *testing.T) {
	parent := redact.New(nil)
	parent.Add("serve-token-1")
	s := redact.New(parent)
	s.Add("abc", `pa"ss<word>`, "secret-key")
	s.AddBasic("user", "hunter22")
	s.AddURL("http://bob:url%2Fpass@host:badport/x")
	tests := []struct{ in, want string }{
		{"token serve-token-1 here", "token [redacted] here"},
		{"abc is short", "abc is short"},
		{`json "pa\"ss\u003cword\u003e"`, `json "[redacted]"`},
		{`raw pa"ss<word>`, `raw [redacted]`},
		{"Authorization: Basic dXNlcjpodW50ZXIyMg==", "Authorization: Basic [redacted]"},
		{"dial http://bob:url%2Fpass@host:badport/x", "dial http://[redacted]@host:badport/x"},
		{"decoded url/pass", "decoded [redacted]"},
		{"secret-key-secret-key", "[redacted]-[redacted]"},
	}
	for _, tc := range tests {
		if got := s.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	base := errors.New("boom secret-key")
	err := s.Error(base)
	if err.Error() != "boom [redacted]" || !errors.Is(err, base) {
		t.Errorf("Error: %v (Is %t)", err, errors.Is(err, base))
	}
	var nilSet *redact.Set
	if nilSet.String("secret-key") != "secret-key" || nilSet.Error(nil) != nil {
		t.Error("nil set")
	}
}

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://user:PASS@host:badport":  "http://user:[redacted]@host:badport",
		"http://host:9090/a@b":           "http://host:9090/a@b",
		"http://user@host":               "http://user@host",
		"https://u:p@ss@host/x?y=z@w":    "https://u:[redacted]@host/x?y=z@w",
		"user:pw12@host/a":               "user:[redacted]@host/a",
		"//user:secretpw@host:1/metrics": "//user:[redacted]@host:1/metrics",
	} {
		if got := redact.URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHandlerAndWriter(t *testing.T) {
	base := redact.New(nil)
	base.Add("base-secret")
	req := redact.New(nil)
	req.Add("request-secret")
	var buf bytes.Buffer
	log := slog.New(redact.Handler(slog.NewJSONHandler(&buf, nil), base))
	ctx := redact.NewContext(context.Background(), req)
	log.With("k", "base-secret").InfoContext(ctx, "msg request-secret", "err", errors.New("x base-secret"),
		slog.Group("g", "v", "request-secret"), "n", 3)
	if out := buf.String(); strings.Contains(out, "secret\"") || strings.Contains(out, "-secret") {
		t.Errorf("log leaks: %s", out)
	}
	var out bytes.Buffer
	w := redact.Writer(&out, base)
	if n, err := io.WriteString(w, "x base-secret y"); err != nil || n != len("x base-secret y") {
		t.Fatal(n, err)
	}
	if out.String() != "x [redacted] y" {
		t.Errorf("writer: %q", out.String())
	}
	if err := redact.Record(ctx, "later-secret"); err != nil || req.String("later-secret") != "[redacted]" {
		t.Error("Record")
	}
}

func TestBounded(t *testing.T) {
	s := redact.New(nil)
	full := false
	for i := range redact.MaxValues + 10 {
		if !s.Add(strings.Repeat("v", 4) + string(rune('a'+i%26)) + strings.Repeat("w", i/26)) {
			full = true
		}
	}
	if !full || len(s.Values()) > redact.MaxValues {
		t.Errorf("set not bounded: %d values", len(s.Values()))
	}
}
