package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/plugins"
	"github.com/augurproj/augur/plugins/argo"
	"github.com/augurproj/augur/service"
)

func TestPluginArgs(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name string
		args []string
		env  func(string) string
		want []string
	}{
		{"no cookie", nil, env(), nil},
		{"argo cookie", nil, env(argo.MagicCookieKey, argo.MagicCookieValue), []string{"argo-plugin"}},
		{"argo cookie of another plugin type", nil, env(argo.MagicCookieKey, "trafficrouter"), nil},
		{"augur cookie", nil, env(plugins.MagicCookieKey, plugins.MagicCookieValue), []string{"plugin"}},
		{"wrong augur cookie", nil, env(plugins.MagicCookieKey, "x"), nil},
		{"arguments win", []string{"argo-plugin", "--data", "f"}, env(plugins.MagicCookieKey, plugins.MagicCookieValue), []string{"argo-plugin", "--data", "f"}},
		{"arguments without cookie", []string{"render"}, env(), []string{"render"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, pluginArgs(tt.args, tt.env)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// execute runs a command built by newCmd with args.
func execute(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(t.Context())
}

// TestPluginCommandServesTheService checks what `augur plugin` serves: the
// service over the flags' data and template files, answering as `augur
// query` would, with JSON logs on standard error.
func TestPluginCommandServesTheService(t *testing.T) {
	set, err := manifest.DecodePaths([]string{podinfo + "/canary.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &stderr}
	var resp service.QueryResponse
	var qerr error
	cmd := NewCmdPlugin(ios, func(cmd *cobra.Command, o *PluginOptions) error {
		o.Serve = func(so plugins.ServeOptions) error {
			resp, qerr = so.Analyzer.Query(t.Context(), service.QueryRequest{Canary: set.Canaries[0]})
			so.Logger.Info("served")
			return nil
		}
		return pluginRun(cmd, o)
	})
	if err := execute(t, cmd, "--data", podinfo+"/healthy.om", "-f", podinfo+"/metrictemplate.yaml", "--log-level", "debug"); err != nil {
		t.Fatal(err)
	}
	if qerr != nil {
		t.Fatal(qerr)
	}
	if len(resp.Checks) != 3 {
		t.Fatalf("checks %+v, want the canary's 3 metrics", resp.Checks)
	}
	for _, c := range resp.Checks {
		if !c.Passed || c.Value == nil {
			t.Errorf("check %+v: want a passing value over healthy.om (templates from -f, time = data end)", c)
		}
	}
	if !strings.Contains(stderr.String(), `"@message":"served"`) {
		t.Errorf("stderr %q lacks the hclog-format log line", stderr.String())
	}
}

func TestArgoPluginCommandServesTheProvider(t *testing.T) {
	ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	var m v1alpha1.Measurement
	cmd := NewCmdArgoPlugin(ios, func(cmd *cobra.Command, o *ArgoPluginOptions) error {
		o.Serve = func(so argo.ServeOptions) error {
			cfg, _ := json.Marshal(map[string]any{"address": "http://prometheus.invalid:9090", "builtin": analysis.MetricRequestSuccessRate,
				"target": "podinfo", "namespace": "test", "thresholdRange": map[string]any{"min": 99}})
			m = so.Provider.Run(nil, v1alpha1.Metric{Name: "sr", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{argo.PluginName: cfg}}})
			return nil
		}
		return argoPluginRun(cmd, o)
	})
	if err := execute(t, cmd, "--data", podinfo+"/healthy.om"); err != nil {
		t.Fatal(err)
	}
	if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value == "" {
		t.Errorf("measurement %+v: want Successful over --data (which overrides the address)", m)
	}
}

func TestPluginCommandsRefuseToRunByHand(t *testing.T) {
	t.Setenv(plugins.MagicCookieKey, "")
	t.Setenv(argo.MagicCookieKey, "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"plugin"}, plugins.MagicCookieKey},
		{[]string{"argo-plugin"}, argo.MagicCookieKey},
		{[]string{"plugin", "--log-level", "loud"}, "--log-level"},
		{[]string{"argo-plugin", "--data", "/nonexistent.om"}, "--data"},
		{[]string{"plugin", "--data", "/nonexistent.om"}, "--data"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, "", tt.args...)
			if code != ExitBadInput || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no stdout, stderr naming %s", code, stdout, stderr, tt.want)
			}
		})
	}
}

func TestServeUntilTermReturnsServeError(t *testing.T) {
	want := errors.New("boom")
	if err := serveUntilTerm(func() error { return want }); !errors.Is(err, want) {
		t.Errorf("got %v", err)
	}
}
