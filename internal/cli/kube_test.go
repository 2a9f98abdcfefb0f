package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/kube/kubetest"
)

const (
	podinfoCanary   = "../../testdata/podinfo/canary.yaml"
	podinfoTemplate = "../../testdata/podinfo/metrictemplate.yaml"
	podinfoHealthy  = "../../testdata/podinfo/healthy.om"
)

// clusterStatus is the status the fake cluster's podinfo Canary carries.
const clusterStatus = `
status:
  phase: Progressing
  canaryWeight: 20
  failedChecks: 0
  iterations: 0
  conditions:
    - type: Promoted
      status: Unknown
`

const promSecret = `
apiVersion: v1
kind: Secret
metadata: {name: prom-auth, namespace: istio-system}
stringData: {token: s3cret}
`

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// templateWithSecret is the podinfo MetricTemplate with a secretRef.
func templateWithSecret(t *testing.T) string {
	t.Helper()
	s := readTestFile(t, podinfoTemplate)
	const addr = "    address: http://prometheus.istio-system:9090\n"
	if !strings.Contains(s, addr) {
		t.Fatalf("%s changed: no %q", podinfoTemplate, addr)
	}
	return strings.Replace(s, addr, addr+"    secretRef:\n      name: prom-auth\n", 1)
}

// runAnalyze runs `augur analyze args` with the cluster replaced by cl
// (nil: no cluster configuration found). It returns the exit code, the
// output, the error output and the kube.Options the command asked for.
func runAnalyze(t *testing.T, cl *kubetest.Cluster, args ...string) (int, string, string, []kube.Options) {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	var opened []kube.Options
	cmd := NewCmdAnalyze(ios, func(cmd *cobra.Command, o *AnalyzeOptions) error {
		o.Kube.open = func(_ context.Context, opts kube.Options) (*kube.Source, error) {
			opened = append(opened, opts)
			if cl == nil {
				return nil, kube.ErrNoConfig
			}
			return cl.Source("test"), nil
		}
		return analyzeRun(cmd, o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(t.Context())
	code := ExitOK
	var ee *ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err != nil {
			fmt.Fprintln(&errOut, ee.Err)
		}
	case err != nil:
		code = ExitBadInput
		fmt.Fprintln(&errOut, err)
	}
	return code, out.String(), errOut.String(), opened
}

func TestAnalyzeFromCluster(t *testing.T) {
	canaryWithStatus := readTestFile(t, podinfoCanary) + clusterStatus
	tests := []struct {
		name       string
		objects    []string
		noCluster  bool
		args       []string
		wantCode   int
		wantAction analysis.Action
		wantWeight int
		wantFailed []string // metrics whose check fails
		wantErr    string
		wantOpts   []kube.Options
		wantEvents []string
	}{
		{
			name:    "status from the cluster",
			objects: []string{canaryWithStatus, templateWithSecret(t), promSecret},
			args:    []string{"--canary", "test/podinfo"}, wantAction: analysis.ActionAdvance, wantWeight: 30,
			wantOpts: []kube.Options{{}},
		},
		{
			name:    "flags and events",
			objects: []string{canaryWithStatus, templateWithSecret(t), promSecret},
			args: []string{"--canary", "podinfo", "--kubeconfig", "/k/config", "--kube-context", "ctx", "--weight", "40",
				"--emit-events"},
			wantAction: analysis.ActionAdvance, wantWeight: 50,
			wantOpts:   []kube.Options{{Kubeconfig: "/k/config", Context: "ctx"}},
			wantEvents: []string{"Normal Advance podinfo.test canary weight 50"},
		},
		{
			name:    "missing secret fails the template check",
			objects: []string{canaryWithStatus, templateWithSecret(t)},
			args:    []string{"--canary", "test/podinfo"}, wantCode: ExitCheckFail, wantAction: analysis.ActionHold, wantWeight: 20,
			wantFailed: []string{"not-found-percentage"}, wantOpts: []kube.Options{{}},
		},
		{
			// A MetricTemplate missing from the cluster is Flagger's failed check (hold);
			// from the files alone it is bad input (TestMistakes).
			name:    "template missing from the cluster holds",
			objects: []string{canaryWithStatus},
			args:    []string{"--canary", "test/podinfo"}, wantCode: ExitCheckFail, wantAction: analysis.ActionHold, wantWeight: 20,
			wantFailed: []string{"not-found-percentage"}, wantOpts: []kube.Options{{}},
		},
		{
			name:       "file canary, cluster template and secret",
			objects:    []string{templateWithSecret(t), promSecret},
			args:       []string{"-f", podinfoCanary, "--kubeconfig", "/k/config", "--weight", "10"},
			wantAction: analysis.ActionAdvance, wantWeight: 20,
			wantOpts: []kube.Options{{Kubeconfig: "/k/config"}},
		},
		{
			name: "file canary without cluster flags does not connect",
			args: []string{"-f", podinfoCanary, "-f", podinfoTemplate, "--weight", "10"}, wantAction: analysis.ActionAdvance, wantWeight: 20,
		},
		{
			name: "events need a cluster", args: []string{"-f", podinfoCanary, "-f", podinfoTemplate, "--emit-events"},
			wantCode: ExitBadInput, wantErr: "--emit-events needs a cluster",
		},
		{
			name: "no input", args: nil, wantCode: ExitBadInput,
			wantErr: "no input: give Canary and MetricTemplate files with -f, or a Canary in the cluster with --canary NAMESPACE/NAME",
		},
		{
			name: "cluster without a canary name", args: []string{"--kubeconfig", "/k/config"}, wantCode: ExitBadInput,
			wantErr: "name the Canary to read from the cluster with --canary NAMESPACE/NAME",
		},
		{
			name: "no cluster configuration", noCluster: true, args: []string{"--canary", "test/podinfo"}, wantCode: ExitBadInput,
			wantErr: "cluster: no cluster configuration", wantOpts: []kube.Options{{}},
		},
		{
			name: "missing canary", args: []string{"--canary", "test/ghost"}, wantCode: ExitBadInput,
			wantErr: "Canary test/ghost: not found in the cluster", wantOpts: []kube.Options{{}},
		},
		{
			name: "bad canary name", args: []string{"--canary", "test/a/b"}, wantCode: ExitBadInput,
			wantErr: `--canary "test/a/b": want NAMESPACE/NAME or NAME`, wantOpts: []kube.Options{{}},
		},
		{
			name:     "invalid canary in the cluster",
			objects:  []string{strings.Replace(canaryWithStatus, "stepWeight: 10", "stepWeight: 200", 1)},
			args:     []string{"--canary", "test/podinfo"},
			wantCode: ExitBadInput, wantErr: "spec.analysis.stepWeight", wantOpts: []kube.Options{{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cl *kubetest.Cluster
			if !tt.noCluster {
				var err error
				if cl, err = kubetest.New(tt.objects...); err != nil {
					t.Fatal(err)
				}
			}
			args := append([]string{"--data", podinfoHealthy, "--webhooks", "pass", "-o", "json"}, tt.args...)
			code, out, errOut, opened := runAnalyze(t, cl, args...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			if diff := cmp.Diff(tt.wantOpts, opened); diff != "" {
				t.Errorf("cluster connections (-want +got):\n%s", diff)
			}
			if tt.wantErr != "" {
				if !strings.Contains(errOut, tt.wantErr) {
					t.Errorf("stderr %q does not contain %q", errOut, tt.wantErr)
				}
				return
			}
			var d analysis.Decision
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if d.Action != tt.wantAction || d.Status.CanaryWeight != tt.wantWeight {
				t.Errorf("action %s weight %d, want %s %d", d.Action, d.Status.CanaryWeight, tt.wantAction, tt.wantWeight)
			}
			var failed []string
			for _, c := range d.Checks {
				if !c.Passed {
					failed = append(failed, c.Metric)
				}
			}
			if diff := cmp.Diff(tt.wantFailed, failed); diff != "" {
				t.Errorf("failed checks (-want +got):\n%s\n%s", diff, out)
			}
			if cl == nil {
				return
			}
			evs, err := cl.Events(t.Context(), "test")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				got = append(got, e.Type+" "+e.Message)
			}
			if diff := cmp.Diff(tt.wantEvents, got); diff != "" {
				t.Errorf("events on the Canary (-want +got):\n%s", diff)
			}
			if note := "Recorded 1 Kubernetes event on Canary test/podinfo"; (len(tt.wantEvents) == 1) != strings.Contains(errOut, note) {
				t.Errorf("stderr %q: want the note %q only when one event was recorded", errOut, note)
			}
		})
	}
}

// fakeTemplates answers one template or a fixed error.
type fakeTemplates struct {
	has string
	err error
}

func (f fakeTemplates) MetricTemplate(_ context.Context, ns, name string) (*analysis.MetricTemplate, error) {
	if f.err != nil {
		return nil, f.err
	}
	if ns+"/"+name == f.has {
		return &analysis.MetricTemplate{Metadata: analysis.ObjectMeta{Name: name, Namespace: ns}}, nil
	}
	return nil, fmt.Errorf("template %s/%s in %s: %w", ns, name, f.has, engine.ErrNotFound)
}

func TestTemplateChain(t *testing.T) {
	broken := errors.New("connection refused")
	tests := []struct {
		name     string
		chain    templateChain
		want     bool
		wantErrs []string
		notFound bool
	}{
		{name: "first has it", chain: templateChain{fakeTemplates{has: "ns/t"}, fakeTemplates{err: broken}}, want: true},
		{name: "second has it", chain: templateChain{fakeTemplates{has: "ns/x"}, fakeTemplates{has: "ns/t"}}, want: true},
		{name: "other errors stop the search", chain: templateChain{fakeTemplates{err: broken}, fakeTemplates{has: "ns/t"}},
			wantErrs: []string{"connection refused"}},
		{name: "nobody has it", chain: templateChain{fakeTemplates{has: "a/a"}, fakeTemplates{has: "b/b"}},
			wantErrs: []string{"in a/a", "in b/b"}, notFound: true},
		{name: "empty", wantErrs: []string{"metric template t.ns"}, notFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, err := tt.chain.MetricTemplate(t.Context(), "ns", "t")
			if tt.want {
				if err != nil || mt == nil || mt.Metadata.Name != "t" {
					t.Fatalf("got %v, %v", mt, err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			if errors.Is(err, engine.ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(ErrNotFound) = %v, want %v: %v", !tt.notFound, tt.notFound, err)
			}
			for _, w := range tt.wantErrs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
