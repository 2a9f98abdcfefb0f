package kube

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

const kubeconfigTwoContexts = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:6443"}
- name: b
  cluster: {server: "https://127.0.0.1:7443"}
users:
- name: u
  user: {token: "t"}
contexts:
- name: ctx-a
  context: {cluster: a, user: u, namespace: team-a}
- name: ctx-b
  context: {cluster: b, user: u}
current-context: ctx-a
`

const kubeconfigNoContext = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:6443"}
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config", kubeconfigTwoContexts)
	empty := writeFile(t, dir, "empty", kubeconfigNoContext)
	home := filepath.Join(dir, "home")
	writeFile(t, home, ".kube/config", kubeconfigTwoContexts)
	nsFile := writeFile(t, dir, "sa/namespace", "flagger-system\n")

	notInCluster := func() (*rest.Config, error) { return nil, rest.ErrNotInCluster }
	inCluster := func() (*rest.Config, error) { return &rest.Config{Host: "https://10.0.0.1:443"}, nil }
	brokenCluster := func() (*rest.Config, error) { return nil, errors.New("open token: permission denied") }

	tests := []struct {
		name      string
		opts      Options
		env       map[string]string
		inCluster func() (*rest.Config, error)
		nsFile    string
		wantHost  string
		wantNS    string
		wantErr   string
		noConfig  bool
	}{
		{name: "explicit kubeconfig", opts: Options{Kubeconfig: cfg}, wantHost: "https://127.0.0.1:6443", wantNS: "team-a"},
		{name: "explicit context without namespace", opts: Options{Kubeconfig: cfg, Context: "ctx-b"}, wantHost: "https://127.0.0.1:7443", wantNS: "default"},
		{name: "unknown context", opts: Options{Kubeconfig: cfg, Context: "nope"}, wantErr: `no context "nope"`},
		{name: "missing file", opts: Options{Kubeconfig: filepath.Join(dir, "missing")}, wantErr: "kubeconfig " + filepath.Join(dir, "missing")},
		{name: "kubeconfig without context", opts: Options{Kubeconfig: empty}, wantErr: "kubeconfig " + empty},
		{name: "explicit wins over KUBECONFIG", opts: Options{Kubeconfig: cfg, Context: "ctx-b"}, env: map[string]string{"KUBECONFIG": empty}, wantHost: "https://127.0.0.1:7443", wantNS: "default"},
		{name: "KUBECONFIG list", env: map[string]string{"KUBECONFIG": filepath.Join(dir, "missing") + string(os.PathListSeparator) + cfg}, wantHost: "https://127.0.0.1:6443", wantNS: "team-a"},
		{name: "KUBECONFIG wins over in-cluster", env: map[string]string{"KUBECONFIG": cfg}, inCluster: inCluster, wantHost: "https://127.0.0.1:6443", wantNS: "team-a"},
		{name: "in-cluster", inCluster: inCluster, nsFile: nsFile, wantHost: "https://10.0.0.1:443", wantNS: "flagger-system"},
		{name: "in-cluster without namespace file", inCluster: inCluster, nsFile: filepath.Join(dir, "none"), wantHost: "https://10.0.0.1:443", wantNS: "default"},
		{name: "in-cluster with a context", opts: Options{Context: "ctx-a"}, inCluster: inCluster, wantErr: "a context needs a kubeconfig"},
		{name: "in-cluster broken", inCluster: brokenCluster, env: map[string]string{"HOME": home}, wantErr: "in-cluster configuration: open token"},
		{name: "home kubeconfig", env: map[string]string{"HOME": home}, wantHost: "https://127.0.0.1:6443", wantNS: "team-a"},
		{name: "home kubeconfig with context", opts: Options{Context: "ctx-b"}, env: map[string]string{"HOME": home}, wantHost: "https://127.0.0.1:7443", wantNS: "default"},
		{name: "nothing", env: map[string]string{"HOME": dir}, noConfig: true},
		{name: "no home", noConfig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			ic := tt.inCluster
			if ic == nil {
				ic = notInCluster
			}
			got, err := loadConfig(tt.opts, getenv, ic, tt.nsFile)
			switch {
			case tt.noConfig:
				if !errors.Is(err, ErrNoConfig) {
					t.Fatalf("want ErrNoConfig, got %v", err)
				}
				return
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if got.rest.Host != tt.wantHost || got.namespace != tt.wantNS {
				t.Errorf("host %q namespace %q, want %q %q", got.rest.Host, got.namespace, tt.wantHost, tt.wantNS)
			}
		})
	}
}

// TestNewDoesNotDial checks that New only reads configuration: a server
// nobody listens on is fine until the first read.
func TestNewDoesNotDial(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "config", kubeconfigTwoContexts)
	s, err := New(t.Context(), Options{Kubeconfig: cfg, Context: "ctx-b"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Namespace() != "default" {
		t.Errorf("Namespace() = %q, want default", s.Namespace())
	}
	if want := "kubeconfig " + cfg + " (server https://127.0.0.1:7443)"; s.String() != want {
		t.Errorf("String() = %q, want %q", s.String(), want)
	}
}
