package kube_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/kube"
	"github.com/augurproj/augur/manifest"
)

// The integration tests run against a real kube-apiserver started by
// scripts/kube-testenv.sh (`make kube-test`), which sets KUBECONFIG and
// KUBE_TESTENV_SERVER. Both must be set: a KUBECONFIG alone may point at a
// real cluster, which these tests must never touch.

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

var crdNames = []string{"canaries.flagger.app", "metrictemplates.flagger.app"}

// testenv holds the clients of the test API server.
type testenv struct {
	kubeconfig string
	dyn        dynamic.Interface
	core       kubernetes.Interface
}

func newTestenv(t *testing.T) *testenv {
	t.Helper()
	server, kc := os.Getenv("KUBE_TESTENV_SERVER"), os.Getenv("KUBECONFIG")
	if server == "" || kc == "" {
		t.Skip("no test API server: run under scripts/kube-testenv.sh (make kube-test)")
	}
	if !strings.HasPrefix(server, "https://127.0.0.1:") {
		t.Fatalf("KUBE_TESTENV_SERVER %q is not on loopback", server)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != server {
		t.Fatalf("KUBECONFIG points at %s, not the test server %s", cfg.Host, server)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testenv{kubeconfig: kc, dyn: dyn, core: core}
}

// poll calls f every 100ms until it reports done, fails, or 60s pass.
func poll(ctx context.Context, t *testing.T, what string, f func() (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last error
	for {
		done, err := f()
		if done {
			return
		}
		last = err
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last error: %v)", what, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func readYAML(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(b, &obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &unstructured.Unstructured{Object: obj}
}

// removeCRDs deletes Flagger's CRDs, if installed, and waits until they are
// gone (kube-apiserver's own CRD finalizer removes them and their objects).
func (e *testenv) removeCRDs(ctx context.Context, t *testing.T) {
	for _, n := range crdNames {
		err := e.dyn.Resource(crdResource).Delete(ctx, n, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		poll(ctx, t, "CRD "+n+" to be deleted", func() (bool, error) {
			_, err := e.dyn.Resource(crdResource).Get(ctx, n, metav1.GetOptions{})
			return apierrors.IsNotFound(err), err
		})
	}
}

// installCRDs creates the CRDs in testdata/crds and waits until they are
// established and their resources are served.
func (e *testenv) installCRDs(ctx context.Context, t *testing.T) {
	files, err := filepath.Glob("testdata/crds/*.yaml")
	if err != nil || len(files) != 2 {
		t.Fatalf("testdata/crds: %v %v", files, err)
	}
	for _, f := range files {
		crd := readYAML(t, f)
		if _, err := e.dyn.Resource(crdResource).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		poll(ctx, t, "CRD "+crd.GetName()+" to be established", func() (bool, error) {
			u, err := e.dyn.Resource(crdResource).Get(ctx, crd.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
	}
	for _, gvr := range []schema.GroupVersionResource{kube.CanaryResource, kube.MetricTemplateResource} {
		poll(ctx, t, gvr.Resource+" to be served", func() (bool, error) {
			_, err := e.dyn.Resource(gvr).Namespace("default").List(ctx, metav1.ListOptions{})
			return err == nil, err
		})
	}
}

func (e *testenv) namespace(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	_, err := e.core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// recreate deletes the custom object if it exists and creates it.
func (e *testenv) recreate(ctx context.Context, t *testing.T, gvr schema.GroupVersionResource, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	r := e.dyn.Resource(gvr).Namespace(u.GetNamespace())
	if err := r.Delete(ctx, u.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	out, err := r.Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating %s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return out
}

func (e *testenv) putSecret(ctx context.Context, t *testing.T, token string) {
	t.Helper()
	secrets := e.core.CoreV1().Secrets("istio-system")
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "prom-auth", Namespace: "istio-system"},
		Data:       map[string][]byte{"token": []byte(token)},
	}
	if cur, err := secrets.Get(ctx, s.Name, metav1.GetOptions{}); err == nil {
		cur.Data = s.Data
		if _, err := secrets.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	} else if !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if _, err := secrets.Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// podinfoStatus is the status the test writes through the status
// subresource: the third step of the podinfo rollout.
var podinfoStatus = analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 20, FailedChecks: 0, Iterations: 0,
	LastTransitionTime: "2026-11-01T10:12:00Z"}

// TestIntegrationKube runs the cluster source against a real API server:
// CRDs, objects, status subresource, Secret rotation, Events and the augur
// binary. Its subtests depend on each other and run in order.
func TestIntegrationKube(t *testing.T) {
	env := newTestenv(t)
	ctx := t.Context()
	src, err := kube.New(ctx, kube.Options{Kubeconfig: env.kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	var canaryUID string

	t.Run("MissingCRD", func(t *testing.T) {
		env.removeCRDs(ctx, t)
		_, err := src.Canary(ctx, "test", "podinfo")
		if !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), "is Flagger's CRD installed?") {
			t.Fatalf("want ErrNotFound with the CRD hint, got %v", err)
		}
		_, err = src.MetricTemplate(ctx, "istio-system", "not-found-percentage")
		if !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), "no flagger.app/v1beta1 metrictemplates resource") {
			t.Fatalf("want ErrNotFound with the CRD hint, got %v", err)
		}
	})

	t.Run("InstallCRDs", func(t *testing.T) {
		env.installCRDs(ctx, t)
	})

	t.Run("ReadObjects", func(t *testing.T) {
		for _, ns := range []string{"test", "istio-system"} {
			env.namespace(ctx, t, ns)
		}
		env.putSecret(ctx, t, "token-1")
		tmpl := readYAML(t, "../testdata/podinfo/metrictemplate.yaml")
		if err := unstructured.SetNestedField(tmpl.Object, "prom-auth", "spec", "provider", "secretRef", "name"); err != nil {
			t.Fatal(err)
		}
		env.recreate(ctx, t, kube.MetricTemplateResource, tmpl)
		created := env.recreate(ctx, t, kube.CanaryResource, readYAML(t, "../testdata/podinfo/canary.yaml"))
		canaryUID = string(created.GetUID())

		st, err := json.Marshal(podinfoStatus)
		if err != nil {
			t.Fatal(err)
		}
		var stMap map[string]any
		if err := json.Unmarshal(st, &stMap); err != nil {
			t.Fatal(err)
		}
		stMap["conditions"] = []any{map[string]any{"type": "Promoted", "status": "Unknown", "reason": "Progressing"}}
		created.Object["status"] = stMap
		if _, err := env.dyn.Resource(kube.CanaryResource).Namespace("test").UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("status subresource: %v", err)
		}

		files, err := manifest.DecodePaths([]string{"../testdata/podinfo/canary.yaml", "../testdata/podinfo/metrictemplate.yaml"})
		if err != nil {
			t.Fatal(err)
		}
		want := files.Canaries[0]
		want.Status = podinfoStatus
		got, err := src.Canary(ctx, "test", "podinfo")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Canary from the cluster (-file +cluster):\n%s", diff)
		}
		wantT := files.Templates[0]
		wantT.Spec.Provider.SecretRef = &analysis.LocalObjectReference{Name: "prom-auth"}
		gotT, err := src.MetricTemplate(ctx, "istio-system", "not-found-percentage")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantT, *gotT); diff != "" {
			t.Errorf("MetricTemplate from the cluster (-file +cluster):\n%s", diff)
		}
		if _, err := src.Canary(ctx, "test", "ghost"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("missing Canary: want ErrNotFound, got %v", err)
		}
	})

	t.Run("BadObject", func(t *testing.T) {
		bad := readYAML(t, "testdata/objects/canary-unknown-field.bad.yaml")
		env.recreate(ctx, t, kube.CanaryResource, bad)
		_, err := src.Canary(ctx, "test", "typo")
		if !errors.Is(err, manifest.ErrUnknownField) || !strings.Contains(err.Error(), `cluster: Canary test/typo: spec.analysis.intervall: unknown field "intervall"`) {
			t.Fatalf("want the unknown field named, got %v", err)
		}
	})

	t.Run("SecretRotation", func(t *testing.T) {
		env.putSecret(ctx, t, "token-1")
		rec := &credentialRecorder{}
		eng, err := engine.New(engine.Options{Registry: rec.registry(), Templates: src, Secrets: src})
		if err != nil {
			t.Fatal(err)
		}
		c, err := src.Canary(ctx, "test", "podinfo")
		if err != nil {
			t.Fatal(err)
		}
		evaluate := func() {
			plans, err := eng.Plan(ctx, &c)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range eng.Evaluate(ctx, plans, time.Time{}) {
				if o.Err != nil {
					t.Fatalf("metric %s: %s", o.Metric, o.Err.Message)
				}
			}
		}
		evaluate()
		env.putSecret(ctx, t, "token-2")
		evaluate()
		var tokens []string
		for _, cred := range rec.seen {
			if cred != nil {
				tokens = append(tokens, cred["token"])
			}
		}
		if diff := cmp.Diff([]string{"token-1", "token-2"}, tokens); diff != "" {
			t.Errorf("tokens the template's provider was built with, before and after the change (-want +got):\n%s", diff)
		}
	})

	t.Run("EmitEvents", func(t *testing.T) {
		c, err := src.Canary(ctx, "test", "podinfo")
		if err != nil {
			t.Fatal(err)
		}
		marker := "integration " + time.Now().Format(time.RFC3339Nano)
		d := analysis.Decision{Events: []analysis.Event{
			{Type: analysis.EventNormal, Message: "Advance podinfo.test canary weight 30 " + marker},
			{Type: analysis.EventWarning, Message: "Halt advancement " + marker},
		}}
		n, err := src.EmitEvents(ctx, &c, d)
		if err != nil || n != 2 {
			t.Fatalf("EmitEvents = %d, %v", n, err)
		}
		evs := env.canaryEvents(ctx, t, canaryUID)
		var got []analysis.Event
		for _, e := range evs {
			if strings.HasSuffix(e.Message, marker) {
				got = append(got, analysis.Event{Type: analysis.EventType(e.Type), Message: e.Message})
				if e.Reason != "Synced" || e.Source.Component != "augur" || e.InvolvedObject.APIVersion != "flagger.app/v1beta1" {
					t.Errorf("event %s: reason %q component %q apiVersion %q", e.Name, e.Reason, e.Source.Component, e.InvolvedObject.APIVersion)
				}
			}
		}
		if diff := cmp.Diff(d.Events, got, cmpopts.IgnoreFields(analysis.Event{}, "Phase")); diff != "" {
			t.Errorf("events on the Canary (-want +got):\n%s", diff)
		}
	})

	t.Run("AnalyzeCommand", func(t *testing.T) {
		bin := augurBinary(t)
		before := len(env.canaryEvents(ctx, t, canaryUID))
		tests := []struct {
			name       string
			args       []string
			wantCode   int
			wantAction analysis.Action
			wantWeight int
			wantStderr string
			events     bool
		}{
			{name: "status from the cluster", args: []string{"--canary", "test/podinfo", "--emit-events"},
				wantAction: analysis.ActionAdvance, wantWeight: 30, events: true},
			{name: "status from flags", args: []string{"--canary", "test/podinfo", "--weight", "40"},
				wantAction: analysis.ActionAdvance, wantWeight: 50},
			{name: "missing canary", args: []string{"--canary", "test/ghost"}, wantCode: 2,
				wantStderr: "Canary test/ghost: not found in the cluster"},
			{name: "bad canary", args: []string{"--canary", "test/typo"}, wantCode: 2,
				wantStderr: `spec.analysis.intervall: unknown field "intervall"`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				args := append([]string{"analyze", "--kubeconfig", env.kubeconfig, "--data", "../testdata/podinfo/healthy.om",
					"--webhooks", "pass", "-o", "json"}, tt.args...)
				cmd := exec.CommandContext(ctx, bin, args...)
				cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent") // the flag must win
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				if code != tt.wantCode {
					t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, &stdout, &stderr)
				}
				if tt.wantStderr != "" {
					if !strings.Contains(stderr.String(), tt.wantStderr) {
						t.Errorf("stderr %q does not contain %q", &stderr, tt.wantStderr)
					}
					return
				}
				var d analysis.Decision
				if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
					t.Fatalf("decision: %v\n%s", err, &stdout)
				}
				if d.Action != tt.wantAction || d.Status.CanaryWeight != tt.wantWeight {
					t.Errorf("action %s weight %d, want %s %d\n%s", d.Action, d.Status.CanaryWeight, tt.wantAction, tt.wantWeight, &stdout)
				}
				if len(d.Checks) != 3 {
					t.Errorf("%d checks, want 3 (two builtin, one template from the cluster): %+v", len(d.Checks), d.Checks)
				}
				for _, c := range d.Checks {
					if !c.Passed {
						t.Errorf("check %s failed: %s", c.Metric, c.Reason)
					}
				}
				if !tt.events {
					return
				}
				if !strings.Contains(stderr.String(), "Recorded 1 Kubernetes event on Canary test/podinfo") {
					t.Errorf("stderr %q does not report the events", &stderr)
				}
				evs := env.canaryEvents(ctx, t, canaryUID)
				var got []analysis.Event
				for _, e := range evs[before:] {
					got = append(got, analysis.Event{Type: analysis.EventType(e.Type), Message: e.Message})
				}
				if diff := cmp.Diff(d.Events, got, cmpopts.IgnoreFields(analysis.Event{}, "Phase")); diff != "" {
					t.Errorf("events recorded by augur analyze --emit-events (-decision +cluster):\n%s", diff)
				}
			})
		}
	})
}

// canaryEvents lists the Events on the Canary with that uid, using the API
// server's involvedObject field selector, in creation (name) order.
func (e *testenv) canaryEvents(ctx context.Context, t *testing.T, uid string) []corev1.Event {
	t.Helper()
	l, err := e.core.CoreV1().Events("test").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.uid=" + uid})
	if err != nil {
		t.Fatal(err)
	}
	evs := l.Items
	slices.SortFunc(evs, func(a, b corev1.Event) int { return strings.Compare(a.Name, b.Name) })
	return evs
}

// augurBinary is $AUGUR_BIN, or augur built from this module.
func augurBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("AUGUR_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "augur")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/augurproj/augur/cmd/augur").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
