package argo

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	argoplugin "github.com/argoproj/argo-rollouts/metricproviders/plugin"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/config"
	"github.com/argoproj/argo-rollouts/utils/defaults"
	goplugin "github.com/hashicorp/go-plugin"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
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
	goplugin.CleanupClients()
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
		binDir, binErr = os.MkdirTemp("", "augur-argo-test-")
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

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

var argsTag = regexp.MustCompile(`{{[^}]*}}`)

// resolveArgs substitutes {{args.NAME}} in the metric as Argo's controller
// does (utils/analysis.ResolveMetricArgs: over the metric's JSON, values
// escaped as in a Go string literal, any other {{…}} tag an error). Argo's
// own function cannot be imported here: its package needs modules outside
// augur's go.sum.
func resolveArgs(t *testing.T, m v1alpha1.Metric, args map[string]string) v1alpha1.Metric {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s := argsTag.ReplaceAllStringFunc(string(b), func(tag string) string {
		name, ok := strings.CutPrefix(strings.TrimSpace(tag[2:len(tag)-2]), "args.")
		v, found := args[name]
		if !ok || !found {
			t.Fatalf("Argo cannot resolve %s in metric %s", tag, m.Name)
		}
		q := strconv.Quote(v)
		return q[1 : len(q)-1]
	})
	var out v1alpha1.Metric
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// retarget edits the metric's augur configuration.
func retarget(t *testing.T, m *v1alpha1.Metric, edit func(obj)) {
	t.Helper()
	var cfg obj
	if err := json.Unmarshal(m.Provider.Plugin[PluginName], &cfg); err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Provider.Plugin[PluginName] = raw
}

// TestArgoHost loads the built binary with Argo Rollouts' own host code —
// the argo-rollouts-config ConfigMap of docs/argo.md read by Argo's config
// package, the binary found at plugin-bin/augur/augur, and Argo's
// metricproviders/plugin provider (go-plugin client, handshake, net/rpc
// stubs) — and runs the documented AnalysisTemplate's metrics through it.
func TestArgoHost(t *testing.T) {
	bin := augurBinary(t)
	var cm corev1.ConfigMap
	readYAML(t, filepath.Join("testdata", "argo-rollouts-config.yaml"), &cm)
	var tmpl v1alpha1.AnalysisTemplate
	readYAML(t, filepath.Join("testdata", "analysistemplate.yaml"), &tmpl)
	data := writeData(t)
	srv := fakePrometheus(t, "248.5", func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+token })

	// The controller's working directory holds plugin-bin/<org>/<name>.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, defaults.DefaultRolloutPluginFolder, "augur"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(dir, defaults.DefaultRolloutPluginFolder, "augur", "augur")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("POD_NAMESPACE", cm.Namespace)
	if _, err := config.InitializeConfig(fake.NewClientset(&cm), defaults.DefaultRolloutsConfigMapName); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(config.UnInitializeConfig)

	args := map[string]string{"service-name": "podinfo", "namespace": "test", "prometheus-token": token}
	run := analysisRun("test")
	metrics := map[string]v1alpha1.Metric{}
	for _, m := range tmpl.Spec.Metrics {
		metrics[m.Name] = resolveArgs(t, m, args)
	}
	// Point the documented addresses at the test's backends.
	sr := metrics["request-success-rate"]
	retarget(t, &sr, func(c obj) { delete(c, "address"); c["data"] = data })
	lat := metrics["p99-latency"]
	retarget(t, &lat, func(c obj) { c["address"] = srv.URL })
	empty := v1alpha1.Metric{Name: "empty", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{PluginName: json.RawMessage(`{}`)}}}

	tests := []struct {
		name      string
		metric    v1alpha1.Metric
		want      v1alpha1.AnalysisPhase
		wantValue string
		wantMsg   string
	}{
		{"builtin success rate", sr, successful, "[99.50248756218906]", "within [99, +Inf]"},
		{"query with conditions", lat, successful, "[248.5]", "Successful"},
		{"empty configuration", empty, errored, "", "failed to run via plugin: config \"augur/augur\": give exactly one of query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prov, err := argoplugin.NewRpcPlugin(tt.metric)
			if err != nil {
				t.Fatal(err)
			}
			if got := prov.Type(); got != PluginName {
				t.Errorf("Type() = %q", got)
			}
			m := prov.Run(run, tt.metric)
			if m.Phase != tt.want || m.Value != tt.wantValue || !strings.Contains(m.Message, tt.wantMsg) {
				t.Errorf("got {%s %q %q}, want {%s %q …%q…}", m.Phase, m.Value, m.Message, tt.want, tt.wantValue, tt.wantMsg)
			}
			if m.StartedAt == nil || m.FinishedAt == nil {
				t.Errorf("timestamps missing: %+v", m)
			}
			meta := prov.GetMetadata(tt.metric)
			if tt.want != errored && !strings.Contains(meta["query"], "podinfo") {
				t.Errorf("GetMetadata = %v, want the rendered query", meta)
			}
			assertNoSecrets(t, "measurement via Argo", measurementTexts(m, meta)...)
			if got := prov.Resume(run, tt.metric, m); got.Phase != m.Phase || got.Value != m.Value {
				t.Errorf("Resume changed the measurement: %+v", got)
			}
			if got := prov.Terminate(run, tt.metric, m); got.Phase != m.Phase || got.Value != m.Value {
				t.Errorf("Terminate changed a completed measurement: %+v", got)
			}
			if err := prov.GarbageCollect(run, tt.metric, 10); err != nil {
				t.Errorf("GarbageCollect: %v", err)
			}
		})
	}

	// Argo runs one goroutine per metric against the one plugin process.
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 16 {
			for _, m := range []v1alpha1.Metric{sr, lat} {
				wg.Go(func() {
					prov, err := argoplugin.NewRpcPlugin(m)
					if err != nil {
						t.Error(err)
						return
					}
					if got := prov.Run(run, m); got.Phase != successful {
						t.Errorf("%s: %s %s", m.Name, got.Phase, got.Message)
					}
				})
			}
		}
		wg.Wait()
	})
}

// TestArgoExplicitCommand drives `augur argo-plugin --data FILE` with
// go-plugin's client and Argo's RPC stubs and handshake, the way Argo's host
// does, when the ConfigMap entry passes arguments.
func TestArgoExplicitCommand(t *testing.T) {
	prov, client := argoClient(t, "argo-plugin", "--data", writeData(t))
	t.Cleanup(client.Kill)
	if e := prov.InitPlugin(); e.HasError() {
		t.Fatal(e)
	}
	// --data overrides the configured address.
	m := metric(t, "sr", obj{"address": "http://prometheus.invalid:9090", "query": `success_ratio{app="podinfo"}`, "thresholdRange": obj{"min": 0.99}}, "", "")
	if got := prov.Run(analysisRun("test"), m); got.Phase != successful || got.Value != "[0.995]" {
		t.Errorf("got %s %q (%s)", got.Phase, got.Value, got.Message)
	}
}

var netrpcHandshake = regexp.MustCompile(`^1\|1\|(unix|tcp)\|[^|]+\|netrpc\|$`)

// TestArgoStdout starts the binary as Argo does — cookie set, no arguments —
// and checks that standard output carries only the net/rpc handshake line.
func TestArgoStdout(t *testing.T) {
	cmd := exec.Command(augurBinary(t))
	cmd.Env = append(os.Environ(), MagicCookieKey+"="+MagicCookieValue)
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
	if line := sc.Text(); !netrpcHandshake.MatchString(line) {
		t.Errorf("first line %q is not go-plugin's net/rpc handshake", line)
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
}

func TestArgoWithoutCookie(t *testing.T) {
	cmd := exec.Command(augurBinary(t), "argo-plugin")
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
