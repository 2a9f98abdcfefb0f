package recorded

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRegistry(t *testing.T) {
	path := writeFile(t, "data.om", "# TYPE up gauge\nup 1 60\nup 0 75\n# EOF\n")
	var reg metrics.Registry
	cache := Register(&reg, Options{})
	if got := reg.Types(); len(got) != 1 || got[0] != Type {
		t.Fatalf("Types = %v, want [%s]", got, Type)
	}
	p, err := reg.New(metrics.Config{Type: Type, Address: path})
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Query(context.Background(), "up", time.Time{})
	if err != nil || v != 1 {
		t.Fatalf("Query(up) = %v, %v; want 1 (at EvalTime: the newest sample's whole minute, 60s)", v, err)
	}

	same := []metrics.Config{
		{Type: Type, Address: path},
		{Type: Type, Address: "file://" + path},
		{Type: Type, Address: filepath.Join(filepath.Dir(path), ".", "data.om"), Headers: map[string][]string{"X": {"y"}}},
	}
	for _, cfg := range same {
		t.Run("shared/"+cfg.Address, func(t *testing.T) {
			q, err := cache.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if q != p {
				t.Errorf("New(%q) built a second provider", cfg.Address)
			}
		})
	}
	t.Run("other timeout shares the store", func(t *testing.T) {
		q, err := cache.New(metrics.Config{Type: Type, Address: path, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if q == p || q.(*Provider).Store() != p.(*Provider).Store() {
			t.Errorf("want a second provider over the same store")
		}
		if q.(*Provider).timeout != time.Second {
			t.Errorf("timeout = %s, want 1s", q.(*Provider).timeout)
		}
	})
}

func TestRegistryErrors(t *testing.T) {
	bad := writeFile(t, "bad.om", "up 1 60\n")
	missing := filepath.Join(t.TempDir(), "missing.om")
	tests := []struct {
		name    string
		address string
		wantErr string
	}{
		{"empty", "", "recorded provider: recorded address is empty (want the path of an OpenMetrics file)"},
		{"http", "http://prometheus:9090", `recorded provider: recorded address "http://prometheus:9090" is not a file path (want the path of an OpenMetrics file)`},
		{"missing", missing, "recorded provider: recorded data: open " + missing + ": no such file or directory"},
		{"bad data", bad, "recorded provider: " + bad + ": line 2: data does not end with # EOF (" + wantedFormat + ")"},
	}
	var reg metrics.Registry
	Register(&reg, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := reg.New(metrics.Config{Type: Type, Address: tt.address})
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("error:\n got %v\nwant %s", err, tt.wantErr)
			}
		})
	}
	t.Run("a failed load is retried", func(t *testing.T) {
		c := NewCache(Options{})
		path := writeFile(t, "later.om", "up 1 60\n")
		if _, err := c.New(metrics.Config{Address: path}); err == nil {
			t.Fatal("want an error for a file without # EOF")
		}
		if err := os.WriteFile(path, []byte("up 1 60\n# EOF\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := c.New(metrics.Config{Address: path}); err != nil {
			t.Fatalf("after fixing the file: %v", err)
		}
	})
}

func TestCacheConcurrent(t *testing.T) {
	path := writeFile(t, "data.om", "up 1 60\n# EOF\n")
	c := NewCache(Options{})
	var wg sync.WaitGroup
	got := make([]metrics.Provider, 16)
	errs := make([]error, 16)
	for i := range got {
		wg.Go(func() {
			got[i], errs[i] = c.New(metrics.Config{Address: path})
			if errs[i] == nil {
				_, errs[i] = got[i].Query(context.Background(), "up", time.Time{})
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, p := range got {
		if p != got[0] {
			t.Errorf("provider %d differs from provider 0", i)
		}
	}
}

// TestDependencies keeps the recorded provider light: Prometheus's tsdb
// package (and with it the cloud service-discovery SDKs) must stay out.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps returned only %d packages; the check would be vacuous", len(deps))
	}
	banned := func(d string) bool {
		return d == "github.com/prometheus/prometheus/tsdb" ||
			strings.HasPrefix(d, "github.com/prometheus/prometheus/discovery") ||
			strings.HasPrefix(d, "github.com/prometheus/prometheus/config") ||
			strings.HasPrefix(d, "cloud.google.com/") ||
			strings.Contains(d, "aws-sdk") ||
			strings.HasPrefix(d, "github.com/Azure/")
	}
	found := false
	for _, d := range deps {
		if banned(d) {
			t.Errorf("metrics/recorded depends on %s", d)
		}
		found = found || d == "github.com/prometheus/prometheus/promql"
	}
	if !found {
		t.Errorf("go list -deps does not list promql; the check would be vacuous")
	}
}

// TestEvalTime pins augur's one evaluation-time rule for recorded data.
func TestEvalTime(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-01T10:29:52Z": "2026-11-01T10:29:00Z",
		"2026-11-01T10:30:00Z": "2026-11-01T10:30:00Z",
	} {
		end, _ := time.Parse(time.RFC3339, in)
		if got := EvalTime(end).Format(time.RFC3339); got != want {
			t.Errorf("EvalTime(%s) = %s, want %s", in, got, want)
		}
	}
	if !EvalTime(time.Time{}).IsZero() {
		t.Error("EvalTime(zero) is not zero")
	}
}
