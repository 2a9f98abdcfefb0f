package plugins

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/service"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	// Plugin processes create their go-plugin sockets in this run's own
	// directory (not /tmp/plugin*), removed below even when a process was
	// killed before it could remove its socket.
	sockets, err := os.MkdirTemp("", "augur-plugin-sockets-")
	if err != nil {
		panic(err)
	}
	os.Setenv("PLUGIN_UNIX_SOCKET_DIR", sockets)
	code := m.Run()
	os.RemoveAll(sockets)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// augurBinary builds cmd/augur once per test run and returns its path.
func augurBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the augur binary")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "augur-plugins-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "augur")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/augurproj/augur/cmd/augur").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build ./cmd/augur: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// startPlugin launches the real binary through Start.
func startPlugin(t testing.TB, opts ClientOptions) *Client {
	t.Helper()
	opts.Path = augurBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSubprocessMatchesService runs every request through a real `augur
// plugin --data FILE` process and compares with the in-process service.
func TestSubprocessMatchesService(t *testing.T) {
	data := writeData(t, t.TempDir(), podinfoSeries(1))
	svc := newService(t, data)
	c := startPlugin(t, ClientOptions{Args: []string{"--data", data}})
	for _, cl := range calls() {
		t.Run(cl.name, func(t *testing.T) {
			want, wantErr := cl.do(t.Context(), svc)
			got, gotErr := cl.do(t.Context(), c)
			if diff := cmp.Diff(want, got, eventPhaseIgnored); diff != "" {
				t.Errorf("(-service +plugin process):\n%s", diff)
			}
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && errors.Is(wantErr, service.ErrBadRequest) != errors.Is(gotErr, service.ErrBadRequest)) {
				t.Errorf("service error %v, plugin error %v", wantErr, gotErr)
			}
		})
	}
}

// TestSubprocessDeadline checks that the caller's deadline reaches the
// plugin process's query: the Prometheus it queries sees the request
// cancelled.
func TestSubprocessDeadline(t *testing.T) {
	cancelled := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			cancelled <- struct{}{}
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	c := startPlugin(t, ClientOptions{Args: []string{"--prometheus", srv.URL, "--query-timeout", "1m"}})
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	resp, err := c.Query(ctx, service.QueryRequest{Canary: podinfoCanary(), Metric: &analysis.Metric{Name: "q", Query: "up"}})
	switch {
	case errors.Is(err, context.DeadlineExceeded):
	case err == nil:
		// The plugin saw the deadline first and answered in time with the
		// query's cancellation as the check's error: never a value.
		for _, ch := range resp.Checks {
			if ch.Value != nil || ch.Passed || ch.Error == "" {
				t.Errorf("check %s answered past the deadline: value %v, passed %v, error %q", ch.Metric, ch.Value, ch.Passed, ch.Error)
			}
		}
		if len(resp.Checks) == 0 {
			t.Error("no error and no check")
		}
	default:
		t.Errorf("error %v, want context.DeadlineExceeded", err)
	}
	select {
	case <-cancelled:
	case <-time.After(20 * time.Second):
		t.Error("the plugin process never cancelled its Prometheus query")
	}
}

func TestSubprocessExitIsUnavailable(t *testing.T) {
	c := startPlugin(t, ClientOptions{Args: []string{"--data", writeData(t, t.TempDir(), podinfoSeries(1))}})
	proc, err := os.FindProcess(c.pc.ReattachConfig().Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !c.Exited() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := c.Decide(t.Context(), decideRequest()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Decide after the process died: %v, want ErrUnavailable", err)
	}
}

// records is a slog.Handler that keeps every record.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) find(level slog.Level, msg string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Level == level && rec.Message == msg {
			return true
		}
	}
	return false
}

// TestSubprocessLogs checks the path of the plugin's log lines: written as
// hclog JSON on its standard error, parsed by go-plugin in the host and
// handed to ClientOptions.Logger at their own level.
func TestSubprocessLogs(t *testing.T) {
	rec := &records{}
	c := startPlugin(t, ClientOptions{
		Args:   []string{"--data", writeData(t, t.TempDir(), podinfoSeries(1)), "--log-level", "debug"},
		Logger: slog.New(rec),
	})
	if _, err := c.Decide(t.Context(), decideRequest()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// go-plugin's server logs the address it listens on at debug level.
	if !rec.find(slog.LevelDebug, "plugin address") {
		t.Error(`the host logger got no debug record "plugin address" from the plugin process`)
	}
}

var handshakeLine = regexp.MustCompile(`^1\|1\|(unix|tcp)\|[^|]+\|grpc\|$`)

// TestSubprocessStdout runs the binary as a host would, with the cookie,
// and checks that standard output carries exactly the handshake line; with
// no arguments augur detects the cookie and serves by itself. SIGTERM stops it.
func TestSubprocessStdout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM")
	}
	bin := augurBinary(t)
	data := writeData(t, t.TempDir(), podinfoSeries(1))
	for _, args := range [][]string{nil, {"plugin", "--data", data}} {
		t.Run(strings.Join(append([]string{"augur"}, args...), " "), func(t *testing.T) {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), MagicCookieKey+"="+MagicCookieValue, "PLUGIN_PROTOCOL_VERSIONS=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stdout)
			if !sc.Scan() {
				t.Fatalf("no handshake line: %v", sc.Err())
			}
			if line := sc.Text(); !handshakeLine.MatchString(line) {
				t.Errorf("first line %q is not go-plugin's gRPC handshake", line)
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
				t.Errorf("more output on stdout: %q", sc.Text())
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("after SIGTERM: %v", err)
			}
		})
	}
}

func TestSubprocessWithoutCookie(t *testing.T) {
	bin := augurBinary(t)
	cmd := exec.Command(bin, "plugin")
	cmd.Env = append(os.Environ(), MagicCookieKey+"=")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("exit %v, want exit code 2", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
	if !strings.Contains(stderr.String(), MagicCookieKey) {
		t.Errorf("stderr %q does not name %s", stderr.String(), MagicCookieKey)
	}
}
