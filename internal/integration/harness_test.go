package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/metrics/recorded"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The podinfo datasets' analysis window (testdata/podinfo/README.md): the
// tests evaluate on every whole minute of it.
var (
	windowStart = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	windowEnd   = time.Date(2026, 11, 1, 10, 30, 0, 0, time.UTC)
)

// podinfoDir is the datasets' directory relative to the repository root.
const podinfoDir = "testdata/podinfo"

// wantResult is how each podinfo dataset's replay ends (its README).
var wantResult = map[string]analysis.Phase{
	"healthy":         analysis.PhaseSucceeded,
	"no-traffic":      analysis.PhaseFailed,
	"not-found-climb": analysis.PhaseFailed,
	"slow":            analysis.PhaseFailed,
}

// requireIntegration skips unless AUGUR_INTEGRATION=1.
func requireIntegration(tb testing.TB) {
	tb.Helper()
	if !Enabled() {
		tb.Skipf("real-Prometheus test: set %s=1 (scripts/integration.sh does) to run it", EnvEnable)
	}
}

// cleanupContext is a context for t.Cleanup work: the test's context is
// already cancelled when cleanups run.
func cleanupContext(tb testing.TB) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(tb.Context()), 30*time.Second)
}

func repoRoot(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	root, err := RepoRoot(wd)
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// datasets lists the podinfo OpenMetrics files, sorted.
func datasets(tb testing.TB, root string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(root, podinfoDir, "*.om"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no *.om datasets in %s", filepath.Join(root, podinfoDir))
	}
	slices.Sort(files)
	return files
}

func datasetName(file string) string { return strings.TrimSuffix(filepath.Base(file), ".om") }

// startServer starts a real server holding files; failing to start it fails
// the test. The server is stopped when the test ends.
func startServer(tb testing.TB, root string, files ...string) *Server {
	tb.Helper()
	s, err := StartServer(tb.Context(), filepath.Join(root, TestenvScript), files...)
	if err != nil {
		tb.Fatalf("the real Prometheus server did not start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext(tb)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// augurBin returns AUGUR_BIN, or builds the binary into a temporary directory.
func augurBin(tb testing.TB, root string) string {
	tb.Helper()
	if bin := os.Getenv(EnvBinary); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			tb.Fatalf("%s: %v", EnvBinary, err)
		}
		return bin
	}
	bin := filepath.Join(tb.TempDir(), "augur")
	cmd := exec.CommandContext(tb.Context(), "go", "build", "-o", bin, "./cmd/augur")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/augur: %v\n%s", err, out)
	}
	return bin
}

// result is one run of the binary.
type result struct {
	args           []string
	stdout, stderr []byte
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("augur %s: exit %d\nstderr: %s", strings.Join(r.args, " "), r.code, bytes.TrimSpace(r.stderr))
}

// runAugur runs the binary in the repository root.
func runAugur(tb testing.TB, bin, root string, args ...string) result {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(tb.Context(), bin, args...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		tb.Fatalf("augur %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// formatValue is how the Prometheus HTTP API writes a sample value.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// check is one metric verdict, with the value as the API would write it.
type check struct {
	Metric, Kind, Query string
	Value               string // "" when the check has no value
	Passed              bool
	Error, Reason       string
}

func checkOf(c analysis.Check) check {
	out := check{Metric: c.Metric, Kind: string(c.Kind), Query: c.Query, Passed: c.Passed, Error: c.Error, Reason: c.Reason}
	if c.Value != nil {
		out.Value = formatValue(*c.Value)
	}
	return out
}

func checksOf(cs []analysis.Check) []check {
	out := make([]check, 0, len(cs))
	for _, c := range cs {
		out = append(out, checkOf(c))
	}
	return out
}

// tick is one replay tick.
type tick struct {
	Time                       time.Time
	Phase                      analysis.Phase
	Weight, Failed, Iterations int
	Action                     analysis.Action
	Events                     []string // "Type: message"
	Checks                     []check
	Reasons                    []string
}

// timeline is a whole replay.
type timeline struct {
	Result   analysis.Phase
	Finished bool
	Ticks    []tick
}

func eventsOf(es []analysis.Event) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, string(e.Type)+": "+e.Message)
	}
	return out
}

// timelineOf converts an in-process replay.
func timelineOf(res engine.ReplayResult) timeline {
	tl := timeline{Result: res.Result, Finished: res.Finished}
	for _, t := range res.Ticks {
		d := t.Decision
		tl.Ticks = append(tl.Ticks, tick{
			Time: t.Time.UTC(), Phase: d.Status.Phase, Weight: d.Status.CanaryWeight, Failed: d.Status.FailedChecks,
			Iterations: d.Status.Iterations, Action: d.Action, Events: eventsOf(d.Events), Checks: checksOf(d.Checks),
			Reasons: d.Reasons,
		})
	}
	return tl
}

// decodeReplay reads `augur replay -o json`.
func decodeReplay(data []byte) (timeline, error) {
	var out struct {
		Result   analysis.Phase `json:"result"`
		Finished *bool          `json:"finished"`
		Ticks    []struct {
			Time         time.Time        `json:"time"`
			Phase        analysis.Phase   `json:"phase"`
			CanaryWeight int              `json:"canaryWeight"`
			FailedChecks int              `json:"failedChecks"`
			Iterations   int              `json:"iterations"`
			Action       analysis.Action  `json:"action"`
			Events       []analysis.Event `json:"events"`
			Checks       []analysis.Check `json:"checks"`
			Reasons      []string         `json:"reasons"`
		} `json:"ticks"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return timeline{}, fmt.Errorf("decode replay output: %w", err)
	}
	if out.Result == "" || out.Finished == nil || len(out.Ticks) == 0 {
		return timeline{}, fmt.Errorf("replay output lacks result, finished or ticks: %.200s", data)
	}
	tl := timeline{Result: out.Result, Finished: *out.Finished}
	for _, t := range out.Ticks {
		tl.Ticks = append(tl.Ticks, tick{
			Time: t.Time.UTC(), Phase: t.Phase, Weight: t.CanaryWeight, Failed: t.FailedChecks, Iterations: t.Iterations,
			Action: t.Action, Events: eventsOf(t.Events), Checks: checksOf(t.Checks), Reasons: t.Reasons,
		})
	}
	return tl, nil
}

// normalizedJSON decodes a whole JSON document, every number turned into
// the string the Prometheus HTTP API would write for it, so that two outputs
// compare field by field (fields added to the output later included) and
// values compare as exact strings.
func normalizedJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode JSON output: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode JSON output: more than one document")
	}
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch x := v.(type) {
		case json.Number:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return nil, fmt.Errorf("number %s: %w", x, err)
			}
			return formatValue(f), nil
		case []any:
			for i := range x {
				var err error
				if x[i], err = walk(x[i]); err != nil {
					return nil, err
				}
			}
		case map[string]any:
			for k := range x {
				var err error
				if x[k], err = walk(x[k]); err != nil {
					return nil, err
				}
			}
		}
		return v, nil
	}
	return walk(doc)
}

// queried is one canary of `augur query -o json`.
type queried struct {
	Name, Namespace string
	At              time.Time
	Checks          []check
}

// decodeQuery reads `augur query -o json`.
func decodeQuery(data []byte) ([]queried, error) {
	var out struct {
		Canaries []struct {
			Name      string           `json:"name"`
			Namespace string           `json:"namespace"`
			At        *time.Time       `json:"at"`
			Checks    []analysis.Check `json:"checks"`
		} `json:"canaries"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decode query output: %w", err)
	}
	if len(out.Canaries) == 0 {
		return nil, fmt.Errorf("query output holds no canary: %.200s", data)
	}
	var qs []queried
	for _, c := range out.Canaries {
		q := queried{Name: c.Name, Namespace: c.Namespace, Checks: checksOf(c.Checks)}
		if c.At != nil {
			q.At = c.At.UTC()
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// golden renders a timeline for review: one block per tick with its
// events and every check's value (as the API writes it) or error.
func (tl timeline) golden() string {
	var b strings.Builder
	fmt.Fprintf(&b, "result %s finished=%t ticks=%d\n", tl.Result, tl.Finished, len(tl.Ticks))
	for i, t := range tl.Ticks {
		fmt.Fprintf(&b, "\n#%d %s %s weight=%d failedChecks=%d iterations=%d %s\n", i+1, t.Time.Format("15:04:05"),
			t.Phase, t.Weight, t.Failed, t.Iterations, t.Action)
		for _, e := range t.Events {
			fmt.Fprintf(&b, "  event %s\n", e)
		}
		for _, c := range t.Checks {
			verdict := "pass"
			if !c.Passed {
				verdict = "FAIL"
			}
			switch {
			case c.Value != "":
				fmt.Fprintf(&b, "  check %s = %s %s\n", c.Metric, c.Value, verdict)
			default:
				fmt.Fprintf(&b, "  check %s error %q %s\n", c.Metric, c.Error, verdict)
			}
		}
	}
	return b.String()
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/integration -run TestReplayGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from what the replay gives (-want +got):\n%s", path, cmp.Diff(string(want), got))
	}
}

// podinfoSet decodes the podinfo Canary and MetricTemplate.
func podinfoSet(tb testing.TB, root string) *manifest.Set {
	tb.Helper()
	set, err := manifest.DecodePaths([]string{filepath.Join(root, podinfoDir, "canary.yaml"), filepath.Join(root, podinfoDir, "metrictemplate.yaml")})
	if err != nil {
		tb.Fatal(err)
	}
	if len(set.Canaries) != 1 {
		tb.Fatalf("podinfo files hold %d canaries, want 1", len(set.Canaries))
	}
	return set
}

// registryFor makes every "prometheus" provider the given one.
func registryFor(p metrics.Provider) *metrics.Registry {
	reg := &metrics.Registry{}
	reg.Register(prometheus.Type, func(metrics.Config) (metrics.Provider, error) { return p, nil })
	return reg
}

// embeddedEngine is what `augur replay --data FILE` builds.
func embeddedEngine(tb testing.TB, set *manifest.Set, store *recorded.Store) *engine.Engine {
	tb.Helper()
	eng, err := engine.New(engine.Options{Registry: registryFor(recorded.New(store, recorded.Options{})),
		Templates: engine.StaticTemplates(set.Templates), Hooks: engine.StaticHooks{Pass: true}})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

func loadStore(tb testing.TB, file string) *recorded.Store {
	tb.Helper()
	store, err := recorded.LoadOpenMetricsFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	return store
}

// replayStart is the first tick of the replays: one interval before the
// analysis window, so the first tick (pre-rollout, no metrics) is followed by
// metric checks on every whole minute of the window. The CLI's default start
// (the first sample plus the longest metric interval, 09:59:07.5) puts every
// tick on a sample, where the server and the embedded engine differ.
var replayStart = windowStart.Add(-time.Minute)

// replayRequest replays the canary from replayStart.
func replayRequest(c analysis.Canary) engine.ReplayRequest {
	return engine.ReplayRequest{Canary: c, Start: replayStart}
}

// httpGet fetches url and returns the status code and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
