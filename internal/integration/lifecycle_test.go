package integration

import (
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestIntegrationServerLifecycle checks the launcher: a started server is a
// live process answering on 127.0.0.1 with its own config, and Stop ends it
// and removes its state; bad data files are refused with the file named.
func TestIntegrationServerLifecycle(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	script := filepath.Join(root, TestenvScript)

	t.Run("start-stop", func(t *testing.T) {
		s, err := StartServer(t.Context(), script, filepath.Join(root, podinfoDir, "healthy.om"))
		if err != nil {
			t.Fatalf("the real Prometheus server did not start: %v", err)
		}
		stopped := false
		t.Cleanup(func() {
			if !stopped {
				ctx, cancel := cleanupContext(t)
				defer cancel()
				_ = s.Stop(ctx)
			}
		})
		if !s.Alive() {
			t.Fatalf("pid %d is not running", s.PID)
		}
		if status, body := httpGet(t, s.URL+"/-/ready"); status != 200 {
			t.Fatalf("/-/ready: %d %s", status, body)
		}
		// Its own config: no scrape jobs, so no targets at all.
		if _, body := httpGet(t, s.URL+"/api/v1/targets"); !strings.Contains(body, `"activeTargets":[]`) {
			t.Errorf("the server has scrape targets: %s", body)
		}
		if _, body := httpGet(t, s.URL+"/api/v1/status/flags"); !strings.Contains(body, `"storage.tsdb.retention.time":"100y"`) ||
			!strings.Contains(body, `"config.file":"`+s.Dir+`/prometheus.yml"`) {
			t.Errorf("the server does not run with the launcher's config and retention: %s", body)
		}
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
		stopped = true
		if s.Alive() {
			t.Errorf("pid %d still runs after Stop", s.PID)
		}
		if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("state directory %s still exists after Stop (%v)", s.Dir, err)
		}
		var d net.Dialer
		if conn, err := d.DialContext(t.Context(), "tcp", u.Host); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after Stop", u.Host)
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial %s after Stop: %v, want connection refused", u.Host, err)
		}
	})

	tests := []struct {
		name    string
		data    string
		wantErr []string
	}{
		{"missing file", filepath.Join(root, podinfoDir, "missing.om"), []string{"no such file", "missing.om"}},
		{"not OpenMetrics", filepath.Join(root, podinfoDir, "canary.yaml"), []string{"promtool could not load", "canary.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp) // where the launcher makes its state directory
			s, err := StartServer(t.Context(), script, tt.data)
			if err == nil {
				ctx, cancel := cleanupContext(t)
				defer cancel()
				_ = s.Stop(ctx)
				t.Fatal("the server started")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "prometheus-testenv.*")); len(left) > 0 {
				t.Errorf("a failed start left a state directory behind: %v", left)
			}
		})
	}
}
