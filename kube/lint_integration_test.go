package kube_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/lint"
	"github.com/augurproj/augur/webhooks"
)

var resources = map[string]schema.GroupVersionResource{
	"Deployment":              {Group: "apps", Version: "v1", Resource: "deployments"},
	"HorizontalPodAutoscaler": {Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	"PodDisruptionBudget":     {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	"Canary":                  kube.CanaryResource,
	"MetricTemplate":          kube.MetricTemplateResource,
}

// applyFile creates (or recreates) every object of a multi-document YAML file.
func (e *testenv) applyFile(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		gvr, ok := resources[u.GetKind()]
		if !ok {
			t.Fatalf("%s: no resource for kind %s", path, u.GetKind())
		}
		e.namespace(ctx, t, u.GetNamespace())
		e.recreate(ctx, t, gvr, u)
	}
}

// ensureCRDs installs Flagger's CRDs unless they are served.
func (e *testenv) ensureCRDs(ctx context.Context, t *testing.T) {
	t.Helper()
	_, err := e.dyn.Resource(kube.CanaryResource).Namespace("default").List(ctx, metav1.ListOptions{})
	if err == nil {
		return
	}
	if !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	e.installCRDs(ctx, t)
}

// comparable drops what differs between a file and the cluster: the file
// and its line (the cluster has none).
func comparable(fs []lint.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s %s: %s", f.Severity, f.Rule, f.Object, f.Path, f.Message))
	}
	slices.Sort(out)
	return out
}

func fileFindings(t *testing.T, opts lint.Options, paths ...string) []lint.Finding {
	t.Helper()
	var objs []*lint.Object
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		o, err := lint.Parse(b, p)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	fs, err := lint.Run(objs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func clusterFindings(ctx context.Context, t *testing.T, src *kube.Source, ns string) ([]lint.Finding, *lint.Facts) {
	t.Helper()
	snap, err := src.LintObjects(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*lint.Object
	for _, m := range snap.Objects {
		o, err := lint.FromMap(m)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	facts := &lint.Facts{APIGroups: snap.APIGroups}
	fs, err := lint.Run(objs, lint.Options{Cluster: facts})
	if err != nil {
		t.Fatal(err)
	}
	return fs, facts
}

// TestIntegrationLint applies the lint corpus's objects to a real API
// server (which applies its defaults to them) and checks that the rules
// find the same findings from the cluster — through package kube, through
// `augur lint --cluster`, and through the preflight webhook of `augur
// serve --cluster` — as from the files; and that the gate blocks the
// Deployment with one replica and no readiness probe and lets the fixed one
// through.
func TestIntegrationLint(t *testing.T) {
	env := newTestenv(t)
	ctx := t.Context()
	env.ensureCRDs(ctx, t)
	src, err := kube.New(ctx, kube.Options{Kubeconfig: env.kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	bin := augurBinary(t)

	podinfo := []string{"../examples/podinfo/manifests/canary.yaml", "../examples/podinfo/manifests/metrictemplate.yaml",
		"../examples/podinfo/workload/deployment.yaml", "../examples/podinfo/workload/hpa.yaml"}
	t.Run("Podinfo", func(t *testing.T) {
		for _, f := range podinfo {
			env.applyFile(ctx, t, f)
		}
		// Other tests leave objects in namespace test: compare the findings
		// about the podinfo objects.
		keys := []string{"Canary test/podinfo", "Deployment test/podinfo", "HorizontalPodAutoscaler test/podinfo",
			"MetricTemplate istio-system/not-found-percentage"}
		got, facts := clusterFindings(ctx, t, src, "test")
		got = lint.Focus(got, keys...)
		if slices.Contains(facts.APIGroups, "networking.istio.io") {
			t.Fatalf("the test server serves Istio's API: %v", facts.APIGroups)
		}
		want := fileFindings(t, lint.Options{Cluster: facts}, podinfo...)
		if lint.Errors(want) < 5 {
			t.Fatalf("the podinfo files give %d errors, want at least 5: %v", lint.Errors(want), comparable(want))
		}
		if diff := cmp.Diff(comparable(want), comparable(got)); diff != "" {
			t.Errorf("findings from files (-) and from the cluster (+):\n%s", diff)
		}
		// Cluster mode knows the mesh is missing; files alone do not.
		if !slices.ContainsFunc(got, func(f lint.Finding) bool { return f.Rule == "mesh-telemetry-missing" }) {
			t.Errorf("no mesh-telemetry-missing finding from a cluster without Istio: %v", comparable(got))
		}
		if slices.ContainsFunc(fileFindings(t, lint.Options{}, podinfo...), func(f lint.Finding) bool { return f.Rule == "mesh-telemetry-missing" }) {
			t.Error("mesh-telemetry-missing without --cluster")
		}

		// The binary: augur lint --cluster -n test -o json.
		cmd := exec.CommandContext(ctx, bin, "lint", "--cluster", "--kubeconfig", env.kubeconfig, "-n", "test", "-o", "json")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("augur lint --cluster: %v, want exit 1\n%s", err, stderr.String())
		}
		var report struct{ Findings []lint.Finding }
		if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(comparable(want), comparable(lint.Focus(report.Findings, keys...))); diff != "" {
			t.Errorf("findings from files (-) and from augur lint --cluster (+):\n%s", diff)
		}
		for _, f := range report.Findings {
			if f.File != "cluster" || f.Line != 0 {
				t.Errorf("a cluster finding with a file position: %+v", f)
			}
		}
	})

	addr := serve(ctx, t, bin, env.kubeconfig)
	client := webhooks.New(webhooks.Options{Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
	gate := func(t *testing.T, ns, name string) (string, error) {
		t.Helper()
		hook := webhooks.Hook{Name: "preflight", URL: addr + "/flagger/v1/preflight", Type: "pre-rollout", Timeout: 10 * time.Second}
		p := webhooks.Payload{Name: name, Namespace: ns, Phase: "Progressing", Checksum: "1"}
		err := client.Call(ctx, hook, p)
		body, _ := json.Marshal(p)
		resp, herr := http.Post(hook.URL, "application/json", bytes.NewReader(body))
		if herr != nil {
			t.Fatal(herr)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		if resp.StatusCode >= 500 {
			t.Errorf("preflight answered %d: %s", resp.StatusCode, b.String())
		}
		return b.String(), err
	}

	t.Run("GateBlocks", func(t *testing.T) {
		env.applyFile(ctx, t, "../testdata/lint/gate/blocked.yaml")
		body, err := gate(t, "gate", "shop")
		var se *webhooks.StatusError
		if !errors.As(err, &se) || se.Code != http.StatusForbidden {
			t.Fatalf("want 403, got %v", err)
		}
		want := lint.Focus(fileFindings(t, lint.Options{}, "../testdata/lint/gate/blocked.yaml"), "Canary gate/shop", "Deployment gate/shop")
		for _, f := range want {
			if f.Severity == lint.Error && !strings.Contains(body, f.Rule+" ("+f.Object+" "+f.Path+")") {
				t.Errorf("the gate's answer lacks %s %s:\n%s", f.Rule, f.Path, body)
			}
		}
		for _, rule := range []string{"single-replica", "readiness-probe-missing"} {
			if !strings.Contains(body, rule) {
				t.Errorf("the gate's answer lacks %s:\n%s", rule, body)
			}
		}
	})

	t.Run("GateLetsFixedThrough", func(t *testing.T) {
		env.applyFile(ctx, t, "../testdata/lint/gate/fixed.yaml")
		if body, err := gate(t, "gate", "shop"); err != nil {
			t.Fatalf("the fixed Deployment is blocked: %v\n%s", err, body)
		}
	})

	t.Run("GateUnknownCanary", func(t *testing.T) {
		body, err := gate(t, "gate", "ghost")
		var se *webhooks.StatusError
		if !errors.As(err, &se) || se.Code != http.StatusForbidden || !strings.Contains(body, "Canary gate/ghost") {
			t.Fatalf("want 403 naming the Canary, got %v: %s", err, body)
		}
	})
}

// serve starts `augur serve --cluster` on a free loopback port and returns its URL.
func serve(ctx context.Context, t *testing.T, bin, kubeconfig string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, bin, "serve", "--cluster", "--kubeconfig", kubeconfig, "--listen", addr,
		"--data", "../testdata/podinfo/healthy.om", "--log-format", "text")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("augur serve logs:\n%s", logs.String())
		}
	})
	url := "http://" + addr
	poll(ctx, t, "augur serve to answer", func() (bool, error) {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	return url
}
