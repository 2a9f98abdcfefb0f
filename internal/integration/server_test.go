package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{
			name: "launcher output",
			in:   "PROMETHEUS_URL=http://127.0.0.1:40123\nPROMETHEUS_PID=4242\nPROMETHEUS_DIR=/tmp/prometheus-testenv.abc\n",
			want: map[string]string{KeyURL: "http://127.0.0.1:40123", KeyPID: "4242", KeyDir: "/tmp/prometheus-testenv.abc"},
		},
		{
			name: "comments, blank lines, CRLF and = in values",
			in:   "# state\r\n\r\n  \nA=b=c\r\n_X1=\n",
			want: map[string]string{"A": "b=c", "_X1": ""},
		},
		{name: "empty", in: "", want: map[string]string{}},
		{name: "no equals", in: "A=1\nJUNK\n", wantErr: `env line 2: "JUNK" has no '='`},
		{name: "key starts with digit", in: "1A=x", wantErr: `env line 1: invalid key "1A"`},
		{name: "empty key", in: "=x", wantErr: `env line 1: invalid key ""`},
		{name: "space in key", in: "A B=x", wantErr: `env line 1: invalid key "A B"`},
		{name: "repeated key", in: "A=1\nA=2", wantErr: "env line 2: key A repeated"},
		{name: "NUL", in: "A=\x00", wantErr: "env line 1: NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEnv([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseEnv error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEnv: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServerFromEnv(t *testing.T) {
	const dir = "/tmp/prometheus-testenv.abc"
	good := "PROMETHEUS_URL=http://127.0.0.1:40123\nPROMETHEUS_PID=4242\nPROMETHEUS_DIR=" + dir + "\n"
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "ok", in: good},
		{name: "missing pid", in: "PROMETHEUS_URL=http://127.0.0.1:1\nPROMETHEUS_DIR=" + dir, wantErr: "PROMETHEUS_PID is missing"},
		{name: "not loopback", in: strings.Replace(good, "127.0.0.1", "0.0.0.0", 1), wantErr: "want http://127.0.0.1:PORT"},
		{name: "https", in: strings.Replace(good, "http:", "https:", 1), wantErr: "want http://127.0.0.1:PORT"},
		{name: "no port", in: strings.Replace(good, ":40123", "", 1), wantErr: "want http://127.0.0.1:PORT"},
		{name: "pid 1", in: strings.Replace(good, "4242", "1", 1), wantErr: "want a process id above 1"},
		{name: "pid not a number", in: strings.Replace(good, "4242", "x", 1), wantErr: "want a process id above 1"},
		{name: "other dir", in: strings.Replace(good, ".abc", ".xyz", 1), wantErr: "is not the state directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := serverFromEnv([]byte(tt.in), dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("serverFromEnv error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("serverFromEnv: %v", err)
			}
			want := &Server{URL: "http://127.0.0.1:40123", PID: 4242, Dir: dir}
			if diff := cmp.Diff(want, s, cmp.AllowUnexported(Server{})); diff != "" {
				t.Errorf("serverFromEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "module github.com/augurproj/augur\n") {
		t.Errorf("RepoRoot = %s, whose go.mod is not augur's", root)
	}
	if _, err := os.Stat(filepath.Join(root, TestenvScript)); err != nil {
		t.Errorf("the launcher script is not at the root: %v", err)
	}
	if _, err := RepoRoot(t.TempDir()); err == nil {
		t.Error("RepoRoot of a temporary directory found a go.mod")
	}
}

func TestStartServerErrors(t *testing.T) {
	if _, err := StartServer(t.Context(), "unused.sh"); err == nil || !strings.Contains(err.Error(), "no data files") {
		t.Errorf("StartServer without files: %v", err)
	}
	script := filepath.Join(t.TempDir(), "fake.sh")
	// A launcher that prints something that is not a state directory.
	if err := os.WriteFile(script, []byte("echo 'relative/dir'\necho 'loading' >&2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := StartServer(t.Context(), script, "data.om")
	if err == nil || !strings.Contains(err.Error(), `printed "relative/dir"`) || !strings.Contains(err.Error(), "loading") {
		t.Errorf("StartServer with a bad launcher: %v", err)
	}
	// A launcher that fails: its standard error is in the error.
	if err := os.WriteFile(script, []byte("echo 'prometheus-testenv: no such file: data.om' >&2\nexit 2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = StartServer(t.Context(), script, "data.om")
	if err == nil || !strings.Contains(err.Error(), "no such file: data.om") || !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("StartServer with a failing launcher: %v", err)
	}
	// A launcher that starts something but writes a bad env file: StartServer
	// fails and stops what was started.
	dir, mark := filepath.Join(t.TempDir(), "state"), filepath.Join(t.TempDir(), "stopped")
	fake := fmt.Sprintf(`if [ "$1" = start ]; then mkdir -p %[1]q; printf 'PROMETHEUS_URL=http://0.0.0.0:9090\nPROMETHEUS_PID=42\nPROMETHEUS_DIR=%%s\n' %[1]q >%[1]q/env; echo %[1]q
else echo "$1 $2" >%[2]q; fi
`, dir, mark)
	if err := os.WriteFile(script, []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = StartServer(t.Context(), script, "data.om")
	if err == nil || !strings.Contains(err.Error(), "want http://127.0.0.1:PORT") || !strings.Contains(err.Error(), dir+"/env") {
		t.Errorf("StartServer with a bad env file: %v", err)
	}
	if got, err := os.ReadFile(mark); err != nil || string(got) != "stop "+dir+"\n" {
		t.Errorf("the launcher's stop ran with %q (%v), want %q", got, err, "stop "+dir)
	}
}
