package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// EnvEnable is the environment variable that turns the integration tests on
// when it is "1".
const EnvEnable = "AUGUR_INTEGRATION"

// EnvBinary is the environment variable naming the augur binary under test.
const EnvBinary = "AUGUR_BIN"

// TestenvScript is the server launcher's path relative to the repository root.
const TestenvScript = "scripts/prometheus-testenv.sh"

// Keys of the env file the launcher writes into a server's state directory.
const (
	// KeyURL is the server's base URL (http://127.0.0.1:PORT).
	KeyURL = "PROMETHEUS_URL"
	// KeyPID is the server process's id.
	KeyPID = "PROMETHEUS_PID"
	// KeyDir is the server's state directory.
	KeyDir = "PROMETHEUS_DIR"
)

// Enabled reports whether AUGUR_INTEGRATION is "1".
func Enabled() bool { return os.Getenv(EnvEnable) == "1" }

// RepoRoot returns the nearest directory at or above dir that holds go.mod.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("repository root: %w", err)
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("repository root: no go.mod at or above %s", dir)
		}
		d = parent
	}
}

// Server is a Prometheus server started by the launcher script.
type Server struct {
	// URL is the server's base URL on 127.0.0.1.
	URL string
	// PID is the server process's id.
	PID int
	// Dir is the server's state directory (config, TSDB, logs, env file).
	Dir string

	script string
}

// StartServer runs `script start files...`: the script loads the OpenMetrics
// files into a new TSDB, starts a server on a free loopback port and prints
// the state directory, whose env file says where the server is. Errors carry
// the script's standard error.
func StartServer(ctx context.Context, script string, files ...string) (*Server, error) {
	if len(files) == 0 {
		return nil, errors.New("start prometheus: no data files")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", append([]string{script, "start"}, files...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("start prometheus with %s: %s %s: %w\n%s", strings.Join(files, ", "), script, "start", err, strings.TrimSpace(stderr.String()))
	}
	dir := strings.TrimSpace(stdout.String())
	if dir == "" || strings.ContainsAny(dir, "\n\r") || !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("start prometheus: %s start printed %q, want one absolute directory\n%s", script, dir, strings.TrimSpace(stderr.String()))
	}
	envPath := filepath.Join(dir, "env")
	data, err := os.ReadFile(envPath)
	if err == nil {
		var s *Server
		if s, err = serverFromEnv(data, dir); err == nil {
			s.script = script
			return s, nil
		}
		err = fmt.Errorf("%s: %w", envPath, err)
	}
	// The script may have started a server all the same: stop it.
	if stopErr := (&Server{Dir: dir, script: script}).runStop(ctx); stopErr != nil {
		err = errors.Join(err, stopErr)
	}
	return nil, fmt.Errorf("start prometheus: %w", err)
}

// serverFromEnv checks the env file of the state directory dir.
func serverFromEnv(data []byte, dir string) (*Server, error) {
	env, err := ParseEnv(data)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{KeyURL, KeyPID, KeyDir} {
		if _, ok := env[k]; !ok {
			return nil, fmt.Errorf("%s is missing", k)
		}
	}
	u, err := url.Parse(env[KeyURL])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyURL, err)
	}
	if host, _, err := net.SplitHostPort(u.Host); u.Scheme != "http" || err != nil || host != "127.0.0.1" {
		return nil, fmt.Errorf("%s %q: want http://127.0.0.1:PORT", KeyURL, env[KeyURL])
	}
	pid, err := strconv.Atoi(env[KeyPID])
	if err != nil || pid <= 1 {
		return nil, fmt.Errorf("%s %q: want a process id above 1", KeyPID, env[KeyPID])
	}
	if env[KeyDir] != dir {
		return nil, fmt.Errorf("%s %q is not the state directory %q", KeyDir, env[KeyDir], dir)
	}
	return &Server{URL: env[KeyURL], PID: pid, Dir: dir}, nil
}

// Stop runs `script stop DIR`, which ends the server by its PID and removes
// the state directory, then checks that the process is gone. When the
// process outlives the script it is killed by its PID and Stop reports it.
func (s *Server) Stop(ctx context.Context) error {
	runErr := s.runStop(ctx)
	for range 40 {
		if !s.Alive() {
			return runErr
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p, err := os.FindProcess(s.PID); err == nil {
		_ = p.Kill()
		_ = p.Release()
	}
	return errors.Join(runErr, fmt.Errorf("stop prometheus: pid %d was still running after %s stop; killed it", s.PID, s.script))
}

// runStop runs `script stop DIR`.
func (s *Server) runStop(ctx context.Context) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", s.script, "stop", s.Dir)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("stop prometheus in %s: %s stop: %w\n%s", s.Dir, s.script, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Alive reports whether the server process still exists.
func (s *Server) Alive() bool {
	p, err := os.FindProcess(s.PID)
	if err != nil {
		return false
	}
	defer p.Release()
	return p.Signal(syscall.Signal(0)) == nil
}

// ParseEnv parses the launcher's env file: one KEY=VALUE per line, keys made
// of letters, digits and underscores (not starting with a digit), values taken
// verbatim up to the end of the line (trailing carriage returns are dropped).
// Blank lines and lines starting with # are skipped. A line without "=", an
// invalid key, a NUL byte or a repeated key is an error naming the line.
func ParseEnv(data []byte) (map[string]string, error) {
	env := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.IndexByte(line, 0) >= 0 {
			return nil, fmt.Errorf("env line %d: NUL byte", n)
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("env line %d: %q has no '='", n, line)
		}
		if !validKey(key) {
			return nil, fmt.Errorf("env line %d: invalid key %q (want letters, digits and _, not starting with a digit)", n, key)
		}
		if _, dup := env[key]; dup {
			return nil, fmt.Errorf("env line %d: key %s repeated", n, key)
		}
		env[key] = value
	}
	return env, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
