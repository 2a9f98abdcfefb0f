package providers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	fp "github.com/fluxcd/flagger/pkg/metrics/providers"
	corev1 "k8s.io/api/core/v1"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/graphite"
	"github.com/augurproj/augur/metrics/influxdb"
)

// realCase is a query both sides send to a real server, and the outcome
// each must give (augur's differs only where docs/compatibility.md says).
type realCase struct {
	name, query, flagger, augur string
}

func runReal(t *testing.T, cases []realCase, flagger func(string) (float64, error), augur func(string) (float64, error)) {
	t.Helper()
	for _, c := range cases {
		fv, ferr := flagger(c.query)
		if ferr != nil {
			t.Logf("%s: flagger: %v", c.name, ferr)
		}
		fo, ao := outcome(fv, ferr), outcome(augur(c.query))
		want := c.augur
		if want == "" {
			want = c.flagger
		}
		if fo != c.flagger || ao != want {
			t.Errorf("%s: flagger %s (expects %s), augur %s (expects %s)", c.name, fo, c.flagger, ao, want)
		} else {
			t.Logf("%s: flagger %s, augur %s", c.name, fo, ao)
		}
	}
}

func suffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestRealGraphite: Flagger's and augur's graphite providers read the same
// points from a real carbon + graphite-web (scripts/graphite-testenv.sh,
// run by scripts/ci-graphite.sh), live (the server's now).
func TestRealGraphite(t *testing.T) {
	web, carbon := os.Getenv("GRAPHITE_URL"), os.Getenv("GRAPHITE_CARBON")
	if web == "" || carbon == "" {
		t.Skip("no Graphite: run under scripts/graphite-testenv.sh (scripts/ci-graphite.sh)")
	}
	if !strings.HasPrefix(web, "http://127.0.0.1:") || !strings.HasPrefix(carbon, "127.0.0.1:") {
		t.Fatalf("GRAPHITE_URL %q / GRAPHITE_CARBON %q are not on loopback", web, carbon)
	}
	prefix := "flagger.t" + suffix(t)
	now := time.Now().Truncate(10 * time.Second)
	var lines strings.Builder
	for i := 1; i <= 30; i++ { // every 10 s from 5 min to 10 s ago
		ts := now.Add(-time.Duration(31-i) * 10 * time.Second).Unix()
		fmt.Fprintf(&lines, "%s.a %d.5 %d\n%s.b %d %d\n", prefix, i, ts, prefix, 100+i, ts)
	}
	conn, err := net.DialTimeout("tcp", carbon, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, lines.String()); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	deadline := time.Now().Add(120 * time.Second)
	for {
		resp, err := http.Get(web + "/render?format=json&from=-10min&target=" + url.QueryEscape(prefix+".*"))
		if err == nil {
			var out []struct {
				Datapoints [][2]*float64 `json:"datapoints"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			n := 0
			for _, s := range out {
				for _, d := range s.Datapoints {
					if d[0] != nil {
						n++
					}
				}
			}
			if err == nil && n == 60 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("graphite-web never served both series")
		}
		time.Sleep(200 * time.Millisecond)
	}
	f, err := fp.NewGraphiteProvider(flaggerv1.MetricTemplateProvider{Type: "graphite", Address: web}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := graphite.New(metrics.Config{Type: graphite.Type, Address: web, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cases := []realCase{
		{"newest point", "target=" + prefix + ".a&from=-15min", "value 30.5", ""},
		{"a function", "target=sumSeries(" + prefix + ".{a,b})&from=-15min", "value 160.5", ""},
		{"summarize (max) over the window", "target=summarize(" + prefix + ".b,'1h','max',false)&from=-15min", "value 130", ""},
		{"two targets", "target=" + prefix + ".*&from=-15min", "value 130", "multiple values"},
		{"no such series", "target=" + prefix + ".none&from=-15min", "no values", ""},
	}
	runReal(t, cases, f.RunQuery, func(q string) (float64, error) { return a.Query(context.Background(), q, time.Time{}) })
	fon, ferr := f.IsOnline()
	if aerr := a.IsOnline(context.Background()); !fon || ferr != nil || aerr != nil {
		t.Errorf("IsOnline: flagger %v %v, augur %v", fon, ferr, aerr)
	}
}

// TestRealInfluxDB: Flagger's influxdb provider (InfluxDB's own Go client)
// and augur's read the same points from a real InfluxDB 1.8 with Flux
// (scripts/influxdb-testenv.sh, run by scripts/ci-influxdb.sh).
func TestRealInfluxDB(t *testing.T) {
	addr, db, user, pass := os.Getenv("INFLUXDB_URL"), os.Getenv("INFLUXDB_DB"), os.Getenv("INFLUXDB_USER"), os.Getenv("INFLUXDB_PASSWORD")
	if addr == "" || db == "" {
		t.Skip("no InfluxDB: run under scripts/influxdb-testenv.sh (scripts/ci-influxdb.sh)")
	}
	if !strings.HasPrefix(addr, "http://127.0.0.1:") {
		t.Fatalf("INFLUXDB_URL %q is not on loopback", addr)
	}
	m := "m" + suffix(t)
	now := time.Now().Truncate(time.Second)
	body := fmt.Sprintf("%s,app=a value=1.5 %d\n%s,app=a value=4.25 %d\n%s,app=b value=10 %d\n%s,app=a n=3i %d\n",
		m, now.Add(-30*time.Minute).Unix(), m, now.Add(-20*time.Second).Unix(), m, now.Add(-20*time.Second).Unix(), m+"i", now.Add(-20*time.Second).Unix())
	q := url.Values{"db": {db}, "precision": {"s"}, "u": {user}, "p": {pass}}
	resp, err := http.Post(addr+"/write?"+q.Encode(), "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %d", resp.StatusCode)
	}
	creds := map[string][]byte{"token": []byte(user + ":" + pass), "org": []byte("ignored")}
	f, err := fp.NewInfluxdbProvider(flaggerv1.MetricTemplateProvider{Type: "influxdb", Address: addr,
		SecretRef: &corev1.LocalObjectReference{Name: "influxdb"}}, creds)
	if err != nil {
		t.Fatal(err)
	}
	a, err := influxdb.New(metrics.Config{Type: influxdb.Type, Address: addr, Timeout: 30 * time.Second, HasSecret: true,
		Credentials: map[string]string{influxdb.TokenKey: user + ":" + pass, influxdb.OrgKey: "ignored"}})
	if err != nil {
		t.Fatal(err)
	}
	from := `from(bucket: "` + db + `/autogen") `
	app := func(x string) string {
		return `|> filter(fn: (r) => r._measurement == "` + m + `" and r.app == "` + x + `") `
	}
	cases := []realCase{
		{"the last point", from + `|> range(start: -1h) ` + app("a") + `|> last()`, "value 4.25", ""},
		{"a mean", from + `|> range(start: -1h) ` + app("a") + `|> mean()`, "value 2.875", ""},
		{"a sum over two series", from + `|> range(start: -5m) |> filter(fn: (r) => r._measurement == "` + m + `") |> group() |> sum()`, "value 14.25", ""},
		// Deliberate differences (docs/compatibility.md, influxdb): Flagger answers 0 for no rows and the first table of several.
		{"no rows", from + `|> range(start: -1h) ` + app("none") + `|> last()`, "value 0", "no values"},
		{"two tables", from + `|> range(start: -5m) |> filter(fn: (r) => r._measurement == "` + m + `") |> last()`, "value 4.25", "multiple values"},
		{"an integer", from + `|> range(start: -5m) |> filter(fn: (r) => r._measurement == "` + m + `i") |> last()`, "error", ""},
	}
	runReal(t, cases, f.RunQuery, func(q string) (float64, error) { return a.Query(context.Background(), q, time.Time{}) })
}
