package webhooks_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/webhooks"
	"github.com/augurproj/augur/webhooks/webhookstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// eventTime is 2024-05-01T12:00:00.123Z.
var eventTime = time.Date(2024, 5, 1, 12, 0, 0, 123_456_789, time.UTC)

// TestPayloadGolden pins the bytes the server receives, which must be
// Flagger's CanaryWebhookPayload JSON exactly.
func TestPayloadGolden(t *testing.T) {
	tests := []struct {
		name string
		p    webhooks.Payload
	}{
		{name: "rollout", p: payload()},
		{name: "no-metadata", p: webhooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Succeeded", Checksum: "7f8c9d"}},
		{name: "empty-metadata", p: webhooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Failed", Metadata: map[string]string{}}},
		{name: "escaping", p: webhooks.Payload{
			Name: "pod<info>", Namespace: "t&st", Phase: "Waiting", Checksum: "\"quoted\"",
			Metadata: map[string]string{"z": "last", "a": "line\nbreak", "ünï": "cödé\u2028", "html": "<b>&</b>"},
		}},
		{name: "event", p: webhooks.EventPayload(
			webhooks.Hook{Name: "notify", Type: "event", Metadata: map[string]string{"channel": "#canary", "eventType": "ignored"}},
			webhooks.Event{Name: "podinfo", Namespace: "test", Phase: "Progressing", Message: "Advance podinfo.test canary weight 10", Type: webhooks.EventNormal, Time: eventTime},
		)},
	}
	srv := newServer(t, webhookstest.Options{})
	srv.Script("/hook", webhookstest.Response{Status: 200})
	c := webhooks.New(webhooks.Options{})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Call(t.Context(), webhooks.Hook{Name: tt.name, URL: srv.URL + "/hook"}, tt.p); err != nil {
				t.Fatalf("Call: %v", err)
			}
			reqs := srv.Requests()
			if len(reqs) != i+1 {
				t.Fatalf("server has %d requests, want %d", len(reqs), i+1)
			}
			got := reqs[i].Body
			golden := filepath.Join("testdata", tt.name+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("payload bytes differ from %s (-want +got):\n%s", golden, diff)
			}
			var back webhooks.Payload
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("payload is not JSON: %v", err)
			}
			if len(tt.p.Metadata) == 0 {
				tt.p.Metadata = nil
			}
			if diff := cmp.Diff(tt.p, back); diff != "" {
				t.Errorf("payload does not round-trip (-sent +decoded):\n%s", diff)
			}
		})
	}
}

func TestEventPayload(t *testing.T) {
	ts := "1714564800123"
	tests := []struct {
		name string
		hook webhooks.Hook
		ev   webhooks.Event
		want webhooks.Payload
	}{
		{
			name: "no hook metadata",
			hook: webhooks.Hook{Name: "e"},
			ev:   webhooks.Event{Name: "podinfo", Namespace: "test", Phase: "Progressing", Message: "m", Type: webhooks.EventNormal, Time: eventTime},
			want: webhooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Progressing", Metadata: map[string]string{
				"eventMessage": "m", "eventType": "Normal", "timestamp": ts,
			}},
		},
		{
			name: "hook keys are added",
			hook: webhooks.Hook{Name: "e", Metadata: map[string]string{"channel": "#c", "token": "t"}},
			ev:   webhooks.Event{Name: "podinfo", Namespace: "test", Phase: "Failed", Message: "Canary failed", Type: webhooks.EventWarning, Time: eventTime},
			want: webhooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Failed", Metadata: map[string]string{
				"eventMessage": "Canary failed", "eventType": "Warning", "timestamp": ts, "channel": "#c", "token": "t",
			}},
		},
		{
			name: "colliding hook keys lose",
			hook: webhooks.Hook{Name: "e", Metadata: map[string]string{"eventMessage": "x", "eventType": "y", "timestamp": "z", "keep": "k"}},
			ev:   webhooks.Event{Name: "a", Namespace: "b", Phase: "Succeeded", Message: "done", Type: webhooks.EventNormal, Time: eventTime},
			want: webhooks.Payload{Name: "a", Namespace: "b", Phase: "Succeeded", Metadata: map[string]string{
				"eventMessage": "done", "eventType": "Normal", "timestamp": ts, "keep": "k",
			}},
		},
		{
			name: "timestamp is unix milliseconds",
			hook: webhooks.Hook{Name: "e"},
			ev:   webhooks.Event{Message: "", Type: webhooks.EventNormal, Time: time.Unix(1, 999_999_999)},
			want: webhooks.Payload{Metadata: map[string]string{"eventMessage": "", "eventType": "Normal", "timestamp": "1999"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before map[string]string
			if tt.hook.Metadata != nil {
				before = make(map[string]string)
				for k, v := range tt.hook.Metadata {
					before[k] = v
				}
			}
			got := webhooks.EventPayload(tt.hook, tt.ev)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("EventPayload (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.hook.Metadata); diff != "" {
				t.Errorf("EventPayload changed the hook's metadata (-before +after):\n%s", diff)
			}
		})
	}
}

func TestParseTimeout(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "", want: 10 * time.Second},
		{in: "5", want: 10 * time.Second},
		{in: "s", want: 10 * time.Second},
		{in: "1m", want: time.Minute},
		{in: "30s", want: 30 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "0s", want: 0},
		{in: "-1s", want: -time.Second},
		{in: "15", wantErr: `webhook timeout "15": time: missing unit in duration "15"`},
		{in: "ten seconds", wantErr: `webhook timeout "ten seconds": time: invalid duration "ten seconds"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := webhooks.ParseTimeout(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseTimeout(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTimeout(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseTimeout(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestZeroTimeoutMeansDefault: a parsed "0s" means DefaultTimeout, neither
// "wait forever" (Flagger) nor an already expired attempt.
func TestZeroTimeoutMeansDefault(t *testing.T) {
	srv := newServer(t, webhookstest.Options{})
	srv.Script("/hook", webhookstest.Response{Status: 200})
	d, err := webhooks.ParseTimeout("0s")
	if err != nil {
		t.Fatal(err)
	}
	if err := webhooks.New(webhooks.Options{}).Call(t.Context(), webhooks.Hook{Name: "z", URL: srv.URL + "/hook", Timeout: d}, payload()); err != nil {
		t.Fatalf("Call with a zero timeout: %v", err)
	}
}
