package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/graphite"
)

// TestGraphite writes points into a real carbon-cache and reads them back
// through augur's graphite provider from a real graphite-web (Debian's
// graphite-carbon and graphite-web, scripts/graphite-testenv.sh; run by
// scripts/ci-graphite.sh). Every expected value is computed from the points
// written: the newest non-null datapoint of the one target in the window
// the query's from= gives before the evaluation time (sent as now=).
func TestGraphite(t *testing.T) {
	web, carbon := os.Getenv("GRAPHITE_URL"), os.Getenv("GRAPHITE_CARBON")
	if web == "" || carbon == "" {
		t.Skip("no Graphite: run under scripts/graphite-testenv.sh (scripts/ci-graphite.sh)")
	}
	if !strings.HasPrefix(web, "http://127.0.0.1:") || !strings.HasPrefix(carbon, "127.0.0.1:") {
		t.Fatalf("GRAPHITE_URL %q / GRAPHITE_CARBON %q are not on loopback", web, carbon)
	}
	ctx := context.Background()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	prefix := "augur.t" + hex.EncodeToString(b)
	const n = 60
	// Ten minutes of 10s points ending a minute ago (whisper keeps 2 days).
	base := time.Now().Add(-(n + 6) * 10 * time.Second).Truncate(10 * time.Second)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * 10 * time.Second) }
	a := func(i int) float64 { return float64(i)*1.5 + 0.25 }
	bv := func(i int) float64 { return 100 - float64(i) }
	gap := func(i int) bool { return i >= 20 && i <= 25 }

	var lines strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&lines, "%s.a.requests %g %d\n", prefix, a(i), at(i).Unix())
		if !gap(i) {
			fmt.Fprintf(&lines, "%s.b.requests %g %d\n", prefix, bv(i), at(i).Unix())
		}
		if i < 10 {
			fmt.Fprintf(&lines, "%s.old.requests %d %d\n", prefix, i, at(i).Unix())
		}
	}
	conn, err := net.DialTimeout("tcp", carbon, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, lines.String()); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	// Carbon answers renders from its cache or the whisper files: wait
	// until graphite-web sees every point of both series.
	waitFor(t, "graphite-web to serve the points", func() error {
		for _, s := range []struct {
			name string
			want int
		}{{"a", n}, {"b", n - 6}, {"old", 10}} {
			got, err := renderCount(ctx, web, prefix+"."+s.name+".requests", base, at(n))
			if err != nil {
				return err
			}
			if got != s.want {
				return fmt.Errorf("%s: %d points of %d", s.name, got, s.want)
			}
		}
		return nil
	})

	p, err := graphite.New(metrics.Config{Type: graphite.Type, Address: web, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Evaluation times fall between points: the window (t-60s, t] then
	// holds six points, the newest at t-5s.
	eval := func(k int) time.Time { return at(k).Add(5 * time.Second) }
	cases := []struct {
		name  string
		query string
		at    time.Time
		want  float64
		err   error
	}{
		{"newest point", "target=" + prefix + ".a.requests&from=-1min", eval(12), a(12), nil},
		{"newest point later", "target=" + prefix + ".a.requests&from=-1min", eval(55), a(55), nil},
		{"newest non-null before a gap", "target=" + prefix + ".b.requests&from=-1min", eval(22), bv(19), nil},
		{"a gap longer than the window", "target=" + prefix + ".b.requests&from=-30s", eval(24), 0, metrics.ErrNoValues},
		{"a server-side function", "target=sumSeries(" + prefix + ".{a,b}.requests)&from=-1min", eval(30), a(30) + bv(30), nil},
		{"scale", "target=scale(" + prefix + ".a.requests,2)&from=-2min", eval(40), 2 * a(40), nil},
		{"a wildcard with two targets", "target=" + prefix + ".*.requests&from=-1min", eval(30), 0, metrics.ErrMultipleValues},
		{"only old points", "target=" + prefix + ".old.requests&from=-1min", eval(30), 0, metrics.ErrNoValues},
		{"no such series", "target=" + prefix + ".none&from=-1min", eval(30), 0, metrics.ErrNoValues},
	}
	for _, c := range cases {
		v, err := p.Query(ctx, c.query, c.at)
		switch {
		case c.err != nil:
			if !errors.Is(err, c.err) {
				t.Errorf("%s: %v %v, want %v", c.name, v, err, c.err)
			}
		case err != nil || v != c.want:
			t.Errorf("%s: %v %v, want %v", c.name, v, err, c.want)
		default:
			t.Logf("%s: %s at %s = %g", c.name, c.query, c.at.Format(time.RFC3339), v)
		}
	}
	if err := p.IsOnline(ctx); err != nil {
		t.Errorf("IsOnline: %v", err)
	}
}

// renderCount counts the non-null datapoints graphite-web returns for a
// series between from and until (graphite-web starts after from: one second earlier).
func renderCount(ctx context.Context, web, target string, from, until time.Time) (int, error) {
	q := url.Values{"target": {target}, "format": {"json"},
		"from": {fmt.Sprint(from.Unix() - 1)}, "until": {fmt.Sprint(until.Unix())}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, web+"/render?"+q.Encode(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out []struct {
		Datapoints [][2]*float64 `json:"datapoints"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("render %s: %w", target, err)
	}
	c := 0
	for _, s := range out {
		for _, d := range s.Datapoints {
			if d[0] != nil {
				c++
			}
		}
	}
	return c, nil
}

// waitFor retries f every 200ms until it succeeds, failing after 120s.
func waitFor(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
