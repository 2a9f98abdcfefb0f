package pluginlog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
)

func TestNewHandlerWritesHCLogJSON(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(&buf, LevelTrace))
	ctx := context.Background()
	l.Log(ctx, LevelTrace, "t")
	l.Debug("d", "k", 1)
	l.Info("i", slog.Group("g", "time", "x", "msg", "y"))
	l.Warn("w")
	l.Error("e", "err", "boom")
	type line struct {
		Level, Message string
		Extra          map[string]any
	}
	var got []line
	for _, raw := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("not JSON: %q", raw)
		}
		ts, ok := m["@timestamp"].(string)
		if !ok {
			t.Fatalf("no @timestamp in %q", raw)
		}
		if _, err := time.Parse(timestampFormat, ts); err != nil {
			t.Errorf("@timestamp %q does not parse with go-plugin's layout: %v", ts, err)
		}
		l := line{Level: m["@level"].(string), Message: m["@message"].(string)}
		delete(m, "@timestamp")
		delete(m, "@level")
		delete(m, "@message")
		if len(m) > 0 {
			l.Extra = m
		}
		got = append(got, l)
	}
	want := []line{
		{"trace", "t", nil},
		{"debug", "d", map[string]any{"k": 1.0}},
		{"info", "i", map[string]any{"g": map[string]any{"time": "x", "msg": "y"}}},
		{"warn", "w", nil},
		{"error", "e", map[string]any{"err": "boom"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, l := range got {
		if hclog.LevelFromString(l.Level) == hclog.NoLevel {
			t.Errorf("hclog does not know level %q", l.Level)
		}
	}
}

func TestNewHandlerLevel(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(&buf, slog.LevelWarn))
	l.Info("dropped")
	l.Warn("kept")
	if strings.Contains(buf.String(), "dropped") || !strings.Contains(buf.String(), "kept") {
		t.Errorf("output %q", buf.String())
	}
}

type rec struct {
	Level slog.Level
	Msg   string
	Attrs map[string]any
}

// recorder keeps records; handlers made by WithAttrs share their root's list.
type recorder struct {
	mu     sync.Mutex
	recs   []rec
	attrs  []slog.Attr
	parent *recorder
}

func (r *recorder) root() *recorder {
	for r.parent != nil {
		r = r.parent
	}
	return r
}

func (r *recorder) all() []rec {
	root := r.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	return append([]rec(nil), root.recs...)
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, x slog.Record) error {
	m := map[string]any{}
	for _, a := range r.attrs {
		m[a.Key] = a.Value.Any()
	}
	x.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.Any(); return true })
	if len(m) == 0 {
		m = nil
	}
	root := r.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	root.recs = append(root.recs, rec{x.Level, x.Message, m})
	return nil
}
func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &recorder{attrs: append(append([]slog.Attr(nil), r.attrs...), as...), parent: r}
}
func (r *recorder) WithGroup(string) slog.Handler { return r }

func TestHCLogAdapter(t *testing.T) {
	root := &recorder{}
	var h hclog.Logger = HCLog(slog.New(root))
	h.Trace("t", "a", 1)
	h.Debug("d")
	h.Info("i")
	h.Warn("w")
	h.Error("e")
	h.Log(hclog.Warn, "lw")
	h.Log(hclog.Off, "never")
	named := h.Named("plugin").Named("stdio").With("pid", 7)
	named.Info("n")
	if named.Name() != "plugin.stdio" {
		t.Errorf("Name() = %q", named.Name())
	}
	if diff := cmp.Diff([]any{"pid", 7}, named.ImpliedArgs()); diff != "" {
		t.Errorf("ImpliedArgs (-want +got):\n%s", diff)
	}
	h.StandardLogger(nil).Print("std line")
	want := []rec{
		{slog.LevelDebug, "t", map[string]any{"a": int64(1)}},
		{slog.LevelDebug, "d", nil},
		{slog.LevelInfo, "i", nil},
		{slog.LevelWarn, "w", nil},
		{slog.LevelError, "e", nil},
		{slog.LevelWarn, "lw", nil},
		{slog.LevelInfo, "n", map[string]any{"logger": "plugin.stdio", "pid": int64(7)}},
		{slog.LevelInfo, "std line", nil},
	}
	if diff := cmp.Diff(want, root.all()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if HCLog(nil).GetLevel() == hclog.Off {
		t.Error("a nil logger must not report Off (go-plugin would skip parsing)")
	}
	HCLog(nil).Info("discarded without panicking")
}
