package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/influxdb"
)

// TestInfluxDB writes points into a real InfluxDB (1.8 with Flux, built
// from its Go module by scripts/influxdb-testenv.sh; run by
// scripts/ci-influxdb.sh) and reads them through augur's influxdb provider
// with Flux over POST /api/v2/query: values computed from the points
// written, the result shapes augur refuses, credentials, and the past-time
// guard (1.8 ignores the API's "now").
func TestInfluxDB(t *testing.T) {
	addr, db, user, pass := os.Getenv("INFLUXDB_URL"), os.Getenv("INFLUXDB_DB"), os.Getenv("INFLUXDB_USER"), os.Getenv("INFLUXDB_PASSWORD")
	if addr == "" || db == "" {
		t.Skip("no InfluxDB: run under scripts/influxdb-testenv.sh (scripts/ci-influxdb.sh)")
	}
	if !strings.HasPrefix(addr, "http://127.0.0.1:") {
		t.Fatalf("INFLUXDB_URL %q is not on loopback", addr)
	}
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	// Points: app a at -30m (1.5), -10m (2.5), -20s (4); app b at -20s (10); an integer field.
	// Every window below leaves minutes of margin for a slow machine.
	var lines strings.Builder
	for _, p := range []struct {
		line string
		ago  time.Duration
	}{
		{"req,app=a value=1.5", 30 * time.Minute}, {"req,app=a value=2.5", 10 * time.Minute}, {"req,app=a value=4", 20 * time.Second},
		{"req,app=b value=10", 20 * time.Second}, {"cnt,app=a n=3i", 20 * time.Second},
	} {
		fmt.Fprintf(&lines, "%s %d\n", p.line, now.Add(-p.ago).Unix())
	}
	q := url.Values{"db": {db}, "precision": {"s"}, "u": {user}, "p": {pass}}
	resp, err := http.Post(addr+"/write?"+q.Encode(), "text/plain", strings.NewReader(lines.String()))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d %s", resp.StatusCode, body)
	}

	secret := metrics.Config{Type: influxdb.Type, Address: addr, Timeout: 30 * time.Second, HasSecret: true,
		Credentials: map[string]string{influxdb.TokenKey: user + ":" + pass, influxdb.OrgKey: "ignored-by-1.8"}}
	p, err := influxdb.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	from := `from(bucket: "` + db + `/autogen") `
	a := `|> filter(fn: (r) => r._measurement == "req" and r.app == "a" and r._field == "value") `
	cases := []struct {
		name, flux string
		want       float64
		err        error
		text       string
	}{
		{"the last point", from + `|> range(start: -1h) ` + a + `|> last()`, 4, nil, ""},
		{"a mean", from + `|> range(start: -1h) ` + a + `|> mean()`, (1.5 + 2.5 + 4) / 3, nil, ""},
		{"the window's first point", from + `|> range(start: -15m) ` + a + `|> first()`, 2.5, nil, ""},
		{"a sum over both apps", from + `|> range(start: -5m) |> filter(fn: (r) => r._measurement == "req") |> group() |> sum()`, 14, nil, ""},
		{"no rows", from + `|> range(start: -1h) |> filter(fn: (r) => r.app == "none") |> last()`, 0, metrics.ErrNoValues, ""},
		{"two tables", from + `|> range(start: -5m) |> filter(fn: (r) => r._measurement == "req") |> last()`, 0, metrics.ErrMultipleValues, ""},
		{"an integer", from + `|> range(start: -5m) |> filter(fn: (r) => r._measurement == "cnt") |> last()`, 0, nil, "is a long, want a double"},
		{"an integer made a double", from + `|> range(start: -5m) |> filter(fn: (r) => r._measurement == "cnt") |> toFloat() |> last()`, 3, nil, ""},
		{"a Flux error", from + `|> range(start: -5m) |> nosuchfunction()`, 0, nil, "nosuchfunction"},
	}
	for _, c := range cases {
		v, err := p.Query(ctx, c.flux, time.Time{})
		switch {
		case c.err != nil:
			if !errors.Is(err, c.err) {
				t.Errorf("%s: %v %v, want %v", c.name, v, err, c.err)
			}
		case c.text != "":
			if err == nil || !strings.Contains(err.Error(), c.text) {
				t.Errorf("%s: %v %v, want an error with %q", c.name, v, err, c.text)
			}
		case err != nil || v != c.want:
			t.Errorf("%s: %v %v, want %v", c.name, v, err, c.want)
		default:
			t.Logf("%s = %g", c.name, v)
		}
		if err != nil && strings.Contains(err.Error(), pass) {
			t.Errorf("%s: the error shows the password", c.name)
		}
	}

	// InfluxDB 1.8 ignores the query API's "now": an evaluation time in the
	// past would be answered for the server's now. augur refuses the answer.
	_, err = p.Query(ctx, from+`|> range(start: -15m) `+a+`|> last()`, now.Add(-5*time.Minute))
	if err == nil || !strings.Contains(err.Error(), "the server ignored the evaluation time") {
		t.Errorf("a past evaluation time: %v, want the refusal", err)
	}

	// Credentials: none, or a wrong password, is the server's 401.
	for name, cfg := range map[string]metrics.Config{
		"no secret":      {Type: influxdb.Type, Address: addr, Timeout: 30 * time.Second},
		"wrong password": {Type: influxdb.Type, Address: addr, Timeout: 30 * time.Second, HasSecret: true, Credentials: map[string]string{influxdb.TokenKey: user + ":wrong-password-x", influxdb.OrgKey: "o"}},
	} {
		q, err := influxdb.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.Query(ctx, from+`|> range(start: -15m) `+a+`|> last()`, time.Time{}); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("%s: %v, want a 401", name, err)
		}
	}
	// Flagger's IsOnline probe reads bucket "default": an error on a 1.8
	// server without a database "default", online once it exists.
	if err := p.IsOnline(ctx); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("IsOnline without a bucket \"default\": %v, want the server's error", err)
	}
	q = url.Values{"q": {`CREATE DATABASE "default"`}, "u": {user}, "p": {pass}}
	resp, err = http.Post(addr+"/query?"+q.Encode(), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "error") {
		t.Fatalf("CREATE DATABASE: %d %s", resp.StatusCode, body)
	}
	if err := p.IsOnline(ctx); err != nil {
		t.Errorf("IsOnline with a bucket \"default\": %v", err)
	}
}
