package providers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	fp "github.com/fluxcd/flagger/pkg/metrics/providers"
	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/vendors"
)

const sfToken = "sf-token-secret-0001"

// frame is one websocket message the SignalFlow server sends.
type frame struct {
	binary bool
	data   []byte
}

func text(s string) frame { return frame{data: []byte(s)} }

const (
	sfJobStart = `{"type":"control-message","channel":"ch-1","event":"JOB_START","handle":"FxYzAbCdEfG","timestampMs":1793527500000}`
	sfEnd      = `{"type":"control-message","channel":"ch-1","event":"END_OF_CHANNEL","timestampMs":1793527500100}`
	sfAbort    = `{"type":"control-message","channel":"ch-1","event":"CHANNEL_ABORT","timestampMs":1793527500100,"abortInfo":{"sf_job_abortReason":"Job exceeded its quota","sf_job_abortState":"FAILED"}}`
	sfAuthOK   = `{"type":"authenticated","orgId":"AbCdEf","userId":"GhIjKl"}`
	sfError    = `{"type":"error","channel":"ch-1","error":400,"errorType":"ANALYTICS_PROGRAM_NAME_ERROR","message":"Unable to find function: dataa"}`
)

// sfPoint is one point of a data message: value type (1 long, 2 double,
// 3 int32), TSID and value.
type sfPoint struct {
	typ  byte
	tsid int64
	v    float64
}

// sfData is a binary data message for channel ch-1 as SignalFlow encodes it
// (the signalflow client's messages/binary.go is the reference).
func sfData(gz bool, ts uint64, pts ...sfPoint) frame {
	var body bytes.Buffer
	_ = binary.Write(&body, binary.BigEndian, ts)
	_ = binary.Write(&body, binary.BigEndian, uint32(len(pts)))
	for _, p := range pts {
		body.WriteByte(p.typ)
		_ = binary.Write(&body, binary.BigEndian, p.tsid)
		var val [8]byte
		switch p.typ {
		case 1:
			binary.BigEndian.PutUint64(val[:], uint64(int64(p.v)))
		case 3:
			binary.BigEndian.PutUint32(val[:4], uint32(int32(p.v)))
		default:
			binary.BigEndian.PutUint64(val[:], math.Float64bits(p.v))
		}
		body.Write(val[:])
	}
	flags := byte(0)
	payload := body.Bytes()
	if gz {
		flags = 1
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		_, _ = w.Write(payload)
		_ = w.Close()
		payload = z.Bytes()
	}
	head := []byte{1, 5, flags, 0}
	var ch [16]byte
	copy(ch[:], "ch-1")
	return frame{binary: true, data: append(append(head, ch[:]...), payload...)}
}

// sfShape is one SignalFlow answer: an HTTP status refusing the upgrade, or
// the frames sent after the execute message (then the connection is kept
// open, or closed when drop is set, or nothing is sent when hang is set).
type sfShape struct {
	name    string
	refuse  int
	frames  []frame
	drop    bool
	hang    bool
	flagger string
	augur   string
	why     string
}

// sfMessage is a text message a client sent.
type sfMessage struct {
	Path string
	Body string
	At   time.Time
}

// sfServer is a loopback SignalFlow websocket server (and the metric API
// IsOnline calls) that records what clients send.
type sfServer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []sfMessage
	gets []request
	done chan struct{}
}

func newSFServer(t *testing.T, s sfShape, apiStatus int) *sfServer {
	t.Helper()
	b := &sfServer{done: make(chan struct{})}
	up := websocket.Upgrader{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !websocket.IsWebSocketUpgrade(r) {
			b.mu.Lock()
			b.gets = append(b.gets, request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), At: time.Now()})
			b.mu.Unlock()
			w.WriteHeader(apiStatus)
			_, _ = w.Write([]byte(`{"count":1,"results":[{"name":"cpu.utilization"}]}`))
			return
		}
		if s.refuse != 0 {
			http.Error(w, `{"message":"refused"}`, s.refuse)
			return
		}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		read := func() bool {
			_, m, err := conn.ReadMessage()
			if err != nil {
				return false
			}
			b.mu.Lock()
			b.msgs = append(b.msgs, sfMessage{Path: r.URL.Path, Body: string(m), At: time.Now()})
			b.mu.Unlock()
			return true
		}
		if !read() { // authenticate
			return
		}
		_ = conn.WriteMessage(websocket.TextMessage, []byte(sfAuthOK))
		if !read() { // execute
			return
		}
		// Answer after a pause: Flagger's signalflow client registers the
		// channel only after sending execute, and deadlocks (its
		// handleMessage keeps its lock) on a message for a channel not yet
		// registered. flaggerSplunkRun retries the rare run that still hits it.
		select {
		case <-time.After(100 * time.Millisecond):
		case <-b.done:
			return
		}
		if s.hang {
			select {
			case <-b.done:
			case <-time.After(20 * time.Second):
			}
			return
		}
		for _, f := range s.frames {
			typ := websocket.TextMessage
			if f.binary {
				typ = websocket.BinaryMessage
			}
			if conn.WriteMessage(typ, f.data) != nil {
				return
			}
		}
		if s.drop {
			return
		}
		// Keep the connection until the client closes it (Flagger's
		// client never does) or the test ends.
		go func() {
			<-b.done
			_ = conn.Close()
		}()
		for read() {
		}
	}))
	t.Cleanup(func() { close(b.done); b.srv.Close() })
	return b
}

// executes returns the execute messages received since the last call.
func (b *sfServer) take() (auth, exec []sfMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.msgs {
		var v struct{ Type string }
		_ = json.Unmarshal([]byte(m.Body), &v)
		switch v.Type {
		case "authenticate":
			auth = append(auth, m)
		case "execute":
			exec = append(exec, m)
		}
	}
	b.msgs = nil
	return auth, exec
}

func flaggerSplunk(t *testing.T, addr, interval string) *fp.SplunkProvider {
	t.Helper()
	p, err := fp.NewSplunkProvider(interval, flaggerv1.MetricTemplateProvider{Type: "splunk", Address: addr,
		SecretRef: &corev1.LocalObjectReference{Name: "splunk"}}, map[string][]byte{"sf_token_key": []byte(sfToken)})
	if err != nil {
		t.Fatalf("flagger splunk provider: %v", err)
	}
	return p
}

// flaggerSplunkRun runs Flagger's query against a fresh server for shape
// (up to 3 servers: see newSFServer on the client's deadlock) and returns
// the server it completed on and its outcome.
func flaggerSplunkRun(t *testing.T, shape sfShape, prefix, interval, q string) (*sfServer, string) {
	t.Helper()
	for range 3 {
		b := newSFServer(t, shape, 200)
		p := flaggerSplunk(t, b.srv.URL+prefix, interval)
		done := make(chan string, 1)
		go func() { done <- outcome(p.RunQuery(q)) }()
		select {
		case o := <-done:
			return b, o
		case <-time.After(30 * time.Second):
			t.Logf("Flagger's signalflow client deadlocked (a message before its channel was registered); retrying on a new server")
		}
	}
	t.Fatalf("Flagger's signalflow client deadlocked 3 times")
	return nil, ""
}

func augurSplunk(t *testing.T, addr string, interval, timeout time.Duration) metrics.Provider {
	t.Helper()
	r := &metrics.Registry{}
	vendors.Register(r)
	p, err := r.New(metrics.Config{Type: "splunk", Address: addr, Interval: interval, Timeout: timeout, HasSecret: true,
		Credentials: map[string]string{"sf_token_key": sfToken}})
	if err != nil {
		t.Fatalf("augur splunk provider: %v", err)
	}
	return p
}

const sfQuery = `data('demo.trans.latency', filter=filter('demo_datacenter', 'Paris')).percentile(pct=99).publish()`

var sfQueries = []string{
	sfQuery,
	"A = data('requests', filter=filter('status', '5*')).sum()\nB = data('requests').sum()\n(A/B*100).publish(label=\"<err%> & co\")",
}

func double(tsid int64, v float64) sfPoint { return sfPoint{2, tsid, v} }

var sfShapes = []sfShape{
	{name: "value", frames: []frame{text(sfJobStart), sfData(false, 1793527440000, double(7, 1.5)), text(sfEnd)}, flagger: "value 1.5"},
	{name: "several points", frames: []frame{text(sfJobStart), sfData(false, 1793527380000, double(7, 0.5)),
		sfData(false, 1793527440000, double(7, 0.75)), text(sfEnd)}, flagger: "value 0.75"},
	{name: "long", frames: []frame{text(sfJobStart), sfData(false, 1, sfPoint{1, 7, 42}), text(sfEnd)}, flagger: "value 42"},
	{name: "int32", frames: []frame{text(sfJobStart), sfData(false, 1, sfPoint{3, 7, -3}), text(sfEnd)}, flagger: "value -3"},
	{name: "compressed", frames: []frame{text(sfJobStart), sfData(true, 1, double(7, 2.25)), text(sfEnd)}, flagger: "value 2.25"},
	{name: "empty", frames: []frame{text(sfJobStart), text(sfEnd)}, flagger: "no values"},
	{name: "unknown value type", frames: []frame{text(sfJobStart), sfData(false, 1, sfPoint{9, 7, 1}), text(sfEnd)}, flagger: "no values"},
	{name: "several series", frames: []frame{text(sfJobStart), sfData(false, 1, double(7, 1), double(8, 2)), text(sfEnd)}, flagger: "multiple values"},
	{name: "several series over time", frames: []frame{text(sfJobStart), sfData(false, 1, double(7, 1)), sfData(false, 2, double(8, 2)), text(sfEnd)},
		flagger: "multiple values"},
	{name: "NaN", frames: []frame{text(sfJobStart), sfData(false, 1, double(7, math.NaN())), text(sfEnd)},
		flagger: "value NaN", augur: "no values", why: "NaN → no values"},
	{name: "malformed data", frames: []frame{text(sfJobStart), {binary: true, data: []byte{1, 5, 0, 0, 'c', 'h'}}, text(sfEnd)},
		flagger: "no values", augur: "error", why: "an error in the answer → error"},
	{name: "SignalFlow error", frames: []frame{text(sfJobStart), text(sfError)}, flagger: "error"},
	{name: "aborted", frames: []frame{text(sfJobStart), sfData(false, 1, double(7, 3)), text(sfAbort)},
		flagger: "value 3", augur: "error", why: "an aborted computation or a lost connection → error"},
	{name: "connection lost", frames: []frame{text(sfJobStart), sfData(false, 1, double(7, 3))}, drop: true,
		flagger: "value 3", augur: "error", why: "an aborted computation or a lost connection → error"},
	{name: "status Unauthorized", refuse: 401,
		flagger: "timeout", augur: "error", why: "a refused websocket → error"},
	{name: "status Service Unavailable", refuse: 503,
		flagger: "timeout", augur: "error", why: "a refused websocket → error"},
}

// TestSplunkAnswers: the same messages on the wire and the same outcome per
// answer shape, or the documented difference.
func TestSplunkAnswers(t *testing.T) {
	for _, s := range sfShapes {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			b, fo := flaggerSplunkRun(t, s, "", "1m", sfQuery)
			ao := outcome(augurSplunk(t, b.srv.URL, time.Minute, 0).Query(context.Background(), sfQuery, time.Time{}))
			auth, exec := b.take()
			if s.refuse == 0 {
				if len(exec) != 2 {
					t.Fatalf("server saw %d execute messages, want 2", len(exec))
				}
				sameSignalFlow(t, auth, exec[0], exec[1])
			}
			if fo != s.flagger {
				t.Errorf("flagger: %s, the case expects %s", fo, s.flagger)
			}
			want := fo
			if s.augur != "" {
				want = s.augur
				if s.why == "" {
					t.Fatalf("a deliberate difference must name its docs/compatibility.md row")
				}
			}
			if ao != want {
				t.Errorf("augur: %s, want %s (flagger: %s)", ao, want, fo)
			}
		})
	}
}

// TestSplunkTimeout: a server that never answers the execute message.
// Flagger's client waits for its websocket read timeout (one minute) and
// then reads the lost connection as the end of the data; augur gives up at
// the provider timeout (docs/compatibility.md, splunk row). Flagger's side
// is not run.
func TestSplunkTimeout(t *testing.T) {
	b := newSFServer(t, sfShape{name: "timeout", hang: true}, 200)
	if o := outcome(augurSplunk(t, b.srv.URL, time.Minute, time.Second).Query(context.Background(), sfQuery, time.Time{})); o != "timeout" {
		t.Errorf("augur: %s, want timeout", o)
	}
}

// TestSplunkRequests: the same connect path and messages for every query,
// interval and address form.
func TestSplunkRequests(t *testing.T) {
	ok := sfShape{frames: []frame{text(sfJobStart), sfData(false, 1, double(7, 2)), text(sfEnd)}}
	for _, q := range sfQueries {
		for _, iv := range []string{"30s", "1m", "5m", "1h"} {
			for _, prefix := range []string{"", "/proxy/sfx"} {
				d, err := time.ParseDuration(iv)
				if err != nil {
					t.Fatal(err)
				}
				b, fo := flaggerSplunkRun(t, ok, prefix, iv, q)
				ao := outcome(augurSplunk(t, b.srv.URL+prefix, d, 0).Query(context.Background(), q, time.Time{}))
				auth, exec := b.take()
				t.Run("", func(t *testing.T) {
					t.Logf("%q interval %s prefix %q", q, iv, prefix)
					if len(exec) != 2 {
						t.Fatalf("server saw %d execute messages, want 2", len(exec))
					}
					if exec[0].Path != prefix+"/v2/signalflow/connect" {
						t.Errorf("connect path %q", exec[0].Path)
					}
					sameSignalFlow(t, auth, exec[0], exec[1])
					if fo != ao || fo != "value 2" {
						t.Errorf("outcome: flagger %s, augur %s", fo, ao)
					}
				})
			}
		}
	}
}

// TestSplunkIsOnline: the same validation request; 200 online, 401 not.
func TestSplunkIsOnline(t *testing.T) {
	for _, status := range []int{200, 401} {
		b := newSFServer(t, sfShape{}, status)
		fok, ferr := flaggerSplunk(t, b.srv.URL, "1m").IsOnline()
		aerr := augurSplunk(t, b.srv.URL, time.Minute, 0).(interface{ IsOnline(context.Context) error }).IsOnline(context.Background())
		online := status == 200
		if fok != online || (ferr == nil) != online || (aerr == nil) != online {
			t.Errorf("status %d: flagger %v %v, augur %v", status, fok, ferr, aerr)
		}
		b.mu.Lock()
		gets := b.gets
		b.mu.Unlock()
		if len(gets) != 2 {
			t.Fatalf("server saw %d requests, want 2", len(gets))
		}
		sameRequest(t, vendor{typ: "splunk", headers: []string{"X-SF-Token"}}, gets[0], gets[1])
	}
}

// sameSignalFlow: the same connect path, authenticate message and execute
// message (program, channel, flags), the window's length, and its stop
// within 5 s once the time between the two messages is taken away.
func sameSignalFlow(t *testing.T, auth []sfMessage, f, a sfMessage) {
	t.Helper()
	if len(auth) < 2 {
		t.Fatalf("%d authenticate messages, want one per side", len(auth))
	}
	if auth[0].Body != auth[1].Body || auth[0].Body != `{"type":"authenticate","token":"`+sfToken+`"}` {
		t.Errorf("authenticate: flagger %s, augur %s", auth[0].Body, auth[1].Body)
	}
	if f.Path != a.Path {
		t.Errorf("connect path: flagger %q, augur %q", f.Path, a.Path)
	}
	type exec struct {
		Start, Stop int64
	}
	var fe, ae exec
	if json.Unmarshal([]byte(f.Body), &fe) != nil || json.Unmarshal([]byte(a.Body), &ae) != nil {
		t.Fatalf("execute messages are not JSON: %s / %s", f.Body, a.Body)
	}
	if fe.Stop-fe.Start != ae.Stop-ae.Start {
		t.Errorf("window length: flagger %d ms, augur %d ms", fe.Stop-fe.Start, ae.Stop-ae.Start)
	}
	gap := a.At.Sub(f.At).Milliseconds()
	if d := ae.Stop - fe.Stop - gap; d < -5000 || d > 5000 {
		t.Errorf("window end: flagger %d, augur %d, messages %d ms apart", fe.Stop, ae.Stop, gap)
	}
	strip := func(s string, e exec) string {
		s = string(bytes.Replace([]byte(s), []byte(`"start":`+strconv.FormatInt(e.Start, 10)), []byte(`"start":S`), 1))
		return string(bytes.Replace([]byte(s), []byte(`"stop":`+strconv.FormatInt(e.Stop, 10)), []byte(`"stop":T`), 1))
	}
	if strip(f.Body, fe) != strip(a.Body, ae) {
		t.Errorf("execute (window aside):\nflagger %s\naugur   %s", strip(f.Body, fe), strip(a.Body, ae))
	}
}
