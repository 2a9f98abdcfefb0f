package webhooks

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func FuzzParseTimeout(f *testing.F) {
	for _, s := range []string{"", "5", "10s", "1m30s", "0s", "-1s", "1.5h", "15", "abc", "9223372036854775807ns", "1e3s", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTimeout(s)
		if len(s) < 2 {
			if err != nil || d != DefaultTimeout {
				t.Fatalf("ParseTimeout(%q) = %v, %v; want the 10s default", s, d, err)
			}
			return
		}
		want, wantErr := time.ParseDuration(s)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("ParseTimeout(%q) error = %v, time.ParseDuration error = %v", s, err, wantErr)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "webhook timeout ") {
				t.Fatalf("ParseTimeout(%q) error %q does not name the field", s, err)
			}
			return
		}
		if d != want {
			t.Fatalf("ParseTimeout(%q) = %v, want %v", s, d, want)
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "3", "30", "3600", "-1", "soon", "", now.Add(5 * time.Second).Format(http.TimeFormat), "Mon, 02 Jan 2006 15:04:05 GMT", "99999999999999999999"} {
		f.Add(429, s)
		f.Add(503, s)
		f.Add(500, s)
	}
	f.Fuzz(func(t *testing.T, status int, v string) {
		d, ok := retryAfter(status, http.Header{"Retry-After": {v}}, now)
		if ok && status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
			t.Fatalf("retryAfter(%d, %q) used the header on a status retryablehttp ignores it for", status, v)
		}
		if d < 0 || d > MaxWait {
			t.Fatalf("retryAfter(%d, %q) = %v, outside [0, %v]", status, v, d, MaxWait)
		}
		if !ok && d != 0 {
			t.Fatalf("retryAfter(%d, %q) = %v without a valid header", status, v, d)
		}
	})
}

func FuzzCapBody(f *testing.F) {
	for _, s := range []string{"", "denied", "  x  ", "abcé", "a😀b", "\xff\xfe", strings.Repeat("é", 100)} {
		for _, limit := range []int{1, 2, 3, 4, 5, 4096} {
			f.Add([]byte(s), limit)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, limit int) {
		if limit < 1 || limit > 1<<16 {
			return
		}
		got := capBody(b, limit)
		if len(got) > limit {
			t.Fatalf("capBody(%q, %d) = %q, longer than the cap", b, limit, got)
		}
		if got != strings.TrimSpace(got) {
			t.Fatalf("capBody(%q, %d) = %q, not trimmed", b, limit, got)
		}
		if !bytes.Contains(b, []byte(got)) {
			t.Fatalf("capBody(%q, %d) = %q, not part of the body", b, limit, got)
		}
		if utf8.Valid(b) && !utf8.ValidString(got) {
			t.Fatalf("capBody(%q, %d) = %q split a rune", b, limit, got)
		}
		if len(b) <= limit && got != strings.TrimSpace(string(b)) {
			t.Fatalf("capBody(%q, %d) = %q cut a body under the cap", b, limit, got)
		}
	})
}

// FuzzEventPayload checks the merge rule and that the payload survives a
// JSON round trip.
func FuzzEventPayload(f *testing.F) {
	f.Add("podinfo", "test", "Progressing", "msg", "channel", "#c", int64(1714564800123))
	f.Add("", "", "", "", "eventType", "x", int64(0))
	f.Add("a", "b", "Failed", "\u2028<&>", "timestamp", "1", int64(-1))
	f.Fuzz(func(t *testing.T, name, ns, phase, msg, key, value string, ms int64) {
		at := time.UnixMilli(ms)
		hook := Hook{Name: "e", Metadata: map[string]string{key: value}}
		p := EventPayload(hook, Event{Name: name, Namespace: ns, Phase: phase, Message: msg, Type: EventWarning, Time: at})
		if p.Metadata[EventMessageKey] != msg || p.Metadata[EventTypeKey] != "Warning" {
			t.Fatalf("event keys lost: %v", p.Metadata)
		}
		switch key {
		case EventMessageKey, EventTypeKey, EventTimestampKey:
			if len(p.Metadata) != 3 {
				t.Fatalf("colliding key %q added an entry: %v", key, p.Metadata)
			}
		default:
			if p.Metadata[key] != value || len(p.Metadata) != 4 {
				t.Fatalf("hook key %q=%q not merged: %v", key, value, p.Metadata)
			}
		}
		if hook.Metadata[key] != value || len(hook.Metadata) != 1 {
			t.Fatalf("hook metadata changed: %v", hook.Metadata)
		}
		if p.Checksum != "" {
			t.Fatalf("event payload has checksum %q", p.Checksum)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back Payload
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("payload %s does not decode: %v", b, err)
		}
		// JSON carries each invalid UTF-8 byte as U+FFFD, as []rune does.
		valid := func(s string) string { return string([]rune(s)) }
		want := Payload{Name: valid(name), Namespace: valid(ns), Phase: valid(phase), Metadata: map[string]string{}}
		for k, v := range p.Metadata {
			want.Metadata[valid(k)] = valid(v)
		}
		if diff := cmp.Diff(want, back); diff != "" {
			t.Fatalf("payload does not survive JSON (-sent +decoded):\n%s", diff)
		}
	})
}
