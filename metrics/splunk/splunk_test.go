package splunk_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/splunk"
)

const token = "SFX-TOKEN-e0c1d2-secret"

// data is a binary data message (SignalFlow's documented layout): header
// version 1, type 5 (data), flags, reserved, channel; timestamp, count and
// 17-byte points of doubles.
func data(ch string, ts uint64, pts ...[2]float64) []byte {
	var b bytes.Buffer
	b.Write([]byte{1, 5, 0, 0})
	var name [16]byte
	copy(name[:], ch)
	b.Write(name[:])
	_ = binary.Write(&b, binary.BigEndian, ts)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(pts)))
	for _, p := range pts {
		b.WriteByte(2)
		_ = binary.Write(&b, binary.BigEndian, int64(p[0]))
		_ = binary.Write(&b, binary.BigEndian, math.Float64bits(p[1]))
	}
	return b.Bytes()
}

// script is what the server sends after the execute message: lines of a
// testdata file (text messages recorded from SignalFlow's API reference)
// and binary messages.
type script []any

type server struct {
	mu   sync.Mutex
	path string
	msgs []string
}

func serve(t *testing.T, s script, hang bool) (string, *server) {
	t.Helper()
	rec := &server{}
	done := make(chan struct{})
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for range 2 {
			_, m, err := conn.ReadMessage()
			if err != nil {
				return
			}
			rec.mu.Lock()
			rec.path = r.URL.Path
			rec.msgs = append(rec.msgs, string(m))
			rec.mu.Unlock()
		}
		if hang {
			<-done
			return
		}
		for _, m := range s {
			switch m := m.(type) {
			case string:
				_ = conn.WriteMessage(websocket.TextMessage, []byte(m))
			case []byte:
				_ = conn.WriteMessage(websocket.BinaryMessage, m)
			}
		}
		_, _, _ = conn.ReadMessage() // until the client closes
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL, rec
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

var at = time.Date(2026, 11, 1, 10, 5, 0, 0, time.UTC)

func provider(t *testing.T, addr string, timeout time.Duration) *splunk.Provider {
	t.Helper()
	p, err := splunk.New(metrics.Config{Type: "splunk", Address: addr, Interval: time.Minute, Timeout: timeout,
		HasSecret: true, Credentials: map[string]string{"sf_token_key": token}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const program = "data('demo.trans.latency').percentile(pct=99).publish()"

func TestQueryWireAndAnswers(t *testing.T) {
	start, end := fixture(t, "job-start.json"), fixture(t, "end-of-channel.json")
	cases := []struct {
		name   string
		script script
		value  float64
		err    error
	}{
		{"newest value", script{start, fixture(t, "metadata.json"), data("ch-1", 1, [2]float64{7, 0.5}), data("ch-1", 2, [2]float64{7, 0.75}), end}, 0.75, nil},
		{"other channel ignored", script{start, data("ch-9", 1, [2]float64{7, 9}), data("ch-1", 1, [2]float64{7, 4}), end}, 4, nil},
		{"no data", script{start, end}, 0, metrics.ErrNoValues},
		{"NaN", script{start, data("ch-1", 1, [2]float64{7, math.NaN()}), end}, 0, metrics.ErrNoValues},
		{"two time series", script{start, data("ch-1", 1, [2]float64{7, 1}, [2]float64{8, 2}), end}, 0, metrics.ErrMultipleValues},
		{"SignalFlow error", script{start, fixture(t, "error.json")}, 0, errAny},
		{"aborted", script{start, data("ch-1", 1, [2]float64{7, 1}), fixture(t, "abort.json")}, 0, errAny},
		{"truncated data", script{start, []byte{1, 5, 0, 0}, end}, 0, errAny},
		{"not JSON", script{start, "<html>", end}, 0, errAny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, rec := serve(t, tc.script, false)
			v, err := provider(t, addr, 5*time.Second).Query(context.Background(), program, at)
			rec.mu.Lock()
			path, msgs := rec.path, rec.msgs
			rec.mu.Unlock()
			if path != "/v2/signalflow/connect" || len(msgs) != 2 {
				t.Fatalf("path %q, messages %q", path, msgs)
			}
			if want := `{"type":"authenticate","token":"` + token + `"}`; msgs[0] != want {
				t.Errorf("authenticate %s, want %s", msgs[0], want)
			}
			want := `{"type":"execute","program":"data('demo.trans.latency').percentile(pct=99).publish()","channel":"ch-1",` +
				`"start":1793526900000,"stop":1793527500000,"resolution":0,"maxDelay":0,"immediate":true,"timezone":""}`
			if msgs[1] != want {
				t.Errorf("execute\n got %s\nwant %s", msgs[1], want)
			}
			switch {
			case tc.err == errAny:
				if err == nil || errors.Is(err, metrics.ErrNoValues) || errors.Is(err, metrics.ErrMultipleValues) {
					t.Errorf("got %v, %v; want an error", v, err)
				}
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Errorf("error %v, want %v", err, tc.err)
				}
			case err != nil || v != tc.value:
				t.Errorf("got %v, %v; want %v", v, err, tc.value)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestTimeout(t *testing.T) {
	addr, _ := serve(t, nil, true)
	_, err := provider(t, addr, 500*time.Millisecond).Query(context.Background(), program, at)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want a deadline", err)
	}
}

func TestEndpoints(t *testing.T) {
	for addr, want := range map[string]string{
		"https://api.us1.signalfx.com":    "wss://stream.us1.signalfx.com/v2/signalflow/connect",
		"wss://stream.eu0.signalfx.com":   "wss://stream.eu0.signalfx.com/v2/signalflow/connect",
		"http://127.0.0.1:8080/sfx-proxy": "ws://127.0.0.1:8080/sfx-proxy/v2/signalflow/connect",
	} {
		p := provider(t, addr, 0)
		if got := p.StreamURL().String(); got != want {
			t.Errorf("%s: stream %s, want %s", addr, got, want)
		}
	}
	for _, tc := range []struct {
		cfg  metrics.Config
		want string
	}{
		{metrics.Config{Type: "splunk", Credentials: map[string]string{"sf_token_key": token}}, "splunk endpoint is not set"},
		{metrics.Config{Type: "splunk", Address: "https://api.us1.signalfx.com"}, "does not contain sf_token_key"},
		{metrics.Config{Type: "splunk", Address: "ftp://x", Credentials: map[string]string{"sf_token_key": token}}, "not a valid URL"},
	} {
		if _, err := splunk.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg.Address, err, tc.want)
		}
	}
}

func TestIsOnline(t *testing.T) {
	for status, online := range map[int]bool{200: true, 401: false} {
		var got *http.Request
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Clone(context.Background())
			w.WriteHeader(status)
			_, _ = w.Write([]byte(r.Header.Get("X-SF-Token"))) // an echoing proxy
		}))
		err := provider(t, srv.URL, 0).IsOnline(context.Background())
		srv.Close()
		if (err == nil) != online {
			t.Errorf("status %d: %v", status, err)
		}
		if got == nil || got.URL.Path != "/v2/metric" || got.URL.RawQuery != "limit=1" || got.Header.Get("X-SF-Token") != token {
			t.Errorf("request %v", got)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

func TestDescribe(t *testing.T) {
	p := provider(t, "https://api.us1.signalfx.com", 0)
	d, err := p.Describe(program)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(d.Body), &body); err != nil || body["program"] != program || body["channel"] != "ch-1" {
		t.Errorf("body %s", d.Body)
	}
	if d.URL != "wss://stream.us1.signalfx.com/v2/signalflow/connect" || !strings.Contains(d.Window, "600000") ||
		strings.Contains(d.URL+d.Body+d.Window, token) {
		t.Errorf("described %+v", d)
	}
}
