package answers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
)

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// fake answers by the minute: NaN at 1, no values at 2, several at 3, a
// plain error at 4, else the minute.
type fake struct{}

func (fake) Query(_ context.Context, q string, at time.Time) (float64, error) {
	switch m := int(at.Sub(t0) / time.Minute); m {
	case 1:
		return math.NaN(), nil
	case 2:
		return 0, fmt.Errorf("x query %q: %w", q, metrics.ErrNoValues)
	case 3:
		return 0, fmt.Errorf("x query %q: 2 series: %w", q, metrics.ErrMultipleValues)
	case 4:
		return 0, errors.New("error response: 503 Service Unavailable: restarting")
	default:
		return float64(m), nil
	}
}

func TestRoundTrip(t *testing.T) {
	cfg := metrics.Config{Type: "datadog", Address: "https://dd.example", Credentials: map[string]string{"datadog_api_key": "sekrit"}}
	rec := NewRecorder(time.Minute)
	p := rec.Wrap(cfg, fake{})
	type ans struct {
		v   float64
		err error
	}
	want := map[time.Time]ans{}
	for i := 0; i <= 6; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		v, err := p.Query(context.Background(), "q", at)
		want[at] = ans{v, err}
	}
	var buf bytes.Buffer
	if err := rec.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "sekrit") {
		t.Fatal("the recording holds a credential")
	}
	set, err := Load(buf.Bytes(), "rec.json")
	if err != nil {
		t.Fatal(err)
	}
	r := &metrics.Registry{}
	set.Register(r)
	rp, err := r.New(metrics.Config{Type: "datadog", Address: "https://dd.example"})
	if err != nil {
		t.Fatal(err)
	}
	for at, w := range want {
		// The recorded time and any time before the next step get its answer.
		for _, d := range []time.Duration{0, 59 * time.Second} {
			v, err := rp.Query(context.Background(), "q", at.Add(d))
			switch {
			case w.err == nil && math.IsNaN(w.v):
				if err != nil || !math.IsNaN(v) {
					t.Errorf("%s: %v %v, want NaN", at, v, err)
				}
			case w.err == nil:
				if err != nil || v != w.v {
					t.Errorf("%s: %v %v, want %v", at, v, err, w.v)
				}
			default:
				if err == nil || err.Error() != w.err.Error() {
					t.Errorf("%s: err %v, want %v", at, err, w.err)
				}
				for _, s := range []error{metrics.ErrNoValues, metrics.ErrMultipleValues} {
					if errors.Is(err, s) != errors.Is(w.err, s) {
						t.Errorf("%s: errors.Is(%v, %v) differs from the live error", at, err, s)
					}
				}
			}
		}
	}
	for _, c := range []struct {
		cfg   metrics.Config
		query string
		at    time.Time
		want  string
	}{
		{metrics.Config{Type: "datadog", Address: "https://dd.example"}, "q", t0.Add(-time.Second), "not in the answers recording"},
		{metrics.Config{Type: "datadog", Address: "https://dd.example"}, "q", t0.Add(7 * time.Minute), "not in the answers recording"},
		{metrics.Config{Type: "datadog", Address: "https://dd.example"}, "other", t0, "not in the answers recording"},
		{metrics.Config{Type: "datadog", Address: "https://other.example"}, "q", t0, "not in the answers recording"},
		{metrics.Config{Type: "datadog", Address: "https://dd.example"}, "q", time.Time{}, "needs an evaluation time"},
	} {
		p, _ := r.New(c.cfg)
		if _, err := p.Query(context.Background(), c.query, c.at); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v %q at %s: %v, want %q", c.cfg.Address, c.query, c.at, err, c.want)
		}
	}
	if got := set.Types(); len(got) != 1 || got[0] != "datadog" {
		t.Errorf("types %v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{}`, `format ""`},
		{`{"format":"augur.answers/v1","step":"0s","answers":[]}`, "step 0s must be positive"},
		{`{"format":"augur.answers/v1","step":"1m","answers":[{"type":"x","query":"q"}]}`, "type, query and at are required"},
		{`{"format":"augur.answers/v1","step":"1m","answers":[{"type":"x","query":"q","at":"2026-11-01T10:00:00Z","value":"high"}]}`, `value "high"`},
		{`{"format":"augur.answers/v1","step":"1m","answers":[{"type":"x","query":"q","at":"2026-11-01T10:00:00Z","value":"1","error":"e","errorKind":"error"}]}`, "both a value and an error"},
		{`{"format":"augur.answers/v1","step":"1m","answers":[{"type":"x","query":"q","at":"2026-11-01T10:00:00Z","error":"e","errorKind":"odd"}]}`, `errorKind "odd"`},
		{`{"format":"augur.answers/v1","step":"1m","answers":[{"type":"x","query":"q","at":"2026-11-01T10:00:00Z","value":"1"},{"type":"x","query":"q","at":"2026-11-01T10:00:00Z","value":"2"}]}`, "two answers"},
		{`{"format":"augur.answers/v1","step":"1m","extra":1}`, "unknown field"},
		{`# EOF`, "not an answers recording"},
	} {
		if _, err := Load([]byte(c.doc), "f.json"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.doc, err, c.want)
		}
	}
}

func TestAppendTo(t *testing.T) {
	path := t.TempDir() + "/a.json"
	cfg := metrics.Config{Type: "keptn"}
	for i := 0; i < 3; i++ {
		r, err := AppendTo(path, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		now := t0.Add(time.Duration(i) * time.Minute)
		// A live query (zero time) is recorded at the evaluation's time.
		if _, err := r.WrapAt(cfg, fake{}, now).Query(context.Background(), "q", time.Time{}); err != nil && i == 0 {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := r.Write(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(path)
	set, err := Load(b, path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.series[key{"keptn", "", "q", 0}]); n != 3 {
		t.Errorf("%d answers after three appends, want 3", n)
	}
	if _, err := AppendTo(path, 2*time.Minute); err == nil || !strings.Contains(err.Error(), "recorded every 1m0s") {
		t.Errorf("another step: %v", err)
	}
}
